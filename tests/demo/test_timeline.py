"""The demo's one timeline: loads on one day give the same store, whatever the hour; a load a week later
gives the same store a week later (its working week falls on the same weekdays); the purchases end on the
demo's day; the dashboard has no cliff, and the best customers are known."""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from segone import demo
from segone.accounts.models import AuditEntry, User
from segone.accounts.schemas import SYSTEM
from segone.analytics import backend
from segone.behaviour import ingest
from segone.behaviour.models import BehaviourProfile
from segone.clock import fixed_at, utcnow
from segone.customers import service as customers
from segone.customers.models import Customer, CustomerIdentity
from segone.demo import behaviour as demo_behaviour
from segone.demo.timeline import CDNOW_FIRST_DAY, CDNOW_LAST_DAY, demo_moment, read_record
from segone.encounters.models import Encounter
from segone.knowledge.categories.service import in_force as categories_in_force
from segone.knowledge.facts import service as knowledge
from segone.knowledge.models import Acknowledgement, Differentiator
from segone.runtime import Runtime
from segone.settings import Settings
from segone.views.self_assessment import self_assessment
from segone.views.top_customers import ranked

DAY = date(2026, 11, 27)
PEOPLE, BUSINESSES = 40, 10

pytestmark = pytest.mark.filterwarnings(r"ignore:fetch_arrow_table\(\) is deprecated:DeprecationWarning")


def _load(directory: Path, at: datetime) -> Runtime:
    """``segone demo`` (small) into a store of its own, run at ``at``."""
    runtime = Runtime(Settings(data_dir=directory, secret_key="test-secret-key"))
    runtime.upgrade_schema()
    with fixed_at(at):
        with runtime.session() as db:
            summary = demo.load(
                db,
                actor=SYSTEM,
                categories=categories_in_force(runtime.settings),
                people=PEOPLE,
                businesses=BUSINESSES,
            )
        assert summary.day == at.date()
        demo_behaviour.load_behaviour(
            runtime,
            actor=SYSTEM,
            day=summary.day,
            seed=demo.DEFAULT_SEED,
            categories=categories_in_force(runtime.settings),
        )
    return runtime


@pytest.fixture(scope="module")
def stores(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Runtime]]:
    """The demo loaded in the morning and in the evening of one day, and a week later."""
    base = tmp_path_factory.mktemp("timeline")
    made = {
        "morning": _load(base / "morning", datetime(2026, 11, 27, 9, 13, 27, 512_000, tzinfo=UTC)),
        "evening": _load(base / "evening", datetime(2026, 11, 27, 23, 48, 5, tzinfo=UTC)),
        "next week": _load(base / "next", datetime(2026, 12, 4, 8, 2, tzinfo=UTC)),
    }
    yield made
    for runtime in made.values():
        runtime.dispose()


TABLES = (Customer, CustomerIdentity, Encounter, Differentiator, Acknowledgement, AuditEntry)


def _rows(runtime: Runtime, model: Any) -> list[dict[str, Any]]:
    table = model.__table__
    with runtime.session() as db:
        return [
            dict(row) for row in db.execute(select(table).order_by(*table.primary_key.columns)).mappings()
        ]


def _events(runtime: Runtime) -> list[dict[str, Any]]:
    con = backend.connect(runtime.settings.analytics_url, runtime.settings.data_dir)
    try:
        table = backend.to_arrow(ingest.dataset_of(runtime.settings.data_dir).read(con))
    finally:
        con.disconnect()
    return table.sort_by([("event_id", "ascending")]).to_pylist()


def _profiles(runtime: Runtime) -> list[dict[str, Any]]:
    # The fitted scores agree to rounding (the optimiser's last digits vary from run to run), and the
    # timeline's days come in no particular order (readers sort them).
    return [
        {
            key: round(value, 6)
            if isinstance(value, float) and math.isfinite(value)
            else sorted(json.loads(value))
            if key == "timeline"
            else value
            for key, value in row.items()
            if key != "refresh_id"
        }
        for row in _rows(runtime, BehaviourProfile)
    ]


def _moved(value: Any, by: timedelta) -> Any:
    return value + by if isinstance(value, datetime | date) else value


def test_two_loads_on_one_day_write_the_same_store(stores: dict[str, Runtime]) -> None:
    morning, evening = stores["morning"], stores["evening"]
    for model in TABLES:
        first, second = _rows(morning, model), _rows(evening, model)
        assert first and first == second, model.__tablename__
    users = [{k: v for k, v in row.items() if k != "password_hash"} for row in _rows(morning, User)]
    assert users == [{k: v for k, v in row.items() if k != "password_hash"} for row in _rows(evening, User)]
    assert _events(morning) == _events(evening)
    assert _profiles(morning) == _profiles(evening)
    # Everything is dated from the start of the day: nothing lies after the morning's moment of loading.
    start = demo_moment(DAY)
    with morning.session() as db:
        for latest in (
            db.scalar(select(Customer.created_at).order_by(Customer.created_at.desc())),
            db.scalar(select(Encounter.occurred_at).order_by(Encounter.occurred_at.desc())),
            db.scalar(
                select(Acknowledgement.acknowledged_at).order_by(Acknowledgement.acknowledged_at.desc())
            ),
        ):
            assert latest is not None and latest <= start


