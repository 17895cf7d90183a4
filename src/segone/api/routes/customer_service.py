"""Customer service: the service strategy, promises to customers, and recovery cases."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import partial
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Path, Query, status

from segone.accounts.schemas import Actor, Permission
from segone.accounts.service import require
from segone.api.deps import MAX_ID, CurrentActor, Db, JobsDep, RuntimeDep
from segone.api.errors import responses
from segone.clock import utcnow
from segone.customer_service.promises import service as promises
from segone.customer_service.promises.schemas import (
    PromiseCreate,
    PromiseMark,
    PromiseOut,
    PromisePage,
    PromiseRates,
    RateGroup,
)
from segone.customer_service.recovery import service as recovery
from segone.customer_service.recovery.schemas import (
    DEFAULT_RETENTION_DAYS,
    ActionCreate,
    ActionOut,
    CaseClose,
    CaseDetail,
    CaseOpen,
    CaseOut,
    CasePage,
    CaseStatus,
    CaseUpdate,
    RecoveryMeasures,
)
from segone.customer_service.strategy import service as strategies
from segone.customer_service.strategy.schemas import StrategyIn, StrategyOut, StrategyVersionOut
from segone.jobs import JobOut
from segone.progress import Progress
from segone.runtime import Runtime

router = APIRouter()

CaseId = Annotated[int, Path(ge=1, le=MAX_ID, description="The recovery case's id.")]
PromiseId = Annotated[int, Path(ge=1, le=MAX_ID, description="The promise's id.")]
PERIOD_DAYS = 90


def period(start: date | None, end: date | None) -> tuple[date, date]:
    """The period asked for: by default the 90 days to today, both days included."""
    end = end or utcnow().date()
    return start or end - timedelta(days=PERIOD_DAYS - 1), end


# ------------------------------------------------------------------------------------------- strategy


@router.get(
    "/strategy",
    response_model=StrategyOut,
    tags=["strategy"],
    summary="The service strategy in force",
    responses=responses(401, 403),
)
def get_strategy(db: Db, actor: CurrentActor) -> StrategyOut:
    """The core service (what customers get) and the service experience (how they feel) as the front line
    reads them, the exceptions front-line staff may grant without asking with their limits per role, and
    the recovery target times. Version 0 (`on_record: false`) until an administrator sets one."""
    return strategies.current(db, actor=actor)


@router.put(
    "/strategy",
    response_model=StrategyOut,
    tags=["strategy"],
    summary="Set the service strategy",
    responses=responses(401, 403, 422),
)
def set_strategy(db: Db, actor: CurrentActor, data: StrategyIn) -> StrategyOut:
    """The whole strategy, as a new version (every field replaces the one in force; the same content as
    in force changes nothing). The change is in the audit trail. Needs the settings permission."""
    return strategies.set_strategy(db, actor=actor, data=data)


@router.get(
    "/strategy/versions",
    response_model=list[StrategyVersionOut],
    tags=["strategy"],
    summary="Every version of the service strategy",
    responses=responses(401, 403),
)
def strategy_versions(db: Db, actor: CurrentActor) -> list[StrategyVersionOut]:
    """Who set each version and when, with the fields it changed; the newest first."""
    return strategies.history(db, actor=actor)


# ------------------------------------------------------------------------------------------- recovery


@router.get(
    "/recovery-cases",
    response_model=CasePage,
    tags=["recovery"],
    summary="List recovery cases",
    responses=responses(401, 403, 404, 422),
)
def list_cases(
    db: Db,
    actor: CurrentActor,
    status_: Literal["open", "closed", "all"] = Query(
        default="open", alias="status", description="open (default), closed or all."
    ),
    customer_id: int | None = Query(
        default=None, ge=1, le=MAX_ID, description="One customer's cases (all of them), not a backlog."
    ),
    offset: int = Query(default=0, ge=0, le=MAX_ID),
    limit: int = Query(default=50, ge=1, le=500),
) -> CasePage:
    """Open cases first (high priority, then the longest waiting), then closed ones, the latest closed
    first. Without `customer_id`, the backlog of your scope: your cases (front line), your team's
    (managers), everybody's (analysts and administrators), and those nobody has taken yet."""
    return recovery.list_cases(
        db,
        actor=actor,
        status=None if status_ == "all" else CaseStatus(status_),
        customer_id=customer_id,
        offset=offset,
        limit=limit,
    )


