"""Offers: every customer's offers recomputed as a job, and one customer's offers with their reasons."""

from __future__ import annotations

from functools import partial
from typing import Any

from fastapi import APIRouter, Query, Response, status

from segone.accounts.schemas import Actor, Permission
from segone.accounts.service import require
from segone.api.deps import CurrentActor, CustomerId, Db, JobsDep, RuntimeDep
from segone.api.errors import responses
from segone.jobs import JobOut
from segone.personalisation import refresh
from segone.personalisation import service as personalisation
from segone.personalisation.schemas import Advice, AdviceRequest, CustomerOffers
from segone.progress import Progress
from segone.runtime import Runtime

router = APIRouter(tags=["offers"])


@router.post(
    "/offers/refresh",
    response_model=JobOut,
    status_code=status.HTTP_202_ACCEPTED,
    summary="Start matching offerings to every customer",
    responses=responses(401, 403),
)
def start_refresh(actor: CurrentActor, runtime: RuntimeDep, jobs: JobsDep, response: Response) -> JobOut:
    """Every customer's offers, with their reasons, recomputed from the purchase events, the facts and
    the catalogue's rules and stored, as `segone offers refresh` does, in the background. Answers at once
    with the job and its URL in `Location`; poll `GET /jobs/{job_id}`: its `result` is the run. While a
    refresh runs, starting again answers with that job. Needs the analytics permission."""
    require(actor, Permission.RUN_ANALYTICS)
    job = jobs.start("offers-refresh", partial(_refresh, runtime=runtime, actor=actor))
    response.headers["Location"] = f"/api/v1/jobs/{job.id}"
    return job


def _refresh(progress: Progress, *, runtime: Runtime, actor: Actor) -> dict[str, Any]:
    run = refresh.refresh(runtime.sessions, runtime.settings, actor=actor, progress=progress)
    return run.model_dump(mode="json")


@router.get(
    "/customers/{customer_id}/offers",
    response_model=CustomerOffers,
    summary="A customer's offers",
    responses=responses(401, 403, 404, 422),
)
def get_offers(
    db: Db,
    actor: CurrentActor,
    customer_id: CustomerId,
    limit: int | None = Query(default=None, ge=1, le=100, description="At most this many offers."),
) -> CustomerOffers:
    """The offers the last refresh stored for the customer, best first: each offering with its score,
    the parts of the score and its reasons in the customer's terms, every reason citing one of their
    facts (`fact_id`) or purchase events (`event_id`). `run_id` is null before the first refresh. A
    merged record's id gives the survivor's offers."""
    return personalisation.customer_offers(db, actor=actor, customer_id=customer_id, limit=limit)


@router.post(
    "/customers/{customer_id}/advise",
    response_model=Advice,
    summary="Answer a customer's question about our offerings: it depends",
    responses=responses(401, 403, 404, 422),
)
def advise(
    db: Db, actor: CurrentActor, runtime: RuntimeDep, customer_id: CustomerId, data: AdviceRequest
) -> Advice:
    """The offerings the question is about (by its words; the customer's stored offers when it names
    none) and, for each, a verdict (`fits`, `depends`, `has_it`, `not_for_them`) with reasons citing
    the customer's own facts (`fact_id`) and purchase events (`event_id`), caveats, and what to ask when
    it depends. Deterministic: retrieval and rules over segone's own data; nothing is stored."""
    return personalisation.advise(db, runtime.settings, actor=actor, customer_id=customer_id, data=data)
