"""'Customer since': the first activity of a customer, lowered by earlier purchases and encounters only."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pyarrow as pa
from alembic import command
from sqlalchemy import text

from segone.accounts.schemas import SYSTEM
from segone.behaviour import ingest
from segone.behaviour.events import validate_events
from segone.channels import Channel
from segone.clock import fixed_at
from segone.customers import service as customers
from segone.encounters import service as encounters
from segone.encounters.schemas import EncounterCreate
from segone.knowledge.categories.service import in_force as categories_in_force
from segone.migrations import migrate
from segone.runtime import Runtime
from segone.views import merge
from tests.factories import make_customer

NOW = datetime(2026, 5, 14, 10, 30, tzinfo=UTC)


def _made(runtime: Runtime, name: str) -> int:
    with fixed_at(NOW):
        return make_customer(runtime, name=name, identities=[f"crm:{name}"])


def _since(runtime: Runtime, customer_id: int) -> datetime:
    with runtime.session() as db:
        return customers.get(db, actor=SYSTEM, customer_id=customer_id, follow_merges=False).since


def test_since_starts_when_added_and_only_goes_back(runtime: Runtime) -> None:
    ann = _made(runtime, "ann")
    assert _since(runtime, ann) == NOW
    with runtime.session() as db:
        updated = customers.get(db, actor=SYSTEM, customer_id=ann).updated_at
        assert customers.note_first_activity(db, {ann: NOW + timedelta(days=3)}) == 0
        assert customers.note_first_activity(db, {ann: NOW - timedelta(days=400)}) == 1
        assert customers.note_first_activity(db, {ann: NOW - timedelta(days=10)}) == 0
        assert customers.note_first_activity(db, {}) == 0
        assert customers.note_first_activity(db, {999_999: NOW - timedelta(days=900)}) == 0  # nobody
        loaded = customers.get(db, actor=SYSTEM, customer_id=ann)
        # The loaded record sees the change; an old purchase does not make it "recently changed".
        assert (loaded.since, loaded.updated_at) == (NOW - timedelta(days=400), updated)
        assert customers.to_out(loaded).since == NOW - timedelta(days=400)
        assert customers.count_at(db, NOW - timedelta(days=401)) == 0
        assert customers.count_at(db, NOW - timedelta(days=400)) == 1


def test_activity_of_a_merged_record_counts_for_its_final_survivor(runtime: Runtime) -> None:
    first, middle, last = (_made(runtime, name) for name in ("first", "middle", "last"))
    with fixed_at(NOW), runtime.session() as db:
        customers.note_first_activity(db, {first: NOW - timedelta(days=30)})
        # Merging keeps the earlier of the two: the survivor was a customer as long as either record.
        merge.merge(db, actor=SYSTEM, survivor_id=middle, merged_id=first)
        assert customers.get(db, actor=SYSTEM, customer_id=middle).since == NOW - timedelta(days=30)
        merge.merge(db, actor=SYSTEM, survivor_id=last, merged_id=middle)
        assert customers.get(db, actor=SYSTEM, customer_id=last).since == NOW - timedelta(days=30)
        lowered = customers.note_first_activity(
            db, {first: NOW - timedelta(days=90), middle: NOW - timedelta(days=60)}
        )
        assert lowered == 1
    assert _since(runtime, last) == NOW - timedelta(days=90)
    # The merged records stay as they were when merged.
    assert _since(runtime, first) == _since(runtime, middle) == NOW - timedelta(days=30)
    with runtime.session() as db:
        # The survivor counts from 90 days ago; each merged record from its own since until its merge.
        assert customers.count_at(db, NOW - timedelta(days=89)) == 1
        assert customers.count_at(db, NOW - timedelta(days=20)) == 3
        assert customers.count_at(db, NOW) == 1  # merged at NOW


def test_an_earlier_encounter_and_earlier_events_lower_since(runtime: Runtime) -> None:
    ann, bo = _made(runtime, "ann"), _made(runtime, "bo")
    with runtime.session() as db:
        for when in (NOW - timedelta(days=5), NOW + timedelta(days=1)):
            encounters.record(
                db,
                actor=SYSTEM,
                customer_id=ann,
                data=EncounterCreate(channel=Channel.CALL, occurred_at=when),
                categories=categories_in_force(runtime.settings),
            )
    assert _since(runtime, ann) == NOW - timedelta(days=5)
    events = validate_events(
        pa.table(
            {
                "customer": ["crm:bo", "crm:bo", "crm:new"],
                "type": ["purchase", "visit", "purchase"],
                "ts": ["2024-03-02T12:00:00Z", "2023-12-24T09:00:00Z", "2025-01-05"],
            }
        )
    ).table
    assert events is not None
    with fixed_at(NOW), runtime.session() as db:
        resolved = ingest.resolve_customers(db, actor=SYSTEM, events=events, unknown="create")
        assert resolved.table is not None and resolved.created == 1
        created = customers.get_by_identity(db, actor=SYSTEM, identity="crm:new")
        assert (created.created_at, created.since) == (NOW, datetime(2025, 1, 5, tzinfo=UTC))
    assert _since(runtime, bo) == datetime(2023, 12, 24, 9, tzinfo=UTC)  # any event is an activity


def test_the_migration_dates_existing_customers_from_creation_or_an_earlier_encounter(
    runtime: Runtime,
) -> None:
    ann, bo = _made(runtime, "ann"), _made(runtime, "bo")
    with runtime.session() as db:
        encounters.record(
            db,
            actor=SYSTEM,
            customer_id=ann,
            data=EncounterCreate(channel=Channel.STORE, occurred_at=NOW - timedelta(days=12)),
            categories=categories_in_force(runtime.settings),
        )
    config = migrate.alembic_config(runtime.engine)
    command.downgrade(config, "0006")
    try:
        with runtime.engine.begin() as connection:
            columns = connection.execute(text("SELECT * FROM customers")).keys()
            assert "since" not in columns
    finally:
        command.upgrade(config, "head")
    assert _since(runtime, ann) == NOW - timedelta(days=12)
    assert _since(runtime, bo) == NOW
