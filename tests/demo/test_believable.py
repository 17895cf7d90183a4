"""A demo a manager believes: every customer of the purchase history has a name and about a third are
known, more of those who bought more; no numbered names; no specific sentence copied across dozens of
records; encounters in working hours, never bunched in one second."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from segone import demo
from segone.accounts.models import AuditEntry
from segone.accounts.schemas import SYSTEM, AuditAction
from segone.customers import service as customers
from segone.customers.models import Customer, CustomerIdentity
from segone.customers.schemas import CustomerCreate
from segone.demo.content import COMMON_TEXTS, NICKNAMES
from segone.demo.generate import cdnow_purchases
from segone.demo.load import HistorySummary, load_purchase_history
from segone.demo.names import FIRST_NAMES, LAST_NAMES
from segone.demo.timeline import CDNOW_FIRST_DAY, cdnow_shift, demo_moment
from segone.encounters.models import Encounter
from segone.knowledge.categories.service import in_force as categories_in_force
from segone.knowledge.models import Acknowledgement, Differentiator
from segone.runtime import Runtime
from segone.settings import Settings

DAY = date(2026, 11, 27)
NOW = demo_moment(DAY)
MOST_HOLDERS = 12  # of any one sentence that is not one of the short, general COMMON_TEXTS


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Runtime, HistorySummary]]:
    """The full demo and the purchase history's customers (without the events: they add no names or
    knowledge), in a SQLite store of its own."""
    runtime = Runtime(Settings(data_dir=tmp_path_factory.mktemp("believable"), secret_key="test-secret-key"))
    runtime.upgrade_schema()
    categories = categories_in_force(runtime.settings)
    with runtime.session() as db:
        demo.load(db, actor=SYSTEM, categories=categories, day=DAY)
    with runtime.session() as db:
        history = load_purchase_history(db, actor=SYSTEM, categories=categories, day=DAY)
    yield runtime, history
    runtime.dispose()


def _history_customers(runtime: Runtime) -> dict[int, int]:
    """The purchase history's customers the demo made (beyond its own 1,500): customer id -> CDNOW number."""
    with runtime.session() as db:
        rows = db.execute(
            select(CustomerIdentity.customer_id, CustomerIdentity.value).where(
                CustomerIdentity.system == "cdnow"
            )
        ).all()
    return {customer_id: int(value) for customer_id, value in rows if int(value) > 1500}


def test_every_customer_has_a_name_of_their_own_and_none_is_numbered(
    store: tuple[Runtime, HistorySummary],
) -> None:
    runtime, history = store
    assert history.customers == 22_070
    with runtime.session() as db:
        rows = db.execute(select(Customer.kind, Customer.name)).all()
    assert len(rows) == 2003 + 22_070
    assert not [name for _, name in rows if re.search(r"\d", name) or name.startswith("Customer ")]
    people = Counter(name for kind, name in rows if kind == "person")
    first, last = {*FIRST_NAMES, *NICKNAMES.values()}, set(LAST_NAMES)  # a duplicate goes by a nickname
    assert all(name.split(" ")[0] in first and name.split(" ", 1)[1] in last for name in people)
    # As in any large customer base, some share a name with someone else; none is everybody's.
    sharing = sum(n for n in people.values() if n > 1) / sum(people.values())
    assert 0.05 < sharing < 0.18, sharing
    assert max(people.values()) <= 5
    businesses = Counter(name for kind, name in rows if kind == "business")
    assert sum(n for n in businesses.values() if n > 1) <= 5


def test_no_specific_sentence_is_copied_across_dozens_of_customers(
    store: tuple[Runtime, HistorySummary],
) -> None:
    runtime, _ = store
    with runtime.session() as db:
        holders = dict(
            db.execute(
                select(Differentiator.text, func.count(func.distinct(Differentiator.customer_id))).group_by(
                    Differentiator.text
                )
            ).all()
        )
    specific = {text: n for text, n in holders.items() if text not in COMMON_TEXTS}
    worst = max(specific, key=lambda text: specific[text])
    assert specific[worst] <= MOST_HOLDERS, (worst, specific[worst])
    # What may be common is short and general: no long or detailed sentence is.
    assert max(len(text.split()) for text in COMMON_TEXTS) <= 9
    assert max(holders.values()) > 300  # "Has children living at home" is meant to be common
    assert "Works shifts; shops on weekday mornings" not in holders


def test_about_a_third_of_the_purchase_history_is_known_more_of_those_who_bought_more(
    store: tuple[Runtime, HistorySummary],
) -> None:
    runtime, history = store
    numbers = _history_customers(runtime)
    purchases = cdnow_purchases()
    with runtime.session() as db:
        known = set(db.scalars(select(Differentiator.customer_id).distinct()))
        met = set(db.scalars(select(Encounter.customer_id).distinct()))
        everyone = db.scalar(select(func.count(Customer.id))) or 0
    of_history = {customer_id for customer_id in numbers if customer_id in known}
    assert len(of_history) == history.known
    assert 0.25 <= history.known / history.customers <= 0.35
    assert of_history <= met  # nobody is known without having been met
    assert 0.3 <= len(known) / everyone <= 0.4  # with the demo's own customers: the dashboard's figure

    def share(low: int, high: int) -> float:
        group = [c for c, n in numbers.items() if low <= len(purchases[n].days) <= high]
        return sum(1 for c in group if c in known) / len(group)

    once, few, many = share(1, 1), share(2, 5), share(6, 1000)
    assert 0.08 < once < few < many and many > 0.6, (once, few, many)


