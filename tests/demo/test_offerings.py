"""The demo's catalogue and the purchases that name its offerings: loaded through the catalogue's import and
the events import, on the demo's timeline, the same on every load, and related to what staff know of each
customer (the planted relation that matching is to find)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from segone import demo
from segone.accounts.models import AuditEntry
from segone.accounts.schemas import SYSTEM
from segone.analytics import backend
from segone.behaviour import ingest
from segone.clock import fixed_at
from segone.customers.models import Customer, CustomerIdentity
from segone.demo import behaviour as demo_behaviour
from segone.demo import offerings
from segone.demo.content import INDUSTRIES
from segone.demo.timeline import demo_moment
from segone.knowledge.categories.service import in_force as categories_in_force
from segone.knowledge.models import Differentiator
from segone.personalisation import service as catalogue
from segone.personalisation.models import Offering
from segone.runtime import Runtime
from segone.settings import Settings

DAY = date(2026, 11, 27)
NOW = demo_moment(DAY)
PEOPLE, BUSINESSES = 150, 60

pytestmark = pytest.mark.filterwarnings(r"ignore:fetch_arrow_table\(\) is deprecated:DeprecationWarning")


def _load(directory: Path, at: datetime) -> Runtime:
    """``segone demo`` (small, with the whole purchase history) into a store of its own, run at ``at``."""
    runtime = Runtime(Settings(data_dir=directory, secret_key="test-secret-key"))
    runtime.upgrade_schema()
    categories = categories_in_force(runtime.settings)
    with fixed_at(at):
        with runtime.session() as db:
            demo.load(db, actor=SYSTEM, categories=categories, people=PEOPLE, businesses=BUSINESSES, day=DAY)
        demo_behaviour.load_behaviour(
            runtime, actor=SYSTEM, day=DAY, seed=demo.DEFAULT_SEED, categories=categories
        )
    return runtime


@pytest.fixture(scope="module")
def stores(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Runtime, Runtime]]:
    """The demo loaded twice on its day, at different hours."""
    base = tmp_path_factory.mktemp("offerings")
    first = _load(base / "first", datetime(2026, 11, 27, 8, 30, tzinfo=UTC))
    second = _load(base / "second", datetime(2026, 11, 27, 19, 5, tzinfo=UTC))
    yield first, second
    first.dispose()
    second.dispose()


def _events(runtime: Runtime) -> list[dict[str, Any]]:
    con = backend.connect(runtime.settings.analytics_url, runtime.settings.data_dir)
    try:
        table = backend.to_arrow(ingest.dataset_of(runtime.settings.data_dir).read(con))
    finally:
        con.disconnect()
    return table.sort_by([("event_id", "ascending")]).to_pylist()


def _facts(runtime: Runtime) -> dict[int, list[str]]:
    """Each customer's current facts, by customer id."""
    found: dict[int, list[str]] = defaultdict(list)
    with runtime.session() as db:
        for customer_id, text in db.execute(
            select(Differentiator.customer_id, Differentiator.text).where(Differentiator.status == "current")
        ):
            found[customer_id].append(text)
    return found


def test_every_key_the_purchases_use_is_in_the_catalogue() -> None:
    named = {key for theme in offerings.THEMES for key, _ in theme.offerings}
    named |= {key for _, options in offerings.PEOPLE_GROUPS.values() for key, _ in options}
    named |= {key for options in offerings.INDUSTRY_OFFERINGS.values() for key, _ in options}
    named |= set(offerings.RECORDS) | set(offerings.GROUP_RECORDS.values())
    assert named <= set(offerings.OFFERINGS)
    assert 25 <= len(offerings.CATALOGUE) <= 40
    assert len(offerings.OFFERINGS) == len(offerings.CATALOGUE)  # keys are unique
    # Every industry of the demo's businesses buys from its own part of the catalogue.
    assert {industry.name for industry in INDUSTRIES} == set(offerings.INDUSTRY_OFFERINGS)


