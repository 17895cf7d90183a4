"""The demo's catalogue, and who bought what of it: purchases that name an offering, planted so that
collaborative filtering and content matching have something real to find.

**The catalogue** (``CATALOGUE``, 40 offerings): what a music company with two stores, a web shop and a
Business Sales team sells - instruments, lessons, workshop repairs and set-ups, hi-fi, records, rehearsal
rooms, plans and insurance, and installations for businesses. Their descriptions and needs are written in
the words customers' facts use (``content``): a covers band, a grade exam, a turntable, a hearing loop, a
second café. It is imported through the catalogue's CSV import (``personalisation.importer``), like a
file an administrator uploads, when the demo loads (``load.load``).

**Purchases that name an offering**, for the customers staff know something about (every customer with a
fact: the demo's consumers and businesses, and the known part of the purchase history), decided as
follows:

- *The CDNOW purchases of known customers are tagged with a record offering* (``tag_records``): CDNOW
  sold CDs, so these are the records department's sales (new releases, the back catalogue and jazz, LPs,
  gifts). Each known customer has a record taste read from their facts (a turntable: LPs; CDs
  as presents or grandchildren: gifts; first pressings: the back catalogue) or, without such a fact, from
  their taste group; most of their purchases name their taste, the others a second record offering. The
  purchases of customers nobody knows stay untagged (the web shop's CD orders): tagging all 69,659 would
  make the records department four fifths of every purchase, so "the most popular" would win every
  comparison and the catalogue's other 36 offerings would hardly be bought. Tagging keeps every CDNOW
  purchase's customer, day, value and quantity (only its ``offering`` and so its derived ``event_id``
  change): the purchase history and its published figures are the same.
- *New purchases of the other offerings* (``plan_purchases``) for the same customers, on their timeline:
  from their first activity (never more than two years back) to the demo's day, in the hours the stores,
  the web shop or Business Sales work. A customer's purchases come from three sources: a fact of theirs
  (``THEMES``: someone who "plays bass in a covers band" buys set-ups, strings and rehearsal hours; a
  café "opening a second site" buys the same sound for it), bought after staff learned the fact (at the
  encounter itself, for some) and mostly within three months of it; their taste group (people: players,
  families, listeners, collectors, casual buyers, drawn from their facts when they have a telling one;
  businesses: their industry), which links customers without a telling fact to those with one; and the
  catalogue's general popularity. One-off purchases (a digital piano, an installation) are not bought
  twice.

Everything is drawn from random generators seeded with the demo's seed, over the customers in the order
of their ids and their facts in the order they were learned, with moments drawn by weekday
(``working_hours``): two loads on one day write the same events, and a load a week later the same events
a week later. Both batches go through the behaviour domain's import (``ingest.import_events``), like the
CDNOW history: ids derived from the events' fields, so importing them again changes nothing.
"""

from __future__ import annotations

import csv
import functools
import io
import random
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import select
from sqlalchemy.orm import Session

from segone.accounts.schemas import Actor
from segone.behaviour.events import validate_events
from segone.customers.models import Customer, CustomerIdentity
from segone.demo.working_hours import OFFICE, ONLINE, SHOP, Clock
from segone.encounters.models import Encounter
from segone.errors import Invalid
from segone.knowledge.models import Differentiator
from segone.personalisation.importer import import_offerings
from segone.personalisation.schemas import OfferingImportReport

PERSON = "person"
BUSINESS = "business"
HISTORY_DAYS = 730  # purchases of the past two years, like the facts and encounters
DUPLICATE_CRM = 90_000  # crm:B90000 and up are the records made twice (``generate.duplicate``)
RECORD_TASTE = 0.7  # the share of a known customer's CDNOW purchases that name their record taste


@dataclass(frozen=True)
class DemoOffering:
    """One offering of the demo's catalogue, with what the demo needs to make its purchases."""

    key: str
    name: str
    description: str
    price_band: str
    needs: tuple[str, ...]
    department: str
    audience: str  # people, businesses or everyone
    price: tuple[float, float]  # a purchase's value, from and to
    popularity: float  # how often anyone buys it, relative to the others of its audience
    repeat: bool = False  # bought again (lessons, repairs, rehearsal hours), or once

    @property
    def for_people(self) -> bool:
        return self.audience in ("people", "everyone")

    @property
    def for_businesses(self) -> bool:
        return self.audience in ("businesses", "everyone")


def _offering(
    key: str,
    name: str,
    description: str,
    band: str,
    needs: str,
    department: str,
    audience: str,
    price: tuple[float, float],
    popularity: float,
    *,
    repeat: bool = False,
) -> DemoOffering:
    return DemoOffering(
        key, name, description, band, tuple(needs.split(";")), department, audience, price, popularity, repeat
    )


