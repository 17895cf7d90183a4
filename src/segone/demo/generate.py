"""The demo data as a plan in memory: deterministic for a seed, with dates counted back from ``now``
(the start of the load day, see ``timeline``).

``generate`` plans the demo's own customers (the consumers ``cdnow:00001``... and the businesses);
``generate_purchase_history`` plans the other customers of the CDNOW purchase history: people with names
and an e-mail, of whom staff know some (more often the more they bought), met near the days they bought.
Times fall in working hours (``working_hours``). Pure: no database. ``load.py`` writes the plans.
"""

from __future__ import annotations

import functools
import math
import random
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import pyarrow as pa
import pyarrow.compute as pc

from segone.behaviour.events import read_cdnow_master
from segone.demo import content
from segone.demo.content import BUSINESS, PERSON, Context, Industry
from segone.demo.timeline import cdnow_shift, demo_moment
from segone.demo.users import DEMO_USERS, DemoUser
from segone.demo.working_hours import ONLINE, Clock, schedule_of
from segone.knowledge.categories.schemas import CategoryList

DEFAULT_SEED = 20_261_127
HISTORY_DAYS = 730  # facts and encounters of the past two years
EMPTY_SHARE = 0.01  # customers we know nothing about yet
SYSTEM_EMAIL = "system"  # who records a customer the web shop brings (``accounts.schemas.SYSTEM``)
# No purchase in the last six months of the CDNOW history. The segments are read from the unshifted
# history (they are about its shape); what a person sees is dated on the demo's timeline.
LAPSED_BEFORE = date(1998, 1, 1)

PERSON_CHANNELS = (("store", 55), ("call", 15), ("email", 15), ("chat", 15))
BUSINESS_CHANNELS = (("meeting", 40), ("call", 30), ("email", 20), ("store", 7), ("other", 3))
DURATIONS = {
    "store": (5, 45),
    "call": (3, 30),
    "chat": (4, 20),
    "email": (5, 15),
    "meeting": (30, 120),
    "other": (10, 30),
}


@dataclass
class PlannedAcknowledgement:
    by: str
    at: datetime
    encounter: int | None  # index into the customer's encounters
    how: str


@dataclass
class PlannedFact:
    text: str
    category: str
    learned_by: str
    learned_at: datetime
    confidence: float
    encounter: int | None = None
    channel: str | None = None
    acknowledgement: PlannedAcknowledgement | None = None


@dataclass
class PlannedEncounter:
    employee: str
    channel: str
    occurred_at: datetime
    duration_minutes: int | None
    notes: str = ""
    cares_about: str = ""
    worries_about: str = ""
    listening_share: float | None = None


@dataclass
class PlannedCustomer:
    kind: str
    name: str
    identities: list[str]
    attributes: dict[str, str | int]
    created_at: datetime
    created_by: str
    since: datetime  # the first activity: the first (moved) purchase or becoming a customer, if earlier
    facts: list[PlannedFact] = field(default_factory=list)
    encounters: list[PlannedEncounter] = field(default_factory=list)
    duplicate_of: int | None = None  # index of the record this one duplicates


@dataclass
class Plan:
    users: tuple[DemoUser, ...]
    customers: list[PlannedCustomer]


@dataclass(frozen=True)
class Purchases:
    """One CDNOW customer's purchases: the days they bought (unshifted), and what they spent."""

    days: tuple[date, ...]  # sorted
    value: float

    @property
    def first(self) -> date:
        return self.days[0]

    @property
    def last(self) -> date:
        return self.days[-1]


def _weighted(rng: random.Random, options: tuple[tuple[str, int], ...]) -> str:
    return rng.choices([name for name, _ in options], weights=[weight for _, weight in options])[0]


_PROPER = {*content.NAMES_FOR_STAFF, *content.TOWNS, *(c for c, _ in content.BUSINESS_CITIES), "St"}


