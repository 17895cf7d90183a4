"""Long jobs: start a knowledge or behaviour refresh, then poll its progress and result."""

from __future__ import annotations

from datetime import date
from functools import partial
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Path, status
from pydantic import ConfigDict, Field

from segone.accounts.schemas import Actor, Permission
from segone.accounts.service import require
from segone.api.deps import CurrentActor, JobsDep, RuntimeDep
from segone.api.errors import responses
from segone.behaviour import refresh as behaviour_refresh
from segone.inputs import InputModel
from segone.jobs import JobOut
from segone.knowledge.distinguishability import refresh as knowledge_refresh
from segone.progress import Progress
from segone.runtime import Runtime

router = APIRouter(tags=["jobs"])

BEHAVIOUR_REFRESH = "behaviour-refresh"

JobId = Annotated[
    str, Path(min_length=32, max_length=32, pattern="^[0-9a-f]{32}$", description="The job's id.")
]


class BehaviourRefreshRequest(InputModel):
    model_config = ConfigDict(extra="forbid")

    as_of: date | None = Field(
        default=None, description="Profiles as of the end of this day (YYYY-MM-DD); today if left out."
    )
    model: Literal["best", "pareto-nbd", "bgnbd", "mbgnbd"] | None = Field(
        default=None,
        description="The purchase model that scores the customers; best: the one with the lowest holdout "
        "error on the events (Pareto/NBD when they cannot be compared). The setting SEGONE_BEHAVIOUR_MODEL "
        "if left out (pareto-nbd unless set).",
    )


@router.post(
    "/jobs/knowledge-refresh",
    response_model=JobOut,
    status_code=status.HTTP_202_ACCEPTED,
    summary="Start a knowledge refresh",
    responses=responses(401, 403),
)
def start_knowledge_refresh(actor: CurrentActor, runtime: RuntimeDep, jobs: JobsDep) -> JobOut:
    """Traits, rarity, look-alikes and next questions of every customer, as `segone knowledge refresh`
    computes them, in the background. Answers at once with the job; poll `GET /jobs/{job_id}` for its
    stage and, at the end, its result. While one runs, starting again answers with that job. Needs the
    analytics permission."""
    require(actor, Permission.RUN_ANALYTICS)
    return jobs.start("knowledge-refresh", partial(_knowledge_refresh, runtime=runtime, actor=actor))


def _knowledge_refresh(progress: Progress, *, runtime: Runtime, actor: Actor) -> dict[str, Any]:
    report = knowledge_refresh.refresh(runtime.sessions, runtime.settings, actor=actor, progress=progress)
    return report.as_dict()


@router.post(
    "/jobs/behaviour-refresh",
    response_model=JobOut,
    status_code=status.HTTP_202_ACCEPTED,
    summary="Start a behaviour refresh",
    responses=responses(401, 403, 409, 422),
)
def start_behaviour_refresh(
    actor: CurrentActor,
    runtime: RuntimeDep,
    jobs: JobsDep,
    data: BehaviourRefreshRequest | None = Body(default=None),
) -> JobOut:
    """Every customer's behaviour profile and model scores as of a day, as `segone behaviour refresh`
    computes them (staged events are flushed first), with the purchase model asked for (`model`), in the
    background. Answers at once with the job;
    poll `GET /jobs/{job_id}`. While one runs as a job (of any worker of the server), starting again
    answers with that job; while one runs elsewhere (`segone behaviour refresh`, another server), it is
    refused (409). A day still to come is refused (422). Needs the analytics permission."""
    require(actor, Permission.RUN_ANALYTICS)
    asked = data or BehaviourRefreshRequest()
    as_of = behaviour_refresh.checked_as_of(asked.as_of)
    model = asked.model or runtime.settings.behaviour_model
    running = jobs.running(BEHAVIOUR_REFRESH)
    if running is not None:
        return running
    # Recorded before answering, so that a refresh running in another process is refused here.
    run_id = behaviour_refresh.start(runtime.sessions, runtime.settings, actor=actor, as_of=as_of)
    work = partial(_behaviour_refresh, runtime=runtime, actor=actor, as_of=as_of, run_id=run_id, model=model)
    return jobs.start(BEHAVIOUR_REFRESH, work)


def _behaviour_refresh(
    progress: Progress, *, runtime: Runtime, actor: Actor, as_of: date, run_id: int, model: str
) -> dict[str, Any]:
    report = behaviour_refresh.refresh(
        runtime.sessions,
        runtime.settings,
        actor=actor,
        as_of=as_of,
        progress=progress,
        run_id=run_id,
        model=model,
    )
    return report.as_dict()


@router.get(
    "/jobs/{job_id}",
    response_model=JobOut,
    summary="Where a job is",
    responses=responses(401, 403, 404, 422),
)
def get_job(actor: CurrentActor, jobs: JobsDep, job_id: JobId) -> JobOut:
    """The job's state (`running`, `done`, `failed`), its current stage with how much of it is done, the
    stages it went through, and at the end its result or why it failed."""
    require(actor, Permission.RUN_ANALYTICS)
    return jobs.get(job_id)