def test_the_catalogue_is_loaded_through_the_import(stores: tuple[Runtime, Runtime]) -> None:
    runtime, _ = stores
    with runtime.session() as db:
        page = catalogue.list_offerings(db, actor=SYSTEM, limit=100)
        assert {o.key for o in page.items} == set(offerings.OFFERINGS) and page.total == 40
        lessons = catalogue.get_by_key(db, actor=SYSTEM, key="guitar-lessons-10")
        assert lessons.price_band == "50_200" and "learn an instrument" in lessons.needs
        assert lessons.attributes == {"department": "lessons", "audience": "people"}
        assert all(o.description and o.needs for o in page.items)
        # Written as the CSV import writes: one audit entry per offering, dated on the demo's day.
        entries = db.scalars(select(AuditEntry).where(AuditEntry.action == "offering.created")).all()
        assert len(entries) == 40
        assert {e.details["source"] for e in entries} == {"csv import"}
        assert {e.at for e in entries} == {NOW}


def test_purchases_name_offerings_of_the_catalogue(stores: tuple[Runtime, Runtime]) -> None:
    runtime, _ = stores
    events = _events(runtime)
    named = [e for e in events if e["offering"] is not None]
    assert {e["offering"] for e in named} <= set(offerings.OFFERINGS)
    # Nearly every offering is bought by someone, even in the small demo.
    assert len({e["offering"] for e in named}) >= 36
    assert all(e["type"] == "purchase" for e in named)
    # CDNOW's purchases (no channel) name records, if anything; the added ones the rest of the catalogue.
    cdnow = [e for e in events if e["channel"] is None]
    tagged = [e for e in cdnow if e["offering"] is not None]
    assert {e["offering"] for e in tagged} == set(offerings.RECORDS)
    assert 0.4 < len(tagged) / len(cdnow) < 0.7
    added = [e for e in events if e["channel"] is not None]
    assert not {e["offering"] for e in added} & set(offerings.RECORDS)
    assert {e["channel"] for e in added} == {"store", "online", "invoice"}
    # Only customers staff know buy them, and a business only what is sold to businesses.
    facts = _facts(runtime)
    assert {e["customer_id"] for e in tagged + added} <= set(facts)
    with runtime.session() as db:
        kinds = {i: k for i, k in db.execute(select(Customer.id, Customer.kind))}
    for event in added:
        offering = offerings.OFFERINGS[event["offering"]]
        if kinds[event["customer_id"]] == "business":
            assert offering.for_businesses and event["channel"] == "invoice"
        else:
            assert offering.for_people and event["channel"] != "invoice"
        low, high = offering.price
        assert low <= event["value"] <= high


def test_purchases_fall_on_the_demo_timeline_before_its_day(stores: tuple[Runtime, Runtime]) -> None:
    runtime, _ = stores
    added = [e for e in _events(runtime) if e["channel"] is not None]
    with runtime.session() as db:
        since = {i: s for i, s in db.execute(select(Customer.id, Customer.since))}
        numbers = {
            i: int(value)
            for i, value in db.execute(
                select(CustomerIdentity.customer_id, CustomerIdentity.value).where(
                    CustomerIdentity.system == "cdnow"
                )
            )
        }
    for event in added:
        assert NOW - timedelta(days=730) <= event["ts"] < NOW
        assert event["ts"] >= since[event["customer_id"]]
    days = [e["ts"].date() for e in added]
    assert max(days) >= DAY - timedelta(days=7) and min(days) <= DAY - timedelta(days=600)
    # The demo's own consumers buy, and so do the known customers of the purchase history.
    buyers = {numbers[e["customer_id"]] for e in added if e["customer_id"] in numbers}
    assert any(n <= PEOPLE for n in buyers) and any(n > PEOPLE for n in buyers)