CATALOGUE: tuple[DemoOffering, ...] = (
    # Instruments
    _offering(
        "guitar-starter-kit",
        "Guitar starter kit",
        "A first acoustic or electric guitar (or a ukulele) with a tuner, spare strings, a strap and a gig "
        "bag, set up in our workshop so it is easy to play: a birthday present for a child or grandchild, "
        "or for anyone starting lessons.",
        "200_plus",
        "learn an instrument;gift;music",
        "instruments",
        "people",
        (120, 320),
        2.0,
    ),
    _offering(
        "step-up-instrument",
        "Step-up instrument",
        "A better or full-size violin, viola, cello, flute, clarinet, trumpet, saxophone or drum kit for a "
        "young player who has outgrown their first one, chosen with their teacher before the next grade "
        "exam, audition or concert solo.",
        "200_plus",
        "upgrade an instrument;exams;young players",
        "instruments",
        "people",
        (350, 1800),
        0.6,
    ),
    _offering(
        "instrument-hire",
        "Instrument hire, rent to buy",
        "A violin, cello, flute, clarinet, trumpet, trombone or keyboard by the month for a child "
        "starting in the school band, the youth orchestra or a brass band, or for a class; the rent "
        "counts towards buying it.",
        "under_50",
        "learn an instrument;young players;try before buying",
        "instruments",
        "everyone",
        (18, 45),
        1.0,
    ),
    _offering(
        "digital-piano",
        "Digital piano",
        "A weighted-key digital piano with headphones, for learning and practising at home without "
        "disturbing the neighbours; delivered, carried in and set up.",
        "200_plus",
        "learn an instrument;practice at home",
        "instruments",
        "everyone",
        (450, 1400),
        0.7,
    ),
    _offering(
        "used-gear",
        "Second-hand instruments and part-exchange",
        "Checked and set-up second-hand guitars, amps, keyboards, pedals and hi-fi with a year's guarantee; "
        "trade in the gear you no longer play.",
        "50_200",
        "second-hand;save money",
        "instruments",
        "people",
        (60, 450),
        0.8,
        repeat=True,
    ),
    _offering(
        "pa-hire",
        "PA and lighting hire",
        "A PA system, microphones, speaker stands and lighting for a weekend: for wedding DJs, covers bands, "
        "ceilidh bands and parties; delivered and collected.",
        "50_200",
        "play live;events",
        "rooms",
        "everyone",
        (90, 260),
        0.5,
        repeat=True,
    ),
    # Lessons
    _offering(
        "guitar-lessons-10",
        "Ten guitar lessons",
        "Ten weekly one-to-one lessons with a teacher from the shop, any level: guitar, bass or ukulele, "
        "from a first chord to playing in a band.",
        "50_200",
        "learn an instrument;music",
        "lessons",
        "people",
        (150, 190),
        1.0,
        repeat=True,
    ),
    _offering(
        "music-lessons-term",
        "A term of instrument lessons",
        "Twelve weekly lessons on piano, violin, cello, flute, clarinet, trumpet, saxophone or drums for "
        "children and adults, with preparation for graded exams, auditions and concert solos.",
        "200_plus",
        "learn an instrument;exams;young players",
        "lessons",
        "people",
        (210, 300),
        1.1,
        repeat=True,
    ),
    _offering(
        "singing-lessons",
        "Singing lessons",
        "Six one-to-one voice lessons for choir, barbershop and gospel singers and anyone who sings: "
        "breathing, range and confidence before the next concert.",
        "50_200",
        "sing;learn",
        "lessons",
        "people",
        (110, 160),
        0.5,
        repeat=True,
    ),
    # Workshop
    _offering(
        "setup-and-restring",
        "Set-up and restring",
        "Action, intonation and new strings on any guitar or bass, ready the next day: for players who gig "
        "and rehearse every week.",
        "under_50",
        "repair;maintenance;play live",
        "workshop",
        "people",
        (35, 49),
        1.4,
        repeat=True,
    ),
    _offering(
        "repair-workshop",
        "Repair workshop",
        "Cracks, frets and electronics repaired in our workshop, with a quote first: guitars, amps, "
        "keyboards and hi-fi.",
        "50_200",
        "repair",
        "workshop",
        "everyone",
        (60, 190),
        0.9,
        repeat=True,
    ),
    _offering(
        "orchestral-repair",
        "Bow rehair and orchestral repairs",
        "A violin, viola or cello bow rehaired, seams and cracks glued, a new bridge and strings fitted, in "
        "time for the concert, the orchestra's season or the exam.",
        "50_200",
        "repair;young players;exams",
        "workshop",
        "people",
        (55, 160),
        0.6,
        repeat=True,
    ),
    _offering(
        "valve-amp-service",
        "Valve amplifier service",
        "Old valve amplifiers and vintage hi-fi (Leak, Quad, Vox, Marshall, Rogers) serviced: valves "
        "matched, capacitors replaced, safety checked, ready for another forty years.",
        "50_200",
        "repair;vintage hi-fi",
        "workshop",
        "people",
        (90, 220),
        0.25,
        repeat=True,
    ),
    _offering(
        "turntable-setup",
        "Turntable set-up and new stylus",
        "A new cartridge or stylus fitted on your record player, the arm balanced and the speed checked, so "
        "your vinyl sounds its best and your records last.",
        "under_50",
        "maintenance;records",
        "workshop",
        "people",
        (25, 49),
        0.8,
        repeat=True,
    ),
    # Hi-fi
    _offering(
        "hifi-system",
        "Hi-fi system with home set-up",
        "Bookshelf speakers, a streaming amplifier and a turntable, tried in your living room, loft "
        "conversion, kitchen or garden room before you buy, and set up by us in the new home.",
        "200_plus",
        "listen at home;hi-fi",
        "hi-fi",
        "people",
        (400, 2400),
        0.9,
    ),
    _offering(
        "noise-cancelling-headphones",
        "Noise-cancelling headphones",
        "Wireless noise-cancelling headphones for the train commute, working from home and long journeys, "
        "with vegan earpads on request.",
        "200_plus",
        "listen on the move;headphones",
        "hi-fi",
        "people",
        (200, 380),
        1.3,
    ),
    _offering(
        "running-headphones",
        "Running headphones",
        "Sweat-proof wireless earphones that stay in for a 10K, a half marathon or marathon training runs.",
        "50_200",
        "listen on the move;sport",
        "hi-fi",
        "people",
        (60, 150),
        0.7,
    ),
    _offering(
        "tv-sound-and-hearing",
        "Clear TV sound and a hearing loop at home",
        "A soundbar or TV speaker that makes speech clear, and a hearing loop for hearing aid users, tried "
        "first in the quiet room of our Leeds and York stores.",
        "200_plus",
        "hearing;listen at home",
        "hi-fi",
        "people",
        (220, 700),
        0.4,
    ),
    _offering(
        "home-setup-visit",
        "Set-up visit at home",
        "We deliver it, carry it in, set up the speakers, soundbar, turntable or digital piano and explain "
        "it simply, in writing too, so nothing is too complicated; before the party, the concert or "
        "Christmas, and a surprise if you like.",
        "under_50",
        "set-up;help at home",
        "hi-fi",
        "people",
        (35, 49),
        0.8,
        repeat=True,
    ),
    # Records
    _offering(
        "new-releases",
        "New releases on CD",
        "This week's albums on CD, in the stores and online, kept for you on the day they come out: for the "
        "car, the commute and the gigs you have just been to.",
        "under_50",
        "records;music",
        "records",
        "people",
        (10, 60),
        0.0,
        repeat=True,
    ),
    _offering(
        "back-catalogue",
        "Back catalogue, jazz and reissues",
        "Classic albums, first pressings and reissues: jazz, soul, blues, Motown, Northern soul, Britpop, "
        "80s synth-pop, prog rock, punk and film soundtracks, and the records collectors hunt for at "
        "record fairs.",
        "under_50",
        "records;collecting",
        "records",
        "people",
        (10, 80),
        0.0,
        repeat=True,
    ),
    _offering(
        "vinyl-lps",
        "LPs on vinyl",
        "New and reissued LPs for turntable owners who buy vinyl most months: jazz, soul, reggae, folk, "
        "Afrobeats and indie, with the new stock in on Fridays.",
        "under_50",
        "records;vinyl",
        "records",
        "people",
        (15, 90),
        0.0,
        repeat=True,
    ),
    _offering(
        "gift-cds",
        "Records as presents, gift-wrapped",
        "Albums chosen with you as presents for grandparents, nephews, godchildren, colleagues and Secret "
        "Santa; gift-wrapped, with a gift receipt.",
        "under_50",
        "gift;records",
        "records",
        "people",
        (10, 60),
        0.0,
        repeat=True,
    ),
    _offering(
        "record-club",
        "Record club: an LP a month",
        "An LP chosen for you every month from jazz, soul, blues, folk, reggae or prog rock, kept at the "
        "Leeds or York store or posted; for collectors and anyone with a turntable.",
        "under_50",
        "records;vinyl;subscription",
        "records",
        "people",
        (22, 28),
        0.6,
    ),
    _offering(
        "musicians-earplugs",
        "Musicians' earplugs and in-ear monitors",
        "Custom-moulded earplugs and in-ear monitors that protect your hearing at loud gigs, band "
        "rehearsals, drumming, festivals and brass band practice without muffling the music.",
        "50_200",
        "protect hearing;play live",
        "accessories",
        "people",
        (90, 190),
        0.5,
    ),
    # Rooms
    _offering(
        "band-rehearsal-room",
        "Rehearsal room",
        "A soundproofed room with a PA and drum kit, by the hour: for covers bands, ceilidh bands, "
        "barbershop quartets and choirs rehearsing for weddings and gigs.",
        "under_50",
        "play with others;play live;music",
        "rooms",
        "people",
        (24, 48),
        0.8,
        repeat=True,
    ),
    # Plans and insurance
    _offering(
        "piano-tuning-plan",
        "Piano tuning plan",
        "Your piano tuned twice a year at home, at school or at church by our tuner: for piano teachers, "
        "their pupils' exams and anyone whose piano goes out of tune.",
        "50_200",
        "maintenance;piano",
        "plans",
        "everyone",
        (120, 180),
        0.4,
    ),
    _offering(
        "care-plan",
        "Three-year care plan",
        "Repairs, a loan unit while we fix it and a yearly check for any instrument or hi-fi bought here: "
        "for people who would rather pay once for something that lasts.",
        "50_200",
        "peace of mind;something that lasts",
        "plans",
        "people",
        (60, 180),
        0.8,
    ),
    _offering(
        "instrument-insurance",
        "Instrument and gear insurance",
        "Cover for instruments and gear away from home: gigs, weddings, rehearsals, the orchestra pit, "
        "school and the car; theft and accidental damage.",
        "under_50",
        "peace of mind;play live",
        "plans",
        "people",
        (8, 30),
        0.6,
    ),
    _offering(
        "instrument-finance",
        "Interest-free instrument finance",
        "Spread the cost of a grand piano, a professional cello, a vintage Stratocaster, a drum kit or a "
        "harp over 12 to 36 months, interest free, with a part-exchange for the instrument you play now.",
        "200_plus",
        "spread the cost;upgrade an instrument",
        "plans",
        "people",
        (900, 6500),
        0.2,
    ),
    # For businesses
    _offering(
        "background-music-system",
        "Background music system",
        "Ceiling or wall speakers, a streaming player and licensed playlists for a café, restaurant, hotel, "
        "gym or shop, one zone per room and outdoor seating too; installed out of hours.",
        "200_plus",
        "install sound;background music",
        "installations",
        "businesses",
        (1500, 9000),
        1.5,
    ),
    _offering(
        "second-site-fit-out",
        "Sound for a second site",
        "The sound you have, installed at your second café, venue, studio, hotel or teaching room before it "
        "opens: both sites sound alike and one invoice a month covers both.",
        "200_plus",
        "install sound;growth",
        "installations",
        "businesses",
        (3000, 18000),
        0.3,
    ),
    _offering(
        "live-music-pa",
        "Live music PA",
        "A PA, stage monitors and wireless microphones installed for live music nights, open-mic and "
        "acoustic nights, function rooms and young local bands' first gigs.",
        "200_plus",
        "install sound;play live",
        "installations",
        "businesses",
        (2500, 15000),
        0.9,
    ),
    _offering(
        "sound-limiter",
        "Sound limiter and acoustic treatment",
        "A noise limiter and acoustic panels that keep live music in the room: for noise complaints from "
        "the new flats next door and the conditions of a late-night music licence.",
        "200_plus",
        "noise;licensing",
        "installations",
        "businesses",
        (1200, 6000),
        0.5,
    ),
    _offering(
        "hearing-loop-install",
        "Hearing loop installation",
        "A hearing loop for a church, theatre, hotel, school hall or function room, installed, tested and "
        "certified, with staff shown how to use it; for deaf and hard of hearing guests.",
        "200_plus",
        "hearing;install sound",
        "installations",
        "businesses",
        (900, 4500),
        0.6,
    ),
    _offering(
        "stage-lighting",
        "Stage lighting",
        "LED stage lighting with simple presets for theatres, dance schools, venues and function rooms, "
        "installed before the next show or the refit's end.",
        "200_plus",
        "lighting;shows",
        "installations",
        "businesses",
        (1800, 12000),
        0.6,
    ),
    _offering(
        "studio-gear",
        "Studio monitors and recording booth",
        "Studio monitors, microphones and an acoustically treated booth for a recording studio, a podcast "
        "studio or a rehearsal room in the basement; designed and installed.",
        "200_plus",
        "recording;install sound",
        "installations",
        "businesses",
        (2000, 14000),
        0.5,
    ),
    _offering(
        "class-instruments",
        "Classroom instruments and practice pianos",
        "Class sets of ukuleles, keyboards and percussion, and practice pianos for schools, music teachers' "
        "tuition rooms and the schools music contract; delivered, tuned and maintained.",
        "200_plus",
        "teaching;learn an instrument",
        "installations",
        "businesses",
        (1200, 9000),
        0.7,
    ),
    _offering(
        "studio-class-sound",
        "Sound for dance and fitness classes",
        "Class sound with a wireless headset microphone for dance schools, gyms and fitness studios: the "
        "teacher is heard clearly over the music.",
        "200_plus",
        "install sound;classes",
        "installations",
        "businesses",
        (1500, 7000),
        0.5,
    ),
    _offering(
        "support-contract",
        "Support and maintenance contract",
        "A yearly check of your sound and lighting, fast help when something breaks, a loan unit, and kit "
        "anyone on the staff can run when the sound engineer is away.",
        "200_plus",
        "support;peace of mind",
        "plans",
        "businesses",
        (600, 2400),
        1.0,
    ),
)
OFFERINGS = {offering.key: offering for offering in CATALOGUE}
# The records department: what CDNOW's CD purchases of known customers are tagged with.
RECORDS = ("new-releases", "back-catalogue", "vinyl-lps", "gift-cds")
RECORD_WEIGHTS = (4.0, 2.5, 1.0, 1.5)  # a second record offering, by how often any is chosen


