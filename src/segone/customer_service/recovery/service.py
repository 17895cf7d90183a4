"""Use cases of recovery: open a case (by hand, or one per complaint and return event), act on it within
the strategy's limits, close it with the customer's verdict; the lists, in priority order, and the measures.

Whoever may log encounters may open a case, take it, act on it and close it (front-line staff included);
handing a case to someone else takes the team dashboards permission (managers and up), as do the measures.
An exception granted on a case may cost, with what was granted of it on the case before, at most the
limit the strategy in force gives the actor's role: over it the action is refused (403) naming the limit.
Opening cases from the events reads the analytics engine and takes the analytics permission.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import ColumnElement, Select, bindparam, case, func, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from segone import formatting
from segone.accounts import service as accounts
from segone.accounts.schemas import Actor, AuditAction, AuditRecord, Permission, Role
from segone.accounts.service import record_audit, record_audits, require
from segone.behaviour import service as behaviour
from segone.behaviour.schemas import EventRecord
from segone.clock import as_utc, utcnow
from segone.customer_service.recovery import measures as maths
from segone.customer_service.recovery.models import RecoveryAction, RecoveryCase
from segone.customer_service.recovery.schemas import (
    DEFAULT_RETENTION_DAYS,
    VERDICT_LABELS,
    ActionCreate,
    ActionOut,
    CaseClose,
    CaseDetail,
    CaseOpen,
    CaseOut,
    CasePage,
    CaseSource,
    CaseStatus,
    CaseUpdate,
    Priority,
    RecoveryMeasures,
    Retention,
    SyncReport,
    Verdict,
)
from segone.customer_service.scope import Scope, scope_of
from segone.customer_service.strategy import service as strategies
from segone.customer_service.strategy.schemas import ExceptionRule, StrategyOut
from segone.customers import service as customers
from segone.errors import Conflict, Forbidden, Invalid, NotFound
from segone.progress import Progress, silent
from segone.storage.batching import chunks
from segone.storage.engine import session_scope
from segone.storage.subject import Rows, delete_about, ids_of, ids_where, rows_about

ACT = Permission.ADD_ENCOUNTERS
ASSIGN = Permission.VIEW_TEAM_DASHBOARDS
EVENT_TYPES = {"complaint": Priority.HIGH, "return": Priority.NORMAL}
"""The events a case is opened from, and the priority each opens with."""
CLOSED_SHOWN = 3
OPEN_SHOWN = 500  # a customer's open cases on their sheet: all of them, within reason
SYNC_BATCH = 1000
_OPEN = RecoveryCase.status == CaseStatus.OPEN.value


# --------------------------------------------------------------------------------------------- reading


def _costs(db: Session, case_ids: Sequence[int]) -> dict[int, float]:
    found: dict[int, float] = {}
    for chunk in chunks(sorted(set(case_ids)), 1000):
        rows = db.execute(
            select(RecoveryAction.case_id, func.sum(RecoveryAction.cost))
            .where(RecoveryAction.case_id.in_(chunk), RecoveryAction.cost.is_not(None))
            .group_by(RecoveryAction.case_id)
        )
        found.update({case_id: float(total or 0) for case_id, total in rows})
    return found


def to_out_many(db: Session, cases: Sequence[RecoveryCase]) -> list[CaseOut]:
    now = utcnow()
    people = accounts.people_by_id(
        db, [user for c in cases for user in (c.owner_id, c.opened_by_id, c.closed_by_id)]
    )
    names = customers.names_by_id(db, {c.customer_id for c in cases})
    costs = _costs(db, [c.id for c in cases])

    def name(user_id: int | None) -> str | None:
        return people[user_id].name if user_id in people else None

    return [
        CaseOut(
            id=c.id,
            customer_id=c.customer_id,
            customer_name=names.get(c.customer_id, ""),
            summary=c.summary,
            source=CaseSource(c.source),
            event_id=c.event_id,
            priority=Priority(c.priority),
            status=CaseStatus(c.status),
            owner_id=c.owner_id,
            owner=name(c.owner_id),
            opened_by=name(c.opened_by_id),
            reported_at=c.reported_at,
            opened_at=c.opened_at,
            target_at=c.target_at,
            overdue=c.status == CaseStatus.OPEN and c.target_at < now,
            closed_at=c.closed_at,
            closed_by=name(c.closed_by_id),
            resolution=c.resolution,
            verdict=Verdict(c.verdict) if c.verdict else None,
            hours_to_recover=round(maths.hours_between(c.reported_at, c.closed_at), 4)
            if c.closed_at
            else None,
            exceptions_cost=costs.get(c.id, 0.0),
        )
        for c in cases
    ]


def _action_out(db: Session, actions: Sequence[RecoveryAction]) -> list[ActionOut]:
    people = accounts.people_by_id(db, (a.by_id for a in actions))
    return [
        ActionOut(
            id=a.id,
            case_id=a.case_id,
            at=a.at,
            by=people[a.by_id].name if a.by_id in people else None,
            by_email=a.by_email,
            role=a.role,
            text=a.text,
            exception=a.exception_key,
            exception_label=a.exception_label,
            cost=a.cost,
            limit=a.limit,
            strategy_version=a.strategy_version,
        )
        for a in actions
    ]


def _load(db: Session, case_id: int) -> RecoveryCase:
    found = db.get(RecoveryCase, case_id)
    if found is None:
        raise NotFound(f"There is no recovery case {case_id}.")
    return found


def get_case(db: Session, *, actor: Actor, case_id: int) -> CaseDetail:
    """The case and every action taken on it (whoever may look up customers may read it)."""
    require(actor, Permission.READ_CUSTOMERS)
    found = _load(db, case_id)
    actions = db.scalars(
        select(RecoveryAction)
        .where(RecoveryAction.case_id == found.id)
        .order_by(RecoveryAction.at, RecoveryAction.id)
    )
    return CaseDetail(**to_out_many(db, [found])[0].model_dump(), actions=_action_out(db, list(actions)))


def priority_order() -> list[ColumnElement[Any]]:
    """Open first, high priority first, the longest waiting first; then closed, the latest closed first."""
    return [
        case((_OPEN, 0), else_=1),
        case((_OPEN & (RecoveryCase.priority == Priority.HIGH.value), 0), else_=1),
        case((_OPEN, RecoveryCase.reported_at), else_=None),
        RecoveryCase.closed_at.desc(),
        RecoveryCase.id.asc(),
    ]


def _visible(scope: Scope) -> ColumnElement[bool]:
    """Cases in a backlog: those owned within the scope, and those nobody has taken yet."""
    return or_(scope.covers(RecoveryCase.owner_id), RecoveryCase.owner_id.is_(None))


def list_cases(
    db: Session,
    *,
    actor: Actor,
    status: CaseStatus | None = CaseStatus.OPEN,
    customer_id: int | None = None,
    offset: int = 0,
    limit: int = 50,
) -> CasePage:
    """A customer's cases (all of them), or the backlog of the actor's scope (owned within it, or by
    nobody yet), in priority order; ``status`` None for open and closed."""
    require(actor, Permission.READ_CUSTOMERS)
    stmt = select(RecoveryCase)
    if customer_id is not None:
        customer = customers.get(db, actor=actor, customer_id=customer_id)
        stmt, label = stmt.where(RecoveryCase.customer_id == customer.id), customer.name
    else:
        scope = scope_of(db, actor)
        stmt, label = stmt.where(_visible(scope)), scope.label
    if status is not None:
        stmt = stmt.where(RecoveryCase.status == status.value)
    matching = stmt.subquery()
    counts = db.execute(
        select(
            func.count(),
            func.count().filter(matching.c.status == CaseStatus.OPEN.value),
            func.count().filter(
                (matching.c.status == CaseStatus.OPEN.value) & (matching.c.target_at < utcnow())
            ),
        ).select_from(matching)
    ).one()
    rows = list(db.scalars(stmt.order_by(*priority_order()).offset(offset).limit(limit)))
    return CasePage(
        items=to_out_many(db, rows),
        total=int(counts[0]),
        open=int(counts[1]),
        overdue=int(counts[2]),
        scope=label,
        offset=offset,
        limit=limit,
    )


def for_customer(db: Session, *, actor: Actor, customer_id: int) -> list[CaseOut]:
    """The customer's open cases in priority order, then their last few closed: ``list_cases``' two pages
    (open, closed) in one query, without their counts."""
    require(actor, Permission.READ_CUSTOMERS)
    customer = customers.get(db, actor=actor, customer_id=customer_id)
    rows = db.scalars(_FOR_CUSTOMER, {"customer_id": customer.id})
    return to_out_many(db, list(rows))


def _for_customer() -> Select[RecoveryCase]:
    own = RecoveryCase.customer_id == bindparam("customer_id")
    first_open = select(RecoveryCase.id).where(own, _OPEN).order_by(*priority_order()).limit(OPEN_SHOWN)
    last_closed = (
        select(RecoveryCase.id)
        .where(own, RecoveryCase.status == CaseStatus.CLOSED.value)
        .order_by(*priority_order())
        .limit(CLOSED_SHOWN)
    )
    return (
        select(RecoveryCase)
        .where(own, or_(RecoveryCase.id.in_(first_open), RecoveryCase.id.in_(last_closed)))
        .order_by(*priority_order())
    )


# Built once: every sheet and briefing runs it, and building it costs more than running it.
_FOR_CUSTOMER = _for_customer()


# --------------------------------------------------------------------------------------------- changing


def _owner(db: Session, *, actor: Actor, owner_id: int | None) -> int | None:
    """The owner to set: the actor themself, or (for managers and up) someone else who exists."""
    if owner_id is None or owner_id == actor.user_id:
        return owner_id
    require(actor, ASSIGN)
    if owner_id not in accounts.people_by_id(db, [owner_id]):
        raise Invalid.of_field("owner_id", f"There is no user {owner_id} to own the case.")
    return owner_id


def _target(strategy: StrategyOut, priority: Priority, reported_at: datetime) -> datetime:
    return reported_at + timedelta(hours=strategy.target_hours(priority))


def open_case(db: Session, *, actor: Actor, data: CaseOpen) -> CaseOut:
    """A case opened by hand; its owner is the one who opens it unless another is named."""
    require(actor, ACT)
    customer = customers.get(db, actor=actor, customer_id=data.customer_id)
    now = utcnow()
    reported_at = as_utc(data.reported_at) or now
    if reported_at > now + timedelta(minutes=5):
        raise Invalid.of_field("reported_at", "The customer cannot have told us in the future.")
    owner_id = _owner(db, actor=actor, owner_id=data.owner_id if data.owner_id is not None else actor.user_id)
    strategy = strategies.in_force(db)
    found = RecoveryCase(
        customer_id=customer.id,
        summary=data.summary,
        source=CaseSource.HAND.value,
        priority=data.priority.value,
        owner_id=owner_id,
        opened_by_id=actor.user_id,
        reported_at=reported_at,
        opened_at=now,
        target_at=_target(strategy, data.priority, reported_at),
        status=CaseStatus.OPEN.value,
    )
    db.add(found)
    db.flush()
    record_audit(
        db,
        actor=actor,
        action=AuditAction.RECOVERY_OPENED,
        summary=f"Recovery case {found.id} ({data.priority.value} priority): {data.summary}",
        customer_id=customer.id,
        details={"case_id": found.id, "priority": data.priority.value},
    )
    return to_out_many(db, [found])[0]


def _open_case(db: Session, case_id: int) -> RecoveryCase:
    found = _load(db, case_id)
    if found.status != CaseStatus.OPEN:
        raise Conflict(f"Recovery case {found.id} is closed already.", details={"status": found.status})
    return found


def update_case(db: Session, *, actor: Actor, case_id: int, data: CaseUpdate) -> CaseOut:
    """Change its priority (the target moves with it) or its owner (take it; managers hand it on)."""
    require(actor, ACT)
    found = _open_case(db, case_id)
    changes: dict[str, Any] = {}
    sent = data.model_fields_set
    if "priority" in sent and data.priority is not None and data.priority.value != found.priority:
        changes["priority"] = {"from": found.priority, "to": data.priority.value}
        found.priority = data.priority.value
        found.target_at = _target(strategies.in_force(db), data.priority, found.reported_at)
    if "owner_id" in sent and data.owner_id != found.owner_id:
        if found.owner_id is not None and found.owner_id != actor.user_id:
            require(actor, ASSIGN)  # taking someone else's case is handing it on
        changes["owner_id"] = {"from": found.owner_id, "to": _owner(db, actor=actor, owner_id=data.owner_id)}
        found.owner_id = data.owner_id
    if changes:
        db.flush()
        record_audit(
            db,
            actor=actor,
            action=AuditAction.RECOVERY_CHANGED,
            summary=f"Recovery case {found.id} changed: {', '.join(changes)}",
            customer_id=found.customer_id,
            details={"case_id": found.id, **changes},
        )
    return to_out_many(db, [found])[0]


def _granted(db: Session, case_id: int, key: str) -> float:
    total = db.scalar(
        select(func.sum(RecoveryAction.cost)).where(
            RecoveryAction.case_id == case_id, RecoveryAction.exception_key == key
        )
    )
    return float(total or 0.0)


def _over_limit(
    *, rule: ExceptionRule, role: Role, cost: float, before: float, strategy: StrategyOut, currency: str
) -> Forbidden:
    """The refusal of an exception over the role's limit, naming the limit and who could grant it."""

    def money(value: float) -> str:
        return formatting.money(value, currency)

    limit = rule.limit_for(role)
    granted = f"{rule.label.lower()} of {money(cost)}"
    if before:
        total = money(before + cost)
        what = f"With the {money(before)} granted on this case before, a {granted} comes to {total},"
    else:
        what = f"A {granted} is"
    ranks = list(Role)
    higher = [
        f"{other.value}: {money(rule.limit_for(other))}"
        for other in ranks[ranks.index(role) + 1 :]
        if rule.limit_for(other) >= before + cost
    ]
    ask = (
        f"Ask someone whose limit covers it ({higher[0]})."
        if higher
        else "No role's limit covers it: ask an administrator."
    )
    return Forbidden(
        f"{what} over the {role.value} limit of {money(limit)} per case for {rule.label.lower()} in the "
        f"service strategy (version {strategy.version}). {ask}",
        details={
            "exception": rule.key,
            "limit": limit,
            "role": role.value,
            "cost": cost,
            "granted_before": before,
            "strategy_version": strategy.version,
        },
    )


