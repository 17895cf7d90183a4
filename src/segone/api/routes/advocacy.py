"""Advocacy: the customers who refer others to us and review us, from the events (docs/quality.md)."""

from __future__ import annotations

from fastapi import APIRouter, Query

from segone.api.deps import CurrentActor, Db, RuntimeDep
from segone.api.errors import responses
from segone.quality import service as quality
from segone.quality.schemas import ADVOCACY_AT_LEAST, ADVOCACY_DAYS, AdvocateList

router = APIRouter(tags=["report cards"])


@router.get(
    "/advocates",
    response_model=AdvocateList,
    summary="Advocates: customers with referrals and reviews",
    responses=responses(401, 403, 422),
)
def list_advocates(
    db: Db,
    actor: CurrentActor,
    runtime: RuntimeDep,
    days: int = Query(default=ADVOCACY_DAYS, ge=1, le=3660, description="The period: the last N days."),
    at_least: int = Query(
        default=ADVOCACY_AT_LEAST, ge=1, le=1000, description="Referrals and reviews a customer needs."
    ),
    limit: int = Query(default=100, ge=1, le=1000, description="How many advocates to return."),
) -> AdvocateList:
    """The customers with at least `at_least` referral and review events in the last `days` days, most
    first (ties: more referrals, then the most recent): each with their referrals, reviews and the latest
    one. Events sent through the API count once flushed into the events dataset."""
    settings = runtime.settings
    return quality.advocates(
        db,
        actor=actor,
        data_dir=settings.data_dir,
        analytics_url=settings.analytics_url,
        days=days,
        at_least=at_least,
        limit=limit,
    )