def catalogue_csv() -> str:
    """The catalogue in the layout of the catalogue's CSV import (docs/personalisation.md)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["key", "name", "description", "price_band", "needs", "active", "department", "audience"])
    for o in CATALOGUE:
        writer.writerow(
            [o.key, o.name, o.description, o.price_band, ";".join(o.needs), "yes", o.department, o.audience]
        )
    return out.getvalue()


def load_catalogue(db: Session, *, actor: Actor) -> OfferingImportReport:
    """Import the catalogue through the catalogue's CSV import: offerings of the same key are updated to
    the demo's, others are left alone."""
    return import_offerings(db, actor=actor, data=catalogue_csv())


# ---- what a fact says a customer buys ---------------------------------------------------------------------

PEOPLE_GROUPS: dict[str, tuple[float, tuple[tuple[str, float], ...]]] = {
    # group: (the share of people in it, what its members buy and how often)
    "player": (
        0.18,
        (
            ("setup-and-restring", 5),
            ("band-rehearsal-room", 4),
            ("instrument-insurance", 2),
            ("used-gear", 2),
            ("guitar-lessons-10", 1),
            ("pa-hire", 1),
        ),
    ),
    "family": (
        0.22,
        (
            ("music-lessons-term", 4),
            ("instrument-hire", 3),
            ("guitar-starter-kit", 3),
            ("guitar-lessons-10", 2),
            ("orchestral-repair", 2),
            ("digital-piano", 1),
        ),
    ),
    "listener": (
        0.25,
        (
            ("noise-cancelling-headphones", 4),
            ("hifi-system", 3),
            ("home-setup-visit", 2),
            ("care-plan", 2),
            ("running-headphones", 1),
        ),
    ),
    "collector": (
        0.12,
        (("record-club", 4), ("turntable-setup", 4), ("used-gear", 1), ("valve-amp-service", 1)),
    ),
    "casual": (
        0.23,
        (("noise-cancelling-headphones", 2), ("guitar-starter-kit", 1), ("running-headphones", 1)),
    ),
}
GROUP_RECORDS = {
    "player": "back-catalogue",
    "family": "gift-cds",
    "listener": "new-releases",
    "collector": "back-catalogue",
    "casual": "new-releases",
}
INDUSTRY_OFFERINGS: dict[str, tuple[tuple[str, float], ...]] = {
    "Café": (("background-music-system", 5), ("support-contract", 2)),
    "Restaurant": (("background-music-system", 5), ("support-contract", 2)),
    "Hotel": (("background-music-system", 4), ("hearing-loop-install", 2), ("live-music-pa", 1)),
    "Joinery": (("background-music-system", 3), ("repair-workshop", 1)),
    "Bar & music venue": (
        ("live-music-pa", 5),
        ("sound-limiter", 3),
        ("stage-lighting", 2),
        ("support-contract", 2),
    ),
    "School": (
        ("class-instruments", 5),
        ("instrument-hire", 3),
        ("hearing-loop-install", 1),
        ("stage-lighting", 1),
    ),
    "Recording studio": (("studio-gear", 5), ("support-contract", 2), ("repair-workshop", 1)),
    "Dance school": (("studio-class-sound", 5), ("stage-lighting", 1), ("support-contract", 1)),
    "Gym": (("studio-class-sound", 5), ("background-music-system", 2)),
    "Church": (("hearing-loop-install", 5), ("piano-tuning-plan", 2), ("live-music-pa", 1)),
    "Theatre": (("stage-lighting", 5), ("hearing-loop-install", 3), ("live-music-pa", 2)),
    "Music teacher": (("class-instruments", 3), ("piano-tuning-plan", 3), ("digital-piano", 2)),
}


