"""The self-assessment view: knowledge's months with the listening share of each month's encounters."""

from __future__ import annotations

from datetime import timedelta

import pytest

from segone.accounts.schemas import SYSTEM, Role
from segone.channels import Channel
from segone.clock import utcnow
from segone.encounters import service as encounters
from segone.encounters.schemas import EncounterCreate
from segone.errors import Forbidden
from segone.knowledge.categories.service import in_force as categories_in_force
from segone.runtime import Runtime
from segone.views.self_assessment import self_assessment
from tests.factories import make_customer, make_user


def test_each_month_has_the_mean_listening_share_of_its_encounters(runtime: Runtime) -> None:
    customer = make_customer(runtime)
    now = utcnow()
    with runtime.session() as db:
        for share, days_ago in ((0.6, 0), (0.8, 0), (0.3, 70), (None, 0)):
            encounters.record(
                db,
                actor=SYSTEM,
                customer_id=customer,
                data=EncounterCreate(
                    channel=Channel.CALL,
                    occurred_at=now - timedelta(days=days_ago, seconds=1),
                    listening_share=share,
                ),
                categories=categories_in_force(runtime.settings),
            )
    with runtime.session() as db:
        found = self_assessment(db, actor=SYSTEM, months=4)
    shares = [month.listening_share for month in found.months]
    assert len(shares) == 4
    assert shares[-1] == pytest.approx(0.7)  # the encounter without an estimate does not count
    assert 0.3 in shares[:-1] and shares.count(None) == 2
    assert found.months[-1].customers == 1


def test_the_self_assessment_is_for_managers(runtime: Runtime) -> None:
    with runtime.session() as db, pytest.raises(Forbidden):
        self_assessment(db, actor=make_user(runtime, Role.FRONTLINE).actor)