@router.post(
    "/recovery-cases",
    response_model=CaseOut,
    status_code=status.HTTP_201_CREATED,
    tags=["recovery"],
    summary="Open a recovery case",
    responses=responses(401, 403, 404, 422),
)
def open_case(db: Db, actor: CurrentActor, data: CaseOpen) -> CaseOut:
    """A case opened by hand; it is yours unless `owner_id` names someone else (managers and up). Its
    target time is when the customer told us (`reported_at`, now by default) plus the strategy's hours
    for its priority."""
    return recovery.open_case(db, actor=actor, data=data)


@router.post(
    "/recovery-cases/sync",
    response_model=JobOut,
    status_code=status.HTTP_202_ACCEPTED,
    tags=["recovery"],
    summary="Open cases from complaint and return events",
    responses=responses(401, 403, 422),
)
def sync_cases(
    actor: CurrentActor,
    runtime: RuntimeDep,
    jobs: JobsDep,
    since: date | None = Body(default=None, embed=True, description="Only events from this day on."),
) -> JobOut:
    """In the background, one case for each complaint (high priority) and return (normal) event that has
    none, as `segone recovery sync` does; again, it opens nothing new. Answers at once with the job; poll
    `GET /jobs/{job_id}`. Needs the analytics permission."""
    require(actor, Permission.RUN_ANALYTICS)
    start = recovery.day_bounds(since, since)[0] if since else None
    return jobs.start("recovery-sync", partial(_recovery_sync, runtime=runtime, actor=actor, since=start))


def _recovery_sync(
    progress: Progress, *, runtime: Runtime, actor: Actor, since: datetime | None
) -> dict[str, Any]:
    settings = runtime.settings
    report = recovery.sync_from_events(
        runtime.sessions,
        actor=actor,
        data_dir=settings.data_dir,
        analytics_url=settings.analytics_url,
        currency=settings.currency,
        since=since,
        progress=progress,
    )
    return report.model_dump(mode="json")


@router.get(
    "/recovery-cases/measures",
    response_model=RecoveryMeasures,
    tags=["recovery"],
    summary="Recovery measures over a period",
    responses=responses(401, 403, 422),
)
def measures(
    db: Db,
    actor: CurrentActor,
    runtime: RuntimeDep,
    start: date | None = Query(default=None, description="First day (default: 90 days before the end)."),
    end: date | None = Query(default=None, description="Last day (default: today)."),
    days: int = Query(default=DEFAULT_RETENTION_DAYS, ge=1, le=3650, description="Retention window in days."),
    retention: bool = Query(default=True, description="Measure retention after recovery (reads the events)."),
) -> RecoveryMeasures:
    """Time to recover (median and 90th percentile, in hours), recovery rate, cases within target and
    exceptions granted, of the cases of your scope closed in the period; retention after recovery against
    customers with a complaint and no case (docs/customer-service.md). Needs the team dashboards
    permission (managers and up)."""
    first, last = period(start, end)
    settings = runtime.settings
    return recovery.measures(
        db,
        actor=actor,
        start=first,
        end=last,
        days=days,
        data_dir=settings.data_dir if retention else None,
        analytics_url=settings.analytics_url,
    )


@router.get(
    "/recovery-cases/{case_id}",
    response_model=CaseDetail,
    tags=["recovery"],
    summary="A recovery case and its actions",
    responses=responses(401, 403, 404, 422),
)
def get_case(db: Db, actor: CurrentActor, case_id: CaseId) -> CaseDetail:
    """The case with every action taken on it, oldest first, each exception with its cost and the limit
    that allowed it."""
    return recovery.get_case(db, actor=actor, case_id=case_id)


@router.patch(
    "/recovery-cases/{case_id}",
    response_model=CaseOut,
    tags=["recovery"],
    summary="Change a case's priority or owner",
    responses=responses(401, 403, 404, 409, 422),
)
def update_case(db: Db, actor: CurrentActor, case_id: CaseId, data: CaseUpdate) -> CaseOut:
    """A new priority moves the target time; `owner_id` your own id takes the case, another's hands it on
    (managers and up). A closed case is not changed (409)."""
    return recovery.update_case(db, actor=actor, case_id=case_id, data=data)


@router.post(
    "/recovery-cases/{case_id}/actions",
    response_model=ActionOut,
    status_code=status.HTTP_201_CREATED,
    tags=["recovery"],
    summary="Record an action taken on a case",
    responses=responses(401, 403, 404, 409, 422),
)
def act(db: Db, actor: CurrentActor, runtime: RuntimeDep, case_id: CaseId, data: ActionCreate) -> ActionOut:
    """What was done. An exception granted (`exception` the strategy's key, `cost` in the configured
    currency) may cost, with what was granted of it on this case before, at most your role's limit in the
    strategy: over it, 403 with the limit in the message and in `details`."""
    return recovery.act(db, actor=actor, case_id=case_id, data=data, currency=runtime.settings.currency)


