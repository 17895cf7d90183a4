"""A synthetic shop with planted tastes, for the matching tests and ``benchmarks/offers_evaluate.py``.

Customers belong to taste groups (guitar, drums, piano, ...). Each group has five offerings; three
offerings (a gift card, insurance, a music stand) are for everyone and the most bought overall. A customer
buys mostly from their group (``loyalty``), otherwise anything, most often the offerings for everyone;
most customers told us a fact about their taste ("Plays guitar in a covers band"), learned before their
later purchases, and some a fact about nothing we sell. The same seed gives the same world.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import numpy as np
import pyarrow as pa

from segone.accounts.schemas import SYSTEM
from segone.behaviour import ingest
from segone.behaviour.events import validate_events
from segone.customers import importer as customer_import
from segone.knowledge.categories.service import in_force as categories_in_force
from segone.knowledge.facts import importer as fact_import
from segone.personalisation import service as offerings
from segone.personalisation.schemas import OfferingCreate
from segone.runtime import Runtime

START = datetime(2023, 1, 1, tzinfo=UTC)
END = datetime(2024, 12, 31, tzinfo=UTC)
NEWCOMER_DAYS = 90

# (group, the words of its offerings, what its customers tell us)
THEMES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("guitar", "guitar", ("Plays guitar in a covers band", "Learning the guitar from videos")),
    ("drums", "drum", ("Plays the drums in a jazz trio", "Wants a quieter drum kit for the flat")),
    ("piano", "piano", ("Practises the piano every evening", "Bought an old upright piano")),
    ("violin", "violin", ("Plays violin in the city orchestra", "Daughter started violin at school")),
    ("recording", "recording studio", ("Records podcasts at home", "Mixing a first recording for a band")),
    ("dj", "dj decks", ("Plays dj sets at weddings", "Saving for dj decks of their own")),
    ("singing", "singing voice", ("Sings in a church choir", "Taking singing exams this year")),
    ("ukulele", "ukulele", ("Teaches ukulele to children", "Plays ukulele on holiday")),
)
PRODUCTS = (
    ("lessons", "Ten weekly one-to-one {w} lessons with a teacher.", True),
    ("starter-kit", "A {w} starter kit with all a beginner needs.", False),
    ("repair", "Repairs and set-up for any {w}, ready the next day.", True),
    ("masterclass", "A weekend {w} masterclass with a touring player.", False),
    ("accessories", "Spare parts, cases and stands for a {w}.", False),
)
WITHIN_GROUP = np.array([0.34, 0.26, 0.18, 0.13, 0.09])
FOR_EVERYONE = (
    ("gift-card", "Gift card", "A gift card for any shop purchase."),
    ("insurance", "Instrument insurance", "Cover against theft and accidental damage."),
    ("music-stand", "Folding music stand", "A light folding stand for sheet music."),
)
OTHER_FACTS = (
    "Has two children at primary school",
    "Prefers to be called in the evening",
    "Moved here from Glasgow last spring",
    "Works night shifts at the hospital",
    "Walks the dog along the canal every morning",
)


@dataclass
class World:
    offerings: list[OfferingCreate]
    group_of_offering: dict[str, str | None]
    customers: list[str]
    """Identities (``crm:C00001``)."""
    group_of_customer: dict[str, str]
    purchases: list[tuple[str, str, datetime]] = field(default_factory=list)
    """(identity, offering key, time)."""
    facts: list[tuple[str, str, datetime]] = field(default_factory=list)
    """(identity, text, learned at)."""


def planted_world(
    *,
    customers: int = 150,
    groups: int = 4,
    purchases: float = 5.0,
    loyalty: float = 0.8,
    told: float = 0.7,
    newcomers: float = 0.2,
    seed: int = 11,
) -> World:
    """A seeded world: ``customers`` customers in ``groups`` taste groups (at most 8), about ``purchases``
    purchases each, a share ``loyalty`` of them in their group, and a share ``told`` of customers who
    told us a fact about their taste. A share ``newcomers`` of the customers buy only in the last
    ``NEWCOMER_DAYS`` (what we knew of them before is what they told us)."""
    rng = np.random.default_rng(seed)
    themes = THEMES[:groups]
    made: list[OfferingCreate] = []
    group_of: dict[str, str | None] = {}
    for group, words, _facts in themes:
        for product, description, repeatable in PRODUCTS:
            key = f"{group}-{product}"
            made.append(
                OfferingCreate(
                    key=key,
                    name=f"{words.split()[0].capitalize()} {product.replace('-', ' ')}",
                    description=description.format(w=words),
                    needs=[f"play {words}"] if product != "repair" else [f"{words} repair"],
                    attributes={"repeatable": "yes"} if repeatable else {},
                )
            )
            group_of[key] = group
    for key, name, description in FOR_EVERYONE:
        made.append(OfferingCreate(key=key, name=name, description=description, needs=["gift"]))
        group_of[key] = None
    keys = np.array([o.key for o in made], dtype=object)
    general = np.array([4.0 if group_of[k] is None else 1.0 for k in keys])
    general /= general.sum()

    world = World(made, group_of, [], {})
    span = (END - START).total_seconds()
    for n in range(customers):
        identity = f"crm:C{n:05d}"
        group = themes[int(rng.integers(len(themes)))]
        world.customers.append(identity)
        world.group_of_customer[identity] = group[0]
        own = np.array([f"{group[0]}-{p[0]}" for p in PRODUCTS], dtype=object)
        first = END - timedelta(days=NEWCOMER_DAYS) if rng.random() < newcomers else START
        for _ in range(1 + int(rng.poisson(purchases - 1))):
            key = rng.choice(own, p=WITHIN_GROUP) if rng.random() < loyalty else rng.choice(keys, p=general)
            at = first + timedelta(seconds=float(rng.random() * (END - first).total_seconds()))
            world.purchases.append((identity, str(key), at))
        if rng.random() < told:
            learned = START + timedelta(seconds=float(rng.random() * span * 0.5))
            world.facts.append((identity, str(rng.choice(group[2])), learned))
        if rng.random() < 0.5:
            learned = START + timedelta(seconds=float(rng.random() * span))
            world.facts.append((identity, str(rng.choice(OTHER_FACTS)), learned))
    return world


def load(runtime: Runtime, world: World, *, attributes: dict[str, dict[str, str]] | None = None) -> None:
    """Write the world to the store and the events dataset through segone's own imports; ``attributes``
    adds customer attributes by identity."""
    attributes = attributes or {}
    names = sorted({name for values in attributes.values() for name in values})
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["name", "identity:crm", *names])
    for identity in world.customers:
        row = attributes.get(identity, {})
        writer.writerow([f"Customer {identity[4:]}", identity[4:], *(row.get(n, "") for n in names)])
    with runtime.session() as db:
        customer_import.import_customers(db, actor=SYSTEM, data=out.getvalue())
        for offering in world.offerings:
            offerings.create(db, actor=SYSTEM, data=offering)
    if world.facts:
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["customer", "text", "category", "learned_at"])
        for identity, text, learned in world.facts:
            writer.writerow([identity, text, "free_time", learned.isoformat()])
        with runtime.session() as db:
            fact_import.import_facts(
                db, actor=SYSTEM, data=out.getvalue(), categories=categories_in_force(runtime.settings)
            )
    table = pa.table(
        {
            "customer": [p[0] for p in world.purchases],
            "type": ["purchase"] * len(world.purchases),
            "timestamp": [p[2].isoformat() for p in world.purchases],
            "offering": [p[1] for p in world.purchases],
            "value": [20.0] * len(world.purchases),
        }
    )
    validation = validate_events(table)
    assert validation.table is not None, validation.errors[:3]
    ingest.import_events(
        runtime.sessions,
        dataset=ingest.dataset_of(runtime.settings.data_dir),
        actor=SYSTEM,
        events=validation.table,
    )


def buy(runtime: Runtime, purchases: list[tuple[str, str]], *, start: datetime = START) -> None:
    """Purchase events of (identity, offering key), a day apart from ``start``, imported as a file is."""
    table = pa.table(
        {
            "customer": [identity for identity, _key in purchases],
            "type": ["purchase"] * len(purchases),
            "timestamp": [(start + timedelta(days=n)).isoformat() for n in range(len(purchases))],
            "offering": [key for _identity, key in purchases],
        }
    )
    validation = validate_events(table)
    assert validation.table is not None, validation.errors[:3]
    ingest.import_events(
        runtime.sessions,
        dataset=ingest.dataset_of(runtime.settings.data_dir),
        actor=SYSTEM,
        events=validation.table,
    )
