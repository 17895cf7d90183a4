"""Encounters, and the differentiators learned in them."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from segone.channels import Channel
from segone.encounters import service as encounters
from segone.encounters.schemas import EncounterCreate, NewFact
from segone.errors import Invalid
from segone.knowledge.categories.service import in_force as categories_in_force
from segone.knowledge.facts import service as knowledge
from segone.runtime import Runtime
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