def act(db: Session, *, actor: Actor, case_id: int, data: ActionCreate, currency: str) -> ActionOut:
    """Record what was done; an exception granted is checked against the actor's role's limit in the
    strategy in force, counting what was granted of it on this case before."""
    require(actor, ACT)
    found = _open_case(db, case_id)
    strategy = strategies.in_force(db)
    label = limit = None
    if data.exception is not None:
        rule = strategy.exception(data.exception)
        if rule is None:
            known = ", ".join(r.key for r in strategy.exceptions) or "none yet: an administrator sets them"
            raise Invalid.of_field(
                "exception",
                f"'{data.exception}' is not an exception of the service strategy "
                f"(version {strategy.version}); the exceptions are: {known}.",
            )
        assert data.cost is not None
        label, limit = rule.label, rule.limit_for(actor.role)
        before = _granted(db, found.id, rule.key)
        if before + data.cost > limit + 1e-9:
            raise _over_limit(
                rule=rule,
                role=actor.role,
                cost=data.cost,
                before=before,
                strategy=strategy,
                currency=currency,
            )
    action = RecoveryAction(
        case_id=found.id,
        by_id=actor.user_id,
        by_email=actor.email,
        role=actor.role.value,
        text=data.text,
        exception_key=data.exception,
        exception_label=label,
        cost=data.cost,
        limit=limit,
        strategy_version=strategy.version if data.exception is not None else None,
    )
    db.add(action)
    if found.owner_id is None and actor.user_id is not None:
        found.owner_id = actor.user_id  # who acts on a case nobody had taken takes it
    db.flush()
    granted = f" ({label}, {formatting.money(data.cost, currency)})" if label else ""
    record_audit(
        db,
        actor=actor,
        action=AuditAction.RECOVERY_ACTION,
        summary=f"Recovery case {found.id}: {data.text}{granted}",
        customer_id=found.customer_id,
        details={"case_id": found.id, "exception": data.exception, "cost": data.cost, "limit": limit},
    )
    return _action_out(db, [action])[0]