@dataclass(frozen=True)
class Theme:
    """A kind of fact (``pattern`` finds it in a fact's text) and what its holders buy because of it."""

    name: str
    kind: str
    pattern: re.Pattern[str]
    offerings: tuple[tuple[str, float], ...]
    group: str | None = None  # the taste group it points to (people)
    records: str | None = None  # the record offering it points to (people)


def _theme(
    name: str,
    kind: str,
    pattern: str,
    offerings: Sequence[tuple[str, float]],
    group: str | None = None,
    records: str | None = None,
) -> Theme:
    return Theme(name, kind, re.compile(pattern), tuple(offerings), group, records)


THEMES: tuple[Theme, ...] = (
    # People
    _theme(
        "plays in a band",
        PERSON,
        r"covers band|ceilidh band|guitar amp",
        (
            ("setup-and-restring", 4),
            ("band-rehearsal-room", 4),
            ("instrument-insurance", 2),
            ("pa-hire", 1),
        ),
        "player",
        "back-catalogue",
    ),
    _theme(
        "DJs at weddings",
        PERSON,
        r"DJs at weddings|wedding DJ",
        (("pa-hire", 4), ("instrument-insurance", 2)),
        "player",
        "new-releases",
    ),
    _theme(
        "a young player in the family",
        PERSON,
        r"^(?:Daughter|Son|Granddaughter|Grandson|Niece|Nephew|Stepdaughter|Godson) plays ",
        (("music-lessons-term", 4), ("instrument-hire", 3), ("orchestral-repair", 3)),
        "family",
    ),
    _theme(
        "outgrown an instrument",
        PERSON,
        r"has outgrown their",
        (("step-up-instrument", 6), ("music-lessons-term", 2)),
        "family",
    ),
    _theme(
        "a first guitar as a present",
        PERSON,
        r"thinking of (?:a first guitar|a ukulele)",
        (("guitar-starter-kit", 6), ("guitar-lessons-10", 2)),
        "family",
    ),
    _theme(
        "a keyboard as a present",
        PERSON,
        r"thinking of a keyboard",
        (("digital-piano", 5), ("music-lessons-term", 2)),
        "family",
    ),
    _theme(
        "headphones as a present",
        PERSON,
        r"thinking of proper headphones",
        (("noise-cancelling-headphones", 6),),
        "listener",
    ),
    _theme(
        "a record player as a present",
        PERSON,
        r"thinking of a record player",
        (("hifi-system", 3), ("turntable-setup", 3), ("record-club", 2)),
        "collector",
        "vinyl-lps",
    ),
    _theme(
        "presents for the grandchildren",
        PERSON,
        r"grandchildren|grandkids",
        (("guitar-starter-kit", 3), ("instrument-hire", 1)),
        "family",
        "gift-cds",
    ),
    _theme("CDs as presents", PERSON, r"CDs (?:as presents|as gifts|for)", (), "casual", "gift-cds"),
    _theme(
        "teaches piano",
        PERSON,
        r"Teaches piano at home|Piano teacher",
        (("piano-tuning-plan", 6), ("digital-piano", 1)),
        "family",
        "back-catalogue",
    ),
    _theme(
        "teaches children for free",
        PERSON,
        r"Teaches .+ free to",
        (("instrument-hire", 4), ("orchestral-repair", 2), ("repair-workshop", 1)),
        "family",
    ),
    _theme(
        "saving for an instrument",
        PERSON,
        r"^Saving for",
        (("instrument-finance", 5), ("used-gear", 1)),
        "player",
    ),
    _theme(
        "buys vinyl",
        PERSON,
        r"vinyl|records most months",
        (("record-club", 4), ("turntable-setup", 4)),
        "collector",
        "vinyl-lps",
    ),
    _theme(
        "collects records",
        PERSON,
        r"first pressings|record fairs",
        (("record-club", 3), ("turntable-setup", 2), ("valve-amp-service", 1)),
        "collector",
        "back-catalogue",
    ),
    _theme(
        "new hi-fi at home",
        PERSON,
        r"bookshelf speakers|streaming amplifier|soundbar|a turntable for|a turntable set up",
        (("hifi-system", 2), ("home-setup-visit", 3), ("care-plan", 2), ("turntable-setup", 1)),
        "listener",
    ),
    _theme(
        "a new digital piano",
        PERSON,
        r"digital piano",
        (("music-lessons-term", 3), ("home-setup-visit", 2), ("care-plan", 2)),
        "family",
    ),
    _theme(
        "needs help setting it up",
        PERSON,
        r"set up before|no one to set it up|help carrying|too complicated",
        (("home-setup-visit", 6),),
        "listener",
    ),
    _theme(
        "restores valve amplifiers",
        PERSON,
        r"valve amp",
        (("valve-amp-service", 6),),
        "collector",
        "back-catalogue",
    ),
    _theme(
        "hard of hearing",
        PERSON,
        r"[Hh]ard of hearing|hearing aids|[Hh]earing loop",
        (("tv-sound-and-hearing", 6), ("home-setup-visit", 2)),
        "listener",
    ),
    _theme(
        "worried about their hearing",
        PERSON,
        r"hearing damage|earplugs|damage their hearing",
        (("musicians-earplugs", 6),),
        "player",
    ),
    _theme(
        "sings",
        PERSON,
        r"^Sings ",
        (("singing-lessons", 5), ("band-rehearsal-room", 1)),
        "player",
        "back-catalogue",
    ),
    _theme(
        "commutes with headphones",
        PERSON,
        r"by train|the train|headphones on",
        (("noise-cancelling-headphones", 6),),
        "listener",
        "new-releases",
    ),
    _theme(
        "runs",
        PERSON,
        r"^Training for the",
        (("running-headphones", 6),),
        "listener",
        "new-releases",
    ),
    _theme(
        "listens in the car",
        PERSON,
        r"in the car|while driving",
        (),
        "casual",
        "new-releases",
    ),
    _theme(
        "goes to gigs",
        PERSON,
        r"gigs a year|live concerts|to gigs|^Saw ",
        (("musicians-earplugs", 2),),
        "casual",
        "new-releases",
    ),
    _theme(
        "wants things that last",
        PERSON,
        r"lasts|built to last",
        (("care-plan", 5), ("instrument-insurance", 1)),
        "listener",
    ),
    _theme(
        "buys second-hand",
        PERSON,
        r"[Ss]econd-hand (?:hi-fi|instruments|guitars|amps|speakers|turntables|pedals|keyboards)",
        (("used-gear", 6),),
        "player",
    ),
    _theme(
        "a professional musician in the family",
        PERSON,
        r"Partner is a professional|Partner plays with",
        (("orchestral-repair", 4), ("instrument-insurance", 3)),
        "player",
        "back-catalogue",
    ),
    _theme(
        "works from home",
        PERSON,
        r"[Ww]orks from home",
        (("noise-cancelling-headphones", 2), ("hifi-system", 2)),
        "listener",
    ),
    # Businesses
    _theme(
        "opening a second site",
        BUSINESS,
        r"Opening a second",
        (("second-site-fit-out", 6), ("background-music-system", 1)),
    ),
    _theme(
        "live music",
        BUSINESS,
        r"live music|open-mic|acoustic nights|first gig|a new PA|wireless microphones",
        (("live-music-pa", 5), ("sound-limiter", 1)),
    ),
    _theme(
        "noise complaints",
        BUSINESS,
        r"[Nn]oise complaints|complain about the noise",
        (("sound-limiter", 6),),
    ),
    _theme(
        "a late-night licence",
        BUSINESS,
        r"music licence",
        (("sound-limiter", 4), ("live-music-pa", 2)),
    ),
    _theme(
        "a studio or rehearsal room",
        BUSINESS,
        r"podcast studio|recording booth|rehearsal room in the basement",
        (("studio-gear", 6),),
    ),
    _theme(
        "teaching rooms and pianos",
        BUSINESS,
        r"tuition room|practice pianos|teaching room",
        (("class-instruments", 5), ("piano-tuning-plan", 3)),
    ),
    _theme(
        "a function room",
        BUSINESS,
        r"function room",
        (("hearing-loop-install", 3), ("live-music-pa", 3)),
    ),
    _theme(
        "background music",
        BUSINESS,
        r"ceiling speakers|background music|outdoor seating",
        (("background-music-system", 6),),
    ),
    _theme("stage lighting", BUSINESS, r"stage lighting", (("stage-lighting", 6),)),
    _theme(
        "a hearing loop",
        BUSINESS,
        r"hearing loop|[Dd]eaf owner|owner is deaf",
        (("hearing-loop-install", 6),),
    ),
    _theme(
        "short of sound staff",
        BUSINESS,
        r"Lost their sound engineer|sound engineer is freelance|freelance sound engineer"
        r"|kit anyone can run|live nights are on hold",
        (("support-contract", 6),),
    ),
    _theme(
        "wants local support",
        BUSINESS,
        r"install and support locally|local installation",
        (("support-contract", 4),),
    ),
    _theme(
        "the schools music contract",
        BUSINESS,
        r"schools music contract|music contract for schools",
        (("class-instruments", 6), ("instrument-hire", 3)),
    ),
    _theme(
        "a refurbishment",
        BUSINESS,
        r"[Rr]efurbish|refit",
        (("background-music-system", 3), ("stage-lighting", 2), ("live-music-pa", 1)),
    ),
)