@pytest.mark.parametrize(
    ("kind", "fact", "related"),
    [
        ("person", "covers band", {"setup-and-restring", "band-rehearsal-room"}),
        ("person", "has outgrown their", {"step-up-instrument"}),
        ("person", "Sings ", {"singing-lessons"}),
        ("person", "Training for the", {"running-headphones"}),
        ("person", "vinyl", {"record-club", "turntable-setup"}),
        ("business", "Opening a second", {"second-site-fit-out"}),
    ],
)
def test_customers_with_a_fact_buy_related_offerings_more_often(
    stores: tuple[Runtime, Runtime], kind: str, fact: str, related: set[str]
) -> None:
    runtime, _ = stores
    bought: dict[int, set[str]] = defaultdict(set)
    for event in _events(runtime):
        if event["offering"] is not None:
            bought[event["customer_id"]].add(event["offering"])
    with runtime.session() as db:
        kinds = {i: k for i, k in db.execute(select(Customer.id, Customer.kind))}
    known = {i: texts for i, texts in _facts(runtime).items() if kinds[i] == kind}
    holders = [i for i, texts in known.items() if any(fact in text for text in texts)]
    others = [i for i in known if i not in set(holders)]
    assert len(holders) >= 8 and len(others) >= 40

    def share(group: list[int]) -> float:
        return sum(1 for i in group if bought[i] & related) / len(group)

    assert share(holders) >= 0.3
    assert share(holders) >= 2.5 * share(others), (share(holders), share(others))


def test_taste_groups_link_customers_no_fact_explains(stores: tuple[Runtime, Runtime]) -> None:
    """Collaborative filtering has something of its own to find: among people whose facts say nothing
    about it, those who bought a rehearsal room bought set-ups more often than others did."""
    runtime, _ = stores
    with runtime.session() as db:
        people = set(db.scalars(select(Customer.id).where(Customer.kind == "person")))
    bought: dict[int, set[str]] = defaultdict(set)
    for event in _events(runtime):
        if event["offering"] is not None and event["channel"] is not None:
            bought[event["customer_id"]].add(event["offering"])
    silent = [
        i
        for i, texts in _facts(runtime).items()
        if i in people and i in bought and not any(offerings.themes_of(t, "person") for t in texts)
    ]
    assert len(silent) >= 200
    rooms = [i for i in silent if "band-rehearsal-room" in bought[i]]
    rest = [i for i in silent if "band-rehearsal-room" not in bought[i]]
    with_room = sum(1 for i in rooms if "setup-and-restring" in bought[i]) / len(rooms)
    without = sum(1 for i in rest if "setup-and-restring" in bought[i]) / len(rest)
    assert with_room >= 2 * without, (with_room, without)


def test_two_loads_give_the_same_catalogue_and_purchases(stores: tuple[Runtime, Runtime]) -> None:
    first, second = stores

    def rows(runtime: Runtime) -> list[dict[str, Any]]:
        with runtime.session() as db:
            return [dict(r) for r in db.execute(select(Offering.__table__).order_by(Offering.id)).mappings()]

    assert rows(first) == rows(second)
    one, two = _events(first), _events(second)
    assert len(one) == len(two) and one == two
    assert sum(1 for e in one if e["offering"] is not None) > 10_000


def test_importing_the_purchases_again_changes_nothing(stores: tuple[Runtime, Runtime]) -> None:
    runtime, _ = stores
    before = _events(runtime)
    with runtime.session() as db:
        known = offerings.known_customers(db)
    purchases = offerings.plan_purchases(known, seed=demo.DEFAULT_SEED, now=NOW)
    report = ingest.import_events(
        runtime.sessions,
        dataset=ingest.dataset_of(runtime.settings.data_dir),
        actor=SYSTEM,
        events=purchases,
        unknown="reject",
    )
    assert report.events_written == purchases.num_rows > 1000
    assert _events(runtime) == before
