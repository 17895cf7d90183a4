"""Use cases of promises: make one to a customer, mark it kept or broken, list them, the kept rate.

Whoever may log encounters may make a promise and mark one (front-line staff included); a promise is
marked once. Lists of a customer's promises are everybody's who may look the customer up; the lists and
rates across customers cover the reader's scope (``customer_service.scope``), and the rates take the team
dashboards permission (managers and up). Every change is in the audit trail, on the customer's history.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import date, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, bindparam, case, func, or_, select, update
from sqlalchemy.orm import Session

from segone.accounts import service as accounts
from segone.accounts.schemas import Actor, AuditAction, Permission
from segone.accounts.service import record_audit, require
from segone.clock import utcnow
from segone.customer_service.promises.models import Promise
from segone.customer_service.promises.schemas import (
    PromiseCreate,
    PromiseMark,
    PromiseOut,
    PromisePage,
    PromiseRate,
    PromiseRates,
    PromiseState,
    PromiseStatus,
    RateGroup,
)
from segone.customer_service.scope import scope_of
from segone.customers import service as customers
from segone.errors import Conflict, Invalid, NotFound
from segone.storage.subject import Rows, delete_about, rows_about

MAKE = Permission.ADD_ENCOUNTERS
NO_TEAM = "No team"
OPERATOR = "the operator"
RESOLVED_SHOWN = 5
OPEN_SHOWN = 500  # a customer's open promises on their sheet: all of them, within reason


def state_of(status: str, due_on: date, resolved_on: date | None, today: date) -> PromiseState:
    """The state a page shows (module docstring of the schemas): kept on time, kept late, broken, overdue
    (open past its day) or open."""
    if status == PromiseStatus.KEPT:
        return (
            PromiseState.KEPT if resolved_on is not None and resolved_on <= due_on else PromiseState.KEPT_LATE
        )
    if status == PromiseStatus.BROKEN:
        return PromiseState.BROKEN
    return PromiseState.OVERDUE if due_on < today else PromiseState.OPEN


def rate_of(key: str, label: str, states: Iterable[PromiseState]) -> PromiseRate:
    """The kept rate of these promises: kept on time over those whose outcome is known (overdue ones
    count as broken; open ones not yet due are left out)."""
    counts = Counter(states)
    known = (PromiseState.KEPT, PromiseState.KEPT_LATE, PromiseState.BROKEN, PromiseState.OVERDUE)
    counted = sum(counts[state] for state in known)
    return PromiseRate(
        key=key,
        label=label,
        kept=counts[PromiseState.KEPT],
        kept_late=counts[PromiseState.KEPT_LATE],
        broken=counts[PromiseState.BROKEN],
        overdue=counts[PromiseState.OVERDUE],
        pending=counts[PromiseState.OPEN],
        counted=counted,
        rate=counts[PromiseState.KEPT] / counted if counted else None,
    )


def to_out_many(db: Session, promises: Sequence[Promise]) -> list[PromiseOut]:
    today = utcnow().date()
    people = accounts.people_by_id(
        db, [p.made_by_id for p in promises] + [p.resolved_by_id for p in promises]
    )
    names = customers.names_by_id(db, {p.customer_id for p in promises})
    return [
        PromiseOut(
            id=p.id,
            customer_id=p.customer_id,
            customer_name=names.get(p.customer_id, ""),
            text=p.text,
            made_by_id=p.made_by_id,
            made_by=people[p.made_by_id].name if p.made_by_id in people else None,
            made_at=p.made_at,
            due_on=p.due_on,
            status=PromiseStatus(p.status),
            state=state_of(p.status, p.due_on, p.resolved_on, today),
            resolved_on=p.resolved_on,
            resolved_by=people[p.resolved_by_id].name if p.resolved_by_id in people else None,
            note=p.note,
        )
        for p in promises
    ]


def _load(db: Session, promise_id: int) -> Promise:
    promise = db.get(Promise, promise_id)
    if promise is None:
        raise NotFound(f"There is no promise {promise_id}.")
    return promise


def get(db: Session, *, actor: Actor, promise_id: int) -> PromiseOut:
    require(actor, Permission.READ_CUSTOMERS)
    return to_out_many(db, [_load(db, promise_id)])[0]


def make(db: Session, *, actor: Actor, data: PromiseCreate) -> PromiseOut:
    """A promise to the customer (a merged record's id gives the survivor), made by the actor."""
    require(actor, MAKE)
    customer = customers.get(db, actor=actor, customer_id=data.customer_id)
    today = utcnow().date()
    if data.due_on < today:
        raise Invalid.of_field(
            "due_on", f"A promise is due today or later; {data.due_on:%d %b %Y} has passed already."
        )
    promise = Promise(customer_id=customer.id, text=data.text, made_by_id=actor.user_id, due_on=data.due_on)
    db.add(promise)
    db.flush()
    record_audit(
        db,
        actor=actor,
        action=AuditAction.PROMISE_MADE,
        summary=f"Promised, due {data.due_on:%d %b %Y}: {data.text}",
        customer_id=customer.id,
        details={"promise_id": promise.id, "due_on": data.due_on.isoformat()},
    )
    return to_out_many(db, [promise])[0]


def keep(db: Session, *, actor: Actor, promise_id: int, data: PromiseMark) -> PromiseOut:
    return _mark(db, actor=actor, promise_id=promise_id, data=data, status=PromiseStatus.KEPT)


def mark_broken(db: Session, *, actor: Actor, promise_id: int, data: PromiseMark) -> PromiseOut:
    return _mark(db, actor=actor, promise_id=promise_id, data=data, status=PromiseStatus.BROKEN)


def _mark(
    db: Session, *, actor: Actor, promise_id: int, data: PromiseMark, status: PromiseStatus
) -> PromiseOut:
    require(actor, MAKE)
    promise = _load(db, promise_id)
    if promise.status != PromiseStatus.OPEN:
        raise Conflict(
            f"Promise {promise.id} was marked {promise.status} on {promise.resolved_on:%d %b %Y} already.",
            details={"status": promise.status},
        )
    now = utcnow()
    on = data.on or now.date()
    if on > now.date():
        raise Invalid.of_field(
            "on", f"{on:%d %b %Y} is still to come: mark a promise once it is kept or broken."
        )
    if on < promise.made_at.date():
        raise Invalid.of_field(
            "on", f"{on:%d %b %Y} is before the promise was made ({promise.made_at:%d %b %Y})."
        )
    promise.status = status.value
    promise.resolved_on = on
    promise.resolved_at = now
    promise.resolved_by_id = actor.user_id
    promise.note = data.note.strip()
    db.flush()
    out = to_out_many(db, [promise])[0]
    record_audit(
        db,
        actor=actor,
        action=AuditAction.PROMISE_KEPT if status == PromiseStatus.KEPT else AuditAction.PROMISE_BROKEN,
        summary=f"Promise {out.state} on {on:%d %b %Y}: {promise.text}",
        customer_id=promise.customer_id,
        details={"promise_id": promise.id, "on": on.isoformat(), "due_on": promise.due_on.isoformat()},
    )
    return out


def _order() -> list[ColumnElement[Any]]:
    """Open first (overdue ones lead, as they sort by day), then the marked, the most recently marked
    first."""
    is_open = Promise.status == PromiseStatus.OPEN.value
    return [
        case((is_open, 0), else_=1),
        case((is_open, Promise.due_on), else_=None),
        Promise.resolved_at.desc(),
        Promise.id.desc(),
    ]


def list_promises(
    db: Session,
    *,
    actor: Actor,
    customer_id: int | None = None,
    open_only: bool = False,
    offset: int = 0,
    limit: int = 50,
) -> PromisePage:
    """A customer's promises (all of them), or those in the actor's scope; open first by due day."""
    require(actor, Permission.READ_CUSTOMERS)
    stmt = select(Promise)
    if customer_id is not None:
        customer = customers.get(db, actor=actor, customer_id=customer_id)
        stmt = stmt.where(Promise.customer_id == customer.id)
    else:
        stmt = stmt.where(scope_of(db, actor).covers(Promise.made_by_id))
    if open_only:
        stmt = stmt.where(Promise.status == PromiseStatus.OPEN.value)
    total = int(db.scalar(select(func.count()).select_from(stmt.subquery())) or 0)
    rows = list(db.scalars(stmt.order_by(*_order()).offset(offset).limit(limit)))
    return PromisePage(items=to_out_many(db, rows), total=total, offset=offset, limit=limit)


def for_customer(db: Session, *, actor: Actor, customer_id: int) -> list[PromiseOut]:
    """The customer's open promises (overdue first, then by due day) and the last few marked: both in one
    query."""
    require(actor, Permission.READ_CUSTOMERS)
    customer = customers.get(db, actor=actor, customer_id=customer_id)
    rows = db.scalars(_FOR_CUSTOMER, {"customer_id": customer.id})
    return to_out_many(db, list(rows))


def _for_customer() -> Select[Promise]:
    own, is_open = Promise.customer_id == bindparam("customer_id"), Promise.status == PromiseStatus.OPEN.value
    first_open = select(Promise.id).where(own, is_open).order_by(*_order()).limit(OPEN_SHOWN)
    last_marked = (
        select(Promise.id)
        .where(own, ~is_open)
        .order_by(Promise.resolved_at.desc(), Promise.id.desc())
        .limit(RESOLVED_SHOWN)
    )
    return (
        select(Promise)
        .where(own, or_(Promise.id.in_(first_open), Promise.id.in_(last_marked)))
        .order_by(*_order())
    )


# Built once: every sheet and briefing runs it, and building it costs more than running it.
_FOR_CUSTOMER = _for_customer()


def due_for(db: Session, *, actor: Actor, within_days: int = 7, limit: int = 6) -> list[PromiseOut]:
    """The actor's own open promises due within ``within_days`` (overdue ones first)."""
    require(actor, Permission.READ_CUSTOMERS)
    if actor.user_id is None:
        return []
    horizon = utcnow().date() + timedelta(days=within_days)
    rows = db.scalars(
        select(Promise)
        .where(
            Promise.made_by_id == actor.user_id,
            Promise.status == PromiseStatus.OPEN.value,
            Promise.due_on <= horizon,
        )
        .order_by(Promise.due_on, Promise.id)
        .limit(limit)
    )
    return to_out_many(db, list(rows))


def rates(
    db: Session, *, actor: Actor, start: date, end: date, by: RateGroup = RateGroup.TEAM
) -> PromiseRates:
    """The promise-kept rate of each team (or employee) in the actor's scope over the promises due from
    ``start`` to ``end`` (both days included), as of today."""
    require(actor, Permission.VIEW_TEAM_DASHBOARDS)
    if end < start:
        raise Invalid.of_field(
            "end", f"The period ends ({end:%d %b %Y}) before it starts ({start:%d %b %Y})."
        )
    today = utcnow().date()
    scope = scope_of(db, actor)
    rows = db.execute(
        select(Promise.made_by_id, Promise.status, Promise.due_on, Promise.resolved_on).where(
            Promise.due_on >= start, Promise.due_on <= end, scope.covers(Promise.made_by_id)
        )
    ).all()
    teams = accounts.team_names_by_user(db)
    people = accounts.people_by_id(db, (row.made_by_id for row in rows))
    groups: dict[tuple[str, str], list[PromiseState]] = {}
    for made_by_id, status, due_on, resolved_on in rows:
        if by == RateGroup.TEAM:
            team = teams.get(made_by_id) if made_by_id is not None else None
            key = label = team or NO_TEAM
        elif made_by_id in people:
            key, label = people[made_by_id].email, people[made_by_id].name
        else:
            key = label = OPERATOR
        groups.setdefault((key, label), []).append(state_of(status, due_on, resolved_on, today))
    found = [rate_of(key, label, states) for (key, label), states in groups.items()]
    found.sort(key=lambda r: (r.rate is None, r.rate if r.rate is not None else 0.0, r.label.lower(), r.key))
    every = [state for states in groups.values() for state in states]
    return PromiseRates(
        start=start,
        end=end,
        as_of=today,
        by=by,
        scope=scope.label,
        rows=found,
        total=rate_of("all", "All", every),
    )


def move_to(db: Session, *, from_customer_id: int, to_customer_id: int) -> int:
    """Hand every promise of one customer record to another (used by merge)."""
    result = db.execute(
        update(Promise)
        .where(Promise.customer_id == from_customer_id)
        .values(customer_id=to_customer_id)
        .execution_options(synchronize_session="fetch")
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def data_about(db: Session, *, customer_ids: Sequence[int]) -> dict[str, Rows]:
    """Every promise made to these customers, as stored."""
    return {"promises": rows_about(db, Promise, "customer_id", customer_ids)}


def erase_about(db: Session, *, customer_ids: Sequence[int]) -> dict[str, int]:
    """Delete every promise made to these customers."""
    return {"promises": delete_about(db, Promise, "customer_id", customer_ids)}