def test_what_we_know_of_them_lies_in_their_time_with_us_near_their_purchases(
    store: tuple[Runtime, HistorySummary],
) -> None:
    runtime, _ = store
    numbers = _history_customers(runtime)
    shift = cdnow_shift(DAY)
    purchases = cdnow_purchases()
    with runtime.session() as db:
        records = {c.id: c for c in db.scalars(select(Customer).where(Customer.id.in_(list(numbers))))}
        encounters = db.execute(
            select(Encounter.customer_id, Encounter.occurred_at).where(
                Encounter.customer_id.in_(list(numbers))
            )
        ).all()
        facts = db.execute(
            select(Differentiator.customer_id, Differentiator.learned_at).where(
                Differentiator.customer_id.in_(list(numbers))
            )
        ).all()
        acknowledged = db.execute(
            select(Differentiator.customer_id, Acknowledgement.acknowledged_at)
            .join(Acknowledgement, Acknowledgement.differentiator_id == Differentiator.id)
            .where(Differentiator.customer_id.in_(list(numbers)))
        ).all()
    for customer_id, number in numbers.items():
        customer = records[customer_id]
        first_day = purchases[number].first + shift
        assert customer.since == demo_moment(first_day)
        assert customer.since <= customer.created_at < customer.since + timedelta(days=1)  # their first order
    assert encounters and facts and acknowledged
    for customer_id, at in [*encounters, *facts, *acknowledged]:
        assert records[customer_id].since <= at < NOW
    near = 0
    for customer_id, at in encounters:
        days = [day + shift for day in purchases[numbers[customer_id]].days]
        near += any(timedelta(0) <= at.date() - day <= timedelta(days=8) for day in days)
    assert near / len(encounters) > 0.75


def test_encounters_fall_in_working_hours_and_never_bunch(store: tuple[Runtime, HistorySummary]) -> None:
    runtime, _ = store
    with runtime.session() as db:
        rows = db.execute(
            select(Customer.kind, Encounter.occurred_at).join(Customer, Customer.id == Encounter.customer_id)
        ).all()
    assert len(rows) > 20_000
    seconds = Counter(at for _, at in rows)
    assert max(seconds.values()) <= 2
    hours = [at.hour + at.minute / 60 for _, at in rows]
    assert sum(1 for h in hours if 8.5 <= h < 19) / len(hours) > 0.97
    # Not on the hour or on round minutes: spread like the moments people note.
    assert sum(1 for _, at in rows if at.minute % 5 == 0) / len(rows) < 0.3
    assert len({at.second for _, at in rows}) == 60
    days = Counter((kind, at.weekday()) for kind, at in rows)
    businesses = sum(n for (kind, _), n in days.items() if kind == "business")
    assert (days[("business", 5)] + days[("business", 6)]) / businesses < 0.02  # office hours
    people = sum(n for (kind, _), n in days.items() if kind == "person")
    assert days[("person", 5)] / people > days[("person", 0)] / people  # the shops' Saturday
    assert days[("person", 6)] / people < 0.08  # a short Sunday


def test_the_web_shop_records_its_new_customers_once_a_day(store: tuple[Runtime, HistorySummary]) -> None:
    runtime, history = store
    with runtime.session() as db:
        entries = db.scalars(
            select(AuditEntry).where(AuditEntry.action == AuditAction.CUSTOMERS_CREATED_FROM_EVENTS.value)
        ).all()
        emails = db.scalar(
            select(func.count(CustomerIdentity.id)).where(
                CustomerIdentity.system == "email",
                CustomerIdentity.customer_id.in_(list(_history_customers(runtime))),
            )
        )
    assert sum(entry.details["count"] for entry in entries) == history.customers == emails
    assert len({entry.at.date() for entry in entries}) == len(entries)
    assert all(entry.actor_email == "system" and entry.at < NOW for entry in entries)
    assert min(entry.at for entry in entries) >= demo_moment(CDNOW_FIRST_DAY + cdnow_shift(DAY))


def test_the_purchase_history_loads_on_each_backend(runtime: Runtime) -> None:
    categories = categories_in_force(runtime.settings)
    with runtime.session() as db:
        summary = demo.load(db, actor=SYSTEM, categories=categories, people=40, businesses=10, day=DAY)
    with runtime.session() as db:
        history = load_purchase_history(db, actor=SYSTEM, categories=categories, day=DAY)
    assert history.customers == 23_570 - 40
    assert 0.25 <= history.known / history.customers <= 0.35
    with runtime.session() as db:
        assert demo.customer_count(db) == summary.customers + history.customers
        # Loading again finds every buyer there already.
        assert load_purchase_history(db, actor=SYSTEM, categories=categories, day=DAY).customers == 0
        made = customers.create(db, actor=SYSTEM, data=CustomerCreate(name="New", identities=["crm:NEW1"]))
        assert made.id == summary.customers + history.customers + 1
