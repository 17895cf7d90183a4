""" "Think customer": predicted ratings after encounters, matched to the customer's own rating, and the gaps
per employee and team by month, against hand-computed values."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from segone.accounts.schemas import SYSTEM, Role
from segone.channels import Channel
from segone.clock import fixed_at
from segone.encounters import service as encounters
from segone.encounters.schemas import EncounterCreate
from segone.errors import Forbidden
from segone.knowledge.categories.service import in_force as categories_in_force
from segone.quality import service as quality
from segone.quality.schemas import EmpathyReport, PredictionCreate, RatingCreate
from segone.runtime import Runtime
from tests.factories import MadeUser, make_customer
from tests.quality.helpers import external_card, member

NOW = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)


def _at(month: int, day: int) -> datetime:
    return datetime(2026, month, day, 10, 0, tzinfo=UTC)


def encounter(runtime: Runtime, customer: int, employee: MadeUser, when: datetime) -> int:
    with fixed_at(NOW), runtime.session() as db:
        return encounters.record(
            db,
            actor=SYSTEM,
            customer_id=customer,
            data=EncounterCreate(channel=Channel.STORE, occurred_at=when),
            categories=categories_in_force(runtime.settings),
            employee_id=employee.id,
        ).id


def predict(runtime: Runtime, by: MadeUser, encounter_id: int, rating: int) -> None:
    with fixed_at(NOW), runtime.session() as db:
        quality.record_prediction(db, actor=by.actor, encounter_id=encounter_id, data=rating)


def customer_rates(
    runtime: Runtime, card_id: int, customer: int, when: datetime, scores: dict[str, int]
) -> None:
    with fixed_at(when), runtime.session() as db:
        quality.rate(
            db,
            actor=SYSTEM,
            card_id=card_id,
            data=RatingCreate(period=f"{when:%Y-%m}", scores=scores, customer=str(customer)),
        )


@dataclass
class Planted:
    york_a: MadeUser
    york_b: MadeUser
    leeds_c: MadeUser
    encounters: dict[str, int]
    x: int
    when: datetime = datetime(2026, 11, 15, 10, 0, tzinfo=UTC)
    """A moment after every rating of the planted customers."""


def plant(runtime: Runtime) -> Planted:
    """Five encounters and what the customers said afterwards on the store card (Welcome, Advice):

    | encounter | who        | customer, when | predicted | customer's next rating within 30 days  | gap  |
    | E1        | A (York)   | X, 2 Oct       | 5         | X on 10 Oct: 4, 3 -> 3.5               | +1.5 |
    | E2        | A (York)   | Y, 5 Oct       | 3         | Y on 20 Sep (before), 10 Nov (36 days) | -    |
    | E3        | B (York)   | Z, 6 Oct       | 2         | Z on 8 Oct: 5 -> 5                     | -3   |
    | E4        | A (York)   | Z, 2 Nov       | 4         | Z on 5 Nov: 4, 5 -> 4.5                | -0.5 |
    | E5        | C (Leeds)  | X, 3 Oct       | 4         | X on 10 Oct: 3.5                       | +0.5 |
    """
    york_a, york_b = member(runtime, "Store York"), member(runtime, "Store York")
    leeds_c = member(runtime, "Store Leeds")
    card = external_card(runtime)
    x, y, z = (make_customer(runtime, name=name) for name in ("X", "Y", "Z"))
    made = {
        "E1": encounter(runtime, x, york_a, _at(10, 2)),
        "E2": encounter(runtime, y, york_a, _at(10, 5)),
        "E3": encounter(runtime, z, york_b, _at(10, 6)),
        "E4": encounter(runtime, z, york_a, _at(11, 2)),
        "E5": encounter(runtime, x, leeds_c, _at(10, 3)),
    }
    for name, by, rating in [
        ("E1", york_a, 5),
        ("E2", york_a, 3),
        ("E3", york_b, 2),
        ("E4", york_a, 4),
        ("E5", leeds_c, 4),
    ]:
        predict(runtime, by, made[name], rating)
    customer_rates(runtime, card.id, x, _at(10, 10), {"Welcome": 4, "Advice": 3})
    customer_rates(runtime, card.id, y, _at(9, 20), {"Welcome": 1, "Advice": 1})
    customer_rates(runtime, card.id, y, _at(11, 10), {"Welcome": 2})
    customer_rates(runtime, card.id, z, _at(10, 8), {"Welcome": 5})
    customer_rates(runtime, card.id, z, _at(11, 5), {"Welcome": 4, "Advice": 5})
    return Planted(york_a, york_b, leeds_c, made, x)


def _table(report: EmpathyReport) -> list[tuple[str, str, int, float, float]]:
    return [(r.month, r.name, r.count, r.mean_gap, r.mean_absolute_gap) for r in report.teams]


def test_the_gaps_per_employee_and_team_by_month(runtime: Runtime) -> None:
    planted = plant(runtime)
    with runtime.session() as db:
        report = quality.empathy(db, actor=SYSTEM)
        e2 = quality.prediction(db, actor=SYSTEM, encounter_id=planted.encounters["E2"])
        e1 = quality.prediction(db, actor=SYSTEM, encounter_id=planted.encounters["E1"])
    assert (report.predictions, report.awaiting) == (5, 1)
    assert e2 is not None and (e2.predicted, e2.actual, e2.gap) == (3, None, None)
    assert e1 is not None and (e1.predicted, e1.actual, e1.gap) == (5, 3.5, 1.5)
    employees = [(r.month, r.id, r.count, r.mean_gap, r.mean_absolute_gap) for r in report.employees]
    assert employees[0] == ("2026-11", planted.york_a.id, 1, -0.5, 0.5)
    assert set(employees[1:]) == {
        ("2026-10", planted.york_a.id, 1, 1.5, 1.5),
        ("2026-10", planted.york_b.id, 1, -3.0, 3.0),
        ("2026-10", planted.leeds_c.id, 1, 0.5, 0.5),
    }
    # York in October: gaps +1.5 and -3: mean -0.75, mean absolute (1.5 + 3) / 2 = 2.25.
    assert _table(report) == [
        ("2026-11", "Store York", 1, -0.5, 0.5),
        ("2026-10", "Store Leeds", 1, 0.5, 0.5),
        ("2026-10", "Store York", 2, -0.75, 2.25),
    ]


def test_a_team_sees_its_own_gaps_and_a_changed_prediction_counts(runtime: Runtime) -> None:
    planted = plant(runtime)
    analyst = member(runtime, "Head office", Role.ANALYST)
    with runtime.session() as db:
        york = quality.empathy(db, actor=planted.york_b.actor)
        assert {r.name for r in york.teams} == {"Store York"} and york.predictions == 4
        with pytest.raises(Forbidden, match="your own team only; 'Store York' is not it"):
            quality.empathy(db, actor=planted.leeds_c.actor, team="store york")
        leeds = quality.empathy(db, actor=analyst.actor, team="Store Leeds")
        assert _table(leeds) == [("2026-10", "Store Leeds", 1, 0.5, 0.5)]
        with pytest.raises(Forbidden, match="Only the employee who had the encounter"):
            quality.record_prediction(
                db, actor=planted.york_b.actor, encounter_id=planted.encounters["E1"], data=4
            )
    predict(runtime, planted.leeds_c, planted.encounters["E5"], 3)  # changed its mind: 3 - 3.5
    with runtime.session() as db:
        leeds = quality.empathy(db, actor=planted.leeds_c.actor)
    assert _table(leeds) == [("2026-10", "Store Leeds", 1, -0.5, 0.5)]


@pytest.mark.parametrize("rating", [0, 6])
def test_a_prediction_is_one_to_five(rating: int) -> None:
    with pytest.raises(ValidationError):
        PredictionCreate(rating=rating)
