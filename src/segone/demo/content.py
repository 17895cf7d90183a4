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
import re
from collections.abc import Callable
from dataclasses import dataclass

from segone.demo.names import FIRST_NAMES as FIRST_NAMES
from segone.demo.names import LAST_NAMES as LAST_NAMES
from segone.demo.users import DEMO_USERS

PERSON = "person"
BUSINESS = "business"
BOTH = "both"

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
    # Business names: {surname} {first} {noun} {adjective} {place} (the town or a part of it) {saint}
    # {street}; a name is drawn until it is new, so two businesses share one as rarely as in real life.
    patterns: tuple[str, ...]


INDUSTRIES = (
    Industry(
        "Café",
        "café",
        (3, 18),
        (
            "The {adjective} {noun} Café",
            "{first}'s Coffee House",
            "{noun} & Crumb",
            "{place} Coffee Co.",
            "The {noun} Tearoom, {place}",
            "{surname}'s Café",
            "Café on {street}",
            "{adjective} Bean, {place}",
        ),
    ),
    Industry(
        "Bar & music venue",
        "venue",
        (6, 40),
        (
            "The {adjective} {noun}",
            "{noun} Rooms",
            "The {noun} Tap",
            "{place} Jazz Cellar",
            "The {noun} & {noun2}",
            "{place} Social Club",
            "The {adjective} Lion, {place}",
        ),
    ),
    Industry(
        "School",
        "site",
        (20, 140),
        (
            "{place} Primary School",
            "St {saint}'s Academy",
            "{place} High School",
            "St {saint}'s C of E Primary, {place}",
            "{place} Grammar School",
            "{place} Community College",
            "{place} Infant School",
        ),
    ),
    Industry(
        "Recording studio",
        "studio",
        (2, 12),
        (
            "{noun} Studios",
            "{adjective} {noun} Recording",
            "{place} Sound",
            "{surname} Audio",
            "Studio {noun}",
        ),
    ),
    Industry(
        "Dance school",
        "studio",
        (3, 15),
        (
            "{place} Dance Academy",
            "{first} {surname} School of Dance",
            "{first}'s Dance Studio",
            "{place} School of Ballet",
            "{adjective} Feet Dance, {place}",
        ),
    ),
    Industry(
        "Church",
        "hall",
        (2, 10),
        (
            "St {saint}'s Church, {place}",
            "{place} Methodist Church",
            "{place} Baptist Church",
            "{place} Parish Church",
            "Holy Trinity, {place}",
            "{place} United Reformed Church",
            "St {saint}'s Catholic Church, {place}",
            "{place} Quaker Meeting House",
        ),
    ),
    Industry(
        "Hotel",
        "hotel",
        (12, 90),
        (
            "The {place} {noun} Hotel",
            "{adjective} {noun} Inn",
            "The {surname} Arms",
            "{place} Grange Hotel",
            "The {noun} House, {place}",
        ),
    ),
    Industry(
        "Gym",
        "gym",
        (5, 30),
        ("{place} Fitness", "{noun} Strength & Conditioning", "{surname}'s Gym", "{place} Boxing Club"),
    ),
    Industry(
        "Theatre",
        "venue",
        (8, 45),
        ("The {place} Playhouse", "{noun} Street Theatre", "{place} Little Theatre", "The {surname} Theatre"),
    ),
    Industry(
        "Music teacher",
        "teaching room",
        (1, 4),
        (
            "{first} {surname} Music Tuition",
            "{surname} Piano School",
            "{first} {surname} Guitar Lessons",
            "{place} Music Lessons",
            "{first} {surname} Singing Teacher",
        ),
    ),
    Industry(
        "Joinery",
        "workshop",
        (4, 25),
        (
            "{surname} & Sons Joinery",
            "{surname} Bespoke Joinery",
            "{surname} & {surname2} Joiners",
            "{place} Joinery",
        ),
    ),
    Industry(
        "Restaurant",
        "restaurant",
        (8, 50),
        (
            "{surname}'s Kitchen",
            "The {adjective} {noun} Bistro",
            "{first}'s on {street}",
            "The {noun} Table, {place}",
            "{place} Tandoori",
            "Trattoria on {street}",
        ),
    ),
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
    "Red",
    "Black",
    "White",
    "Happy",
    "Wild",
    "Lucky",
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
    "Swan",
    "Hare",
    "Owl",
    "Acorn",
    "Wren",
    "Beacon",
    "Lark",
    "Willow",
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
    "Bede",
    "Cuthbert",
    "Andrew",
    "Paul",
    "Matthew",
    "Luke",
    "Mark",
    "James",
    "Edward",
    "Helen",
    "Wilfred",
    "Columba",
)
# Parts of each business city, for names such as "Headingley Coffee Co." or "Holy Trinity, Meanwood".
AREAS: dict[str, tuple[str, ...]] = {
    "Leeds": (
        "Headingley",
        "Chapel Allerton",
        "Roundhay",
        "Kirkstall",
        "Horsforth",
        "Meanwood",
        "Armley",
        "Morley",
        "Pudsey",
        "Rothwell",
        "Garforth",
        "Wetherby",
        "Guiseley",
        "Yeadon",
        "Oakwood",
        "Harehills",
        "Beeston",
        "Bramley",
    ),
    "York": ("Acomb", "Bishopthorpe", "Haxby", "Clifton", "Fulford", "Heworth", "Dringhouses", "Tang Hall"),
    "Harrogate": ("Knaresborough", "Pannal", "Starbeck", "Bilton", "Killinghall"),
    "Wakefield": ("Ossett", "Horbury", "Sandal", "Outwood", "Normanton"),
    "Bradford": ("Saltaire", "Shipley", "Bingley", "Heaton", "Idle", "Thornton", "Eccleshill"),
    "Otley": ("Pool-in-Wharfedale", "Burley-in-Wharfedale", "Menston"),
    "Ilkley": ("Ben Rhydding", "Addingham", "Burley Woodhead"),
    "Huddersfield": ("Holmfirth", "Marsden", "Lindley", "Almondbury", "Honley", "Slaithwaite"),
}