# One search finds the texts that are of no kind (most are), before each kind is tried on the others.
_ANY_THEME = {
    kind: re.compile("|".join(f"(?:{t.pattern.pattern})" for t in THEMES if t.kind == kind))
    for kind in (PERSON, BUSINESS)
}


@functools.lru_cache(maxsize=65_536)
def themes_of(text: str, kind: str) -> tuple[Theme, ...]:
    """The kinds of fact this text of a person's or business's record is."""
    if kind not in _ANY_THEME or not _ANY_THEME[kind].search(text):
        return ()
    return tuple(theme for theme in THEMES if theme.kind == kind and theme.pattern.search(text))


# ---- the customers staff know, as the store holds them ---------------------------------------------------


@dataclass
class KnownFact:
    text: str
    learned_at: datetime
    encounter: tuple[datetime, str] | None  # when and in which channel it was learned, if in an encounter


@dataclass
class KnownCustomer:
    id: int
    identity: str  # cdnow:00042 or crm:B00042: what their events name
    kind: str
    industry: str | None
    since: datetime
    created_at: datetime
    facts: list[KnownFact] = field(default_factory=list)

    @property
    def number(self) -> int:
        """Their CDNOW number (people) or CRM number (businesses)."""
        return int(self.identity.rpartition(":")[2].lstrip("B"))


