"""Promises: made, kept or broken, overdue when their day passed; the promise-kept rate, by hand."""

from __future__ import annotations

from datetime import date

import pytest

from segone.accounts.schemas import Role
from segone.clock import fixed_at
from segone.customer_service.promises import service as promises
from segone.customer_service.promises.schemas import (
    PromiseCreate,
    PromiseMark,
    PromiseState,
    PromiseStatus,
    RateGroup,
)
from segone.errors import Conflict, Forbidden, Invalid
from segone.runtime import Runtime
from tests.customer_service.conftest import at
from tests.factories import MadeUser, make_customer, make_user

TODAY = "2026-03-10"


def _promise(
    runtime: Runtime,
    user: MadeUser,
    customer: int,
    due: str,
    *,
    kept: str | None = None,
    broken: str | None = None,
    text: str = "Call back",
) -> int:
    """A promise made on the first of February, marked kept or broken on the day given (if any)."""
    with fixed_at(at("2026-02-01")), runtime.session() as db:
        made = promises.make(
            db,
            actor=user.actor,
            data=PromiseCreate(customer_id=customer, text=text, due_on=date.fromisoformat(due)),
        )
    if kept or broken:
        on = date.fromisoformat(kept or broken or "")
        with fixed_at(at(TODAY)), runtime.session() as db:
            mark = promises.keep if kept else promises.mark_broken
            mark(db, actor=user.actor, promise_id=made.id, data=PromiseMark(on=on))
    return made.id


def test_states_read_the_due_day_against_today() -> None:
    due, today = date(2026, 3, 5), date(2026, 3, 10)
    assert promises.state_of("kept", due, date(2026, 3, 5), today) == PromiseState.KEPT
    assert promises.state_of("kept", due, date(2026, 3, 6), today) == PromiseState.KEPT_LATE
    assert promises.state_of("broken", due, date(2026, 3, 1), today) == PromiseState.BROKEN
    assert promises.state_of("open", due, None, today) == PromiseState.OVERDUE
    assert promises.state_of("open", today, None, today) == PromiseState.OPEN


def test_the_promise_kept_rate_per_team_and_per_employee(runtime: Runtime) -> None:
    ann = make_user(runtime, Role.FRONTLINE, team="Store York")
    bob = make_user(runtime, Role.FRONTLINE, team="Store York")
    cat = make_user(runtime, Role.FRONTLINE, team="Store Leeds")
    york_manager = make_user(runtime, Role.MANAGER, team="Store York")
    analyst = make_user(runtime, Role.ANALYST, team="Head Office")
    customer = make_customer(runtime)
    _promise(runtime, ann, customer, "2026-03-01", kept="2026-03-01")  # kept on its day
    _promise(runtime, ann, customer, "2026-03-02", kept="2026-03-05")  # kept late
    _promise(runtime, ann, customer, "2026-03-03", broken="2026-03-03")  # broken
    _promise(runtime, ann, customer, "2026-03-04")  # overdue: broken until marked
    _promise(runtime, ann, customer, "2026-03-12")  # not yet due: not counted
    _promise(runtime, ann, customer, "2026-02-20", kept="2026-02-20")  # due before the period
    _promise(runtime, bob, customer, "2026-03-05", kept="2026-03-04")  # kept early
    _promise(runtime, cat, customer, "2026-03-06", kept="2026-03-06")
    _promise(runtime, cat, customer, "2026-03-07")  # overdue
    start, end = date(2026, 3, 1), date(2026, 3, 31)

    with fixed_at(at(TODAY)), runtime.session() as db:
        teams = promises.rates(db, actor=analyst.actor, start=start, end=end, by=RateGroup.TEAM)
        people = promises.rates(db, actor=analyst.actor, start=start, end=end, by=RateGroup.EMPLOYEE)
        mine = promises.rates(db, actor=york_manager.actor, start=start, end=end, by=RateGroup.EMPLOYEE)

    york, leeds = (next(r for r in teams.rows if r.key == name) for name in ("Store York", "Store Leeds"))
    # York: kept 2 (ann's first, bob's), late 1, broken 1, overdue 1 -> 2 of 5; one pending.
    assert (york.kept, york.kept_late, york.broken, york.overdue, york.pending) == (2, 1, 1, 1, 1)
    assert (york.counted, york.rate) == (5, pytest.approx(0.4))
    # Leeds: kept 1, overdue 1 -> 1 of 2.
    assert (leeds.kept, leeds.overdue, leeds.counted, leeds.rate) == (1, 1, 2, pytest.approx(0.5))
    assert [r.key for r in teams.rows] == ["Store York", "Store Leeds"], "the lowest rate first"
    assert (teams.total.kept, teams.total.counted, teams.total.rate) == (3, 7, pytest.approx(3 / 7))
    assert teams.as_of == date(2026, 3, 10) and teams.scope == "every team"

    by_person = {r.key: r.rate for r in people.rows}
    assert by_person == {ann.email: 0.25, bob.email: 1.0, cat.email: 0.5}
    # A manager sees their own team's people only.
    assert {r.key for r in mine.rows} == {ann.email, bob.email} and mine.scope == "team Store York"
    assert mine.total.rate == pytest.approx(2 / 5)


