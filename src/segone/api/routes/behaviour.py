"""Behaviour: a customer's profile, model scores and purchase timeline; the state of the last refresh; how
well the purchase models predict a holdout."""

from __future__ import annotations

from datetime import date
from typing import Literal

from fastapi import APIRouter, Query

from segone.api.deps import CurrentActor, CustomerId, Db, RuntimeDep
from segone.api.errors import responses
from segone.behaviour import evaluation
from segone.behaviour import service as profiles
from segone.behaviour.schemas import BehaviourOut, EvaluationReportOut, RefreshOut

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


@router.get(
    "/behaviour/evaluation",
    response_model=EvaluationReportOut,
    summary="How well the purchase models predict a holdout",
    responses=responses(401, 403, 422),
)
def get_evaluation(
    actor: CurrentActor,
    runtime: RuntimeDep,
    model: Literal["all", "pareto-nbd", "bgnbd", "mbgnbd"] = Query(
        default="pareto-nbd", description="A purchase model, or all of them compared on the same split."
    ),
    calibration_end: date | None = Query(
        default=None, description="Last calibration day; halfway through the events if left out."
    ),
    holdout_end: date | None = Query(
        default=None, description="Last holdout day; the last event's if left out."
    ),
    time_unit: Literal["week", "day"] = Query(
        default="week", description="Unit of recency, T and the matrix."
    ),
) -> EvaluationReportOut:
    """The model (or each of them, `model=all`) fitted to the purchases up to `calibration_end` and its
    forecast set against the holdout to `holdout_end`, as `segone models evaluate --json` and the Models
    page give it: totals, MAE, RMSE, the calibration log-likelihood, the tracking error, means by calibration
    frequency, the cumulative and the weekly repeat purchases, and the P(alive) matrix. With `all` the
    models come best first (lowest MAE, then RMSE), with the `winner` and the `reason`. Without events, with
    a holdout end after the last event or a model that cannot be fitted: 422. Needs the analytics
    permission; it fits the models on the spot (seconds on a few thousand customers)."""
    report = evaluation.evaluate_dataset(
        actor=actor,
        data_dir=runtime.settings.data_dir,
        analytics_url=runtime.settings.analytics_url,
        model=model,
        calibration_end=calibration_end,
        holdout_end=holdout_end,
        time_unit=time_unit,
    )
    return EvaluationReportOut.model_validate(report.as_dict())
