"""The differentiation survey: answers per group, the shares agreeing side by side (hand-computed: 8 of 10
executives vs 1 of 10 customers, as the seeds cite), and the front line's strategy check."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from segone.accounts.schemas import SYSTEM, Role
from segone.customer_service.strategy import service as strategies
from segone.customer_service.strategy.schemas import StrategyIn
from segone.errors import Conflict, Forbidden, Invalid
from segone.importing import ImportRejected
from segone.quality import service as quality
from segone.quality.schemas import AnswerCreate, SurveyCreate, SurveyGroup
from segone.runtime import Runtime
from segone.views import perception
from tests.factories import make_customer
from tests.quality.helpers import member

CORE = ["Same-day repairs of any instrument", "Staff who play the instruments they sell"]
EXPERIENCE = ["You keep playing: a loan instrument while we repair yours"]


def plant(runtime: Runtime) -> int:
    """10 executives (8 agree), 4 front-line staff (2 agree; 3 statements), 10 customers (1 agrees).

    Front-line statements against the strategy (threshold 0.25): 'We fix any instrument the same day so
    you can keep playing' is close to 'Same-day repairs of any instrument' (passes); 'Our staff play the
    instruments they sell' passes; 'Cheap prices' shares no word (fails): 2 of 3 pass.
    """
    with runtime.session() as db:
        strategies.set_strategy(
            db, actor=SYSTEM, data=StrategyIn(core_service=CORE, service_experience=EXPERIENCE)
        )
        survey = quality.create_survey(db, actor=SYSTEM, data=SurveyCreate(name="Differentiation 2026"))
    executives = [member(runtime, "Head office", Role.MANAGER) for _ in range(10)]
    staff = [member(runtime, "Store York") for _ in range(4)]
    people = [make_customer(runtime, name=f"C{n}") for n in range(10)]
    fast = "We fix any instrument the same day so you can keep playing"
    executive_says = [5, 4, 4, 5, 4, 4, 5, 4, 2, 3]
    customers_say = [4, 3, 2, 1, 3, 2, 3, 1, 2, 3]
    answers = [
        AnswerCreate(agreement=a, user=u.email) for u, a in zip(executives, executive_says, strict=True)
    ]
    answers += [
        AnswerCreate(agreement=5, user=staff[0].email, statement=fast),
        AnswerCreate(agreement=4, user=staff[1].email, statement="Our staff play the instruments they sell"),
        AnswerCreate(agreement=2, user=staff[2].email, statement="Cheap prices"),
        AnswerCreate(agreement=3, user=staff[3].email),
    ]
    answers += [
        AnswerCreate(agreement=a, customer=str(c)) for c, a in zip(people, customers_say, strict=True)
    ]
    with runtime.session() as db:
        quality.record_answers(db, actor=SYSTEM, survey_id=survey.id, answers=answers)
    return survey.id


def test_the_gap_side_by_side_and_the_strategy_check(runtime: Runtime) -> None:
    survey = plant(runtime)
    with runtime.session() as db:
        found = perception.gap(db, actor=SYSTEM, survey_id=survey)
    assert [(g.group, g.answers, g.agreeing, g.share) for g in found.groups] == [
        (SurveyGroup.EXECUTIVES, 10, 8, 0.8),
        (SurveyGroup.FRONTLINE, 4, 2, 0.5),
        (SurveyGroup.CUSTOMERS, 10, 1, 0.1),
    ]
    check = found.strategy_check
    assert (check.strategy_statements, check.checked, check.passed) == (3, 3, 2)
    assert check.pass_rate == pytest.approx(2 / 3)
    assert [(s.passed, s.closest) for s in found.statements] == [
        (True, CORE[0]),
        (True, CORE[1]),
        (False, None),
    ]


def test_answers_are_checked(runtime: Runtime) -> None:
    survey = plant(runtime)
    clerk = member(runtime, "Store York")
    customer = make_customer(runtime, name="Dee")
    with runtime.session() as db:
        made = quality.answer_survey(db, actor=clerk.actor, survey_id=survey, data=AnswerCreate(agreement=4))
        assert made.group == SurveyGroup.FRONTLINE
    with (
        runtime.session() as db,
        pytest.raises(Conflict, match="has answered 'Differentiation 2026' already"),
    ):
        quality.answer_survey(db, actor=clerk.actor, survey_id=survey, data=AnswerCreate(agreement=2))
    with runtime.session() as db:
        with pytest.raises(Forbidden):
            quality.answer_survey(
                db,
                actor=clerk.actor,
                survey_id=survey,
                data=AnswerCreate(agreement=2, customer=str(customer)),
            )
        with pytest.raises(Invalid, match="Name the customer"):
            quality.answer_survey(
                db,
                actor=clerk.actor,
                survey_id=survey,
                data=AnswerCreate(agreement=2, group=SurveyGroup.CUSTOMERS),
            )
    with pytest.raises(ValidationError):
        AnswerCreate(agreement=6)


def test_customers_answers_are_imported_all_or_nothing(runtime: Runtime) -> None:
    survey = plant(runtime)
    ann = make_customer(runtime, name="Ann", identities=["crm:ann"])
    bob = make_customer(runtime, name="Bob", identities=["crm:bob"])
    bad = "customer,agreement\ncrm:ann,5\ncrm:nobody,4\ncrm:bob,9\ncrm:ann,4\n"
    with runtime.session() as db, pytest.raises(ImportRejected, match="3 of the 4 rows are bad") as refused:
        quality.import_answers(db, actor=SYSTEM, survey_id=survey, data=bad)
    assert [(p.row, p.column) for p in refused.value.problems] == [
        (3, "customer"),
        (4, "agreement"),
        (5, "customer"),
    ]
    with runtime.session() as db:
        report = quality.import_answers(
            db, actor=SYSTEM, survey_id=survey, data=f"Customer;Agreement\n{ann};5\ncrm:bob;4\n"
        )
        assert report.created == 2
        found = perception.gap(db, actor=SYSTEM, survey_id=survey)
    # 1 of 10 customers agreed; now 3 of 12.
    assert (found.groups[2].answers, found.groups[2].agreeing) == (12, 3)
    assert bob != ann