def _inline(fact: str) -> str:
    """A fact as it reads inside a sentence of notes: 'Daughter plays...' -> 'daughter plays...'."""
    first = fact.split(" ")[0].rstrip(",:;")
    if first in _PROPER or (len(first) > 1 and first[1].isupper()):
        return fact
    return fact[0].lower() + fact[1:]


@functools.cache
def cdnow_purchases() -> Mapping[int, Purchases]:
    """Per CDNOW customer number: the days they bought and what they spent, from the packaged history
    (read once: a demo load asks twice)."""
    events = read_cdnow_master()
    table = pa.table(
        {
            "number": pc.cast(pc.utf8_slice_codeunits(events.column("customer"), 6), pa.int64()),
            "day": pc.cast(events.column("ts"), pa.date32()),
            "value": events.column("value"),
        }
    )
    grouped = table.group_by("number").aggregate([("day", "distinct"), ("value", "sum")])
    return {
        number: Purchases(tuple(sorted(days)), round(value or 0.0, 2))
        for number, days, value in zip(
            grouped.column("number").to_pylist(),
            grouped.column("day_distinct").to_pylist(),
            grouped.column("value_sum").to_pylist(),
            strict=True,
        )
    }


def _segment(history: Purchases) -> str:
    """The demo consumer's segment, from their real purchases up to the end of the history (30 June 1998)."""
    if history.last < LAPSED_BEFORE:
        return "Lapsed"
    if len(history.days) >= 6:
        return "Regular"
    return "Occasional" if len(history.days) >= 2 else "One-time buyer"


def known_chance(history: Purchases, top_spend: float) -> float:
    """How likely staff know something about a customer of the purchase history: a business knows its best
    customers better, so the chance grows with the days they bought, and the biggest spenders are known."""
    chance = 0.12 + 0.24 * math.log(len(history.days))
    if history.value >= top_spend:
        chance += 0.3
    return min(chance, 0.95)


def knowledge_depth(history: Purchases) -> float:
    """How much staff know of a known customer of the purchase history, 0.35 to 1: more of those who
    bought more often."""
    return min(1.0, 0.35 + 0.15 * math.log(len(history.days)))


def _years_before(moment: datetime, years: int) -> datetime:
    try:
        return moment.replace(year=moment.year - years)
    except ValueError:  # 29 February
        return moment.replace(year=moment.year - years, day=28)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "", text.lower())