@router.post(
    "/recovery-cases/{case_id}/close",
    response_model=CaseOut,
    tags=["recovery"],
    summary="Close a case with the customer's verdict",
    responses=responses(401, 403, 404, 409, 422),
)
def close_case(db: Db, actor: CurrentActor, case_id: CaseId, data: CaseClose) -> CaseOut:
    """The resolution and the customer's verdict (`satisfied` or `not_satisfied`); the time to recover is
    from `reported_at` to now. Closing twice is a 409."""
    return recovery.close_case(db, actor=actor, case_id=case_id, data=data)


# ------------------------------------------------------------------------------------------- promises


@router.get(
    "/promises",
    response_model=PromisePage,
    tags=["promises"],
    summary="List promises",
    responses=responses(401, 403, 404, 422),
)
def list_promises(
    db: Db,
    actor: CurrentActor,
    customer_id: int | None = Query(default=None, ge=1, le=MAX_ID, description="One customer's promises."),
    open_only: bool = Query(default=False, description="Only those not yet marked kept or broken."),
    offset: int = Query(default=0, ge=0, le=MAX_ID),
    limit: int = Query(default=50, ge=1, le=500),
) -> PromisePage:
    """Open promises first (overdue ones lead), then the marked, the latest first. Without `customer_id`,
    the promises of your scope (yours, your team's, everybody's)."""
    return promises.list_promises(
        db, actor=actor, customer_id=customer_id, open_only=open_only, offset=offset, limit=limit
    )


@router.post(
    "/promises",
    response_model=PromiseOut,
    status_code=status.HTTP_201_CREATED,
    tags=["promises"],
    summary="Record a promise made to a customer",
    responses=responses(401, 403, 404, 422),
)
def make_promise(db: Db, actor: CurrentActor, data: PromiseCreate) -> PromiseOut:
    """A promise you made: what, to whom, due which day (today or later)."""
    return promises.make(db, actor=actor, data=data)


@router.get(
    "/promises/rates",
    response_model=PromiseRates,
    tags=["promises"],
    summary="The promise-kept rate per team or employee",
    responses=responses(401, 403, 422),
)
def promise_rates(
    db: Db,
    actor: CurrentActor,
    start: date | None = Query(default=None, description="First due day (default: 90 days before the end)."),
    end: date | None = Query(default=None, description="Last due day (default: today)."),
    by: RateGroup = Query(default=RateGroup.TEAM, description="team or employee."),
) -> PromiseRates:
    """Of the promises due in the period whose outcome is known, the share kept on time; overdue ones
    count as broken, open ones not yet due are left out. Managers see their team's, analysts and
    administrators everybody's. Needs the team dashboards permission."""
    first, last = period(start, end)
    return promises.rates(db, actor=actor, start=first, end=last, by=by)


@router.get(
    "/promises/{promise_id}",
    response_model=PromiseOut,
    tags=["promises"],
    summary="A promise",
    responses=responses(401, 403, 404, 422),
)
def get_promise(db: Db, actor: CurrentActor, promise_id: PromiseId) -> PromiseOut:
    """The promise, with its state: open, overdue, kept, kept late or broken."""
    return promises.get(db, actor=actor, promise_id=promise_id)


def _mark_body(data: PromiseMark | None) -> PromiseMark:
    return data or PromiseMark()


@router.post(
    "/promises/{promise_id}/keep",
    response_model=PromiseOut,
    tags=["promises"],
    summary="Mark a promise kept",
    responses=responses(401, 403, 404, 409, 422),
)
def keep_promise(
    db: Db, actor: CurrentActor, promise_id: PromiseId, data: PromiseMark | None = Body(default=None)
) -> PromiseOut:
    """Kept on `on` (today by default); kept after its due day it shows as kept late. A promise is marked
    once (409 after)."""
    return promises.keep(db, actor=actor, promise_id=promise_id, data=_mark_body(data))


@router.post(
    "/promises/{promise_id}/break",
    response_model=PromiseOut,
    tags=["promises"],
    summary="Mark a promise broken",
    responses=responses(401, 403, 404, 409, 422),
)
def break_promise(
    db: Db, actor: CurrentActor, promise_id: PromiseId, data: PromiseMark | None = Body(default=None)
) -> PromiseOut:
    """Broken on `on` (today by default), with a `note` of what happened. A promise is marked once."""
    return promises.mark_broken(db, actor=actor, promise_id=promise_id, data=_mark_body(data))
