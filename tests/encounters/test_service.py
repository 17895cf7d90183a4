"""Encounters, and the differentiators learned in them."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from segone.accounts.schemas import SYSTEM
from segone.channels import Channel
from segone.clock import utcnow
from segone.encounters import service as encounters
from segone.encounters.schemas import EncounterCreate, NewFact
from segone.encounters.service import CLOCK_SKEW
from segone.errors import Invalid
from segone.knowledge.categories.service import in_force as categories_in_force
from segone.knowledge.facts import service as knowledge
from segone.knowledge.facts.schemas import DifferentiatorCreate, OutdateRequest
from segone.runtime import Runtime
from segone.settings import DEFAULT_ENCOUNTER_DATE_FLOOR
from tests.factories import make_customer, make_user


def test_encounter_with_facts_links_them_to_it(runtime: Runtime) -> None:
    cid = make_customer(runtime)
    employee = make_user(runtime)
    when = datetime(2026, 3, 4, 15, 30, tzinfo=UTC)
    with runtime.session() as db:
        encounter = encounters.record(
            db,
            actor=employee.actor,
            customer_id=cid,
            data=EncounterCreate(
                channel=Channel.STORE,
                occurred_at=when,
                duration_minutes=25,
                notes="Came in for running shoes; training for her first marathon.",
                cares_about="comfort over looks",
                listening_share=0.7,
                facts=[NewFact(text="Training for her first marathon", category="free_time")],
            ),
            categories=categories_in_force(runtime.settings),
        )
    with runtime.session() as db:
        (out,) = encounters.to_out_many(
            db, encounters.list_for_customer(db, actor=employee.actor, customer_id=cid)
        )
        assert (out.id, out.employee, out.occurred_at, out.listening_share) == (
            encounter.id,
            employee.email,
            when,
            0.7,
        )
        (fact,) = knowledge.list_for_customer(db, actor=employee.actor, customer_id=cid)
        assert out.differentiator_ids == [fact.id]
        assert (fact.encounter_id, fact.channel, fact.learned_at, fact.learned_by_id) == (
            encounter.id,
            "store",
            when,
            employee.id,
        )


def test_a_bad_fact_rolls_back_the_whole_encounter(runtime: Runtime) -> None:
    cid = make_customer(runtime)
    employee = make_user(runtime)
    with pytest.raises(Invalid), runtime.session() as db:
        encounters.record(
            db,
            actor=employee.actor,
            customer_id=cid,
            data=EncounterCreate(channel=Channel.CALL, facts=[NewFact(text="x", category="nonsense")]),
            categories=categories_in_force(runtime.settings),
        )
    with runtime.session() as db:
        assert encounters.list_for_customer(db, actor=employee.actor, customer_id=cid) == []


FUTURE = "The encounter's date is in the future; log an encounter once it has happened."
BEFORE_1900 = "The encounter's date is before 1900-01-01, the earliest an encounter may have; check the year."


def _record(
    runtime: Runtime, customer_id: int, data: EncounterCreate, date_floor: date = DEFAULT_ENCOUNTER_DATE_FLOOR
) -> int:
    with runtime.session() as db:
        return encounters.record(
            db,
            actor=SYSTEM,
            customer_id=customer_id,
            data=data,
            categories=categories_in_force(runtime.settings),
            date_floor=date_floor,
        ).id


def test_an_encounter_is_not_dated_in_the_future_nor_before_the_floor(runtime: Runtime) -> None:
    cid = make_customer(runtime)
    now = utcnow()
    refused = {
        datetime(2099, 1, 1, tzinfo=UTC): FUTURE,
        now + CLOCK_SKEW + timedelta(minutes=1): FUTURE,
        datetime(1800, 1, 1, tzinfo=UTC): BEFORE_1900,
        datetime(1899, 12, 31, 23, 59, tzinfo=UTC): BEFORE_1900,
    }
    for when, message in refused.items():
        with pytest.raises(Invalid) as refusal:
            _record(runtime, cid, EncounterCreate(channel=Channel.CALL, occurred_at=when))
        assert refusal.value.message == message
        assert refusal.value.details == [{"field": "occurred_at", "problem": message}]
    with pytest.raises(Invalid, match="before 2020-01-01"):
        _record(
            runtime,
            cid,
            EncounterCreate(channel=Channel.CALL, occurred_at=datetime(2019, 12, 31, tzinfo=UTC)),
            date_floor=date(2020, 1, 1),
        )
    with runtime.session() as db:
        assert encounters.list_for_customer(db, actor=SYSTEM, customer_id=cid) == []

    # A clock a little ahead of ours, the floor itself and no date at all (now) are all fine.
    for when in (now + CLOCK_SKEW - timedelta(minutes=1), datetime(1900, 1, 1, tzinfo=UTC), None):
        _record(runtime, cid, EncounterCreate(channel=Channel.CALL, occurred_at=when))
    with runtime.session() as db:
        assert len(encounters.list_for_customer(db, actor=SYSTEM, customer_id=cid)) == 3


def _fact(runtime: Runtime, customer_id: int, text: str) -> int:
    with runtime.session() as db:
        return knowledge.add(
            db,
            actor=SYSTEM,
            customer_id=customer_id,
            data=DifferentiatorCreate(text=text, category="free_time"),
            categories=categories_in_force(runtime.settings),
        ).id


def test_an_encounter_acknowledges_only_the_customers_own_current_facts(runtime: Runtime) -> None:
    ann, bob = make_customer(runtime, name="Ann Example"), make_customer(runtime, name="Bob")
    bees, kite = _fact(runtime, ann, "Keeps bees"), _fact(runtime, ann, "Flies kites")
    old = _fact(runtime, ann, "Plays squash")
    bobs = _fact(runtime, bob, "Sails")
    with runtime.session() as db:
        knowledge.outdate(db, actor=SYSTEM, differentiator_id=old, data=OutdateRequest())

    with pytest.raises(Invalid) as refusal:
        _record(runtime, ann, EncounterCreate(channel=Channel.STORE, acknowledge=[bees, bobs, old, 424242]))
    message = (
        f"Differentiators {bobs}, {old}, 424242 are not current facts of Ann Example; only the customer's "
        "own current facts can be acknowledged."
    )
    assert refusal.value.message == message
    assert refusal.value.details == [
        {"field": "acknowledge", "problem": message, "differentiator_ids": [bobs, old, 424242]}
    ]
    with pytest.raises(Invalid, match=f"^Differentiator {bobs} is not a current fact of Ann Example;"):
        _record(runtime, ann, EncounterCreate(channel=Channel.STORE, acknowledge=[bobs]))
    with runtime.session() as db:  # nothing of the refused encounters was kept
        assert encounters.list_for_customer(db, actor=SYSTEM, customer_id=ann) == []
        assert knowledge.get(db, actor=SYSTEM, differentiator_id=bees).acknowledgement is None

    met = _record(runtime, ann, EncounterCreate(channel=Channel.STORE, acknowledge=[kite, bees, kite]))
    with runtime.session() as db:
        for fact_id in (bees, kite):
            shown = knowledge.get(db, actor=SYSTEM, differentiator_id=fact_id).acknowledgement
            assert shown is not None and (shown.encounter_id, shown.how) == (met, "in this encounter")
        assert knowledge.get(db, actor=SYSTEM, differentiator_id=bobs).acknowledgement is None