class _Generator:
    def __init__(self, seed: int | str, now: datetime, categories: CategoryList) -> None:
        self.rng = random.Random(seed)
        self.clock = Clock(self.rng)
        self.now = now
        self.shift = cdnow_shift(now.date())
        self.purchases: Mapping[int, Purchases] = {}
        self.categories = categories
        self.allowed = {kind: {c.name for c in categories.for_kind(kind)} for kind in (PERSON, BUSINESS)}
        self.used_texts: set[str] = set()
        self.used_names: set[str] = set()
        self.used_emails: set[str] = set()
        self.person_phones = self._pool("07700 900{:03d}")
        self.business_phones = self._pool("0113 496 0{:03d}")
        self.staff = {
            kind: [u for u in DEMO_USERS if u.serves == kind and u.weight > 0] for kind in (PERSON, BUSINESS)
        }

    def _pool(self, pattern: str) -> list[str]:
        numbers = [pattern.format(n) for n in range(1000)]
        self.rng.shuffle(numbers)
        return numbers

    # ---- who and when ----

    def employee(self, kind: str) -> DemoUser:
        staff = self.staff[kind]
        return self.rng.choices(staff, weights=[u.weight for u in staff])[0]

    def moment(self, start: datetime, end: datetime, kind: str, channel: str | None = None) -> datetime:
        """A time between start and end in the working hours of that contact with a person or business."""
        return self.clock.between(start, end, schedule_of(kind, channel))

    # ---- customers ----

    def person(self, number: int) -> PlannedCustomer:
        rng = self.rng
        first, last = rng.choice(content.FIRST_NAMES), rng.choice(content.LAST_NAMES)
        email = self.email(f"{_slug(first)}.{_slug(last)}", ("example.com", "example.net", "example.org"))
        identities = [f"cdnow:{number:05d}", f"email:{email}"]
        if rng.random() < 0.25 and self.person_phones:
            identities.append(f"phone:{self.person_phones.pop()}")
        city = _weighted(rng, content.PERSON_CITIES)
        history = self.purchases.get(number)
        drawn = _weighted(rng, content.PERSON_SEGMENTS)  # drawn all the same: the same seed, the same demo
        attributes: dict[str, str | int] = {
            "city": city,
            "segment": _segment(history) if history else drawn,
            "age_band": _weighted(rng, content.AGE_BANDS),
            "home_store": "York" if city in ("York", "Selby", "Hull") else "Leeds",
        }
        first_purchase = demo_moment(history.first + self.shift) if history else None
        return self.customer(PERSON, f"{first} {last}", identities, attributes, Context(city), first_purchase)

    def business(self, number: int) -> PlannedCustomer:
        rng = self.rng
        industry: Industry = rng.choice(content.INDUSTRIES)
        city = _weighted(rng, content.BUSINESS_CITIES)
        name = self.business_name(industry, city)
        email = self.email(
            rng.choice(["hello", "info", "office", "bookings"]), (f"{_slug(name)[:24]}.example",)
        )
        identities = [f"crm:B{number:05d}", f"email:{email}"]
        if rng.random() < 0.4 and self.business_phones:
            identities.append(f"phone:{self.business_phones.pop()}")
        segment = _weighted(rng, content.BUSINESS_SEGMENTS)
        low, high = industry.staff
        attributes: dict[str, str | int] = {
            "city": city,
            "industry": industry.name,
            "segment": segment,
            "employees": rng.randint(low, high) * (2 if segment == "Key account" else 1),
        }
        customer = self.customer(BUSINESS, name, identities, attributes, Context(city, industry.site))
        customer.attributes["account_manager"] = customer.created_by
        return customer

    def business_name(self, industry: Industry, city: str) -> str:
        """A name of its industry and place, new if possible; two businesses may share one, as in real
        life, but none is numbered."""
        rng = self.rng
        name = ""
        for _ in range(50):
            roll = rng.random()
            place = (
                city
                if roll < 0.45
                else rng.choice(content.AREAS[city])
                if roll < 0.9
                else rng.choice(content.TOWNS)
            )
            noun, noun2 = rng.sample(content.NOUNS, 2)
            surname, surname2 = rng.sample(content.LAST_NAMES, 2)
            name = rng.choice(industry.patterns).format(
                surname=surname,
                surname2=surname2,
                first=rng.choice(content.FIRST_NAMES),
                noun=noun,
                noun2=noun2,
                adjective=rng.choice(content.ADJECTIVES),
                place=place,
                saint=rng.choice(content.SAINTS),
                street=rng.choice(content.STREETS),
            )
            if name not in self.used_names:
                break
        self.used_names.add(name)
        return name

    def email(self, local: str, domains: tuple[str, ...]) -> str:
        domain = self.rng.choice(domains)
        candidate = f"{local}@{domain}"
        while candidate in self.used_emails:
            candidate = f"{local}{self.rng.randint(1, 999)}@{domain}"
        self.used_emails.add(candidate)
        return candidate

    def customer(
        self,
        kind: str,
        name: str,
        identities: list[str],
        attributes: dict[str, str | int],
        context: Context,
        first_purchase: datetime | None = None,
    ) -> PlannedCustomer:
        home = self.employee(kind)
        created_at = self.moment(self.now - timedelta(days=HISTORY_DAYS), self.now - timedelta(days=14), kind)
        # A customer since some years before they were first entered here, or since their first purchase.
        years = min(int(self.rng.expovariate(1 / (5 if kind == PERSON else 6))), 25)
        since = (
            _years_before(created_at, years) if first_purchase is None else min(first_purchase, created_at)
        )
        attributes["since"] = since.year
        customer = PlannedCustomer(kind, name, identities, attributes, created_at, home.email, since)
        if self.rng.random() < EMPTY_SHARE:
            return customer  # nothing known yet: the sheet's empty state
        facts = self.facts(kind, context)
        self.timeline(customer, home, facts, created_at, self.now - timedelta(hours=2))
        return customer

    def web_shop_customer(self, number: int, history: Purchases, top_spend: float) -> PlannedCustomer:
        """A customer of the purchase history: recorded when their first order came in; met and known a
        little by some, more likely the more they bought."""
        rng = self.rng
        first, last = rng.choice(content.FIRST_NAMES), rng.choice(content.LAST_NAMES)
        identities = [f"cdnow:{number:05d}", f"email:{self.web_shop_email(first, last)}"]
        city = _weighted(rng, content.PERSON_CITIES)
        days = [day + self.shift for day in history.days]
        since = demo_moment(days[0])
        created_at = self.clock.between(since, since + timedelta(hours=23, minutes=59), ONLINE)
        attributes: dict[str, str | int] = {"city": city, "segment": _segment(history), "since": since.year}
        customer = PlannedCustomer(
            PERSON, f"{first} {last}", identities, attributes, created_at, SYSTEM_EMAIL, since
        )
        if rng.random() >= known_chance(history, top_spend):
            return customer
        facts = self.facts(PERSON, Context(city), depth=knowledge_depth(history))
        self.timeline(customer, self.employee(PERSON), facts, since, self.now - timedelta(hours=2), days)
        return customer

    def web_shop_email(self, first: str, last: str) -> str:
        """An address as people choose them for shopping online. None has a dot in its local part, as the
        demo's own consumers' (first.last) do, nor a bare name, as its duplicates' do: the two never meet."""
        rng = self.rng
        first, last = _slug(first), _slug(last)
        year = f"{rng.randint(0, 99):02d}"
        local = rng.choice(
            (
                f"{first}_{last}",
                f"{first[0]}{last}{year}",
                f"{first}{last}{year}",
                f"{last}_{first}",
                f"{first}_{year}",
            )
        )
        candidate = f"{local}@{rng.choice(('example.com', 'example.net', 'example.org'))}"
        while candidate in self.used_emails:
            candidate = f"{local}{rng.randint(1, 999)}@{candidate.partition('@')[2]}"
        self.used_emails.add(candidate)
        return candidate

    # ---- what we know ----

    def facts(self, kind: str, context: Context, depth: float = 1.0) -> list[tuple[str, str, float]]:
        """(text, category, confidence) of a customer: shared facts by their share, then unique ones.
        Below a ``depth`` of 1, fewer of each, but at least one."""
        rng = self.rng
        chosen = []
        for fact in content.SHARED_FACTS:
            applies = fact.kind in (kind, content.BOTH) and fact.category in self.allowed[kind]
            if applies and rng.random() < fact.share * depth:
                text = content.wording(fact, rng)
                chosen.append((text, fact.category, rng.choice([0.7, 0.8, 0.9, 0.9, 1.0])))
        generators = [
            g
            for g in (content.PERSON_UNIQUE if kind == PERSON else content.BUSINESS_UNIQUE)
            if g[0] in self.allowed[kind]
        ]
        weights = [12, 33, 30, 17, 8] if depth >= 1 else [40, 42, 14, 4, 0]
        count = rng.choices([0, 1, 2, 3, 4], weights=weights)[0] if generators else 0
        if depth < 1 and not chosen and generators:
            count = max(count, 1)
        for _ in range(count):
            for _attempt in range(20):
                category, make = rng.choice(generators)
                text = make(rng, context)
                if text not in self.used_texts:
                    self.used_texts.add(text)
                    chosen.append((text, category, rng.choice([0.6, 0.7, 0.8, 0.8, 0.9, 0.95])))
                    break
        rng.shuffle(chosen)
        return chosen

    def timeline(
        self,
        customer: PlannedCustomer,
        home: DemoUser,
        facts: list[tuple[str, str, float]],
        start: datetime,
        end: datetime,
        days: list[date] | None = None,
    ) -> None:
        """Encounters from ``start`` to ``end`` (most of them near ``days``, when given: the days the
        customer bought); facts learned in them or on their own; some shown."""
        rng = self.rng
        kind = customer.kind
        count = min(12, max(1, round(len(facts) * rng.uniform(0.3, 0.7))) + rng.randint(0, 2))
        if days is not None:
            count = min(count, len(days) + 1)
        planned = []
        for _ in range(count):
            channel = _weighted(rng, PERSON_CHANNELS if kind == PERSON else BUSINESS_CHANNELS)
            schedule = schedule_of(kind, channel)
            if days is not None and rng.random() < 0.8:
                when = self.clock.near(days, start, end, schedule)
            else:
                when = self.clock.between(start, end, schedule)
            planned.append((when, channel))
        for when, channel in sorted(planned):
            employee = home if rng.random() < 0.7 else self.employee(kind)
            low, high = DURATIONS[channel]
            share = min(0.95, max(0.1, rng.gauss(employee.listening, 0.12)))
            customer.encounters.append(
                PlannedEncounter(
                    employee=employee.email,
                    channel=channel,
                    occurred_at=when,
                    duration_minutes=None
                    if channel == "email" and rng.random() < 0.5
                    else rng.randint(low, high),
                    cares_about=rng.choice(content.CARES[kind]) if rng.random() < 0.6 else "",
                    worries_about=rng.choice(content.WORRIES[kind]) if rng.random() < 0.45 else "",
                    listening_share=round(share, 2) if rng.random() < 0.9 else None,
                )
            )
        for text, category, confidence in facts:
            if rng.random() < 0.65:
                index = rng.randrange(len(customer.encounters))
                encounter = customer.encounters[index]
                fact = PlannedFact(
                    text,
                    category,
                    encounter.employee,
                    encounter.occurred_at,
                    confidence,
                    encounter=index,
                    channel=encounter.channel,
                )
            else:
                learner = home if rng.random() < 0.6 else self.employee(kind)
                fact = PlannedFact(
                    text, category, learner.email, self.moment(start, end, kind, "email"), confidence
                )
            fact.acknowledgement = self.acknowledgement(customer, fact, end)
            customer.facts.append(fact)
        for encounter_index, encounter in enumerate(customer.encounters):
            learned = [f for f in customer.facts if f.encounter == encounter_index]
            encounter.notes = self.notes(kind, encounter.channel, learned)

    def acknowledgement(
        self, customer: PlannedCustomer, fact: PlannedFact, end: datetime
    ) -> PlannedAcknowledgement | None:
        rng = self.rng
        if rng.random() >= 0.36:
            return None
        how = rng.choice(content.ACKNOWLEDGED_HOW)
        later = [i for i, e in enumerate(customer.encounters) if e.occurred_at > fact.learned_at]
        if later and rng.random() < 0.75:
            index = rng.choice(later)
            encounter = customer.encounters[index]
            return PlannedAcknowledgement(encounter.employee, encounter.occurred_at, index, how)
        earliest = fact.learned_at + timedelta(days=1)
        latest = min(fact.learned_at + timedelta(days=rng.randint(2, 45)), end)
        if latest <= earliest:
            return None
        return PlannedAcknowledgement(
            fact.learned_by, self.moment(earliest, latest, customer.kind, "email"), None, how
        )

    def notes(self, kind: str, channel: str, learned: list[PlannedFact]) -> str:
        rng = self.rng
        item = rng.choice(content.PERSON_ITEMS if kind == PERSON else content.BUSINESS_ITEMS)
        lines = [rng.choice(content.OPENINGS[channel]).format(item=item)]
        phrases = rng.sample(content.LEARNED, len(content.LEARNED))
        lines.extend(
            phrases[i % len(phrases)].format(fact=_inline(fact.text)) for i, fact in enumerate(learned)
        )
        lines.append(rng.choice(content.CLOSINGS[kind]).format(item=item))
        return " ".join(lines)

    # ---- the same customer twice ----

    def duplicate(self, original: PlannedCustomer, index: int) -> PlannedCustomer:
        """A second record of a customer, made by a colleague who did not find the first one."""
        rng = self.rng
        if original.kind == PERSON:
            first, _, last = original.name.partition(" ")
            name = f"{content.NICKNAMES.get(first, first)} {last}"
            identities = [f"email:{self.email(_slug(name), ('example.org',))}"]
            if self.person_phones:
                identities.append(f"phone:{self.person_phones.pop()}")
            attributes: dict[str, str | int] = {"city": original.attributes["city"], "segment": "Occasional"}
            colleague = next(u for u in DEMO_USERS if u.team == "Customer Service")
        else:
            name = original.name.replace(" & ", " and ") + " Ltd"
            identities = [
                f"crm:B{90000 + index:05d}",
                f"email:{self.email('accounts', (_slug(name)[:24] + '.example',))}",
            ]
            attributes = {"city": original.attributes["city"], "industry": original.attributes["industry"]}
            colleague = next(
                u for u in DEMO_USERS if u.team == "Business Sales" and u.email != original.created_by
            )
        created_at = self.moment(
            self.now - timedelta(days=120), self.now - timedelta(days=3), original.kind, "call"
        )
        copy = PlannedCustomer(
            original.kind,
            name,
            identities,
            attributes,
            created_at,
            colleague.email,
            created_at,
            duplicate_of=index,
        )
        encounter = PlannedEncounter(
            employee=colleague.email,
            channel="call",
            occurred_at=self.moment(created_at, self.now - timedelta(hours=2), original.kind, "call"),
            duration_minutes=rng.randint(6, 15),
            cares_about=rng.choice(content.CARES[original.kind]),
            listening_share=round(colleague.listening, 2),
        )
        copy.encounters.append(encounter)
        known = [f for f in original.facts][:1]
        for fact in known:
            copy.facts.append(
                PlannedFact(fact.text, fact.category, colleague.email, encounter.occurred_at, 0.7, 0, "call")
            )
        encounter.notes = (
            "New caller; could not find them by this e-mail, so made a new record. "
            + " ".join(f"Mentioned: {_inline(f.text)}." for f in copy.facts)
            + " Sounds like they have bought from us before: check for an older record."
        )
        return copy


