"""The demo's report cards, recovery cases and promises (``demo.quality``): twelve months of ratings with
the designed shortfalls and their plans, cases opened from complaint events, promises in every state, the
same store on every load of a day, and a load of a few seconds."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from segone import demo
from segone.accounts import service as accounts
from segone.accounts.schemas import SYSTEM
from segone.clock import fixed_at
from segone.customer_service.promises.models import Promise
from segone.customer_service.promises.schemas import PromiseState
from segone.customer_service.promises.service import state_of
from segone.customer_service.recovery import service as recovery
from segone.customer_service.recovery.models import RecoveryAction, RecoveryCase
from segone.customer_service.strategy import service as strategies
from segone.demo.quality import CARDS, SHORTFALLS, QualitySummary, load_quality
from segone.demo.users import TEAM_USERS
from segone.knowledge.categories.service import in_force as categories_in_force
from segone.quality import service as quality
from segone.quality.models import ActionPlan, Rating, Score
from segone.runtime import Runtime
from segone.settings import Settings

DAY = date(2026, 11, 27)
NOW = datetime(2026, 11, 27, tzinfo=UTC)
MONTHS = [f"2025-{m:02d}" for m in range(11, 13)] + [f"2026-{m:02d}" for m in range(1, 11)]


def _load(directory: Path) -> tuple[Runtime, QualitySummary]:
    runtime = Runtime(Settings(data_dir=directory, secret_key="test-secret-key"))
    runtime.upgrade_schema()
    with runtime.session() as db:
        demo.load(
            db,
            actor=SYSTEM,
            categories=categories_in_force(runtime.settings),
            day=DAY,
            people=120,
            businesses=30,
        )
    return runtime, load_quality(runtime, actor=SYSTEM, day=DAY)


@pytest.fixture(scope="module")
def stores(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[tuple[Runtime, QualitySummary]]]:
    """A small demo (120 people) with its quality data, loaded twice into stores of their own."""
    made = [_load(tmp_path_factory.mktemp("first")), _load(tmp_path_factory.mktemp("second"))]
    yield made
    for runtime, _ in made:
        runtime.dispose()


@pytest.fixture(scope="module")
def loaded(stores: list[tuple[Runtime, QualitySummary]]) -> tuple[Runtime, QualitySummary]:
    return stores[0]


def _card_named(runtime: Runtime, name: str) -> int:
    with runtime.session() as db:
        return quality.resolve(db, actor=SYSTEM, reference=name).id


def test_the_load_is_fast_and_counts_what_it_wrote(loaded: tuple[Runtime, QualitySummary]) -> None:
    runtime, summary = loaded
    assert summary.seconds < 10  # a few seconds on a busy machine
    assert summary.cards == len(CARDS) == 9
    assert summary.plans == 6 and summary.promises == 24 and summary.events == 40
    with runtime.session() as db:
        assert db.query(Rating).count() == summary.ratings
        teams = set(accounts.teams(db).values())
        assert {"Store York", "Store Leeds", "Customer Service", "Business Sales"} <= teams
        assert {"Marketing", "Warehouse", "Repairs"} <= teams
        members = Counter(
            m.team for m in accounts.members_by_email(db, emails=[u.email for u in TEAM_USERS]).values()
        )
        assert members["Warehouse"] == 2 and members["Repairs"] == 2


def test_every_card_has_twelve_months_ending_last_month(loaded: tuple[Runtime, QualitySummary]) -> None:
    runtime, _ = loaded
    with fixed_at(NOW), runtime.session() as db:
        cards = quality.list_cards(db, actor=SYSTEM).items
        assert {c.kind.value for c in cards} == {"external", "internal"}
        assert len(cards) == 9
        for card in cards:
            review = quality.review(db, actor=SYSTEM, card_id=card.id)
            assert review.period == "2026-10" and review.periods == MONTHS, card.name
            assert len(review.deliverables) == 6
            for row in review.deliverables:
                assert all(n > 0 for n in row.counts), (card.name, row.name)
            if card.kind.value == "external":
                assert review.nps is not None and review.nps.answers == review.raters >= 14
                assert review.csat is not None and review.csat.answers == review.raters
            else:
                assert review.raters == 3  # the customer team's three members


def test_the_designed_shortfalls_show_with_their_plans(loaded: tuple[Runtime, QualitySummary]) -> None:
    runtime, _ = loaded
    with fixed_at(NOW), runtime.session() as db:
        found: dict[tuple[str, str], Any] = {}
        for card in quality.list_cards(db, actor=SYSTEM).items:
            review = quality.review(db, actor=SYSTEM, card_id=card.id)
            for row in review.deliverables:
                if row.shortfall is not None:
                    found[(card.name, row.name)] = (row, review)
        assert set(found) == {(s.card, s.deliverable) for s in SHORTFALLS}
        stock, review = found[("Warehouse for Store York", "Stock arrives on the day promised")]
        assert [round(m, 2) for m in stock.trend[-3:]] == [4.33, 4.0, 3.67]  # 13/3, 12/3, 11/3
        assert {r.value for r in stock.shortfall.reasons} == {"below_target", "falling"}
        assert [(p.owner.name, p.status.value, p.overdue) for p in stock.plans] == [
            ("Sam Turner", "open", False)
        ]
        assert [(f.period, f.status.value) for f in review.follow_up] == [("2026-09", "done")]
        queues, review = found[("Store Leeds for customers: store", "Queues at the till are short")]
        assert [r.value for r in queues.shortfall.reasons] == ["below_target"]
        assert queues.mean is not None and queues.mean < 4.0 and len(queues.plans) == 1
        follow = [(f.period, f.status.value, f.overdue) for f in review.follow_up]
        assert follow == [
            ("2026-09", "in_progress", True)
        ]  # the July plan was done and is followed up no more
        calls, _ = found[("Customer Service for customers: phone", "Called back when promised")]
        assert [r.value for r in calls.shortfall.reasons] == ["falling"] and calls.plans
        assert review.comments_total > 0
        assert any("till" in c.text for c in review.comments)


def test_recovery_cases_open_from_the_complaint_events(loaded: tuple[Runtime, QualitySummary]) -> None:
    runtime, summary = loaded
    with runtime.session() as db:
        strategy = strategies.in_force(db)
        assert strategy.on_record and "We make promises and always keep them." in strategy.core_service
        cases = list(db.scalars(select(RecoveryCase)))
        assert len(cases) == summary.cases == summary.events
        assert all(c.event_id and c.source in ("complaint", "return") for c in cases)
        assert {c.source for c in cases} == {"complaint", "return"}
        closed = [c for c in cases if c.status == "closed"]
        still = [c for c in cases if c.status == "open"]
        assert len(still) == summary.cases_open and 1 <= len(still) <= 8 and len(closed) > 25
        assert any(c.target_at < NOW for c in still)  # some overdue
        assert all(c.opened_at >= c.reported_at and c.closed_at is not None for c in closed)
        assert all(
            c.opened_at <= c.closed_at <= NOW and c.resolution and c.verdict for c in closed if c.closed_at
        )
        assert {c.verdict for c in closed} == {"satisfied", "not_satisfied"}
        actions = list(db.scalars(select(RecoveryAction)))
        granted = [a for a in actions if a.exception_key is not None]
        assert granted and all(
            a.cost is not None and a.limit is not None and a.cost <= a.limit for a in granted
        )
        assert {a.case_id for a in actions} == {c.id for c in closed}
    # The events are in the dataset once: syncing again opens nothing.
    with fixed_at(NOW):
        again = recovery.sync_from_events(
            runtime.sessions,
            actor=SYSTEM,
            data_dir=runtime.settings.data_dir,
            analytics_url=runtime.settings.analytics_url,
            currency=runtime.settings.currency,
        )
    assert (again.events, again.opened, again.had_a_case) == (summary.events, 0, summary.events)


def test_promises_in_every_state_across_teams(loaded: tuple[Runtime, QualitySummary]) -> None:
    runtime, _ = loaded
    with runtime.session() as db:
        made = list(db.scalars(select(Promise)))
        states = Counter(state_of(p.status, p.due_on, p.resolved_on, DAY) for p in made)
        assert states == {
            PromiseState.KEPT: 12,
            PromiseState.BROKEN: 4,
            PromiseState.OPEN: 4,
            PromiseState.OVERDUE: 4,
        }
        teams = accounts.team_names_by_user(db)
        assert {teams[p.made_by_id] for p in made if p.made_by_id} == {
            "Store York",
            "Store Leeds",
            "Customer Service",
            "Business Sales",
            "Repairs",
        }
        assert all(p.made_at <= NOW for p in made)


def _rows(db: Any, *columns: Any) -> list[tuple[Any, ...]]:
    return sorted((tuple(row) for row in db.execute(select(*columns))), key=repr)


def _fingerprint(runtime: Runtime) -> dict[str, list[tuple[Any, ...]]]:
    with runtime.session() as db:
        return {
            "ratings": _rows(
                db,
                Rating.card_id,
                Rating.period,
                Rating.rater_user_id,
                Rating.rater_customer_id,
                Rating.nps,
                Rating.csat,
                Rating.comment,
                Rating.created_at,
            ),
            "scores": _rows(db, Score.rating_id, Score.deliverable_id, Score.score),
            "plans": _rows(
                db,
                ActionPlan.card_id,
                ActionPlan.period,
                ActionPlan.owner_id,
                ActionPlan.due,
                ActionPlan.status,
            ),
            "cases": _rows(
                db,
                RecoveryCase.customer_id,
                RecoveryCase.summary,
                RecoveryCase.reported_at,
                RecoveryCase.opened_at,
                RecoveryCase.closed_at,
                RecoveryCase.verdict,
            ),
            "actions": _rows(
                db, RecoveryAction.case_id, RecoveryAction.at, RecoveryAction.text, RecoveryAction.cost
            ),
            "promises": _rows(
                db, Promise.customer_id, Promise.text, Promise.made_at, Promise.due_on, Promise.status
            ),
        }


def test_two_loads_on_one_day_write_the_same_store(stores: list[tuple[Runtime, QualitySummary]]) -> None:
    (first, one), (second, two) = stores
    assert one.model_dump(exclude={"seconds"}) == two.model_dump(exclude={"seconds"})
    assert _fingerprint(first) == _fingerprint(second)