def known_customers(db: Session) -> list[KnownCustomer]:
    """Every customer with a current fact and a CDNOW (people) or CRM (businesses) number, by id, with
    their current facts in the order they were learned."""
    known = select(Differentiator.customer_id).where(Differentiator.status == "current")
    identities: dict[int, str] = {}
    rows = db.execute(
        select(CustomerIdentity.customer_id, CustomerIdentity.system, CustomerIdentity.value)
        .where(CustomerIdentity.system.in_(("cdnow", "crm")), CustomerIdentity.customer_id.in_(known))
        .order_by(CustomerIdentity.id)
    )
    for customer_id, system, value in rows:
        if system == "crm" and not (value[:1] == "B" and value[1:].isdigit()):
            continue
        if system == "crm" and int(value[1:]) >= DUPLICATE_CRM:
            continue
        identities.setdefault(customer_id, f"{system}:{value}")
    customers: dict[int, KnownCustomer] = {}
    for customer_id, kind, attributes, since, created_at in db.execute(
        select(Customer.id, Customer.kind, Customer.attributes, Customer.since, Customer.created_at)
        .where(Customer.id.in_(known), Customer.merged_into_id.is_(None))
        .order_by(Customer.id)
    ):
        identity = identities.get(customer_id)
        if identity is None:
            continue
        industry = attributes.get("industry") if isinstance(attributes, dict) else None
        customers[customer_id] = KnownCustomer(customer_id, identity, kind, industry, since, created_at)
    facts = db.execute(
        select(
            Differentiator.customer_id,
            Differentiator.text,
            Differentiator.learned_at,
            Encounter.occurred_at,
            Encounter.channel,
        )
        .outerjoin(Encounter, Encounter.id == Differentiator.encounter_id)
        .where(Differentiator.status == "current")
        .order_by(Differentiator.customer_id, Differentiator.learned_at, Differentiator.id)
    )
    for customer_id, text, learned_at, occurred_at, channel in facts:
        customer = customers.get(customer_id)
        if customer is not None:
            met = (occurred_at, channel) if occurred_at is not None else None
            customer.facts.append(KnownFact(text, learned_at, met))
    return list(customers.values())