def test_a_week_later_writes_the_same_store_a_week_later(stores: dict[str, Runtime]) -> None:
    today, tomorrow = stores["morning"], stores["next week"]
    day = timedelta(days=7)
    for model in (Customer, CustomerIdentity, Encounter, Differentiator, Acknowledgement):
        moved = [{key: _moved(value, day) for key, value in row.items()} for row in _rows(today, model)]
        later = _rows(tomorrow, model)
        if model is Customer:
            # The 'since' detail is a year: a week later it may be the next one.
            for row in moved + later:
                assert row["attributes"].get("since", row["since"].year) == row["since"].year
                row["attributes"].pop("since", None)
        assert moved == later, model.__tablename__

    def purchases(runtime: Runtime, by: timedelta) -> list[tuple[Any, ...]]:
        return sorted(
            (e["customer"], e["customer_id"], e["type"], e["ts"] + by, e["value"], e["quantity"])
            for e in _events(runtime)
        )

    assert purchases(today, day) == purchases(tomorrow, timedelta(0))


def test_the_purchases_end_on_the_demo_day_and_the_record_says_by_how_much(
    stores: dict[str, Runtime],
) -> None:
    runtime = stores["morning"]
    record = read_record(runtime.settings.data_dir)
    assert record is not None
    assert (record.seed, record.day, record.shift_days) == (
        demo.DEFAULT_SEED,
        DAY,
        (DAY - CDNOW_LAST_DAY).days,
    )
    events = _events(runtime)
    # CDNOW's purchases have no channel; the purchases of offerings the demo adds have one.
    cdnow = [e for e in events if e["channel"] is None]
    assert len(cdnow) == 69_659
    days = [e["ts"].date() for e in cdnow]
    assert (min(days), max(days)) == (CDNOW_FIRST_DAY + (DAY - CDNOW_LAST_DAY), DAY)
    assert max(e["ts"] for e in events) <= demo_moment(DAY)
    with runtime.session() as db:
        profiles = db.scalars(select(BehaviourProfile)).all()
        buyers = {e["customer_id"] for e in events}
        assert {p.as_of for p in profiles} == {DAY} and len(profiles) == len(buyers) > 23_570
        # Customer 499 of CDNOW bought on 1998-06-21, 9 days before the end: 9 days before the demo's day.
        customer = customers.get_by_identity(db, actor=SYSTEM, identity="cdnow:00499")
        profile = next(p for p in profiles if p.customer_id == customer.id)
        assert (profile.last_purchase, profile.recency_days) == (DAY - timedelta(days=9), 9)


def test_customers_count_from_their_first_purchase(stores: dict[str, Runtime]) -> None:
    runtime = stores["morning"]
    first_day = demo_moment(CDNOW_FIRST_DAY + (DAY - CDNOW_LAST_DAY))
    with runtime.session() as db:
        # The purchase history's customers are recorded on the day of their first order, with a name.
        made = customers.get_by_identity(db, actor=SYSTEM, identity="cdnow:23570")
        assert made.since <= made.created_at < made.since + timedelta(days=1) < demo_moment(DAY)
        assert made.since < demo_moment(DAY) - timedelta(days=365) and not made.name.startswith("Customer")
        # Every CDNOW customer bought first in the first quarter of 1997: all 23,570 count from then.
        assert customers.count_at(db, first_day + timedelta(days=90)) >= 23_570
        assert customers.count_at(db, first_day - timedelta(days=1)) < PEOPLE + BUSINESSES
        consumers = db.execute(
            select(Customer.since, Customer.attributes)
            .join(CustomerIdentity)
            .where(CustomerIdentity.system == "cdnow")
        ).all()
        assert all(since <= first_day + timedelta(days=90) for since, _ in consumers)
        assert len(consumers) == 23_570
        assert all(attributes["since"] == since.year for since, attributes in consumers)


def test_the_dashboard_share_has_no_cliff_in_the_last_month(stores: dict[str, Runtime]) -> None:
    runtime = stores["morning"]
    with fixed_at(datetime(2026, 11, 27, 15, 0, tzinfo=UTC)), runtime.session() as db:
        months = self_assessment(db, actor=SYSTEM).months
        assert utcnow().date() == DAY
    shares = [m.known_share for m in months]
    assert all(abs(later - earlier) < 0.02 for earlier, later in itertools.pairwise(shares)), shares
    # About a third of the purchase history is known (the small demo's own 50 customers hardly count).
    assert 0.25 <= shares[-1] <= 0.4, shares
    # The purchase history's 23,530 customers count from their first purchase, not from this month.
    assert months[-1].customers - months[-2].customers < 5
    with runtime.session() as db:
        assert months[-1].customers == customers.count_active(db) >= 23_570


def test_the_best_customers_are_known(stores: dict[str, Runtime]) -> None:
    """The top-10 exercise ranks by value: a business knows its best customers, so most cards have facts."""
    runtime = stores["morning"]
    with runtime.session() as db:
        for by in ("clv", "value"):
            best = ranked(db, by=by)
            assert len(best) == 10
            known = [i for i in best if knowledge.list_for_customer(db, actor=SYSTEM, customer_id=i)]
            assert len(known) >= 8, (by, best, known)
