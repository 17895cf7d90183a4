"""What the demo's customers are like: names, places, and the facts that make each one different.

The demo company sells music: instruments, hi-fi and records in two stores (Leeds, York) and online, and
sound, instruments and installations to businesses (cafés, schools, studios, venues...) through its
Business Sales team. Facts come in three kinds, as in real customer learning:

- shared facts, each with the share of customers it is true of: common ones (20-40%) that do not
  differentiate anyone, middling ones, and rare ones (1-3%);
- unique facts, made by combining specifics ("Opening a second café in Otley in spring"), true of one
  customer only.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

PERSON = "person"
BUSINESS = "business"
BOTH = "both"

FIRST_NAMES = (
    "Aaliyah",
    "Adam",
    "Agnieszka",
    "Aisha",
    "Alan",
    "Alice",
    "Amir",
    "Amy",
    "Andrew",
    "Angela",
    "Ann",
    "Anthony",
    "Arjun",
    "Ava",
    "Barbara",
    "Ben",
    "Beth",
    "Bilal",
    "Bronwen",
    "Callum",
    "Carol",
    "Catherine",
    "Charlotte",
    "Chen",
    "Chloe",
    "Chris",
    "Claire",
    "Connor",
    "Daniel",
    "David",
    "Deborah",
    "Declan",
    "Dev",
    "Diane",
    "Dominika",
    "Edward",
    "Eleanor",
    "Elizabeth",
    "Ellie",
    "Emeka",
    "Emily",
    "Emma",
    "Eve",
    "Fatima",
    "Fiona",
    "Finn",
    "Freya",
    "Gareth",
    "George",
    "Georgia",
    "Graham",
    "Hannah",
    "Harry",
    "Hassan",
    "Helen",
    "Holly",
    "Ian",
    "Imran",
    "Isla",
    "Jack",
    "James",
    "Jane",
    "Janet",
    "Jasmine",
    "Jennifer",
    "Jessica",
    "Joanne",
    "John",
    "Jonathan",
    "Joseph",
    "Julie",
    "Karen",
    "Katherine",
    "Keith",
    "Kieran",
    "Laura",
    "Leah",
    "Lewis",
    "Liam",
    "Lily",
    "Linda",
    "Lucy",
    "Luke",
    "Maria",
    "Margaret",
    "Mark",
    "Martin",
    "Matthew",
    "Megan",
    "Michael",
    "Mohammed",
    "Naomi",
    "Natalie",
    "Neil",
    "Nia",
    "Niamh",
    "Nicola",
    "Noah",
    "Oliver",
    "Olivia",
    "Omar",
    "Patricia",
    "Paul",
    "Peter",
    "Philip",
    "Priya",
    "Rachel",
    "Rebecca",
    "Richard",
    "Robert",
    "Rosie",
    "Ruth",
    "Ryan",
    "Samuel",
    "Sandra",
    "Sarah",
    "Sean",
    "Simon",
    "Sophie",
    "Stephen",
    "Steven",
    "Susan",
    "Tariq",
    "Thomas",
    "Tom",
    "Tomasz",
    "Tracey",
    "Victoria",
    "Wei",
    "William",
    "Yasmin",
    "Zara",
    "Zoe",
)

LAST_NAMES = (
    "Ahmed",
    "Ali",
    "Allen",
    "Atkinson",
    "Bailey",
    "Baker",
    "Barker",
    "Bell",
    "Bennett",
    "Brooks",
    "Brown",
    "Butler",
    "Campbell",
    "Carter",
    "Chapman",
    "Clark",
    "Clarke",
    "Collins",
    "Cook",
    "Cooper",
    "Cox",
    "Davies",
    "Dawson",
    "Dixon",
    "Edwards",
    "Ellis",
    "Evans",
    "Fisher",
    "Fletcher",
    "Foster",
    "Fox",
    "Gill",
    "Graham",
    "Gray",
    "Green",
    "Hall",
    "Harris",
    "Harrison",
    "Hartley",
    "Hill",
    "Holloway",
    "Holmes",
    "Hughes",
    "Hussain",
    "Jackson",
    "James",
    "Jenkins",
    "Johnson",
    "Jones",
    "Kaur",
    "Kelly",
    "Khan",
    "King",
    "Kowalski",
    "Lee",
    "Lewis",
    "Lloyd",
    "Marshall",
    "Martin",
    "Mason",
    "Mistry",
    "Mitchell",
    "Moore",
    "Morgan",
    "Murphy",
    "Murray",
    "Nowak",
    "Okafor",
    "O'Brien",
    "Owen",
    "Palmer",
    "Parker",
    "Patel",
    "Pearson",
    "Phillips",
    "Price",
    "Reid",
    "Richards",
    "Richardson",
    "Roberts",
    "Robinson",
    "Rogers",
    "Russell",
    "Scott",
    "Shah",
    "Shaw",
    "Simpson",
    "Singh",
    "Smith",
    "Stevens",
    "Stewart",
    "Sutcliffe",
    "Taylor",
    "Thomas",
    "Thompson",
    "Turner",
    "Walker",
    "Ward",
    "Watson",
    "White",
    "Whitaker",
    "Wilkinson",
    "Williams",
    "Wilson",
    "Wood",
    "Wright",
    "Young",
)

NICKNAMES = {
    "Margaret": "Maggie",
    "Robert": "Bob",
    "William": "Bill",
    "Elizabeth": "Liz",
    "Jonathan": "Jon",
    "Katherine": "Kate",
    "Michael": "Mike",
    "Daniel": "Dan",
    "Rebecca": "Becky",
    "Thomas": "Tom",
    "Samuel": "Sam",
    "Christopher": "Chris",
    "Matthew": "Matt",
    "Victoria": "Vicky",
}

# Where customers live, weighted towards the two stores.
PERSON_CITIES = (
    ("Leeds", 30),
    ("York", 18),
    ("Harrogate", 8),
    ("Wakefield", 7),
    ("Bradford", 7),
    ("Otley", 4),
    ("Ilkley", 4),
    ("Selby", 3),
    ("Huddersfield", 5),
    ("Sheffield", 5),
    ("Manchester", 5),
    ("Hull", 4),
)
BUSINESS_CITIES = (
    ("Leeds", 35),
    ("York", 20),
    ("Harrogate", 10),
    ("Wakefield", 8),
    ("Bradford", 8),
    ("Otley", 5),
    ("Ilkley", 5),
    ("Huddersfield", 9),
)
TOWNS = [c for c, _ in PERSON_CITIES] + ["Skipton", "Ripon", "Beverley", "Whitby", "Pudsey", "Headingley"]
STREETS = (
    "Briggate",
    "Boar Lane",
    "Call Lane",
    "Kirkgate",
    "Stonegate",
    "Micklegate",
    "Fossgate",
    "Otley Road",
    "the High Street",
    "Station Road",
    "Market Place",
    "Chapel Allerton's main road",
)
PERSON_SEGMENTS = (("Regular", 35), ("Occasional", 30), ("Gift buyer", 12), ("Collector", 8), ("Lapsed", 15))
BUSINESS_SEGMENTS = (("Key account", 10), ("Growth", 30), ("Small business", 60))
AGE_BANDS = (("18-24", 9), ("25-34", 18), ("35-44", 22), ("45-54", 21), ("55-64", 17), ("65+", 13))


@dataclass(frozen=True)
class Industry:
    name: str
    site: str  # what a second one of them is called
    staff: tuple[int, int]
    patterns: tuple[str, ...]  # business names; {surname} {noun} {adjective} {town} {first}


INDUSTRIES = (
    Industry(
        "Café",
        "café",
        (3, 18),
        ("The {adjective} {noun} Café", "{first}'s Coffee House", "{noun} & Crumb", "{town} Coffee Co."),
    ),
    Industry(
        "Bar & music venue",
        "venue",
        (6, 40),
        ("The {adjective} {noun}", "{noun} Rooms", "The {noun} Tap", "{town} Jazz Cellar"),
    ),
    Industry(
        "School", "site", (20, 140), ("{town} Primary School", "St {saint}'s Academy", "{town} High School")
    ),
    Industry("Recording studio", "studio", (2, 12), ("{noun} Studios", "{adjective} {noun} Recording")),
    Industry(
        "Dance school", "studio", (3, 15), ("{town} Dance Academy", "{first} {surname} School of Dance")
    ),
    Industry("Church", "hall", (2, 10), ("St {saint}'s Church", "{town} Methodist Chapel")),
    Industry("Hotel", "hotel", (12, 90), ("The {town} {noun} Hotel", "{adjective} {noun} Inn")),
    Industry("Gym", "gym", (5, 30), ("{town} Fitness", "{noun} Strength & Conditioning")),
    Industry("Theatre", "venue", (8, 45), ("The {town} Playhouse", "{noun} Street Theatre")),
    Industry(
        "Music teacher",
        "teaching room",
        (1, 4),
        ("{first} {surname} Music Tuition", "{surname} Piano School"),
    ),
    Industry("Joinery", "workshop", (4, 25), ("{surname} & Sons Joinery", "{surname} Bespoke Joinery")),
    Industry("Restaurant", "restaurant", (8, 50), ("{surname}'s Kitchen", "The {adjective} {noun} Bistro")),
)
ADJECTIVES = (
    "Golden",
    "Blue",
    "Crooked",
    "Little",
    "Velvet",
    "Silver",
    "Painted",
    "Wandering",
    "Green",
    "Hidden",
    "Old",
    "Northern",
    "Copper",
    "Quiet",
)
NOUNS = (
    "Lantern",
    "Fox",
    "Anchor",
    "Kettle",
    "Sparrow",
    "Oak",
    "Fiddle",
    "Harbour",
    "Mill",
    "Bridge",
    "Orchard",
    "Meadow",
    "Heron",
    "Compass",
    "Loom",
    "Thimble",
)
SAINTS = (
    "Anne",
    "Chad",
    "Mary",
    "Peter",
    "John",
    "Hilda",
    "Aidan",
    "Oswald",
    "Wilfrid",
    "Margaret",
    "Barnabas",
    "Michael",
)


@dataclass(frozen=True)
class SharedFact:
    text: str
    category: str
    kind: str  # person, business or both
    share: float  # the chance that a customer of that kind has it


def _shared(kind: str, category: str, share: float, *texts: str) -> list[SharedFact]:
    return [SharedFact(text, category, kind, share) for text in texts]


SHARED_FACTS: tuple[SharedFact, ...] = (
    # Common: true of a fifth to two fifths of customers; they describe the average customer.
    *_shared(BOTH, "preferences", 0.31, "Prefers e-mail to phone calls"),
    *_shared(PERSON, "family", 0.36, "Has children living at home"),
    *_shared(PERSON, "values", 0.29, "Compares prices online before buying"),
    *_shared(PERSON, "product_fit", 0.24, "Listens to music mostly in the car"),
    *_shared(PERSON, "free_time", 0.22, "Goes to live concerts a few times a year"),
    *_shared(BUSINESS, "worries", 0.38, "Worried about rising energy and supplier costs"),
    *_shared(BUSINESS, "cares_about", 0.30, "Wants deliveries on the promised day"),
    *_shared(BUSINESS, "challenges", 0.26, "Finding and keeping good staff"),
    # Middling: one customer in ten or twenty.
    *_shared(PERSON, "lifestyle", 0.10, "Works from home most days", "Commutes by train with headphones on"),
    *_shared(PERSON, "lifestyle", 0.07, "Works shifts; shops on weekday mornings"),
    *_shared(PERSON, "values", 0.10, "Will pay more for something that lasts"),
    *_shared(PERSON, "values", 0.07, "Prefers to buy from local, independent shops"),
    *_shared(PERSON, "product_fit", 0.12, "Streams at home but still buys CDs as presents"),
    *_shared(PERSON, "product_fit", 0.09, "Has a turntable and buys vinyl most months"),
    *_shared(PERSON, "free_time", 0.06, "Plays guitar in a covers band", "Walks in the Dales at weekends"),
    *_shared(PERSON, "family", 0.09, "Buys presents for the grandchildren", "Lives alone"),
    *_shared(PERSON, "cares_about", 0.11, "Wants honest advice, not the dearest option"),
    *_shared(PERSON, "cares_about", 0.08, "Wants to know it is in stock before making the trip"),
    *_shared(PERSON, "worries", 0.07, "Worried about being sold something too complicated"),
    *_shared(PERSON, "worries", 0.06, "Worried about deliveries when nobody is home"),
    *_shared(PERSON, "motivations", 0.10, "Came to us on a friend's recommendation"),
    *_shared(PERSON, "preferences", 0.08, "Prefers text messages", "Does not want marketing calls"),
    *_shared(BUSINESS, "growth_plans", 0.10, "Plans to refurbish the premises within a year"),
    *_shared(BUSINESS, "growth_plans", 0.07, "Wants to start selling online"),
    *_shared(BUSINESS, "business_quirks", 0.08, "Busiest on Sunday mornings"),
    *_shared(BUSINESS, "business_quirks", 0.09, "Seasonal: most trade between May and September"),
    *_shared(BUSINESS, "competitive_threats", 0.14, "Being undercut by online-only sellers"),
    *_shared(BUSINESS, "team", 0.14, "The owner does all the buying personally"),
    *_shared(BUSINESS, "strengths", 0.12, "Loyal regulars who have come for years"),
    *_shared(BUSINESS, "motivations", 0.12, "Chose us because we install and support locally"),
    *_shared(BUSINESS, "preferences", 0.10, "Wants one invoice a month, not one per delivery"),
    *_shared(BOTH, "preferences", 0.05, "Only reachable after 6 p.m."),
    # Rare: one customer in a hundred or so; these begin to differentiate.
    *_shared(
        PERSON,
        "lifestyle",
        0.015,
        "Night-shift nurse at St James's; shops after 9 a.m.",
        "Lives on a narrowboat on the Leeds-Liverpool canal",
        "Runs a market stall on Saturdays",
        "Full-time carer for an elderly parent",
    ),
    *_shared(
        PERSON,
        "values",
        0.015,
        "Vegan: asked whether the headphone pads are leather",
        "Buys second-hand wherever possible",
        "Gives a tenth of their income to charity",
    ),
    *_shared(
        PERSON,
        "product_fit",
        0.02,
        "Hard of hearing: needs a quiet corner to try speakers",
        "Teaches piano at home; has it tuned twice a year",
        "DJs at weddings at weekends",
        "Uses a hearing loop with the TV",
    ),
    *_shared(
        PERSON,
        "free_time",
        0.015,
        "Collects first pressings of 1970s jazz",
        "Restores valve amplifiers as a hobby",
        "Rings bells at the parish church",
        "Plays fiddle in a ceilidh band",
        "Sings in a barbershop quartet",
    ),
    *_shared(
        PERSON,
        "family",
        0.012,
        "Twins start secondary school in September",
        "Partner is a professional violinist",
        "Fosters teenagers",
    ),
    *_shared(
        PERSON, "cares_about", 0.02, "Wants everything explained in writing", "Wants one named person to call"
    ),
    *_shared(
        PERSON,
        "worries",
        0.015,
        "Worried about hearing damage from loud music",
        "Nervous about paying online after being scammed",
    ),
    *_shared(
        PERSON,
        "motivations",
        0.02,
        "Came back after a bad experience with an online marketplace",
        "Chose us after four other shops talked only about themselves",
    ),
    *_shared(
        BUSINESS,
        "business_quirks",
        0.02,
        "Closed every August",
        "The owner is deaf: communicate in writing",
        "Family business run by three generations",
        "Only open at night",
        "Run entirely by volunteers",
    ),
    *_shared(
        BUSINESS,
        "growth_plans",
        0.02,
        "Applying for a late-night music licence",
        "Bidding for the council's schools music contract",
    ),
    *_shared(
        BUSINESS,
        "challenges",
        0.02,
        "Noise complaints from the new flats next door",
        "The lease ends next year; they may have to move",
    ),
    *_shared(
        BUSINESS,
        "team",
        0.015,
        "The sound engineer is freelance and hard to reach",
        "A new manager started this year and is still finding their feet",
    ),
    *_shared(
        BUSINESS,
        "strengths",
        0.015,
        "Award-winning acoustic nights",
        "Known for giving young local bands their first gig",
    ),
    *_shared(
        BUSINESS,
        "competitive_threats",
        0.02,
        "A national chain is opening nearby",
        "Their landlord is opening a competing business upstairs",
    ),
)

# ---- unique facts: specifics combined, so that each is true of one customer only ----------------------

RELATIONS = ("Daughter", "Son", "Granddaughter", "Grandson", "Niece", "Nephew", "Stepdaughter", "Godson")
INSTRUMENTS = (
    "cello",
    "violin",
    "viola",
    "double bass",
    "trumpet",
    "trombone",
    "clarinet",
    "flute",
    "oboe",
    "saxophone",
    "drums",
    "piano",
    "French horn",
    "harp",
    "bassoon",
)
ENSEMBLES = (
    "the youth orchestra",
    "the school jazz band",
    "a brass band in {town}",
    "the county youth orchestra",
    "the Saturday music centre",
    "a folk group in {town}",
    "the junior big band",
    "the cathedral youth choir's band",
)
EXAMS = (
    "a grade {n} exam in {month}",
    "an audition for music college in {month}",
    "a solo at the {month} concert",
)
MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "September",
    "October",
    "November",
    "December",
)
SEASONS = ("spring", "summer", "the autumn", "the new year")
RACES = ("Leeds half marathon", "York 10K", "Great North Run", "Harrogate 10K", "Yorkshire Marathon")
GENRES = (
    "Northern soul",
    "80s synth-pop",
    "Motown",
    "drum and bass",
    "old Britpop albums",
    "Bach cello suites",
    "Afrobeats",
    "film soundtracks",
    "Fleetwood Mac",
    "K-pop",
)
CHOIRS = (
    "a community choir",
    "the Leeds Philharmonic Chorus",
    "a gospel choir",
    "a rock choir",
    "the cathedral choir",
    "a male voice choir",
)
VOICES = ("alto", "soprano", "tenor", "bass")
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday")
ROOMS = ("loft conversion", "kitchen", "garden room", "spare bedroom", "basement", "living room")
HOMES = ("house", "flat", "bungalow", "cottage", "terrace")
PRODUCTS = (
    "a pair of bookshelf speakers",
    "a turntable",
    "a digital piano",
    "a streaming amplifier",
    "a soundbar",
    "wireless headphones",
    "a guitar amp",
)
BIG_INSTRUMENTS = ("a grand piano", "a professional cello", "a vintage Stratocaster", "a drum kit", "a harp")
EVENTS = (
    "the wedding in {month}",
    "a 40th birthday party in {month}",
    "the school concert in {month}",
    "Christmas",
    "a retirement do in {month}",
    "the summer fair in {month}",
)
SET_UP_NOTES = ("will need help carrying it in", "wants it to be a surprise", "has no one to set it up")
AGES = (7, 10, 13, 16, 18, 21, 30, 40, 50, 60, 70, 80)
GIFTS = (
    "a first guitar",
    "a record player",
    "proper headphones",
    "a ukulele",
    "concert tickets",
    "a keyboard",
)

CAPABILITIES = (
    "a rehearsal room in the basement",
    "live music on Thursday nights",
    "a podcast studio",
    "outdoor seating with speakers",
    "a second recording booth",
    "a music tuition room",
    "a function room for 120 people",
)
ROLES = (
    "head chef",
    "sound engineer",
    "bar manager",
    "music director",
    "head of music",
    "operations manager",
)
CONSEQUENCES = (
    "the owner is covering the evenings",
    "the live nights are on hold",
    "bookings are down a third",
    "they need kit anyone can run",
    "they are recruiting now",
)
COMPETITORS = (
    "A chain coffee shop",
    "A new music venue",
    "A discount gym",
    "A franchise dance school",
    "A cocktail bar",
    "An online instrument retailer's showroom",
)
REASONS = (
    "a staff music lesson",
    "deliveries",
    "the weekly deep clean",
    "choir practice",
    "the owner's day off",
    "staff training",
    "the school run",
    "a private booking",
    "stocktaking",
    "band rehearsals",
)
SPECIALTIES = (
    "its open-mic nights",
    "a proper Sunday roast",
    "its Christmas concerts",
    "teaching adults who never played before",
    "the best acoustics in town",
    "its summer festival",
    "jazz brunches",
)
SUPPLIERS = (
    "their previous supplier",
    "a national chain",
    "an online retailer",
    "the installer they used before",
)
EQUIPMENT = (
    "ceiling speakers",
    "a new PA",
    "stage lighting",
    "a hearing loop",
    "a background music system",
    "practice pianos",
    "wireless microphones",
)
NAMES_FOR_STAFF = ("Jo", "Sanjay", "Marek", "Helen", "Kofi", "Bev", "Ruth", "Dmitri", "Gemma", "Hamid")
TOPICS = ("acoustics", "licensing", "what their customers want", "lighting", "the local scene")


@dataclass(frozen=True)
class Context:
    """What a unique fact may refer to: where the customer is and what kind of business it is."""

    city: str
    site: str = ""


Generator = Callable[[random.Random, Context], str]


def _pick(rng: random.Random, options: tuple[str, ...] | list[str]) -> str:
    return options[rng.randrange(len(options))]


def _ensemble(rng: random.Random) -> str:
    return _pick(rng, ENSEMBLES).format(town=_pick(rng, TOWNS))


def _event(rng: random.Random) -> str:
    return _pick(rng, EVENTS).format(month=_pick(rng, MONTHS))


def _exam(rng: random.Random) -> str:
    return _pick(rng, EXAMS).format(n=rng.randint(3, 8), month=_pick(rng, MONTHS))


PERSON_UNIQUE: tuple[tuple[str, Generator], ...] = (
    (
        "family",
        lambda r, c: f"{_pick(r, RELATIONS)} plays {_pick(r, INSTRUMENTS)} in {_ensemble(r)}; {_exam(r)}",
    ),
    (
        "family",
        lambda r, c: (
            f"{_pick(r, RELATIONS)} turns {_pick(r, [str(a) for a in AGES])} in {_pick(r, MONTHS)}; "
            f"thinking of {_pick(r, GIFTS)}"
        ),
    ),
    (
        "lifestyle",
        lambda r, c: f"Training for the {_pick(r, RACES)} in {_pick(r, MONTHS)}; runs to {_pick(r, GENRES)}",
    ),
    (
        "free_time",
        lambda r, c: (
            f"Sings {_pick(r, VOICES)} in {_pick(r, CHOIRS)} in {_pick(r, TOWNS)}; "
            f"rehearsals on {_pick(r, WEEKDAYS)}s"
        ),
    ),
    (
        "product_fit",
        lambda r, c: (
            f"Bought {_pick(r, PRODUCTS)} for the {_pick(r, ROOMS)} of the new {_pick(r, HOMES)} "
            f"in {_pick(r, TOWNS)}"
        ),
    ),
    (
        "motivations",
        lambda r, c: (
            f"Saving for {_pick(r, BIG_INSTRUMENTS)} by {_pick(r, SEASONS)}; "
            f"has been playing {r.randint(3, 40)} years"
        ),
    ),
    (
        "worries",
        lambda r, c: (
            f"{_pick(r, RELATIONS)} has outgrown their {_pick(r, INSTRUMENTS)}; needs a bigger one "
            f"before {_exam(r)}"
        ),
    ),
    (
        "cares_about",
        lambda r, c: f"Wants {_pick(r, PRODUCTS)} set up before {_event(r)}; {r.choice(SET_UP_NOTES)}",
    ),
    (
        "values",
        lambda r, c: (
            f"Teaches {_pick(r, INSTRUMENTS)} free to {r.randint(2, 9)} children at the "
            f"{_pick(r, TOWNS)} community centre"
        ),
    ),
)

BUSINESS_UNIQUE: tuple[tuple[str, Generator], ...] = (
    ("growth_plans", lambda r, c: f"Opening a second {c.site} in {_pick(r, TOWNS)} in {_pick(r, SEASONS)}"),
    (
        "growth_plans",
        lambda r, c: (
            f"Adding {_pick(r, CAPABILITIES)} by {_pick(r, MONTHS)} {r.choice(['next year', 'this year'])}"
        ),
    ),
    (
        "challenges",
        lambda r, c: f"Lost their {_pick(r, ROLES)} in {_pick(r, MONTHS)}; {_pick(r, CONSEQUENCES)}",
    ),
    (
        "competitive_threats",
        lambda r, c: (
            f"{_pick(r, COMPETITORS)} opened {r.choice([50, 100, 200, 300, 400])} metres away on "
            f"{_pick(r, STREETS)}"
        ),
    ),
    (
        "team",
        lambda r, c: (
            f"{_pick(r, NAMES_FOR_STAFF)}, the {_pick(r, ROLES)}, knows more about {_pick(r, TOPICS)} "
            "than anyone we deal with"
        ),
    ),
    (
        "business_quirks",
        lambda r, c: f"Closes every {_pick(r, WEEKDAYS)} from {r.randint(1, 4)} p.m. for {_pick(r, REASONS)}",
    ),
    (
        "strengths",
        lambda r, c: f"Known across {c.city} for {_pick(r, SPECIALTIES)} since {r.randint(1985, 2021)}",
    ),
    (
        "motivations",
        lambda r, c: (
            f"Came to us when {_pick(r, SUPPLIERS)} could not fit {_pick(r, EQUIPMENT)} before {_event(r)}"
        ),
    ),
    (
        "cares_about",
        lambda r, c: (
            f"Wants {_pick(r, EQUIPMENT)} installed out of hours before {_pick(r, MONTHS)}, "
            f"on a budget of about £{r.randint(2, 40)},000"
        ),
    ),
    (
        "worries",
        lambda r, c: (
            f"Worried the refit in {_pick(r, MONTHS)} will close the {c.site} for {r.randint(2, 6)} weeks"
        ),
    ),
)

# ---- encounters: how the notes of a busy employee read --------------------------------------------

PERSON_ITEMS = (
    "new strings",
    "a pair of headphones",
    "a turntable cartridge",
    "sheet music for grade 5 piano",
    "a gift voucher",
    "a capo and picks",
    "the violin repair",
    "a replacement stylus",
    "a cello bow rehair",
    "the amp that was on order",
    "speaker cable",
    "a ukulele for a birthday",
)
BUSINESS_ITEMS = (
    "the PA quote",
    "the background music system",
    "a service contract",
    "stage lighting",
    "the practice pianos",
    "ceiling speakers for the function room",
    "wireless microphones",
    "the hearing loop",
)
OPENINGS: dict[str, tuple[str, ...]] = {
    "store": (
        "Came in for {item}.",
        "Popped in on the way home from work, looking at {item}.",
        "Came back to pick up {item}.",
        "Browsing; ended up talking about {item}.",
    ),
    "call": (
        "Called about {item}.",
        "Rang to check on {item}.",
        "Returned their call about {item}.",
        "Follow-up call on {item}.",
    ),
    "email": (
        "E-mail asking about {item}.",
        "Replied to their e-mail about {item}.",
        "E-mail thread on {item}.",
    ),
    "chat": ("Chat on the website about {item}.", "Asked in chat whether we had {item} in stock."),
    "meeting": (
        "Site visit to talk through {item}.",
        "Meeting with the owner about {item}.",
        "Walked the room with them; discussed {item}.",
        "Quarterly review; main topic {item}.",
    ),
    "other": ("Bumped into them at a trade fair; talked about {item}.",),
}
LEARNED = (
    "Mentioned: {fact}.",
    "Told me: {fact}.",
    "Came up in conversation: {fact}.",
    "Worth knowing: {fact}.",
)
CLOSINGS: dict[str, tuple[str, ...]] = {
    PERSON: (
        "Left with {item}.",
        "Will call back when it arrives.",
        "No sale today, but a good chat.",
        "Ordered; collection on Saturday.",
        "Didn't push the extended warranty, not the moment.",
        "Asked to be told when the sale starts.",
        "Promised a call back on Thursday.",
        "Sent the care guide afterwards.",
    ),
    BUSINESS: (
        "Quote to follow by Friday.",
        "Agreed a trial for a month.",
        "Needs sign-off from the owner; chase in two weeks.",
        "Booked the install for a Monday, when they are closed.",
        "Happy with the service so far; asked for a price review.",
        "Sent the case study from the school job.",
        "Promised to come back with two options.",
    ),
}
CARES: dict[str, tuple[str, ...]] = {
    PERSON: (
        "getting it before the exam",
        "a fair price",
        "honest advice",
        "not having to come back twice",
        "sound quality",
        "something that lasts",
        "being remembered",
    ),
    BUSINESS: (
        "installation out of hours",
        "one invoice a month",
        "kit that survives busy nights",
        "fast help when something breaks",
        "looking good to their own customers",
    ),
}
WORRIES: dict[str, tuple[str, ...]] = {
    PERSON: (
        "delivery timing",
        "the cost",
        "whether it will fit",
        "being oversold",
        "setting it up",
        "noise for the neighbours",
    ),
    BUSINESS: (
        "cash flow this quarter",
        "noise complaints",
        "downtime during the refit",
        "staff turnover",
        "being tied into a long contract",
    ),
}
ACKNOWLEDGED_HOW = (
    "Asked how it was going",
    "Mentioned it when they came in",
    "Remembered it without being told again",
    "Followed up by e-mail",
    "Put it in the offer we sent",
    "Brought it up on the call",
)
