"""``knowledge refresh`` and what it tells about each customer, on a hand-worked store, both backends."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from segone.accounts.schemas import SYSTEM, Role
from segone.clock import utcnow
from segone.errors import Forbidden
from segone.knowledge.categories.service import in_force as categories_in_force
from segone.knowledge.distinguishability import refresh
from segone.knowledge.distinguishability import service as insights
from segone.knowledge.facts import service as knowledge
from segone.knowledge.facts.schemas import AcknowledgeRequest, DifferentiatorCreate
from segone.knowledge.models import CustomerMeasure, Differentiator, KnowledgeRefresh
from segone.runtime import Runtime
from tests.factories import make_customer, make_user

CHILDREN, CELLO, MOTORBIKES = (
    "Has two children",
    "Plays the cello in an orchestra",
    "Restores vintage motorbikes",
)


def _fact(runtime: Runtime, customer: int, text: str, category: str) -> int:
    with runtime.session() as db:
        return knowledge.add(
            db,
            actor=SYSTEM,
            customer_id=customer,
            data=DifferentiatorCreate(text=text, category=category),
            categories=categories_in_force(runtime.settings),
        ).id


def _store(runtime: Runtime) -> dict[str, int]:
    """Ann has one fact nobody else has; Cy and Di are identical (in other wording); Ed has one common fact;
    Fay has nothing known."""
    people = {name: make_customer(runtime, name=name) for name in ("Ann", "Cy", "Di", "Ed", "Fay")}
    for name, facts in {
        "Ann": [(CHILDREN, "family"), (CELLO, "free_time"), (MOTORBIKES, "lifestyle")],
        "Cy": [(CHILDREN, "family"), (CELLO, "free_time")],
        "Di": [("has two children.", "family"), ("PLAYS THE CELLO IN AN ORCHESTRA", "free_time")],
        "Ed": [(CHILDREN, "family")],
    }.items():
        for text, category in facts:
            _fact(runtime, people[name], text, category)
    return people


def _knowledge(runtime: Runtime, customer: int) -> insights.KnowledgeOut:
    with runtime.session() as db:
        return insights.knowledge_of(
            db,
            actor=SYSTEM,
            customer_id=customer,
            categories=categories_in_force(runtime.settings),
            freshness_months=12,
        )


def test_hand_worked_distinguishability(runtime: Runtime) -> None:
    people = _store(runtime)
    report = refresh.refresh(runtime.sessions, runtime.settings, actor=SYSTEM)
    assert (report.customers, report.differentiators, report.traits) == (5, 8, 3)
    assert report.segments_of_one == 1 and report.distribution["1"] == 1

    sizes = {name: _knowledge(runtime, customer).distinguishability for name, customer in people.items()}
    assert sizes == {"Ann": 1, "Cy": 3, "Di": 3, "Ed": 4, "Fay": 5}

    ann = _knowledge(runtime, people["Ann"])
    by_text = {fact.text: fact for fact in ann.facts}
    assert by_text[MOTORBIKES].holders == 1 and by_text[MOTORBIKES].rare
    # Rarity is counted among the customers with a family fact (all four but Fay), not all five.
    assert (by_text[CHILDREN].holders, by_text[CHILDREN].population) == (4, 4)
    assert by_text[CHILDREN].rarity == pytest.approx(1.0) and not by_text[CHILDREN].rare
    assert by_text[MOTORBIKES].population == 1  # nobody else's lifestyle is known
    assert ann.look_alikes == [] and ann.next_question is None
    assert ann.show_them_you_know == [by_text[MOTORBIKES].id]  # rare, and not yet shown

    cy = _knowledge(runtime, people["Cy"])
    assert {a.name for a in cy.look_alikes} == {"Ann", "Di"}
    # Ed looks like Ann, Cy and Di. All three play the cello (free time: 3^2/3 = 3 would remain), Ann's
    # lifestyle is known (1/3); nobody's values are: any answer singles Ed out, and values come first.
    ed = _knowledge(runtime, people["Ed"])
    assert ed.next_question is not None
    assert (ed.next_question.key, ed.next_question.expected_look_alikes) == ("values", 0.0)
    assert [gap.category for gap in ed.gaps][:2] == ["lifestyle", "values"]

    fay = _knowledge(runtime, people["Fay"])
    assert fay.facts == [] and len(fay.look_alikes) == 4
    assert fay.recognition.ratio is None


def test_acknowledgement_and_staleness_are_read_live(runtime: Runtime) -> None:
    people = _store(runtime)
    refresh.refresh(runtime.sessions, runtime.settings, actor=SYSTEM)
    ann = _knowledge(runtime, people["Ann"])
    rare = ann.show_them_you_know[0]
    with runtime.session() as db:
        knowledge.acknowledge(db, actor=SYSTEM, differentiator_id=rare, data=AcknowledgeRequest())
        db.execute(
            update(Differentiator)
            .where(Differentiator.id != rare, Differentiator.customer_id == people["Ann"])
            .values(last_confirmed_at=utcnow() - timedelta(days=400))
        )
    again = _knowledge(runtime, people["Ann"])
    assert again.show_them_you_know == [] and again.recognition.acknowledged == 1
    assert again.stale_facts == 2 and {f.text for f in again.facts if f.stale} == {CHILDREN, CELLO}


def test_a_new_fact_has_no_rarity_until_the_next_refresh(runtime: Runtime) -> None:
    people = _store(runtime)
    refresh.refresh(runtime.sessions, runtime.settings, actor=SYSTEM)
    fresh = _fact(runtime, people["Fay"], MOTORBIKES, "lifestyle")
    fay = _knowledge(runtime, people["Fay"])
    assert [(f.id, f.holders, f.rare) for f in fay.facts] == [(fresh, None, False)]
    second = refresh.refresh(runtime.sessions, runtime.settings, actor=SYSTEM)
    assert _knowledge(runtime, people["Fay"]).facts[0].holders == 2  # Ann restores motorbikes too
    assert _knowledge(runtime, people["Ann"]).distinguishability == 1
    with runtime.session() as db:
        # The results are replaced whole: every measure belongs to the last refresh.
        refreshes = set(db.scalars(select(CustomerMeasure.refresh_id)))
        assert refreshes == {second.refresh_id}
        assert db.scalar(select(func.count()).select_from(KnowledgeRefresh)) == 2


def test_rarity_counts_the_customers_we_know_about_in_the_category(runtime: Runtime) -> None:
    """Three of ten customers with a known family share a fact: common (30%), however many customers we
    know nothing about; three of sixty is rare (5%)."""
    nobody = [make_customer(runtime) for _ in range(12)]
    family = [make_customer(runtime) for _ in range(10)]
    for customer in family[:3]:
        _fact(runtime, customer, CHILDREN, "family")
    for n, customer in enumerate(family[3:]):
        _fact(runtime, customer, f"Lives with {n + 2} cousins and an aunt", "family")
    _fact(runtime, make_customer(runtime), CELLO, "free_time")  # known, but not in family
    gone = _fact(runtime, nobody[0], CHILDREN, "family")
    with runtime.session() as db:  # an outdated fact is not knowledge of the customer's family
        db.execute(update(Differentiator).where(Differentiator.id == gone).values(status="outdated"))
    refresh.refresh(runtime.sessions, runtime.settings, actor=SYSTEM)
    children = _knowledge(runtime, family[0]).facts[0]
    assert (children.holders, children.population, children.rare) == (3, 10, False)
    assert children.rarity == pytest.approx(0.3)

    # Fifty more customers whose family we know: the same three now hold it among sixty, and it is rare.
    for n in range(50):
        _fact(runtime, make_customer(runtime), f"Lives with {n + 9} cousins and an aunt", "family")
    refresh.refresh(runtime.sessions, runtime.settings, actor=SYSTEM)
    children = _knowledge(runtime, family[0]).facts[0]
    assert (children.holders, children.population) == (3, 60)
    assert children.rarity == pytest.approx(0.05) and children.rare


def test_an_empty_store_and_permissions(runtime: Runtime) -> None:
    report = refresh.refresh(runtime.sessions, runtime.settings, actor=SYSTEM)
    assert (report.customers, report.traits, report.segments_of_one) == (0, 0, 0)
    with pytest.raises(Forbidden):
        refresh.refresh(runtime.sessions, runtime.settings, actor=make_user(runtime, Role.MANAGER).actor)


def test_fact_traits_their_holders_and_the_known_categories(runtime: Runtime) -> None:
    people = _store(runtime)
    refresh.refresh(runtime.sessions, runtime.settings, actor=SYSTEM)
    with runtime.session() as db:
        traits = insights.fact_traits(db, min_holders=2)
        assert [(t.label, t.category, t.holders) for t in traits] == [
            (CHILDREN, "family", 4),
            (CELLO, "free_time", 3),
        ]
        held = insights.trait_holders(db, [t.id for t in traits])
        assert held[traits[1].id] == {people["Ann"], people["Cy"], people["Di"]}
        # An outdated fact no longer makes its customer a holder.
        db.execute(
            update(Differentiator).where(Differentiator.customer_id == people["Ed"]).values(status="outdated")
        )
        assert insights.trait_holders(db, [traits[0].id])[traits[0].id] == {
            people["Ann"],
            people["Cy"],
            people["Di"],
        }
        assert list(knowledge.known_categories(db, batch_size=2)) == [
            (people["Ann"], "family"),
            (people["Ann"], "free_time"),
            (people["Ann"], "lifestyle"),
            (people["Cy"], "family"),
            (people["Cy"], "free_time"),
            (people["Di"], "family"),
            (people["Di"], "free_time"),
        ]