def close_case(db: Session, *, actor: Actor, case_id: int, data: CaseClose) -> CaseOut:
    """Put right: the resolution and the customer's verdict; a case nobody had taken is the closer's."""
    require(actor, ACT)
    found = _open_case(db, case_id)
    now = utcnow()
    found.status = CaseStatus.CLOSED.value
    found.closed_at = max(now, found.reported_at)
    found.closed_by_id = actor.user_id
    found.resolution = data.resolution
    found.verdict = data.verdict.value
    if found.owner_id is None:
        found.owner_id = actor.user_id
    db.flush()
    out = to_out_many(db, [found])[0]
    record_audit(
        db,
        actor=actor,
        action=AuditAction.RECOVERY_CLOSED,
        summary=f"Recovery case {found.id} closed, the customer {VERDICT_LABELS[data.verdict]}: "
        f"{data.resolution}",
        customer_id=found.customer_id,
        details={
            "case_id": found.id,
            "verdict": data.verdict.value,
            "hours_to_recover": out.hours_to_recover,
        },
    )
    return out


def move_to(db: Session, *, from_customer_id: int, to_customer_id: int) -> int:
    """Hand every case of one customer record to another (used by merge)."""
    result = db.execute(
        update(RecoveryCase)
        .where(RecoveryCase.customer_id == from_customer_id)
        .values(customer_id=to_customer_id)
        .execution_options(synchronize_session="fetch")
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


# --------------------------------------------------------------------------------- opening from events


def summary_of(event: EventRecord, currency: str) -> str:
    """A case's summary from its event: ``Complaint (phone): parcel stolen``."""
    channel = f" ({event.channel})" if event.channel else ""
    if event.type == "return":
        what = f" of {event.offering}" if event.offering else ""
        value = f", {formatting.money(event.value, currency)}" if event.value is not None else ""
        return f"Return{channel}{what}{value}: {event.reason or 'no reason given'}"
    return f"Complaint{channel}: {event.reason or 'no reason given'}"


def sync_from_events(
    sessions: sessionmaker[Session],
    *,
    actor: Actor,
    data_dir: Path,
    analytics_url: str,
    currency: str,
    since: datetime | None = None,
    progress: Progress = silent,
) -> SyncReport:
    """Open a case for each complaint and return event (from ``since`` on) that has none: a complaint at
    high priority, a return at normal; the clock starts at the event's time. API events are flushed into
    the dataset first. Running it again opens nothing new."""
    require(actor, Permission.RUN_ANALYTICS)
    progress("Flushing staged events", 0, 1)
    flushed = behaviour.flush_staged_events(sessions, data_dir=data_dir)
    progress("Reading complaints and returns", 0, 1)
    events = behaviour.events_of_types(
        actor=actor, data_dir=data_dir, analytics_url=analytics_url, types=EVENT_TYPES, since=as_utc(since)
    )
    opened: list[int] = []
    had = 0
    with session_scope(sessions) as db:
        strategy = strategies.in_force(db)
        survivors = customers.final_survivors(db)
        known = customers.names_by_id(db, {survivors.get(e.customer_id, e.customer_id) for e in events})
        now = utcnow()
        audits: list[AuditRecord] = []
        for done, batch in enumerate(chunks(events, SYNC_BATCH)):
            progress("Opening recovery cases", done * SYNC_BATCH, len(events))
            existing = set(
                db.scalars(
                    select(RecoveryCase.event_id).where(
                        RecoveryCase.event_id.in_([e.event_id for e in batch])
                    )
                )
            )
            new = []
            for event in batch:
                customer_id = survivors.get(event.customer_id, event.customer_id)
                if event.event_id in existing or customer_id not in known:
                    had += event.event_id in existing
                    continue
                priority = EVENT_TYPES[event.type]
                reported_at = as_utc(event.ts) or event.ts
                new.append(
                    RecoveryCase(
                        customer_id=customer_id,
                        summary=summary_of(event, currency),
                        source=CaseSource(event.type).value,
                        event_id=event.event_id,
                        priority=priority.value,
                        owner_id=None,
                        opened_by_id=actor.user_id,
                        reported_at=reported_at,
                        opened_at=now,
                        target_at=_target(strategy, priority, reported_at),
                        status=CaseStatus.OPEN.value,
                    )
                )
            db.add_all(new)
            db.flush()
            for made in new:
                opened.append(made.id)
                audits.append(
                    AuditRecord.by(
                        actor,
                        AuditAction.RECOVERY_OPENED,
                        f"Recovery case {made.id} ({made.priority} priority) opened from a "
                        f"{made.source} event: {made.summary}",
                        customer_id=made.customer_id,
                        details={"case_id": made.id, "event_id": made.event_id, "priority": made.priority},
                    )
                )
        if opened:
            audits.append(
                AuditRecord.by(
                    actor,
                    AuditAction.RECOVERY_SYNCED,
                    f"{formatting.plural(len(opened), 'recovery case')} opened from complaint and return "
                    "events",
                    details={"opened": len(opened), "since": since.isoformat() if since else None},
                )
            )
            record_audits(db, audits)
        progress("Opening recovery cases", len(events), len(events))
    return SyncReport(
        since=as_utc(since),
        events=len(events),
        opened=len(opened),
        had_a_case=had,
        flushed=flushed,
        case_ids=opened,
    )


# ------------------------------------------------------------------------------------------- measures


def day_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """The period from the start of ``start`` to the end of ``end`` (UTC), as [from, to)."""
    return (
        datetime.combine(start, time.min, tzinfo=UTC),
        datetime.combine(end + timedelta(days=1), time.min, tzinfo=UTC),
    )


def measures(
    db: Session,
    *,
    actor: Actor,
    start: date,
    end: date,
    days: int = DEFAULT_RETENTION_DAYS,
    data_dir: Path | None = None,
    analytics_url: str = "",
) -> RecoveryMeasures:
    """The recovery measures of the cases in the actor's scope over the period (both days included); with
    ``data_dir``, retention after recovery read from the events (docs/customer-service.md)."""
    require(actor, Permission.VIEW_TEAM_DASHBOARDS)
    if end < start:
        raise Invalid.of_field(
            "end", f"The period ends ({end:%d %b %Y}) before it starts ({start:%d %b %Y})."
        )
    if not 1 <= days <= 3650:
        raise Invalid.of_field("days", "The window after recovery is 1 to 3,650 days.")
    now = utcnow()
    lo, hi = day_bounds(start, end)
    scope = scope_of(db, actor)
    owned = scope.covers(RecoveryCase.owner_id)
    reported = int(
        db.scalar(
            select(func.count()).where(owned, RecoveryCase.reported_at >= lo, RecoveryCase.reported_at < hi)
        )
        or 0
    )
    closed = list(
        db.scalars(
            select(RecoveryCase).where(
                owned,
                RecoveryCase.status == CaseStatus.CLOSED.value,
                RecoveryCase.closed_at >= lo,
                RecoveryCase.closed_at < hi,
            )
        )
    )
    hours = [maths.hours_between(c.reported_at, c.closed_at) for c in closed if c.closed_at is not None]
    satisfied = sum(c.verdict == Verdict.SATISFIED for c in closed)
    granted = db.execute(
        select(func.count(), func.sum(RecoveryAction.cost)).where(
            RecoveryAction.case_id.in_([c.id for c in closed] or [-1]),
            RecoveryAction.exception_key.is_not(None),
        )
    ).one()
    backlog = _visible(scope) & _OPEN
    open_now = int(db.scalar(select(func.count()).where(backlog)) or 0)
    overdue_now = int(db.scalar(select(func.count()).where(backlog, RecoveryCase.target_at < now)) or 0)
    retention = None
    if data_dir is not None:
        retention = _retention(
            db, actor, closed, lo=lo, hi=hi, days=days, data_dir=data_dir, url=analytics_url
        )
    median, p90 = maths.percentile(hours, 0.5), maths.percentile(hours, 0.9)
    return RecoveryMeasures(
        start=start,
        end=end,
        as_of=now,
        scope=scope.label,
        reported=reported,
        closed=len(closed),
        satisfied=satisfied,
        recovery_rate=maths.share(satisfied, len(closed)),
        within_target=sum(c.closed_at is not None and c.closed_at <= c.target_at for c in closed),
        median_hours=None if median is None else round(median, 4),
        p90_hours=None if p90 is None else round(p90, 4),
        exceptions=int(granted[0] or 0),
        exceptions_cost=float(granted[1] or 0.0),
        open_now=open_now,
        overdue_now=overdue_now,
        retention=retention,
    )


def _retention(
    db: Session,
    actor: Actor,
    closed: Sequence[RecoveryCase],
    *,
    lo: datetime,
    hi: datetime,
    days: int,
    data_dir: Path,
    url: str,
) -> Retention:
    """Who bought again within ``days`` after their last case closed in the period, against customers with
    a complaint in the period and no recovery case reported in it (after their last complaint)."""
    now = utcnow()
    survivors = customers.final_survivors(db)

    def current(customer_id: int) -> int:
        return survivors.get(customer_id, customer_id)

    last_close: dict[int, RecoveryCase] = {}
    for c in closed:
        kept = last_close.get(current(c.customer_id))
        if kept is None or (c.closed_at, c.id) > (kept.closed_at, kept.id):
            last_close[current(c.customer_id)] = c
    recovered = {customer: c.closed_at for customer, c in last_close.items() if c.closed_at is not None}
    satisfied = {
        customer: at
        for customer, at in recovered.items()
        if last_close[customer].verdict == Verdict.SATISFIED
    }
    with_case = {
        current(customer_id)
        for customer_id in db.scalars(
            select(RecoveryCase.customer_id).where(
                RecoveryCase.reported_at >= lo, RecoveryCase.reported_at < hi
            )
        )
    }
    complaints = behaviour.events_of_types(
        actor=actor, data_dir=data_dir, analytics_url=url, types=["complaint"], since=lo
    )
    without: dict[int, datetime] = {}
    for event in complaints:
        customer, at = current(event.customer_id), as_utc(event.ts) or event.ts
        if at >= hi or customer in with_case or customer in recovered:
            continue
        without[customer] = max(at, without.get(customer, at))
    groups = {"recovered": recovered, "satisfied": satisfied, "without": without}
    measured = {name: maths.windows(anchors, days, now) for name, anchors in groups.items()}
    merged_into: dict[int, list[int]] = {}
    for merged, survivor in survivors.items():
        merged_into.setdefault(survivor, []).append(merged)
    records: dict[int, tuple[datetime, datetime]] = {}
    for windows in (measured["recovered"], measured["without"]):
        for customer, window in windows.items():
            for record in [customer, *merged_into.get(customer, [])]:
                records[record] = window
    bought = {
        current(record)
        for record in behaviour.purchasers_within(
            actor=actor, data_dir=data_dir, analytics_url=url, windows=records
        )
    }
    cohorts = {name: maths.cohort(groups[name], measured[name], bought) for name in groups}
    a, b = cohorts["recovered"].share, cohorts["without"].share
    return Retention(
        days=days,
        recovered=cohorts["recovered"],
        recovered_satisfied=cohorts["satisfied"],
        without_case=cohorts["without"],
        difference=None if a is None or b is None else round(a - b, 6),
    )


def data_about(db: Session, *, customer_ids: Sequence[int]) -> dict[str, Rows]:
    """These customers' recovery cases and every action taken on them, as stored."""
    cases = rows_about(db, RecoveryCase, "customer_id", customer_ids)
    return {
        "recovery_cases": cases,
        "recovery_actions": rows_about(db, RecoveryAction, "case_id", ids_of(cases)),
    }


def erase_about(db: Session, *, customer_ids: Sequence[int]) -> dict[str, int]:
    """Delete these customers' recovery cases and every action taken on them."""
    cases = ids_where(db, RecoveryCase, "customer_id", customer_ids)
    return {
        "recovery_actions": delete_about(db, RecoveryAction, "case_id", cases),
        "recovery_cases": delete_about(db, RecoveryCase, "id", cases),
    }