def generate(
    *, seed: int, now: datetime, categories: CategoryList, people: int = 1500, businesses: int = 500
) -> Plan:
    """The demo: ``people`` consumers (cdnow:00001...), ``businesses`` businesses, and a few duplicates."""
    generator = _Generator(seed, now, categories)
    generator.purchases = cdnow_purchases()
    customers = [generator.person(n) for n in range(1, people + 1)]
    customers += [generator.business(n) for n in range(1, businesses + 1)]
    # Two people known by a nickname elsewhere, and one business entered twice.
    people_with_nicknames = [
        i for i, c in enumerate(customers[:people]) if c.name.split(" ")[0] in content.NICKNAMES and c.facts
    ]
    originals = (
        people_with_nicknames[:2] + [i for i in range(people, people + businesses) if customers[i].facts][:1]
    )
    customers += [generator.duplicate(customers[i], i) for i in originals]
    return Plan(DEMO_USERS, customers)


def generate_purchase_history(
    *, seed: int, now: datetime, categories: CategoryList, purchases: Mapping[int, Purchases]
) -> list[PlannedCustomer]:
    """The customers of the CDNOW purchase history numbered in ``purchases`` (those the demo has not
    made already): named, with an e-mail, recorded on their first (moved) purchase; staff know over a
    quarter of them, nearly all of the top 3 % by spend among them. Seeded apart from the demo's own
    customers."""
    generator = _Generator(f"{seed}:purchase history", now, categories)
    spends = sorted(history.value for history in purchases.values())
    top_spend = spends[int(len(spends) * 0.97)] if spends else 0.0
    return [generator.web_shop_customer(number, purchases[number], top_spend) for number in sorted(purchases)]