# ---- tastes and purchases ---------------------------------------------------------------------------------


@dataclass
class _Taste:
    group: str  # a taste group (people) or an industry (businesses)
    facts: list[tuple[KnownFact, Theme]]
    records: tuple[str, str] | None  # the record offering most purchases name, and another


def _weighted(rng: random.Random, options: Sequence[tuple[str, float]]) -> str:
    return rng.choices([name for name, _ in options], weights=[weight for _, weight in options])[0]


def _tastes(customers: Sequence[KnownCustomer], seed: int) -> list[_Taste]:
    """Each customer's taste group, telling facts and record taste, drawn in the order given."""
    rng = random.Random(f"{seed}:offering tastes")
    groups = [(name, share) for name, (share, _) in PEOPLE_GROUPS.items()]
    tastes = []
    for customer in customers:
        telling = [(fact, theme) for fact in customer.facts for theme in themes_of(fact.text, customer.kind)]
        if customer.kind == BUSINESS:
            tastes.append(_Taste(customer.industry or "", telling, None))
            continue
        pointers = [theme.group for _, theme in telling if theme.group]
        group = rng.choice(pointers) if pointers and rng.random() < 0.8 else _weighted(rng, groups)
        liked = [theme.records for _, theme in telling if theme.records]
        primary = rng.choice(liked) if liked and rng.random() < 0.85 else GROUP_RECORDS[group]
        others = [(key, w) for key, w in zip(RECORDS, RECORD_WEIGHTS, strict=True) if key != primary]
        tastes.append(_Taste(group, telling, (primary, _weighted(rng, others))))
    return tastes


def tag_records(events: pa.Table, customers: Sequence[KnownCustomer], *, seed: int) -> pa.Table:
    """CDNOW's purchases (``read_cdnow_master``) with the known people's tagged with a record offering:
    ``RECORD_TASTE`` of them their taste, the others their second record offering; the rest untagged."""
    people = [c for c in customers if c.kind == PERSON and c.identity.startswith("cdnow:")]
    tastes = _tastes(people, seed)
    size = max((c.number for c in people), default=0) + 1
    primary = np.full(size, -1, dtype=np.int64)
    secondary = np.full(size, -1, dtype=np.int64)
    for customer, taste in zip(people, tastes, strict=True):
        assert taste.records is not None
        primary[customer.number] = RECORDS.index(taste.records[0])
        secondary[customer.number] = RECORDS.index(taste.records[1])
    numbers = pc.cast(pc.utf8_slice_codeunits(events.column("customer"), 6), pa.int64()).to_numpy()
    inside = numbers < size
    clipped = np.where(inside, numbers, 0)
    draws = np.random.default_rng([seed, 0x0FFE]).random(events.num_rows)
    chosen = np.where(draws < RECORD_TASTE, primary[clipped], secondary[clipped])
    chosen = np.where(inside, chosen, -1)
    keys = pa.array(RECORDS, pa.string())
    tagged = pc.take(keys, pa.array(np.where(chosen >= 0, chosen, 0), pa.int64()))
    offering = pc.if_else(pa.array(chosen >= 0), tagged, pa.scalar(None, pa.string()))
    return events.set_column(events.schema.get_field_index("offering"), "offering", offering)


