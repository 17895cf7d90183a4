"""What we know of a customer and how well it tells them apart: rarity, look-alikes, gaps, next question."""

from __future__ import annotations

from fastapi import APIRouter

from segone.api.deps import Categories, CurrentActor, CustomerId, Db, RuntimeDep
from segone.api.errors import responses
from segone.knowledge.distinguishability import service as insights
from segone.knowledge.distinguishability.schemas import KnowledgeOut

router = APIRouter(tags=["knowledge"])


@router.get(
    "/customers/{customer_id}/knowledge",
    response_model=KnowledgeOut,
    summary="How well we know a customer",
    responses=responses(401, 403, 404, 422),
)
def get_knowledge(
    db: Db, actor: CurrentActor, customer_id: CustomerId, categories: Categories, runtime: RuntimeDep
) -> KnowledgeOut:
    """Each current differentiator with its trait, rarity (`holders` of the `population` of customers we
    know something about in its category; `rare` at 5% of them or when nobody else holds it), whether the
    customer knows we know it and whether it is stale; the customer's distinguishability (how many
    customers hold every trait we know of it, itself included: 1 is a segment of one) and look-alikes;
    recognition ratio; knowledge gaps; the next best question; and the rare facts to show them we know.
    Rarity and distinguishability are those of the last `segone knowledge refresh` (null before it)."""
    return insights.knowledge_of(
        db,
        actor=actor,
        customer_id=customer_id,
        categories=categories,
        freshness_months=runtime.settings.freshness_months,
    )
