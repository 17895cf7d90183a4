"""The self-assessment measures, month by month and by team, on a hand-made store (both backends)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update

from segone.accounts.schemas import SYSTEM, Role
from segone.clock import utcnow
from segone.customers import service as customers
from segone.errors import Forbidden
from segone.knowledge.assessment import service as assessment
from segone.knowledge.categories.service import in_force as categories_in_force
from segone.knowledge.facts import service as knowledge
from segone.knowledge.facts.schemas import AcknowledgeRequest, DifferentiatorCreate
from segone.knowledge.models import Differentiator
from segone.runtime import Runtime
from tests.factories import make_customer, make_user


def test_months_and_teams_by_hand(runtime: Runtime) -> None:
    north = make_user(runtime, Role.FRONTLINE, team="North")
    south = make_user(runtime, Role.FRONTLINE, team="South")
    ann, bo, _cy = (make_customer(runtime, name=n) for n in ("Ann", "Bo", "Cy"))
    with runtime.session() as db:

        def add(who: object, customer: int, text: str, category: str) -> int:
            return knowledge.add(
                db,
                actor=who,  # type: ignore[arg-type]
                customer_id=customer,
                data=DifferentiatorCreate(text=text, category=category),
                categories=categories_in_force(runtime.settings),
            ).id

        old = add(north.actor, ann, "Keeps bees", "free_time")
        shown = add(north.actor, ann, "Has two children", "family")
        add(south.actor, bo, "Sings in a choir", "free_time")
        knowledge.acknowledge(db, actor=SYSTEM, differentiator_id=shown, data=AcknowledgeRequest())
        # Ann first bought 100 days ago (her record is new) and we learned of her bees 70 days ago; the
        # rest is new.
        db.execute(
            update(Differentiator)
            .where(Differentiator.id == old)
            .values(learned_at=utcnow() - timedelta(days=70))
        )
        customers.note_first_activity(db, {ann: utcnow() - timedelta(days=100)})
        found = assessment.assess(db, actor=SYSTEM, months=3)

    now = found.months[-1]
    assert (now.customers, now.facts_per_customer, now.known_share) == (
        3,
        1.0,
        pytest.approx(2 / 3, abs=1e-4),
    )
    assert now.categories_per_customer == 1.5  # Ann: free time and family; Bo: free time
    assert now.recognition_ratio == pytest.approx(1 / 3, abs=1e-4)
    then = found.months[0]  # the end of the month before last: Ann and her bees
    assert (then.customers, then.facts_per_customer, then.known_share, then.recognition_ratio) == (
        1,
        1.0,
        1.0,
        0.0,
    )
    teams = {t.team: (t.facts, t.acknowledged, t.ratio) for t in found.teams}
    assert teams == {"North": (2, 1, 0.5), "South": (1, 0, 0.0)}
    with runtime.session() as db, pytest.raises(Forbidden):
        assessment.assess(db, actor=make_user(runtime, Role.FRONTLINE).actor)