@dataclass(frozen=True)
class _Purchase:
    identity: str
    at: datetime
    offering: str
    value: float
    channel: str


def plan_purchases(customers: Sequence[KnownCustomer], *, seed: int, now: datetime) -> pa.Table:
    """Purchases of the catalogue's offerings (not the records, which ``tag_records`` names) by the known
    customers, before ``now`` (the demo's moment), as events (``EVENT_SCHEMA``)."""
    rng = random.Random(f"{seed}:offering purchases")
    clock = Clock(rng)
    tastes = _tastes(customers, seed)
    popular = {
        kind: tuple(
            (o.key, o.popularity)
            for o in CATALOGUE
            if o.popularity > 0 and (o.for_people if kind == PERSON else o.for_businesses)
        )
        for kind in (PERSON, BUSINESS)
    }
    planned: list[_Purchase] = []
    end = now - timedelta(hours=2)
    for customer, taste in zip(customers, tastes, strict=True):
        start = customer.since if customer.kind == PERSON else max(customer.since, customer.created_at)
        start = max(start, now - timedelta(days=HISTORY_DAYS))
        if start >= end:
            continue
        if customer.kind == PERSON:
            count = rng.choices(range(7), weights=(14, 30, 26, 15, 8, 5, 2))[0]
            group = PEOPLE_GROUPS[taste.group][1]
        else:
            count = rng.choices(range(1, 7), weights=(15, 25, 25, 17, 10, 8))[0]
            group = INDUSTRY_OFFERINGS.get(taste.group, popular[BUSINESS])
        fact_led = [(fact, theme) for fact, theme in taste.facts if theme.offerings]
        bought: set[str] = set()
        for _ in range(count):
            roll = rng.random()
            for _attempt in range(6):
                fact: KnownFact | None = None
                if fact_led and roll < 0.55:
                    fact, theme = rng.choice(fact_led)
                    key = _weighted(rng, theme.offerings)
                elif roll < (0.85 if fact_led else 0.7):
                    key = _weighted(rng, group)
                else:
                    key = _weighted(rng, popular[customer.kind])
                offering = OFFERINGS[key]
                if offering.repeat or key not in bought:
                    break
            else:
                continue  # nothing new of what they would buy: one purchase fewer
            if fact is None:
                at, channel = _any_time(rng, clock, customer, start, end)
            else:
                at, channel = _after_fact(rng, clock, customer, fact, start, end)
            bought.add(key)
            value = round(rng.uniform(*offering.price), 2)
            planned.append(_Purchase(customer.identity, at, key, value, channel))
    return _as_events(planned)


def _after_fact(
    rng: random.Random,
    clock: Clock,
    customer: KnownCustomer,
    fact: KnownFact,
    start: datetime,
    end: datetime,
) -> tuple[datetime, str]:
    """A purchase because of ``fact``: at the encounter it was learned in (a few minutes later, for some),
    else mostly within three months of learning it; a few bought just before (what made them say it)."""
    if fact.encounter is not None and rng.random() < 0.3:
        met, channel = fact.encounter
        at = met + timedelta(minutes=rng.randint(3, 40), seconds=rng.randint(0, 59))
        if start <= at <= end:
            return at, _purchase_channel(customer, channel)
    learned = max(fact.learned_at, start)
    if rng.random() < 0.15:
        return _any_time(rng, clock, customer, max(start, learned - timedelta(days=45)), learned)
    horizon = learned + timedelta(days=90 if rng.random() < 0.8 else 365)
    return _any_time(rng, clock, customer, learned, min(horizon, end))


def _any_time(
    rng: random.Random, clock: Clock, customer: KnownCustomer, start: datetime, end: datetime
) -> tuple[datetime, str]:
    if customer.kind == BUSINESS:
        return clock.between(start, end, OFFICE), "invoice"
    if rng.random() < 0.6:
        return clock.between(start, end, SHOP), "store"
    return clock.between(start, end, ONLINE), "online"


def _purchase_channel(customer: KnownCustomer, encounter_channel: str) -> str:
    if customer.kind == BUSINESS:
        return "invoice"
    return "store" if encounter_channel == "store" else "online"


def _as_events(purchases: Iterable[_Purchase]) -> pa.Table:
    rows = sorted(purchases, key=lambda p: (p.at, p.identity, p.offering))
    table = pa.table(
        {
            "customer": pa.array([p.identity for p in rows], pa.string()),
            "ts": pa.array([p.at for p in rows], pa.timestamp("us", tz="UTC")),
            "value": pa.array([p.value for p in rows], pa.float64()),
            "quantity": pa.array([1] * len(rows), pa.int64()),
            "channel": pa.array([p.channel for p in rows], pa.string()),
            "offering": pa.array([p.offering for p in rows], pa.string()),
        }
    )
    result = validate_events(table, constants={"type": "purchase"})
    if result.table is None:
        raise Invalid("The demo's purchases of offerings have bad rows.", details=result.errors)
    return result.table