def test_front_line_staff_may_make_and_mark_promises_and_not_read_the_rates(runtime: Runtime) -> None:
    user = make_user(runtime, Role.FRONTLINE)
    customer = make_customer(runtime)
    with fixed_at(at(TODAY)), runtime.session() as db:
        with pytest.raises(Invalid, match="has passed already"):
            promises.make(
                db,
                actor=user.actor,
                data=PromiseCreate(customer_id=customer, text="Ring", due_on=date(2026, 3, 9)),
            )
        made = promises.make(
            db,
            actor=user.actor,
            data=PromiseCreate(customer_id=customer, text="Ring", due_on=date(2026, 3, 10)),
        )
        assert (made.state, made.made_by) == (PromiseState.OPEN, f"Frontline {user.email[9:].split('@')[0]}")
        with pytest.raises(Invalid, match="still to come"):
            promises.keep(db, actor=user.actor, promise_id=made.id, data=PromiseMark(on=date(2026, 3, 11)))
        kept = promises.keep(db, actor=user.actor, promise_id=made.id, data=PromiseMark(note="Rang at 4"))
        assert (kept.status, kept.state, kept.resolved_on, kept.note) == (
            PromiseStatus.KEPT,
            PromiseState.KEPT,
            date(2026, 3, 10),
            "Rang at 4",
        )
        with pytest.raises(Conflict, match="marked kept"):
            promises.mark_broken(db, actor=user.actor, promise_id=made.id, data=PromiseMark())
        with pytest.raises(Forbidden):
            promises.rates(db, actor=user.actor, start=date(2026, 3, 1), end=date(2026, 3, 31))


def test_a_customers_promises_overdue_first_then_by_day_then_the_marked(runtime: Runtime) -> None:
    user = make_user(runtime, Role.FRONTLINE)
    customer = make_customer(runtime)
    later = _promise(runtime, user, customer, "2026-03-20", text="Later")
    overdue = _promise(runtime, user, customer, "2026-03-02", text="Overdue")
    soon = _promise(runtime, user, customer, "2026-03-11", text="Soon")
    kept = _promise(runtime, user, customer, "2026-03-03", kept="2026-03-03", text="Kept")
    with fixed_at(at(TODAY)), runtime.session() as db:
        found = promises.for_customer(db, actor=user.actor, customer_id=customer)
        due = promises.due_for(db, actor=user.actor, within_days=7)
    assert [p.id for p in found] == [overdue, soon, later, kept]
    assert [p.state for p in found] == ["overdue", "open", "open", "kept"]
    assert [p.id for p in due] == [overdue, soon], "the next seven days, overdue first"
