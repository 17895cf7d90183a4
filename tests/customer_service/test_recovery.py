"""Recovery cases: their order, their clocks, the limits of exceptions, the sync from events, the measures
(each against numbers worked out by hand)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from segone.accounts.schemas import SYSTEM, Role
from segone.behaviour import ingest
from segone.clock import fixed_at
from segone.customer_service.recovery import measures as maths
from segone.customer_service.recovery import service as recovery
from segone.customer_service.recovery.schemas import (
    ActionCreate,
    CaseClose,
    CaseOpen,
    CaseStatus,
    CaseUpdate,
    Priority,
    Retention,
    Verdict,
)
from segone.errors import Conflict, Forbidden, Invalid
from segone.runtime import Runtime
from segone.views import merge
from tests.behaviour.conftest import DUCKDB_WARNING
from tests.customer_service.conftest import at, set_strategy
from tests.factories import MadeUser, make_customer, make_user

NOW = at("2026-03-10", 12)


def _open(
    runtime: Runtime,
    user: MadeUser,
    customer: int,
    reported: str,
    hour: int = 9,
    priority: Priority = Priority.NORMAL,
    summary: str = "Parcel never came",
) -> int:
    with fixed_at(at(reported, hour)), runtime.session() as db:
        return recovery.open_case(
            db,
            actor=user.actor,
            data=CaseOpen(customer_id=customer, summary=summary, priority=priority),
        ).id


def _close(runtime: Runtime, user: MadeUser, case_id: int, day: str, hour: int, verdict: Verdict) -> None:
    with fixed_at(at(day, hour)), runtime.session() as db:
        recovery.close_case(
            db, actor=user.actor, case_id=case_id, data=CaseClose(resolution="Put right", verdict=verdict)
        )


def test_percentiles_interpolate_between_the_closest_ranks() -> None:
    hours = [30.0, 2.0, 50.0, 4.0, 10.0]
    assert maths.percentile(hours, 0.5) == 10.0
    # h = (5 - 1) x 0.9 = 3.6: 30 + 0.6 x (50 - 30) = 42.
    assert maths.percentile(hours, 0.9) == pytest.approx(42.0)
    # Even count: h = 1.5 between 4 and 10.
    assert maths.percentile([2.0, 4.0, 10.0, 30.0], 0.5) == pytest.approx(7.0)
    assert maths.percentile([5.0], 0.9) == 5.0 and maths.percentile([], 0.5) is None


def test_open_cases_come_first_high_priority_first_then_the_longest_waiting(runtime: Runtime) -> None:
    set_strategy(runtime)
    user = make_user(runtime, Role.FRONTLINE)
    customer = make_customer(runtime)
    old_normal = _open(runtime, user, customer, "2026-02-28")
    new_high = _open(runtime, user, customer, "2026-03-09", priority=Priority.HIGH)
    old_high = _open(runtime, user, customer, "2026-03-07", priority=Priority.HIGH)
    closed_early = _open(runtime, user, customer, "2026-02-01", priority=Priority.HIGH)
    closed_late = _open(runtime, user, customer, "2026-02-02")
    _close(runtime, user, closed_early, "2026-02-03", 9, Verdict.SATISFIED)
    _close(runtime, user, closed_late, "2026-02-05", 9, Verdict.SATISFIED)
    new_normal = _open(runtime, user, customer, "2026-03-10", hour=8)

    with fixed_at(NOW), runtime.session() as db:
        everything = recovery.list_cases(db, actor=user.actor, status=None)
        mine_open = recovery.list_cases(db, actor=user.actor)
        sheet = recovery.for_customer(db, actor=user.actor, customer_id=customer)
    order = [old_high, new_high, old_normal, new_normal, closed_late, closed_early]
    assert [c.id for c in everything.items] == order
    assert (everything.total, everything.open, everything.overdue) == (6, 4, 3)
    assert [c.id for c in mine_open.items] == order[:4] and mine_open.scope == "yours"
    assert [c.id for c in sheet] == order
    # The clocks: high 24 hours, normal 72 hours, from the moment the customer told us.
    by_id = {c.id: c for c in everything.items}
    assert by_id[old_high].target_at == at("2026-03-08", 9) and by_id[old_high].overdue
    assert by_id[new_high].target_at == at("2026-03-10", 9) and by_id[new_high].overdue
    assert by_id[old_normal].target_at == at("2026-03-03", 9) and by_id[old_normal].overdue
    assert by_id[new_normal].target_at == at("2026-03-13", 8) and not by_id[new_normal].overdue
    assert by_id[closed_early].hours_to_recover == 48.0 and not by_id[closed_early].overdue
    assert by_id[closed_late].hours_to_recover == 72.0


def test_a_backlog_covers_its_readers_scope_and_the_cases_nobody_took(runtime: Runtime) -> None:
    ann = make_user(runtime, Role.FRONTLINE, team="Store York")
    bob = make_user(runtime, Role.FRONTLINE, team="Store York")
    cat = make_user(runtime, Role.FRONTLINE, team="Store Leeds")
    manager = make_user(runtime, Role.MANAGER, team="Store York")
    customer = make_customer(runtime)
    anns, bobs, cats = (_open(runtime, u, customer, "2026-03-01") for u in (ann, bob, cat))
    with runtime.session() as db:
        nobodys = recovery.open_case(
            db, actor=SYSTEM, data=CaseOpen(customer_id=customer, summary="Return")
        ).id

    def seen(user: MadeUser) -> set[int]:
        with runtime.session() as db:
            return {c.id for c in recovery.list_cases(db, actor=user.actor).items}

    assert seen(ann) == {anns, nobodys}
    assert seen(manager) == {anns, bobs, nobodys}
    with runtime.session() as db:
        # Front-line staff take a case nobody has, and may not hand one on.
        taken = recovery.update_case(db, actor=cat.actor, case_id=nobodys, data=CaseUpdate(owner_id=cat.id))
        assert taken.owner_id == cat.id
        with pytest.raises(Forbidden):
            recovery.update_case(db, actor=cat.actor, case_id=cats, data=CaseUpdate(owner_id=ann.id))
        handed = recovery.update_case(db, actor=manager.actor, case_id=cats, data=CaseUpdate(owner_id=bob.id))
        assert handed.owner_id == bob.id
    assert seen(manager) == {anns, bobs, cats}


def test_raising_the_priority_moves_the_target(runtime: Runtime) -> None:
    set_strategy(runtime, target_hours_high=4)
    user = make_user(runtime, Role.FRONTLINE)
    case_id = _open(runtime, user, make_customer(runtime), "2026-03-09")
    with runtime.session() as db:
        raised = recovery.update_case(
            db, actor=user.actor, case_id=case_id, data=CaseUpdate(priority=Priority.HIGH)
        )
    assert (raised.priority, raised.target_at) == ("high", at("2026-03-09", 13))


def test_exceptions_within_the_roles_limit_per_case_and_refused_over_it(runtime: Runtime) -> None:
    set_strategy(runtime)
    frontline = make_user(runtime, Role.FRONTLINE)
    manager = make_user(runtime, Role.MANAGER)
    case_id = _open(runtime, frontline, make_customer(runtime), "2026-03-09")

    def grant(user: MadeUser, amount: float, key: str = "refund") -> None:
        with runtime.session() as db:
            recovery.act(
                db,
                actor=user.actor,
                case_id=case_id,
                data=ActionCreate(text="Refunded", exception=key, cost=amount),
                currency="USD",
            )

    grant(frontline, 40)
    with pytest.raises(Forbidden) as refused:
        grant(frontline, 20)
    assert refused.value.message == (
        "With the $40.00 granted on this case before, a refund of $20.00 comes to $60.00, over the frontline "
        "limit of $50.00 per case for refund in the service strategy (version 1). Ask someone whose limit "
        "covers it (manager: $500.00)."
    )
    assert refused.value.details == {
        "exception": "refund",
        "limit": 50.0,
        "role": "frontline",
        "cost": 20.0,
        "granted_before": 40.0,
        "strategy_version": 1,
    }
    with pytest.raises(Forbidden, match=r"A free delivery of \$16.00 is over the frontline limit of \$15.00"):
        grant(frontline, 16, "free-delivery")
    grant(manager, 400)  # 440 in all, within the manager's 500
    with pytest.raises(Forbidden, match=r"comes to \$540.00, over the manager limit of \$500.00"):
        grant(manager, 100)
    with pytest.raises(Invalid, match="'upgrade' is not an exception of the service strategy"):
        grant(manager, 1, "upgrade")
    with runtime.session() as db:
        detail = recovery.get_case(db, actor=frontline.actor, case_id=case_id)
    assert [(a.exception, a.cost, a.limit, a.role) for a in detail.actions] == [
        ("refund", 40.0, 50.0, "frontline"),
        ("refund", 400.0, 500.0, "manager"),
    ]
    assert detail.exceptions_cost == 440.0


def test_a_closed_case_takes_no_more_actions(runtime: Runtime) -> None:
    user = make_user(runtime, Role.FRONTLINE)
    case_id = _open(runtime, user, make_customer(runtime), "2026-03-09")
    _close(runtime, user, case_id, "2026-03-09", 11, Verdict.NOT_SATISFIED)
    with runtime.session() as db, pytest.raises(Conflict, match="closed already"):
        recovery.act(db, actor=user.actor, case_id=case_id, data=ActionCreate(text="Again"), currency="USD")


def test_measures_of_the_cases_closed_in_the_period(runtime: Runtime) -> None:
    set_strategy(runtime)  # high 24 hours, normal 72
    user = make_user(runtime, Role.FRONTLINE, team="Store York")
    manager = make_user(runtime, Role.MANAGER, team="Store York")
    other = make_user(runtime, Role.FRONTLINE, team="Store Leeds")
    customer = make_customer(runtime)
    # Times to recover 2, 4, 10, 30 and 50 hours; satisfied 3 of 5; within target: 2 h (high), 4 h (high),
    # 10 h (high), 50 h (normal); not 30 h (high).
    plan = [
        ("2026-03-02", 0, 2, Priority.HIGH, Verdict.SATISFIED),
        ("2026-03-03", 0, 4, Priority.HIGH, Verdict.NOT_SATISFIED),
        ("2026-03-04", 0, 10, Priority.HIGH, Verdict.SATISFIED),
        ("2026-03-05", 0, 30, Priority.HIGH, Verdict.SATISFIED),
        ("2026-03-06", 0, 50, Priority.NORMAL, Verdict.NOT_SATISFIED),
    ]
    for day, hour, hours, priority, verdict in plan:
        case_id = _open(runtime, user, customer, day, hour, priority)
        closed = at(day, hour) + timedelta(hours=hours)
        with fixed_at(closed), runtime.session() as db:
            recovery.act(
                db,
                actor=user.actor,
                case_id=case_id,
                data=ActionCreate(text="Refund", exception="refund", cost=10),
                currency="USD",
            )
            recovery.close_case(
                db, actor=user.actor, case_id=case_id, data=CaseClose(resolution="Done", verdict=verdict)
            )
    # Another team's case, and one closed before the period: neither counts for the manager.
    _close(runtime, other, _open(runtime, other, customer, "2026-03-02"), "2026-03-03", 9, Verdict.SATISFIED)
    _close(runtime, user, _open(runtime, user, customer, "2026-02-20"), "2026-02-21", 9, Verdict.SATISFIED)
    _open(runtime, user, customer, "2026-03-08", priority=Priority.HIGH)  # open and overdue on the 10th

    with fixed_at(NOW), runtime.session() as db:
        found = recovery.measures(db, actor=manager.actor, start=date(2026, 3, 1), end=date(2026, 3, 31))
    assert found.scope == "team Store York"
    assert (found.reported, found.closed, found.satisfied) == (6, 5, 3)
    assert found.recovery_rate == pytest.approx(0.6)
    assert (found.median_hours, found.p90_hours) == (10.0, pytest.approx(42.0))
    assert found.within_target == 4
    assert (found.exceptions, found.exceptions_cost) == (5, 50.0)
    assert (found.open_now, found.overdue_now) == (1, 1)
    assert found.retention is None
    with runtime.session() as db, pytest.raises(Forbidden):
        recovery.measures(db, actor=user.actor, start=date(2026, 3, 1), end=date(2026, 3, 31))


def _events(runtime: Runtime, events: list[dict[str, str]]) -> None:
    with runtime.session() as db:
        ingest.stage_batch(db, actor=SYSTEM, events=events)


@pytest.mark.filterwarnings(DUCKDB_WARNING)
def test_sync_opens_one_case_per_complaint_and_return_once(sqlite_runtime: Runtime) -> None:
    runtime = sqlite_runtime
    settings = runtime.settings
    set_strategy(runtime)
    ann = make_customer(runtime, name="Ann", identities=["crm:ann"])
    bob = make_customer(runtime, name="Bob", identities=["crm:bob"])
    bobs_duplicate = make_customer(runtime, name="Bob B.", identities=["crm:bob-2"])
    _events(
        runtime,
        [
            {
                "customer": "crm:ann",
                "type": "complaint",
                "timestamp": "2026-03-01T10:00:00Z",
                "reason": "late",
                "channel": "phone",
            },
            {"customer": "crm:ann", "type": "purchase", "timestamp": "2026-03-02T10:00:00Z", "value": "20"},
            {
                "customer": "crm:bob",
                "type": "return",
                "timestamp": "2026-03-03T10:00:00Z",
                "value": "49",
                "offering": "boots",
            },
            {"customer": "crm:bob-2", "type": "complaint", "timestamp": "2026-03-04T10:00:00Z"},
        ],
    )
    with runtime.session() as db:
        merge.merge(db, actor=SYSTEM, survivor_id=bob, merged_id=bobs_duplicate)

    def sync() -> list[int]:
        with fixed_at(NOW):
            report = recovery.sync_from_events(
                runtime.sessions,
                actor=SYSTEM,
                data_dir=settings.data_dir,
                analytics_url=settings.analytics_url,
                currency="USD",
            )
        assert report.events == 3
        return report.case_ids

    first = sync()
    assert len(first) == 3
    assert sync() == [], "a second sync opens nothing"
    with runtime.session() as db:
        cases = {c.id: c for c in recovery.list_cases(db, actor=SYSTEM, status=None).items}
    opened = [cases[i] for i in first]
    assert [(c.customer_id, c.source, c.priority, c.summary) for c in opened] == [
        (ann, "complaint", "high", "Complaint (phone): late"),
        (bob, "return", "normal", "Return of boots, $49.00: no reason given"),
        (bob, "complaint", "high", "Complaint: no reason given"),  # the merged record's, on the survivor
    ]
    assert opened[0].reported_at == at("2026-03-01", 10) and opened[0].target_at == at("2026-03-02", 10)
    assert opened[1].target_at == at("2026-03-06", 10)
    assert all(c.owner_id is None and c.status == CaseStatus.OPEN for c in opened)

    _events(runtime, [{"customer": "crm:ann", "type": "complaint", "timestamp": "2026-03-09T10:00:00Z"}])
    with fixed_at(NOW):
        again = recovery.sync_from_events(
            runtime.sessions, actor=SYSTEM, data_dir=settings.data_dir, analytics_url="", currency="USD"
        )
    assert (again.events, again.opened, again.had_a_case, again.flushed) == (4, 1, 3, 1)
    with fixed_at(NOW):
        since = recovery.sync_from_events(
            runtime.sessions,
            actor=SYSTEM,
            data_dir=settings.data_dir,
            analytics_url="",
            currency="USD",
            since=at("2026-03-04", 0),
        )
    assert (since.events, since.opened) == (2, 0)


@pytest.mark.filterwarnings(DUCKDB_WARNING)
def test_retention_after_recovery_against_complaints_without_a_case(sqlite_runtime: Runtime) -> None:
    """Period January 2026, a 30-day window. Recovered: R1 (closed 10 Jan, bought 20 Jan), R2 (closed
    15 Jan, bought 1 Mar: too late), R3 (closed 25 Jan, bought 1 Feb as a record since merged into it).
    Without a case: W1 (complained 5 Jan, bought 6 Jan), W2 and W5 (complained, never bought); W3
    complained and had a case reported in January, W4 complained in December: neither compared."""
    runtime = sqlite_runtime
    settings = runtime.settings
    user = make_user(runtime, Role.FRONTLINE)
    analyst = make_user(runtime, Role.ANALYST)
    ids = {
        name: make_customer(runtime, name=name, identities=[f"crm:{name}"])
        for name in ("R1", "R2", "R3", "R3b", "W1", "W2", "W3", "W4", "W5")
    }
    bought = [("R1", "2026-01-20"), ("R2", "2026-03-01"), ("R3b", "2026-02-01"), ("W1", "2026-01-06")]
    complained = [
        ("R1", "2026-01-09"),
        ("W1", "2026-01-05"),
        ("W2", "2026-01-07"),
        ("W3", "2026-01-12"),
        ("W4", "2025-12-20"),
        ("W5", "2026-01-08"),
    ]
    _events(
        runtime,
        [
            {"customer": f"crm:{who}", "type": "purchase", "timestamp": f"{day}T12:00:00Z"}
            for who, day in bought
        ]
        + [
            {"customer": f"crm:{who}", "type": "complaint", "timestamp": f"{day}T12:00:00Z"}
            for who, day in complained
        ],
    )
    ingest.flush_staged(runtime.sessions, dataset=ingest.dataset_of(settings.data_dir))
    with runtime.session() as db:
        merge.merge(db, actor=SYSTEM, survivor_id=ids["R3"], merged_id=ids["R3b"])
    for who, opened, closed, verdict in [
        ("R1", "2026-01-09", "2026-01-10", Verdict.SATISFIED),
        ("R2", "2026-01-14", "2026-01-15", Verdict.NOT_SATISFIED),
        ("R3", "2026-01-24", "2026-01-25", Verdict.SATISFIED),
    ]:
        _close(runtime, user, _open(runtime, user, ids[who], opened), closed, 9, verdict)
    _open(runtime, user, ids["W3"], "2026-01-13")

    def measured(today: str) -> Retention:
        with fixed_at(at(today)), runtime.session() as db:
            found = recovery.measures(
                db,
                actor=analyst.actor,
                start=date(2026, 1, 1),
                end=date(2026, 1, 31),
                days=30,
                data_dir=settings.data_dir,
                analytics_url=settings.analytics_url,
            )
        assert found.retention is not None
        return found.retention

    early = measured("2026-02-20")  # R3's window runs to 24 Feb: not measured yet
    assert early.recovered.model_dump() == {"customers": 3, "measured": 2, "purchased": 1, "share": 0.5}
    assert early.recovered_satisfied.model_dump() == {
        "customers": 2,
        "measured": 1,
        "purchased": 1,
        "share": 1.0,
    }
    assert early.without_case.model_dump() == {
        "customers": 3,
        "measured": 3,
        "purchased": 1,
        "share": pytest.approx(1 / 3),
    }
    assert early.difference == pytest.approx(0.5 - 1 / 3, abs=1e-6)

    later = measured("2026-04-01")
    assert later.recovered.model_dump() == {
        "customers": 3,
        "measured": 3,
        "purchased": 2,
        "share": pytest.approx(2 / 3),
    }
    assert later.recovered_satisfied.share == 1.0
    assert later.difference == pytest.approx(2 / 3 - 1 / 3, abs=1e-6)