@dataclass(frozen=True)
class SharedFact:
    """A trait many customers share, with the words employees write for it.

    ``text`` is its usual wording. Plain wordings (``text`` and ``wordings``) are short and general: many
    records hold them word for word, as they would in any company (``COMMON_TEXTS``). ``specific``
    wordings say more, with {slots} filled from ``SLOTS``; ``detail`` is the share of its holders whose
    record says more. A trait only specific wordings describe (``detail`` 1) is written a little
    differently each time, so no one sentence of it is copied across dozens of records.
    """

    text: str
    category: str
    kind: str  # person, business or both
    share: float  # the chance that a customer of that kind has it
    wordings: tuple[str, ...] = ()
    specific: tuple[str, ...] = ()
    detail: float = 0.0


def _plain(
    kind: str,
    category: str,
    share: float,
    text: str,
    *wordings: str,
    specific: tuple[str, ...] = (),
    detail: float = 0.0,
) -> SharedFact:
    return SharedFact(text, category, kind, share, wordings, specific, detail)


def _specific(kind: str, category: str, share: float, text: str, *specific: str) -> SharedFact:
    return SharedFact(text, category, kind, share, (), specific, 1.0)


SHARED_FACTS: tuple[SharedFact, ...] = (
    # Common: true of a fifth to two fifths of customers; they describe the average customer.
    _plain(
        BOTH,
        "preferences",
        0.31,
        "Prefers e-mail to phone calls",
        "Would rather be e-mailed than phoned",
        "E-mail rather than phone, please",
    ),
    _plain(
        PERSON,
        "family",
        0.36,
        "Has children living at home",
        "Kids still live at home",
        "Has children at home",
    ),
    _plain(
        PERSON,
        "values",
        0.29,
        "Compares prices online before buying",
        "Checks prices online before buying",
        "Always compares prices online first",
    ),
    _plain(
        PERSON,
        "product_fit",
        0.24,
        "Listens to music mostly in the car",
        "Mostly listens to music while driving",
        specific=(
            "Listens to music mostly in the car, on the {commute}",
            "Listens to music mostly in the car; drives {drive}",
        ),
        detail=0.06,
    ),
    _plain(
        PERSON,
        "free_time",
        0.22,
        "Goes to live concerts a few times a year",
        "Goes to gigs a few times a year",
        specific=(
            "Goes to a few gigs a year; the last at {venue} in {month}",
            "Saw {act} at {venue} in {month}",
        ),
        detail=0.3,
    ),
    _plain(
        BUSINESS,
        "worries",
        0.38,
        "Worried about rising energy and supplier costs",
        "Worried about energy and supplier costs going up",
    ),
    _plain(
        BUSINESS,
        "cares_about",
        0.30,
        "Wants deliveries on the promised day",
        "Expects delivery on the day we promise",
    ),
    _plain(
        BUSINESS,
        "challenges",
        0.26,
        "Finding and keeping good staff",
        "Struggles to hire and keep good staff",
    ),
    # Middling: one customer in ten or twenty.
    _plain(PERSON, "lifestyle", 0.10, "Works from home most days", "Mostly works from home"),
    _plain(
        PERSON,
        "lifestyle",
        0.10,
        "Commutes by train with headphones on",
        "Takes the train to work, headphones on",
        specific=(
            "Commutes by train from {commute_from} to {work_city}; headphones on the whole way",
            "Takes the train from {commute_from} to {work_city}, headphones on",
        ),
        detail=0.3,
    ),
    _plain(
        PERSON,
        "lifestyle",
        0.07,
        "Works shifts",
        "Shift worker",
        specific=(
            "Works shifts at {workplace}; shops on weekday mornings",
            "Shift worker at {workplace}, so comes in on weekday mornings",
            "On shifts at {workplace}: weekday mornings suit best",
            "Works {shift} at {workplace}",
        ),
        detail=0.6,
    ),
    _plain(
        PERSON,
        "values",
        0.10,
        "Will pay more for something that lasts",
        "Happy to pay extra for quality that lasts",
        "Would rather pay more for something built to last",
    ),
    _plain(
        PERSON,
        "values",
        0.07,
        "Prefers to buy from local, independent shops",
        "Likes to support local independent shops",
        "Shops local and independent where possible",
    ),
    _plain(
        PERSON,
        "product_fit",
        0.12,
        "Streams at home but still buys CDs as presents",
        "Streams music but buys CDs as gifts",
        specific=(
            "Streams at home but still buys CDs for {cd_for}",
            "Streams at home; buys CDs as presents for {cd_for}",
        ),
        detail=0.12,
    ),
    _plain(
        PERSON,
        "product_fit",
        0.09,
        "Has a turntable and buys vinyl most months",
        "Buys vinyl most months",
        specific=(
            "Has a turntable and buys {vinyl} on vinyl most months",
            "Buys {style} records most months; looks in the {bin} bin first",
            "Collects {vinyl} on vinyl; comes in on {weekday}s for the new stock",
        ),
        detail=0.45,
    ),
    _specific(
        PERSON,
        "free_time",
        0.06,
        "Plays guitar in a covers band",
        "Plays {band_instrument} in a covers band in {town}",
        "Plays {band_instrument} in a {covers} covers band",
        "Plays {band_instrument} in a covers band that does weddings around {town}",
    ),
    _plain(
        PERSON,
        "free_time",
        0.06,
        "Walks in the Dales at weekends",
        "Goes walking in the Dales at weekends",
        specific=(
            "Walks in {dale} most weekends",
            "Out walking in {dale} at weekends; listens on the drive",
            "Walks {dale} with the dog at weekends",
        ),
        detail=0.45,
    ),
    _plain(
        PERSON,
        "family",
        0.09,
        "Buys presents for the grandchildren",
        "Buys gifts for the grandkids",
        specific=(
            "Buys presents for {count} grandchildren; the eldest is {eldest}",
            "Grandchildren in {town}; buys their presents here",
            "Buys presents for the grandchildren in {town}",
            "Buys birthday presents for {count} grandchildren in {town}",
        ),
        detail=0.5,
    ),
    _plain(PERSON, "family", 0.09, "Lives alone", "Lives on their own"),
    _plain(
        PERSON,
        "cares_about",
        0.11,
        "Wants honest advice, not the dearest option",
        "Wants honest advice rather than the dearest option",
    ),
    _plain(
        PERSON,
        "cares_about",
        0.08,
        "Wants stock confirmed before making the trip",
        "Rings to check stock before coming in",
        specific=(
            "Comes in from {town}: wants stock confirmed before making the trip",
            "Lives out in {town}; rings to check stock first",
        ),
        detail=0.35,
    ),
    _plain(
        PERSON,
        "worries",
        0.07,
        "Worried about being sold something too complicated",
        "Worries the kit will be too complicated",
    ),
    _plain(
        PERSON,
        "worries",
        0.06,
        "Worried about deliveries when nobody is home",
        "Worries about parcels arriving when no one is in",
    ),
    _plain(
        PERSON,
        "motivations",
        0.10,
        "Came to us on a friend's recommendation",
        "A friend recommended us",
        "Heard about us from a friend",
        specific=(
            "Came to us on the recommendation of a friend from {friends} in {town}",
            "Came to us because {friend_who} swore by us",
        ),
        detail=0.3,
    ),
    _plain(PERSON, "preferences", 0.08, "Prefers text messages", "Would rather get a text"),
    _plain(PERSON, "preferences", 0.08, "Does not want marketing calls", "No marketing calls, please"),
    _plain(
        BUSINESS,
        "growth_plans",
        0.10,
        "Plans to refurbish the premises within a year",
        specific=("Plans to refurbish the {premises} by {season}",),
        detail=0.5,
    ),
    _plain(BUSINESS, "growth_plans", 0.07, "Wants to start selling online", "Plans to open an online shop"),
    _plain(
        BUSINESS,
        "business_quirks",
        0.08,
        "Busiest on Sunday mornings",
        specific=("Busiest on {weekday} evenings", "Busiest on Saturday {daypart}"),
        detail=0.5,
    ),
    _specific(
        BUSINESS,
        "business_quirks",
        0.09,
        "Seasonal: most trade between May and September",
        "Seasonal: most trade between {season_span}",
        "Seasonal business, busiest between {season_span}",
    ),
    _plain(
        BUSINESS,
        "competitive_threats",
        0.14,
        "Being undercut by online-only sellers",
        "Undercut on price by online-only sellers",
    ),
    _plain(
        BUSINESS,
        "team",
        0.14,
        "The owner does all the buying personally",
        "All buying is done by the owner",
        specific=("{owner}, the owner, does all the buying",),
        detail=0.4,
    ),
    _plain(
        BUSINESS,
        "strengths",
        0.12,
        "Loyal regulars who have come for years",
        specific=("Loyal regulars, some coming for {decades}",),
        detail=0.4,
    ),
    _plain(
        BUSINESS,
        "motivations",
        0.12,
        "Chose us because we install and support locally",
        "Picked us for local installation and support",
    ),
    _plain(
        BUSINESS,
        "preferences",
        0.10,
        "Wants one invoice a month, not one per delivery",
        "Prefers one invoice each month",
    ),
    _plain(
        BOTH,
        "preferences",
        0.05,
        "Only reachable after 6 p.m.",
        "Can only be reached after 6 p.m.",
        specific=("Only reachable after 6 p.m.; works in {town} until then",),
        detail=0.3,
    ),
    # Rare: one customer in a hundred or so; these begin to differentiate.
    _specific(
        PERSON,
        "lifestyle",
        0.015,
        "Night-shift nurse at St James's; shops after 9 a.m.",
        "Night-shift nurse at {hospital}; shops after 9 a.m.",
        "Nurse on nights at {hospital}; best seen mid-morning",
        "Works nights on {ward} at {hospital}",
    ),
    _specific(
        PERSON,
        "lifestyle",
        0.015,
        "Lives on a narrowboat on the Leeds-Liverpool canal",
        "Lives on a narrowboat moored at {mooring}",
        "Home is a narrowboat on the Leeds-Liverpool canal near {mooring}",
        "Lives aboard a canal boat at {mooring}; little room for speakers",
    ),
    _specific(
        PERSON,
        "lifestyle",
        0.015,
        "Runs a market stall on Saturdays",
        "Runs a {stall} stall at {market} market on Saturdays",
        "Has a Saturday {stall} stall at {market} market",
    ),
    _specific(
        PERSON,
        "lifestyle",
        0.015,
        "Full-time carer for an elderly parent",
        "Full-time carer for their {elder} since {since_when}",
        "Cares full time for their {elder} in {town}",
    ),
    _specific(
        PERSON,
        "values",
        0.015,
        "Vegan: asked whether the headphone pads are leather",
        "Vegan: asked whether the {vegan_gear} is leather",
        "Vegan; wants no leather, not even on the {vegan_gear}",
        "Vegan; asked about leather on the {vegan_gear} before buying",
    ),
    _specific(
        PERSON,
        "values",
        0.015,
        "Buys second-hand wherever possible",
        "Buys second-hand {used_gear} wherever possible",
        "Prefers second-hand {used_gear} to new",
    ),
    _specific(
        PERSON,
        "values",
        0.015,
        "Gives a tenth of their income to charity",
        "Gives a tenth of their income to charity; volunteers at {charity} in {town}",
        "Volunteers at {charity} in {town} every week",
    ),
    _specific(
        PERSON,
        "product_fit",
        0.02,
        "Hard of hearing: needs a quiet corner to try speakers",
        "Hard of hearing: needs a quiet corner to try {audio}",
        "Wears hearing aids; try {audio} in the quiet room",
        "Hard of hearing; tries {audio} in the {store} store's quiet room",
    ),
    _specific(
        PERSON,
        "product_fit",
        0.02,
        "Teaches piano at home; has it tuned twice a year",
        "Teaches piano at home in {town}; has it tuned twice a year",
        "Piano teacher with {pupils} pupils in {town}; tuning every six months",
    ),
    _specific(
        PERSON,
        "product_fit",
        0.02,
        "DJs at weddings at weekends",
        "DJs at weddings around {town} at weekends",
        "Weekend wedding DJ in {town}; always after {dj_kit}",
    ),
    _specific(
        PERSON,
        "product_fit",
        0.02,
        "Uses a hearing loop with the TV",
        "Uses a hearing loop with the TV in the {room}",
        "Has a hearing loop at home in {town}; asks for ours when in the store",
        "Asked about a hearing loop for {loop_place}",
        "Hearing loop user; the {room} TV is set up for it",
    ),
    _specific(
        PERSON,
        "free_time",
        0.015,
        "Collects first pressings of 1970s jazz",
        "Collects first pressings of {decade} {style}",
        "Hunts for {decade} {style} first pressings at record fairs in {town}",
    ),
    _specific(
        PERSON,
        "free_time",
        0.015,
        "Restores valve amplifiers as a hobby",
        "Restores old {amp} valve amplifiers in the {room}",
        "Restores valve amps in the {room}; has {count} on the go",
    ),
    _specific(
        PERSON,
        "free_time",
        0.015,
        "Rings bells at the parish church",
        "Rings bells at {church}",
        "Bell-ringer at {church}; practice on {weekday}s",
    ),
    _specific(
        PERSON,
        "free_time",
        0.015,
        "Plays fiddle in a ceilidh band",
        "Plays {ceilidh} in a ceilidh band in {town}",
        "Plays {ceilidh} in a ceilidh band that plays weddings round {town}",
    ),
    _specific(
        PERSON,
        "free_time",
        0.015,
        "Sings in a barbershop quartet",
        "Sings {barbershop} in a barbershop quartet from {town}",
        "Sings in a barbershop quartet from {town}",
        "Sings {barbershop} in a barbershop chorus in {town}",
    ),
    _specific(
        PERSON,
        "family",
        0.012,
        "Twins start secondary school in September",
        "Twins start {school} in {town} in September",
        "Their twins start {school} in {month}",
    ),
    _specific(
        PERSON,
        "family",
        0.012,
        "Partner is a professional violinist",
        "Partner is a professional {player} with {orchestra}",
        "Partner plays with {orchestra} as a {player}",
    ),
    _specific(
        PERSON,
        "family",
        0.012,
        "Fosters teenagers",
        "Fosters {fostered} in {town}",
        "Foster carer in {town}; {fostered} at home at the moment",
    ),
    _specific(
        PERSON,
        "cares_about",
        0.02,
        "Wants everything explained in writing",
        "Wants everything explained in writing, {written}",
        "Wants it all put in writing, {written}",
        "Wants it in writing before deciding, {written}",
    ),
    _specific(
        PERSON,
        "cares_about",
        0.02,
        "Wants one named person to call",
        "Wants one named person to call; asks for {staff} at the {store} store",
        "Likes dealing with {staff} and nobody else: {staff_reason}",
        "Asks for {staff} by name every time they {contact_way}",
    ),
    _specific(
        PERSON,
        "worries",
        0.015,
        "Worried about hearing damage from loud music",
        "Worried about hearing damage from {loud}",
        "Worries that {loud} will damage their hearing",
        "Asked about earplugs: worried about {loud}",
    ),
    _specific(
        PERSON,
        "worries",
        0.015,
        "Nervous about paying online after being scammed",
        "Nervous about paying online after being scammed {scammed}",
        "Pays in the store only: was scammed online {scammed}",
        "Worried about paying online since being scammed {scammed}",
    ),
    _specific(
        PERSON,
        "motivations",
        0.02,
        "Came back after a bad experience with an online marketplace",
        "Came back after an online marketplace sold them {bad_buy}",
        "Came back to us after being let down by a marketplace over {bad_buy}",
        "Back with us since a marketplace seller sent {bad_buy}",
    ),
    _specific(
        PERSON,
        "motivations",
        0.02,
        "Chose us after four other shops talked only about themselves",
        "Chose us after {shops} other shops in {town} talked only about themselves",
        "Tried {shops} shops in {town} before us; we were the first to ask what they needed",
        "Tried every shop in {town} before us; we were the first to listen",
    ),
    _specific(
        BUSINESS,
        "business_quirks",
        0.02,
        "Closed every August",
        "Closed every August",
        "Shuts for the whole of August",
        "Closes for two weeks every {quiet_month}",
    ),
    _specific(
        BUSINESS,
        "business_quirks",
        0.02,
        "The owner is deaf: communicate in writing",
        "The owner is deaf: communicate in writing",
        "Deaf owner, so write to them rather than call",
    ),
    _specific(
        BUSINESS,
        "business_quirks",
        0.02,
        "Family business run by three generations",
        "Family business run by three generations",
        "Three generations of the {owner_surname} family run it",
    ),
    _specific(
        BUSINESS,
        "business_quirks",
        0.02,
        "Only open at night",
        "Only open at night",
        "Opens at {late} and trades till late",
    ),
    _specific(
        BUSINESS,
        "business_quirks",
        0.02,
        "Run entirely by volunteers",
        "Run entirely by volunteers",
        "Staffed only by volunteers",
    ),
    _specific(
        BUSINESS,
        "growth_plans",
        0.02,
        "Applying for a late-night music licence",
        "Applying for a late-night music licence",
        "Has applied for a music licence until {licence}",
    ),
    _specific(
        BUSINESS,
        "growth_plans",
        0.02,
        "Bidding for the council's schools music contract",
        "Bidding for the council's schools music contract",
        "Tendering for the council's music contract for schools",
    ),
    _specific(
        BUSINESS,
        "challenges",
        0.02,
        "Noise complaints from the new flats next door",
        "Noise complaints from the new flats next door",
        "Neighbours in the new flats complain about the noise",
    ),
    _specific(
        BUSINESS,
        "challenges",
        0.02,
        "The lease ends next year; they may have to move",
        "The lease ends next year; they may have to move",
        "Lease is up in {month}; they might need to move",
    ),
    _specific(
        BUSINESS,
        "team",
        0.015,
        "The sound engineer is freelance and hard to reach",
        "The sound engineer is freelance and hard to reach",
        "Their freelance sound engineer, {staff_name}, is hard to get hold of",
    ),
    _specific(
        BUSINESS,
        "team",
        0.015,
        "A new manager started this year and is still finding their feet",
        "A new manager started this year and is still finding their feet",
        "{staff_name} started as manager in {month} and is still settling in",
    ),
    _specific(
        BUSINESS,
        "strengths",
        0.015,
        "Award-winning acoustic nights",
        "Award-winning acoustic nights",
        "Their acoustic nights on {weekday}s have won awards",
    ),
    _specific(
        BUSINESS,
        "strengths",
        0.015,
        "Known for giving young local bands their first gig",
        "Known for giving young local bands their first gig",
        "Where young {town} bands get their first gig",
    ),
    _specific(
        BUSINESS,
        "competitive_threats",
        0.02,
        "A national chain is opening nearby",
        "A national chain is opening nearby",
        "A national chain is opening a branch on {street}",
    ),
    _specific(
        BUSINESS,
        "competitive_threats",
        0.02,
        "Their landlord is opening a competing business upstairs",
        "Their landlord is opening a competing business upstairs",
        "The landlord plans a rival business upstairs",
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


# ---- the specifics of shared facts' wordings ({slot} -> one of these; a value may hold slots too) ------

STAFF_FIRST_NAMES = tuple(u.name.split(" ")[0] for u in DEMO_USERS if u.serves == PERSON)
SLOTS: dict[str, tuple[str, ...]] = {
    "town": tuple(TOWNS),
    "month": MONTHS,
    "weekday": WEEKDAYS,
    "genre": GENRES,
    "room": ROOMS,
    "street": STREETS,
    "saint": SAINTS,
    "staff": STAFF_FIRST_NAMES,
    "staff_name": NAMES_FOR_STAFF,
    "owner": NAMES_FOR_STAFF,
    "store": ("Leeds", "York"),
    "commute": ("A64", "M62", "ring road", "A1", "A65", "school run", "M1", "A61", "A59", "A19"),
    "drive": (
        "to work in {town}",
        "for a living around {town}",
        "a taxi at night in {town}",
        "to see family in {town}",
        "a delivery van round {town}",
    ),
    "vinyl": (*GENRES, "jazz", "soul", "blues", "folk", "reggae", "prog rock", "punk", "indie", "classical"),
    "eldest": (
        "just starting school",
        "at university",
        "learning the guitar",
        "a teenager",
        "a toddler",
        "doing GCSEs",
        "off to college",
    ),
    "venue": (
        "the Brudenell",
        "Leeds Town Hall",
        "the First Direct Arena",
        "the Grand Theatre",
        "the Barbican in York",
        "the Royal Hall in Harrogate",
        "the Howard Assembly Room",
        "the Crescent in York",
        "Victoria Hall in Saltaire",
        "the Wardrobe",
    ),
    "act": (
        "Opera North",
        "a Fleetwood Mac tribute band",
        "a jazz trio",
        "a folk duo",
        "the Hallé",
        "a Motown revue",
        "an Abba tribute",
        "a Northern soul all-dayer",
    ),
    "work_city": ("Leeds", "York", "Manchester", "Sheffield", "Bradford"),
    "commute_from": (
        "Harrogate",
        "Wakefield",
        "Huddersfield",
        "Ilkley",
        "Skipton",
        "Selby",
        "Shipley",
        "Garforth",
        "Horsforth",
        "Castleford",
    ),
    "workplace": (
        "St James's",
        "the LGI",
        "York Hospital",
        "the Royal Mail depot in {town}",
        "a care home in {town}",
        "the fire station in {town}",
        "the bus depot in {town}",
        "a warehouse in {town}",
        "the railway",
        "the police control room",
        "the airport",
        "a bakery in {town}",
        "a supermarket in {town}",
        "a call centre in {town}",
        "a factory in {town}",
    ),
    "shift": ("nights", "early shifts", "lates", "twelve-hour shifts", "rotating shifts", "weekends"),
    "cd_for": (
        "the grandparents",
        "their nephews",
        "friends' birthdays",
        "colleagues",
        "their dad",
        "their mum",
        "Secret Santa",
        "their in-laws",
        "the neighbours",
        "their godchildren",
    ),
    "style": ("jazz", "soul", "blues", "folk", "reggae", "prog rock", "Motown", "punk"),
    "bin": ("new releases", "second-hand", "bargain", "reissues", "jazz", "soul"),
    "band_instrument": ("guitar", "bass", "drums", "keyboards", "lead guitar", "rhythm guitar"),
    "covers": (
        "60s",
        "Motown",
        "Britpop",
        "punk",
        "ABBA",
        "soul",
        "rock 'n' roll",
        "80s",
        "indie",
        "Beatles",
    ),
    "dale": (
        "Wharfedale",
        "Wensleydale",
        "Swaledale",
        "Nidderdale",
        "Malhamdale",
        "Airedale",
        "Ribblesdale",
        "the Three Peaks",
        "Dentdale",
        "Littondale",
        "Bishopdale",
        "Coverdale",
    ),
    "count": ("two", "three", "four", "five", "six"),
    "friends": (
        "their choir",
        "work",
        "the running club",
        "their band",
        "the allotments",
        "church",
        "the school gate",
        "five-a-side",
    ),
    "friend_who": (
        "their sister",
        "their brother",
        "a colleague",
        "a colleague in {town}",
        "their neighbour",
        "a friend from {friends}",
        "a friend in {town}",
        "their piano teacher",
        "their son",
        "their daughter",
        "their brother-in-law",
        "an old school friend",
        "their guitar teacher",
        "someone at {friends}",
    ),
    "premises": ("bar", "function room", "main hall", "kitchen", "shop floor", "rehearsal room", "entrance"),
    "season": SEASONS,
    "daypart": ("mornings", "afternoons", "nights"),
    "season_span": (
        "May and September",
        "Easter and October",
        "June and August",
        "November and January",
        "April and September",
    ),
    "decades": ("twenty years", "thirty years", "forty years", "a decade or more"),
    "hospital": (
        "St James's",
        "the LGI",
        "York Hospital",
        "Harrogate District Hospital",
        "Pinderfields",
        "Bradford Royal Infirmary",
        "Huddersfield Royal",
    ),
    "ward": (
        "the children's ward",
        "A&E",
        "the maternity unit",
        "the cardiac ward",
        "intensive care",
        "the stroke unit",
    ),
    "mooring": (
        "Rodley",
        "Apperley Bridge",
        "Saltaire",
        "Skipton",
        "Kirkstall",
        "Granary Wharf",
        "Shipley",
        "Bingley",
        "Gargrave",
        "Castleford",
    ),
    "stall": (
        "vintage clothes",
        "cheese",
        "second-hand book",
        "plant",
        "record",
        "bread",
        "jewellery",
        "flower",
        "spice",
    ),
    "market": (
        "Kirkgate",
        "Otley",
        "Skipton",
        "Harrogate",
        "Wakefield",
        "Shambles",
        "Huddersfield",
        "Pudsey",
    ),
    "elder": (
        "mother",
        "father",
        "elderly mother",
        "elderly father",
        "mother-in-law",
        "father-in-law",
        "aunt",
        "grandmother",
    ),
    "vegan_gear": (
        "headphone padding",
        "guitar strap",
        "piano stool cover",
        "drum stool seat",
        "camera strap",
        "cello case handle",
        "headband",
        "guitar case",
        "earpad trim",
    ),
    "used_gear": (
        "hi-fi",
        "instruments",
        "records",
        "guitars",
        "amps",
        "speakers",
        "turntables",
        "sheet music",
        "pedals",
        "keyboards",
    ),
    "charity": (
        "a food bank",
        "the hospice shop",
        "a homeless shelter",
        "an animal rescue",
        "a refugee charity",
        "Mind",
        "the Samaritans",
    ),
    "audio": (
        "speakers",
        "headphones",
        "a soundbar",
        "hi-fi",
        "a TV speaker",
        "bookshelf speakers",
        "a radio",
        "a record player",
    ),
    "since_when": ("last year", "the spring", "a fall at home", "their stroke", "the pandemic", "the autumn"),
    "staff_reason": (
        "knows their kit",
        "remembers their order",
        "explains things simply",
        "never rushes them",
        "sorted their repair",
    ),
    "contact_way": ("call", "come in", "e-mail", "ring the store"),
    "pupils": ("a dozen", "about 20", "30-odd", "eight", "15", "a handful of"),
    "dj_kit": (
        "new cables",
        "a spare microphone",
        "more bass",
        "lighting",
        "a backup controller",
        "speaker stands",
    ),
    "loop_place": (
        "their church",
        "the village hall",
        "their choir",
        "the bowls club",
        "their book group",
        "the U3A",
    ),
    "decade": ("1950s", "1960s", "1970s", "1980s"),
    "amp": ("Leak", "Quad", "Vox", "Marshall", "Pye", "Rogers", "Mullard"),
    "church": (
        "the parish church in {town}",
        "St {saint}'s in {town}",
        "the Minster",
        "their village church",
        "St {saint}'s",
    ),
    "ceilidh": ("fiddle", "accordion", "melodeon", "whistle", "bodhrán", "guitar"),
    "barbershop": ("lead", "tenor", "baritone", "bass"),
    "school": ("secondary school", "primary school", "university", "sixth form", "nursery", "college"),
    "player": ("violinist", "cellist", "viola player", "trumpeter", "oboist", "percussionist", "harpist"),
    "orchestra": (
        "Opera North",
        "the Hallé",
        "a string quartet",
        "a touring orchestra",
        "the BBC Philharmonic",
        "a West End pit band",
        "Northern Ballet's orchestra",
    ),
    "fostered": ("one teenager", "two teenagers", "three teenagers", "teenage siblings"),
    "written": (
        "by e-mail",
        "on paper",
        "with diagrams",
        "step by step",
        "in large print",
        "before they pay",
        "with the prices",
        "in plain English",
        "for their partner to read",
        "with a copy by post",
    ),
    "loud": (
        "loud gigs",
        "drumming",
        "their headphones",
        "band rehearsals",
        "years of clubbing",
        "festival season",
        "the works canteen radio",
        "playing in a brass band",
    ),
    "scammed": (
        "last year",
        "at Christmas",
        "in the spring",
        "twice",
        "on a ticket site",
        "by a fake shop",
        "through a fake parcel text",
        "on a marketplace",
    ),
    "bad_buy": (
        "a fake pair of headphones",
        "a broken turntable",
        "a guitar that never arrived",
        "a used amp that died",
        "counterfeit strings",
        "a cracked violin",
        "speakers with a blown tweeter",
        "a keyboard with dead keys",
    ),
    "shops": ("two", "three", "four", "five", "half a dozen"),
    "quiet_month": ("August", "January", "July", "February"),
    "owner_surname": LAST_NAMES,
    "late": ("8 p.m.", "9 p.m.", "10 p.m."),
    "licence": ("midnight", "1 a.m.", "2 a.m."),
}
_SLOT = re.compile(r"\{(\w+)\}")


def fill(template: str, rng: random.Random) -> str:
    """A wording with each {slot} replaced by one of its values (values may hold slots of their own)."""
    while "{" in template:
        template = _SLOT.sub(lambda match: _pick(rng, SLOTS[match.group(1)]), template)
    return template


def wording(fact: SharedFact, rng: random.Random) -> str:
    """How this customer's record words a shared fact: mostly its usual words, some in other plain words,
    some with specifics."""
    if fact.specific and rng.random() < fact.detail:
        return fill(_pick(rng, fact.specific), rng)
    if not fact.wordings:
        return fact.text
    return rng.choices((fact.text, *fact.wordings), weights=(3, *[1] * len(fact.wordings)))[0]


# The sentences many records may hold word for word: the plain wordings, short and general.
COMMON_TEXTS = frozenset(
    text for fact in SHARED_FACTS if fact.detail < 1 for text in (fact.text, *fact.wordings)
)


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
