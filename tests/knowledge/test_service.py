"""Differentiators on the easel sheet, and whether the customer knows that we know."""

from __future__ import annotations

import pytest

from segone.accounts.schemas import Role
from segone.customers.schemas import CustomerKind
from segone.errors import Conflict, Forbidden, Invalid
from segone.knowledge.categories.schemas import CategoryList, parse_categories
from segone.knowledge.categories.service import in_force as categories_in_force
from segone.knowledge.facts import service as knowledge
from segone.knowledge.facts.schemas import (
    AcknowledgeRequest,
    DifferentiatorCreate,
    DifferentiatorUpdate,
    OutdateRequest,
)
from segone.runtime import Runtime
from tests.factories import make_customer, make_user


def _add(
    runtime: Runtime, customer_id: int, text: str, category: str, actor_role: Role = Role.FRONTLINE
) -> int:
    employee = make_user(runtime, actor_role)
    with runtime.session() as db:
        fact = knowledge.add(
            db,
            actor=employee.actor,
            customer_id=customer_id,
            data=DifferentiatorCreate(text=text, category=category),
            categories=categories_in_force(runtime.settings),
        )
        return fact.id


def test_added_fact_records_who_learned_it_and_when(runtime: Runtime) -> None:
    cid = make_customer(runtime)
    employee = make_user(runtime)
    with runtime.session() as db:
        fact = knowledge.add(
            db,
            actor=employee.actor,
            customer_id=cid,
            data=DifferentiatorCreate(
                text="  Two   kids, both at  school ", category="family", confidence=0.6
            ),
            categories=categories_in_force(runtime.settings),
        )
        (out,) = knowledge.to_out_many(db, [fact], categories_in_force(runtime.settings))
    assert out.text == "Two kids, both at school"
    assert (out.learned_by, out.category_label, out.confidence) == (employee.email, "Family make-up", 0.6)
    assert out.acknowledgement is None and out.status == "current"


def test_category_must_exist_and_fit_the_kind_of_customer(runtime: Runtime) -> None:
    person = make_customer(runtime, kind=CustomerKind.PERSON)
    employee = make_user(runtime)
    with runtime.session() as db:
        with pytest.raises(Invalid, match="not a differentiator category") as unknown:
            knowledge.add(
                db,
                actor=employee.actor,
                customer_id=person,
                data=DifferentiatorCreate(text="x", category="hobbies"),
                categories=categories_in_force(runtime.settings),
            )
        assert "family" in unknown.value.details["allowed"]
        with pytest.raises(Invalid, match="business category"):
            knowledge.add(
                db,
                actor=employee.actor,
                customer_id=person,
                data=DifferentiatorCreate(text="Opening a second store", category="growth_plans"),
                categories=categories_in_force(runtime.settings),
            )


def test_configured_categories_replace_the_defaults() -> None:
    categories = CategoryList(parse_categories("growth_plans:business, pets:consumer"))
    assert [c.name for c in categories.for_kind("person")] == ["pets"]
    assert categories.get("growth_plans").label == "Growth plans"
    with pytest.raises(Invalid, match="kind 'robot'"):
        parse_categories("x:robot")


def test_acknowledge_once_and_recognition_ratio(runtime: Runtime) -> None:
    cid = make_customer(runtime)
    facts = [_add(runtime, cid, f"fact {i}", "lifestyle") for i in range(4)]
    employee = make_user(runtime)
    with runtime.session() as db:
        assert knowledge.recognition(db, actor=employee.actor, customer_id=cid).ratio == 0.0
        knowledge.acknowledge(
            db, actor=employee.actor, differentiator_id=facts[0], data=AcknowledgeRequest(how="at the till")
        )
    second = make_user(runtime)
    with runtime.session() as db:
        again = knowledge.acknowledge(
            db, actor=second.actor, differentiator_id=facts[0], data=AcknowledgeRequest()
        )
        (out,) = knowledge.to_out_many(db, [again], categories_in_force(runtime.settings))
        assert out.acknowledgement is not None
        assert (out.acknowledgement.acknowledged_by, out.acknowledgement.how) == (
            employee.email,
            "at the till",
        )
        recognition = knowledge.recognition(db, actor=employee.actor, customer_id=cid)
        assert (recognition.current, recognition.acknowledged, recognition.ratio) == (4, 1, 0.25)


def test_outdate_with_replacement_links_old_and_new(runtime: Runtime) -> None:
    cid = make_customer(runtime, kind=CustomerKind.BUSINESS)
    old = _add(runtime, cid, "Planning a second store", "growth_plans")
    employee = make_user(runtime)
    with runtime.session() as db:
        new = knowledge.outdate(
            db,
            actor=employee.actor,
            differentiator_id=old,
            data=OutdateRequest(replacement="Second store open"),
        )
    with runtime.session() as db:
        previous = knowledge.get(db, actor=employee.actor, differentiator_id=old)
        assert (previous.status, previous.replaced_by_id) == ("outdated", new.id)
        assert [f.text for f in knowledge.list_for_customer(db, actor=employee.actor, customer_id=cid)] == [
            "Second store open"
        ]
        everything = knowledge.list_for_customer(
            db, actor=employee.actor, customer_id=cid, include_outdated=True
        )
        assert len(everything) == 2
        with pytest.raises(Conflict, match="outdated"):
            knowledge.acknowledge(db, actor=employee.actor, differentiator_id=old, data=AcknowledgeRequest())
        with pytest.raises(Conflict, match="outdated already"):
            knowledge.outdate(db, actor=employee.actor, differentiator_id=old, data=OutdateRequest())


def test_edit_and_reconfirm(runtime: Runtime) -> None:
    cid = make_customer(runtime)
    fact_id = _add(runtime, cid, "Likes jazz", "free_time")
    employee = make_user(runtime)
    with runtime.session() as db:
        before = knowledge.get(db, actor=employee.actor, differentiator_id=fact_id).last_confirmed_at
        fact = knowledge.edit(
            db,
            actor=employee.actor,
            differentiator_id=fact_id,
            data=DifferentiatorUpdate(text="Plays jazz piano", confirmed=True),
            categories=categories_in_force(runtime.settings),
        )
        assert fact.text == "Plays jazz piano" and fact.last_confirmed_at > before


def test_frontline_may_add_but_not_merge_or_import(runtime: Runtime) -> None:
    cid = make_customer(runtime)
    employee = make_user(runtime, Role.FRONTLINE)
    from segone.views import merge

    other = make_customer(runtime)
    with runtime.session() as db, pytest.raises(Forbidden):
        merge.merge(db, actor=employee.actor, survivor_id=cid, merged_id=other)


def test_edit_cannot_move_a_fact_into_a_category_of_the_other_kind(runtime: Runtime) -> None:
    person = make_customer(runtime, kind=CustomerKind.PERSON)
    fact_id = _add(runtime, person, "Runs marathons", "free_time")
    employee = make_user(runtime)
    with runtime.session() as db, pytest.raises(Invalid, match="business category"):
        knowledge.edit(
            db,
            actor=employee.actor,
            differentiator_id=fact_id,
            data=DifferentiatorUpdate(category="growth_plans"),
            categories=categories_in_force(runtime.settings),
        )
