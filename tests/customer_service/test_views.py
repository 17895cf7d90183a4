"""What the views compose from customer service: the briefing's section, the home page, a merge."""

from __future__ import annotations

from datetime import date

from segone.accounts.schemas import SYSTEM, Role
from segone.clock import fixed_at
from segone.customer_service.promises import service as promises
from segone.customer_service.promises.schemas import PromiseCreate, PromiseMark
from segone.customer_service.recovery import service as recovery
from segone.customer_service.recovery.schemas import CaseClose, CaseOpen, Priority, Verdict
from segone.knowledge.categories.service import in_force as categories_in_force
from segone.runtime import Runtime
from segone.views import merge
from segone.views.briefing import EMPTY, briefing
from segone.views.home import home
from tests.customer_service.conftest import at, set_strategy
from tests.factories import make_customer, make_user


def test_the_briefing_lists_open_cases_then_open_promises(runtime: Runtime) -> None:
    set_strategy(runtime)
    user = make_user(runtime, Role.FRONTLINE)
    number = user.email.split("@")[0].removeprefix("frontline")
    customer = make_customer(runtime, name="Ann Archer")
    with fixed_at(at("2026-03-08", 9)), runtime.session() as db:
        normal = recovery.open_case(
            db, actor=user.actor, data=CaseOpen(customer_id=customer, summary="Invoice twice")
        )
        high = recovery.open_case(
            db,
            actor=SYSTEM,
            data=CaseOpen(customer_id=customer, summary="Parcel stolen", priority=Priority.HIGH),
        )
        done = recovery.open_case(db, actor=user.actor, data=CaseOpen(customer_id=customer, summary="Old"))
        recovery.close_case(
            db,
            actor=user.actor,
            case_id=done.id,
            data=CaseClose(resolution="Fixed", verdict=Verdict.SATISFIED),
        )
        due = promises.make(
            db,
            actor=user.actor,
            data=PromiseCreate(customer_id=customer, text="Ring back", due_on=date(2026, 3, 9)),
        )
        kept = promises.make(
            db,
            actor=user.actor,
            data=PromiseCreate(customer_id=customer, text="Post it", due_on=date(2026, 3, 9)),
        )
        promises.keep(db, actor=user.actor, promise_id=kept.id, data=PromiseMark())
    with fixed_at(at("2026-03-10", 12)), runtime.session() as db:
        read = briefing(
            db,
            actor=user.actor,
            customer_id=customer,
            categories=categories_in_force(runtime.settings),
            freshness_months=12,
            currency="USD",
        )
    assert read.service.available and read.service.note == EMPTY["service"]
    assert read.service.items == [
        f"Recovery case {high.id}, high priority, overdue since 09 Mar 2026 09:00 UTC: Parcel stolen "
        "(owner: nobody yet).",
        f"Recovery case {normal.id}, normal priority, to put right by 11 Mar 2026 09:00 UTC: Invoice twice "
        f"(owner: Frontline {number}).",
        f"Promise due 09 Mar 2026 (overdue): Ring back (made by Frontline {number}).",
    ]
    assert due.id != kept.id
    assert read.strategy == [
        "We provide and support quality solutions.",
        "We make promises and always keep them.",
        "We are easy to do business with.",
        "We care.",
        "Recovery is our #1 priority.",
    ]


def test_the_home_page_carries_the_backlog_the_promises_due_and_the_strategy(runtime: Runtime) -> None:
    user = make_user(runtime, Role.FRONTLINE)
    customer = make_customer(runtime)
    with runtime.session() as db:
        page = home(db, actor=user.actor, employee_id=user.id)
        assert page.recovery is not None and page.recovery.items == [] and page.strategy is None
        recovery.open_case(db, actor=user.actor, data=CaseOpen(customer_id=customer, summary="Late"))
    set_strategy(runtime)
    with runtime.session() as db:
        page = home(db, actor=user.actor, employee_id=user.id)
    assert page.recovery is not None and [c.summary for c in page.recovery.items] == ["Late"]
    assert page.strategy is not None and page.strategy.version == 1


def test_a_merge_moves_the_cases_and_promises_to_the_survivor(runtime: Runtime) -> None:
    survivor = make_customer(runtime, name="Ann Archer")
    duplicate = make_customer(runtime, name="A. Archer")
    with runtime.session() as db:
        case = recovery.open_case(db, actor=SYSTEM, data=CaseOpen(customer_id=duplicate, summary="Late"))
        promise = promises.make(
            db, actor=SYSTEM, data=PromiseCreate(customer_id=duplicate, text="Ring", due_on=date(2099, 1, 1))
        )
        _, moved = merge.merge(db, actor=SYSTEM, survivor_id=survivor, merged_id=duplicate)
    assert (moved["recovery_cases"], moved["promises"]) == (1, 1)
    with runtime.session() as db:
        assert [c.id for c in recovery.for_customer(db, actor=SYSTEM, customer_id=survivor)] == [case.id]
        assert [p.id for p in promises.for_customer(db, actor=SYSTEM, customer_id=duplicate)] == [promise.id]
