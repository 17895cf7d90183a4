"""Facts recorded with the encounter they came from: the encounter must be one with that customer."""

from __future__ import annotations

import pytest

from segone.channels import Channel
from segone.encounters import service as encounters
from segone.encounters.schemas import EncounterCreate
from segone.errors import Invalid, NotFound
from segone.knowledge.categories.service import in_force as categories_in_force
from segone.knowledge.facts.schemas import AcknowledgeRequest, DifferentiatorCreate
from segone.runtime import Runtime
from segone.views import facts
from tests.factories import make_customer, make_user


def test_fact_cannot_point_at_another_customers_encounter(runtime: Runtime) -> None:
    first, second = make_customer(runtime), make_customer(runtime)
    employee = make_user(runtime)
    with runtime.session() as db:
        encounter = encounters.record(
            db,
            actor=employee.actor,
            customer_id=first,
            data=EncounterCreate(channel=Channel.EMAIL),
            categories=categories_in_force(runtime.settings),
        )
        with pytest.raises(Invalid, match="not an encounter with customer"):
            facts.add(
                db,
                actor=employee.actor,
                customer_id=second,
                data=DifferentiatorCreate(text="x", category="values", encounter_id=encounter.id),
                categories=categories_in_force(runtime.settings),
            )
        with pytest.raises(NotFound):
            encounters.get(db, actor=employee.actor, encounter_id=encounter.id + 99)


def test_acknowledging_in_an_encounter_checks_it_is_with_that_customer(runtime: Runtime) -> None:
    first, second = make_customer(runtime), make_customer(runtime)
    employee = make_user(runtime)
    with runtime.session() as db:
        here, elsewhere = (
            encounters.record(
                db,
                actor=employee.actor,
                customer_id=customer,
                data=EncounterCreate(channel=Channel.CALL),
                categories=categories_in_force(runtime.settings),
            ).id
            for customer in (first, second)
        )
        fact = facts.add(
            db,
            actor=employee.actor,
            customer_id=first,
            data=DifferentiatorCreate(text="Keeps bees", category="free_time", encounter_id=here),
            categories=categories_in_force(runtime.settings),
        )
        assert fact.encounter_id == here
        with pytest.raises(Invalid, match=f"not an encounter with customer {first}"):
            facts.acknowledge(
                db,
                actor=employee.actor,
                differentiator_id=fact.id,
                data=AcknowledgeRequest(encounter_id=elsewhere),
                categories=categories_in_force(runtime.settings),
            )
        known = facts.acknowledge(
            db,
            actor=employee.actor,
            differentiator_id=fact.id,
            data=AcknowledgeRequest(encounter_id=here, how="in the call"),
            categories=categories_in_force(runtime.settings),
        )
        assert known.acknowledgement is not None and known.acknowledgement.encounter_id == here
        again = facts.acknowledge(  # the first record stays; the second's encounter is not looked at
            db,
            actor=employee.actor,
            differentiator_id=fact.id,
            data=AcknowledgeRequest(encounter_id=elsewhere),
            categories=categories_in_force(runtime.settings),
        )
        assert again.acknowledgement == known.acknowledgement
