"""Recording a fact or its acknowledgement with the encounter it came from: the encounter must be one with
that customer, which only the encounters domain can tell (knowledge sits below encounters)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from segone.accounts.schemas import Actor, Permission
from segone.accounts.service import require
from segone.customers import service as customers
from segone.encounters import service as encounters
from segone.knowledge.categories.schemas import CategoryList
from segone.knowledge.facts import service as knowledge
from segone.knowledge.facts.schemas import (
    AcknowledgeRequest,
    DifferentiatorCreate,
    DifferentiatorOut,
    DifferentiatorStatus,
)


def add(
    db: Session,
    *,
    actor: Actor,
    customer_id: int,
    data: DifferentiatorCreate,
    categories: CategoryList,
) -> DifferentiatorOut:
    """Record a differentiator learned by the acting user; ``data.encounter_id``, if given, must be an
    encounter with the customer."""
    require(actor, Permission.ADD_DIFFERENTIATORS)
    customer = customers.get(db, actor=actor, customer_id=customer_id)
    encounters.check_with_customer(db, encounter_id=data.encounter_id, customer_id=customer.id)
    fact = knowledge.add(db, actor=actor, customer_id=customer.id, data=data, categories=categories)
    return knowledge.to_out_many(db, [fact], categories)[0]


def acknowledge(
    db: Session,
    *,
    actor: Actor,
    differentiator_id: int,
    data: AcknowledgeRequest,
    categories: CategoryList,
) -> DifferentiatorOut:
    """The customer now knows that we know this; ``data.encounter_id``, if given, must be an encounter
    with the customer. Acknowledging twice keeps the first record (and checks nothing the second time)."""
    require(actor, Permission.ACKNOWLEDGE)
    fact = knowledge.get(db, actor=actor, differentiator_id=differentiator_id)
    if fact.status == DifferentiatorStatus.CURRENT.value and fact.acknowledgement is None:
        encounters.check_with_customer(db, encounter_id=data.encounter_id, customer_id=fact.customer_id)
    fact = knowledge.acknowledge(db, actor=actor, differentiator_id=fact.id, data=data)
    return knowledge.to_out_many(db, [fact], categories)[0]
