"""Behaviour: a customer's profile, model scores and purchase timeline; the state of the last refresh."""

from __future__ import annotations

from fastapi import APIRouter, Query

from segone.api.deps import CurrentActor, CustomerId, Db, RuntimeDep
from segone.api.errors import responses
from segone.behaviour import service as profiles
from segone.behaviour.schemas import BehaviourOut, RefreshOut

router = APIRouter(tags=["behaviour"])


@router.get(
    "/customers/{customer_id}/behaviour",
    response_model=BehaviourOut,
    summary="A customer's behaviour",
    responses=responses(401, 403, 404, 422),
)
def get_behaviour(
    db: Db,
    actor: CurrentActor,
    customer_id: CustomerId,
    runtime: RuntimeDep,
    intervals: float | None = Query(
        default=None,
        description="A level between 0.5 and 0.99 (0.9: 90% intervals): each score comes with "
        "`scores.intervals`, its central interval from the uncertainty of the model's parameters.",
    ),
) -> BehaviourOut:
    """When the customer buys and how often, when they contact us and why, the model scores (P(alive),
    expected purchases in the horizon, expected value per purchase, CLV) and the recent purchase days,
    as of the last `segone behaviour refresh`, and `reading`: the same in the words the customer page
    uses, each habit stated only with enough evidence (docs/user-guide.md). Amounts are in `currency`
    (`SEGONE_CURRENCY`). `profile` is null until a refresh has seen the customer. With `intervals`, each
    score's `{low, high, level}` (a seeded parametric bootstrap: the same request, the same interval)."""
    currency = runtime.settings.currency
    if intervals is None:
        return profiles.behaviour_of(db, actor=actor, customer_id=customer_id, currency=currency)
    return profiles.behaviour_with_intervals(
        db, actor=actor, customer_id=customer_id, currency=currency, level=intervals
    )


@router.get(
    "/behaviour/refreshes/latest",
    response_model=RefreshOut | None,
    summary="The last behaviour refresh",
    responses=responses(401, 403),
)
def latest_refresh(db: Db, actor: CurrentActor) -> RefreshOut | None:
    """When profiles were last refreshed, as of which day, how it went and the models it fitted; null
    before the first refresh."""
    run = profiles.latest_refresh(db, actor=actor)
    return None if run is None else profiles.to_out(run)
