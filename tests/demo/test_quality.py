"""The demo's report cards, recovery cases and promises (``demo.quality``): twelve months of ratings with
the designed shortfalls and their plans, cases opened from complaint events, promises in every state;
"think customer" predictions, the differentiation survey and advocacy events (``demo.perception``), each
page's figures worked out again from the stored rows; the same store on every load of a day, and a load of
a few seconds."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from fractions import Fraction
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from sqlalchemy import select

from segone import demo
from segone.accounts import service as accounts
from segone.accounts.models import User
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
from segone.quality.models import ActionPlan, Rating, RatingPrediction, ReportCard, Score, SurveyAnswer
from segone.quality.schemas import SurveyGroup
from segone.runtime import Runtime
from segone.settings import Settings
from segone.views import perception
from tests.behaviour.conftest import DUCKDB_WARNING

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
            "predictions": _rows(
                db,
                RatingPrediction.encounter_id,
                RatingPrediction.employee_id,
                RatingPrediction.predicted,
                RatingPrediction.created_at,
            ),
            "answers": _rows(
                db,
                SurveyAnswer.group,
                SurveyAnswer.user_id,
                SurveyAnswer.customer_id,
                SurveyAnswer.agreement,
                SurveyAnswer.statement,
                SurveyAnswer.created_at,
            ),
            "events": sorted(
                (e["event_id"], e["type"], e["customer_id"], e["ts"])
                for e in pq.read_table(runtime.settings.data_dir / "events").to_pylist()
            ),
        }


def test_two_loads_on_one_day_write_the_same_store(stores: list[tuple[Runtime, QualitySummary]]) -> None:
    (first, one), (second, two) = stores
    assert one.model_dump(exclude={"seconds"}) == two.model_dump(exclude={"seconds"})
    assert _fingerprint(first) == _fingerprint(second)


# --- think customer, the perception gap, advocacy ---------------------------------------------------------


def _expected_gaps(runtime: Runtime) -> tuple[dict[tuple[str, str], list[Fraction]], int]:
    """Each (month, team)'s gaps, predicted - the customer's own rating, worked out from the stored rows
    by the rule of docs/quality.md (the first external rating within 30 days at or after the encounter,
    the mean of its scores), and how many predictions await that rating."""
    with runtime.session() as db:
        teams = accounts.team_names_by_user(db)
        external = list(
            db.execute(
                select(Rating.rater_customer_id, Rating.created_at, Rating.id, Score.score)
                .join(ReportCard, ReportCard.id == Rating.card_id)
                .join(Score, Score.rating_id == Rating.id)
                .where(ReportCard.customer_team_id.is_(None))
            )
        )
        predictions = list(db.scalars(select(RatingPrediction)))
    scores: dict[tuple[int, datetime, int], list[int]] = {}
    for customer_id, at, rating_id, score in external:
        scores.setdefault((customer_id, at, rating_id), []).append(score)
    gaps: dict[tuple[str, str], list[Fraction]] = {}
    awaiting = 0
    for p in predictions:
        rated = sorted(
            (at, rating_id, Fraction(sum(s), len(s)))
            for (customer_id, at, rating_id), s in scores.items()
            if customer_id == p.customer_id and p.encounter_at <= at <= p.encounter_at + timedelta(days=30)
        )
        if not rated:
            awaiting += 1
            continue
        month = f"{p.encounter_at:%Y-%m}"
        gaps.setdefault((month, teams[p.employee_id]), []).append(p.predicted - rated[0][2])
    return gaps, awaiting


def test_think_customer_predictions_meet_the_customers_own_ratings(
    loaded: tuple[Runtime, QualitySummary],
) -> None:
    runtime, summary = loaded
    gaps, awaiting = _expected_gaps(runtime)
    with fixed_at(NOW), runtime.session() as db:
        report = quality.empathy(db, actor=SYSTEM)
        assert report.predictions == summary.predictions == db.query(RatingPrediction).count() > 100
    assert report.awaiting == summary.predictions_awaiting == awaiting > 0
    assert {(r.month, r.name): (r.count, r.mean_gap) for r in report.teams} == {
        key: (len(found), pytest.approx(float(sum(found, Fraction(0)) / len(found))))
        for key, found in gaps.items()
    }
    # Three teams, every month of the ratings, and the employees the demo gave a bias of their own.
    assert {r.name for r in report.teams} == {"Store York", "Store Leeds", "Customer Service"}
    assert len({r.month for r in report.teams}) >= 11
    people = {r.name for r in report.employees}
    assert {"Priya Shah", "Owen Lloyd", "Megan Clarke"} <= people
    # Megan (customer service) expects the worst; Owen was too hopeful a year ago, less so lately.
    megan = [r for r in report.employees if r.name == "Megan Clarke"]
    assert sum(r.mean_gap * r.count for r in megan) < 0
    owen = sorted((r.month, r.mean_gap, r.count) for r in report.employees if r.name == "Owen Lloyd")
    first, last = owen[: len(owen) // 2], owen[len(owen) // 2 :]
    weighted = [sum(g * n for _, g, n in half) / sum(n for _, _, n in half) for half in (first, last)]
    assert weighted[0] > weighted[1]


def test_the_differentiation_survey_shows_the_perception_gap(loaded: tuple[Runtime, QualitySummary]) -> None:
    runtime, summary = loaded
    with runtime.session() as db:
        surveys = quality.list_surveys(db, actor=SYSTEM)
        assert [s.name for s in surveys] == ["Differentiation survey, November 2026"]
        found = perception.gap(db, actor=SYSTEM, survey_id=surveys[0].id)
        answers = list(db.scalars(select(SurveyAnswer)))
        roles = {u.id: u.role for u in db.scalars(select(User))}
        strategy = strategies.in_force(db)
    assert len(answers) == summary.survey_answers
    by_group = {group: [a.agreement for a in answers if a.group == group.value] for group in SurveyGroup}
    assert [(g.group, g.answers, g.agreeing) for g in found.groups] == [
        (group, len(given), sum(1 for a in given if a >= 4)) for group, given in by_group.items()
    ]
    # The executives answered as administrators and managers, the front line as front line.
    assert {roles[a.user_id] for a in answers if a.group == "executives"} == {"admin", "manager"}
    assert {roles[a.user_id] for a in answers if a.group == "frontline"} == {"frontline"}
    assert all(a.customer_id is not None for a in answers if a.group == "customers")
    executives, frontline, customers = (g.share for g in found.groups)
    assert executives is not None and frontline is not None and customers is not None
    assert executives >= 0.6 > customers and executives > frontline > customers and customers <= 0.2
    # Every front-line statement is graded against the strategy on record; some pass, some do not.
    stated = [a.statement for a in answers if a.group == "frontline" and a.statement]
    check = found.strategy_check
    assert check.strategy_statements == len(strategy.core_service) + len(strategy.service_experience)
    assert check.checked == len(stated) == len(found.statements) > 0
    assert check.passed == sum(1 for s in found.statements if s.similarity >= check.threshold)
    assert 0 < check.passed < check.checked
    assert all(
        s.closest in (*strategy.core_service, *strategy.service_experience)
        for s in found.statements
        if s.passed
    )


@pytest.mark.filterwarnings(DUCKDB_WARNING)
def test_advocates_from_the_referral_and_review_events(loaded: tuple[Runtime, QualitySummary]) -> None:
    runtime, summary = loaded
    # The events as stored, read straight from the dataset's files: each customer's referrals and reviews
    # of the last 365 days.
    stored = pq.read_table(runtime.settings.data_dir / "events").to_pylist()
    counted: dict[int, Counter[str]] = {}
    for event in stored:
        if event["type"] in ("referral", "review") and event["ts"] >= NOW - timedelta(days=365):
            counted.setdefault(event["customer_id"], Counter())[event["type"]] += 1
    with fixed_at(NOW), runtime.session() as db:
        found = quality.advocates(
            db, actor=SYSTEM, data_dir=runtime.settings.data_dir, analytics_url=runtime.settings.analytics_url
        )
    assert sum(sum(c.values()) for c in counted.values()) == summary.advocacy_events
    assert (found.customers, found.referrals, found.reviews) == (
        len(counted),
        sum(c["referral"] for c in counted.values()),
        sum(c["review"] for c in counted.values()),
    )
    assert {(a.customer_id, a.referrals, a.reviews) for a in found.items} == {
        (cid, c["referral"], c["review"]) for cid, c in counted.items() if sum(c.values()) >= 2
    }
    assert 20 <= len(found.items) < found.customers  # advocates, and customers who referred or reviewed once
    assert found.referrals > 0 and found.reviews > 0
