"""A month's review against figures worked out by hand: each deliverable's mean, count, distribution and
trend, the shortfalls and why, the card's mean, NPS and CSAT, comments, action plans and their follow-up."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest

from segone.accounts.schemas import SYSTEM, Role
from segone.errors import Forbidden, Invalid, NotFound
from segone.quality import service as quality
from segone.quality.measures import Reason
from segone.quality.schemas import ActionPlanCreate, ActionPlanUpdate, CardCreate, PlanStatus, RatingCreate
from segone.runtime import Runtime
from tests.factories import make_customer
from tests.quality.helpers import C, L, M, external_card, member, rate, three_months, today


@pytest.fixture(autouse=True)
def _november() -> Iterator[None]:
    with today():
        yield


def test_each_deliverable_has_its_mean_count_distribution_and_trend(runtime: Runtime) -> None:
    card, _raters = three_months(runtime)
    with runtime.session() as db:
        found = quality.review(db, actor=SYSTEM, card_id=card.id, period="2026-11")
    assert found.period == "2026-11" and found.period_label == "November 2026"
    assert found.periods[0] == "2025-12" and found.periods[-1] == "2026-11" and len(found.periods) == 12
    assert found.raters == 3
    # Every score of November: 4+4+4 + 3+3+5 + 5+5+4 = 37 over 9.
    assert found.scores == 9 and found.mean == pytest.approx(37 / 9)
    leads, calendar, materials = found.deliverables
    assert [d.name for d in found.deliverables] == [L, C, M]
    assert (leads.mean, leads.count) == (4.0, 3)
    assert leads.distribution == {"1": 0, "2": 0, "3": 0, "4": 3, "5": 0}
    assert leads.trend == [None] * 9 + [pytest.approx(14 / 3), pytest.approx(13 / 3), 4.0]
    assert leads.counts == [0] * 9 + [3, 3, 3]
    assert (calendar.mean, calendar.count) == (pytest.approx(11 / 3), 3)
    assert calendar.distribution == {"1": 0, "2": 0, "3": 2, "4": 0, "5": 1}
    assert calendar.trend[-3:] == [3.5, 3.0, pytest.approx(11 / 3)]
    assert materials.trend[-3:] == [None, 5.0, pytest.approx(14 / 3)]
    assert materials.distribution == {"1": 0, "2": 0, "3": 0, "4": 1, "5": 2}
    assert found.nps is None and found.csat is None  # an internal card


def test_the_shortfalls_and_why(runtime: Runtime) -> None:
    card, _raters = three_months(runtime)
    with runtime.session() as db:
        november = quality.review(db, actor=SYSTEM, card_id=card.id, period="2026-11")
        october = quality.review(db, actor=SYSTEM, card_id=card.id, period="2026-10")
    leads, calendar, materials = november.deliverables
    assert leads.shortfall is not None and leads.shortfall.reasons == [Reason.FALLING]
    assert leads.shortfall.why == "fell two periods in a row: 4.67 (2026-09), 4.33 (2026-10), 4.00 now"
    assert calendar.shortfall is not None and calendar.shortfall.reasons == [Reason.BELOW_TARGET]
    assert calendar.shortfall.why == "3.67 is below the target of 4.00"
    assert materials.shortfall is None
    assert november.shortfalls == 2
    # In October leads had fallen once only; the calendar was at 3.00.
    assert [d.shortfall.why if d.shortfall else None for d in october.deliverables] == [
        None,
        "3.00 is below the target of 4.00",
        None,
    ]


def test_the_latest_rated_period_is_reviewed_by_default_and_a_future_one_is_refused(runtime: Runtime) -> None:
    card, _raters = three_months(runtime)
    with runtime.session() as db:
        assert quality.review(db, actor=SYSTEM, card_id=card.id).period == "2026-11"
        with pytest.raises(Invalid, match="2027-01 is in the future"):
            quality.review(db, actor=SYSTEM, card_id=card.id, period="2027-01")


def test_comments_come_with_the_review(runtime: Runtime) -> None:
    card, raters = three_months(runtime)
    with runtime.session() as db:
        found = quality.review(db, actor=SYSTEM, card_id=card.id, period="2026-11")
    assert found.comments_total == 1
    assert [(c.rater, c.text) for c in found.comments] == [
        (raters[1].email.split("@")[0], "Calendar late again.")
    ]


def test_action_plans_and_their_follow_up_in_the_next_review(runtime: Runtime) -> None:
    card, raters = three_months(runtime)
    manager = member(runtime, "Marketing", Role.MANAGER)
    owner = raters[0]
    with runtime.session() as db:

        def plan(deliverable: str, period: str, notes: str) -> int:
            return quality.add_plan(
                db,
                actor=manager.actor,
                card_id=card.id,
                data=ActionPlanCreate(
                    deliverable=deliverable,
                    period=period,
                    owner=owner.email,
                    due=date(2026, 12, 15),
                    notes=notes,
                ),
            ).id

        august = plan(C, "2026-08", "Share the calendar in the team channel")
        september = plan(C, "2026-09", "Weekly calendar mail")
        october = plan(L, "2026-10", "Call back leads within a day")
        november = plan(C, "2026-11", "Calendar owner named")
        quality.update_plan(
            db,
            actor=manager.actor,
            card_id=card.id,
            plan_id=september,
            data=ActionPlanUpdate(status=PlanStatus.DONE),
        )
        # The owner updates their own plan without the manager's permission.
        quality.update_plan(
            db,
            actor=owner.actor,
            card_id=card.id,
            plan_id=october,
            data=ActionPlanUpdate(status=PlanStatus.IN_PROGRESS),
        )
        found = quality.review(db, actor=SYSTEM, card_id=card.id, period="2026-11")
    leads, calendar, _materials = found.deliverables
    assert [p.id for p in calendar.plans] == [november] and leads.plans == []
    assert calendar.plans[0].owner.email == owner.email and calendar.plans[0].status is PlanStatus.OPEN
    # October's plan (the review before, whatever its status) and August's (not done); September's is done.
    assert [(f.id, f.status, f.mean_then, f.mean_now) for f in found.follow_up] == [
        (october, PlanStatus.IN_PROGRESS, pytest.approx(13 / 3), 4.0),
        (august, PlanStatus.OPEN, None, pytest.approx(11 / 3)),
    ]


def test_an_action_plan_is_refused_saying_what_is_wrong(runtime: Runtime) -> None:
    card, raters = three_months(runtime)
    seller = raters[0]
    manager = member(runtime, "Sales", Role.MANAGER)
    stranger = member(runtime, "Warehouse", Role.MANAGER)
    other = member(runtime, "Sales")
    good = ActionPlanCreate(deliverable=C, period="2026-11", owner=seller.email, due=date(2026, 12, 1))
    with runtime.session() as db:
        with pytest.raises(Forbidden, match="manage report cards"):
            quality.add_plan(db, actor=seller.actor, card_id=card.id, data=good)
        with pytest.raises(NotFound):
            quality.add_plan(db, actor=stranger.actor, card_id=card.id, data=good)
        for change, field in (
            ({"deliverable": "Coffee"}, "deliverable"),
            ({"period": "2026-12"}, "period"),
            ({"owner": "nobody@example.com"}, "owner"),
            ({"due": date(2026, 11, 19)}, "due"),
        ):
            with pytest.raises(Invalid) as refused:
                quality.add_plan(
                    db, actor=manager.actor, card_id=card.id, data=good.model_copy(update=change)
                )
            assert refused.value.field == field
        made = quality.add_plan(db, actor=manager.actor, card_id=card.id, data=good)
        with pytest.raises(Forbidden):
            quality.update_plan(
                db, actor=other.actor, card_id=card.id, plan_id=made.id, data=ActionPlanUpdate(notes="x")
            )
        with pytest.raises(NotFound, match="has no action plan 999"):
            quality.update_plan(
                db, actor=manager.actor, card_id=card.id, plan_id=999, data=ActionPlanUpdate(notes="x")
            )


def test_an_external_card_has_nps_and_csat_worked_out_by_hand(runtime: Runtime) -> None:
    member(runtime, "Store York")
    card = external_card(runtime)
    people = [make_customer(runtime, name=f"Customer {n}") for n in range(4)]
    answers = {
        # (welcome, advice, nps, csat)
        "2026-10": [(5, 4, 10, 5), (4, 4, 6, 5)],
        "2026-11": [(5, 5, 10, 5), (4, 3, 9, 4), (4, 4, 7, 4), (2, 3, 3, 2)],
    }
    with runtime.session() as db:
        for period, rows in answers.items():
            for customer, (welcome, advice, nps, csat) in zip(people, rows, strict=False):
                quality.rate(
                    db,
                    actor=SYSTEM,
                    card_id=card.id,
                    data=RatingCreate(
                        period=period,
                        scores={"Welcome": welcome, "Advice": advice},
                        nps=nps,
                        csat=csat,
                        customer=str(customer),
                    ),
                )
        found = quality.review(db, actor=SYSTEM, card_id=card.id, period="2026-11")
    assert found.nps is not None and found.csat is not None
    # November: promoters 10, 9 (2); passive 7 (1); detractor 3 (1): 100 x (2 - 1) / 4 = 25.
    assert (found.nps.score, found.nps.promoters, found.nps.passives, found.nps.detractors) == (25.0, 2, 1, 1)
    # October: one promoter, one detractor: 0.
    assert found.nps.trend[-2:] == [0.0, 25.0]
    # CSAT: 5, 4, 4, 2 -> mean 15 / 4 = 3.75; satisfied 3 of 4.
    assert (found.csat.mean, found.csat.share, found.csat.satisfied) == (3.75, 0.75, 3)
    assert found.csat.distribution == {"1": 0, "2": 1, "3": 0, "4": 2, "5": 1}
    assert found.csat.trend[-2:] == [5.0, 3.75]
    welcome, advice = found.deliverables
    assert (welcome.mean, advice.mean) == (3.75, 3.75)  # 15 / 4 each
    assert welcome.shortfall is not None and welcome.shortfall.why == "3.75 is below the target of 4.00"


def test_a_quarterly_card_is_rated_and_reviewed_by_quarter(runtime: Runtime) -> None:
    member(runtime, "Repairs")
    seller = member(runtime, "Sales")
    with runtime.session() as db:
        card = quality.create(
            db,
            actor=SYSTEM,
            data=CardCreate(
                supplier_team="Repairs",
                customer_team="Sales",
                deliverables=["Turnaround"],
                period_length="quarter",
            ),
        )
    for period, score in (("2026-Q3", 5), ("2026-Q4", 3)):
        rate(runtime, card, seller, period, {"Turnaround": score})
    with runtime.session() as db:
        found = quality.review(db, actor=SYSTEM, card_id=card.id)
        with pytest.raises(Invalid, match="is a month, but this card's periods are quarters"):
            quality.review(db, actor=SYSTEM, card_id=card.id, period="2026-11")
    assert (found.period, found.period_label) == ("2026-Q4", "Q4 2026")
    assert found.periods[0] == "2024-Q1" and found.deliverables[0].trend[-2:] == [5.0, 3.0]
    assert found.deliverables[0].shortfall is not None
