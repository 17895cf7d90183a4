"""The service strategy on record: limits per role, versions, who may set it."""

from __future__ import annotations

import pytest
from pydantic import ValidationError
from sqlalchemy import select

from segone.accounts.models import AuditEntry
from segone.accounts.schemas import Role
from segone.customer_service.strategy import service as strategies
from segone.customer_service.strategy.schemas import ExceptionRule, StrategyIn, StrategyOut
from segone.errors import Forbidden
from segone.runtime import Runtime
from tests.customer_service.conftest import REFUND, set_strategy
from tests.factories import make_user


def test_a_role_without_a_limit_of_its_own_has_the_nearest_lower_ones() -> None:
    assert [REFUND.limit_for(role) for role in Role] == [50, 500, 500, 500]
    managers_only = ExceptionRule(key="upgrade", label="Free upgrade", limits={Role.MANAGER: 100})
    assert [managers_only.limit_for(role) for role in Role] == [0, 100, 100, 100]
    admins_less = ExceptionRule(key="x", label="X", limits={Role.FRONTLINE: 10, Role.ADMIN: 5})
    assert [admins_less.limit_for(role) for role in Role] == [10, 10, 10, 5]


def test_the_strategy_refuses_twice_the_same_exception_and_high_waiting_longer() -> None:
    with pytest.raises(ValidationError, match="refund is named twice"):
        StrategyIn(exceptions=[REFUND, REFUND])
    with pytest.raises(ValidationError, match="high priority may not wait longer"):
        StrategyIn(target_hours_high=100, target_hours_normal=72)
    with pytest.raises(ValidationError, match="not a key"):
        ExceptionRule(key="Free Delivery", label="Free delivery")
    with pytest.raises(ValidationError, match="frontline limit"):
        ExceptionRule(key="refund", label="Refund", limits={Role.FRONTLINE: -1})


def test_before_any_is_set_there_is_version_0_with_the_default_targets(runtime: Runtime) -> None:
    user = make_user(runtime, Role.FRONTLINE)
    with runtime.session() as db:
        found = strategies.current(db, actor=user.actor)
    assert (found.version, found.on_record, found.exceptions) == (0, False, [])
    assert (found.target_hours_high, found.target_hours_normal) == (24, 72)


def _as_input(strategy: StrategyOut, **changes: object) -> StrategyIn:
    return StrategyIn.model_validate({**strategy.model_dump(include=set(StrategyIn.model_fields)), **changes})


def test_each_change_is_a_new_version_with_who_and_what(runtime: Runtime) -> None:
    admin = make_user(runtime, Role.ADMIN)
    frontline = make_user(runtime, Role.FRONTLINE)
    first = set_strategy(runtime)
    assert first.version == 1 and first.on_record and first.changed_by is None  # the operator
    with runtime.session() as db:
        again = strategies.set_strategy(db, actor=admin.actor, data=_as_input(first))
    assert again.version == 1, "setting what is in force changes nothing"
    with runtime.session() as db:
        changed = strategies.set_strategy(
            db, actor=admin.actor, data=_as_input(first, target_hours_high=8, note="Faster")
        )
    number = admin.email.split("@")[0].removeprefix("admin")
    assert (changed.version, changed.changed_by, changed.target_hours_high) == (2, f"Admin {number}", 8)
    with runtime.session() as db:
        history = strategies.history(db, actor=frontline.actor)
        entries = db.scalars(
            select(AuditEntry).where(AuditEntry.action == "strategy.changed").order_by(AuditEntry.id)
        ).all()
    assert [(v.version, v.changed, v.note) for v in history] == [
        (2, ["target_hours_high"], "Faster"),
        (1, ["core_service", "service_experience", "exceptions"], ""),
    ]
    assert [(e.actor_email, e.details.get("target_hours_high")) for e in entries] == [
        ("system", None),
        (admin.email, {"from": 24, "to": 8}),
    ]


def test_front_line_reads_the_strategy_and_may_not_set_it(runtime: Runtime) -> None:
    frontline = make_user(runtime, Role.FRONTLINE)
    set_strategy(runtime)
    with runtime.session() as db:
        assert (
            strategies.current(db, actor=frontline.actor).core_service[1]
            == "We make promises and always keep them."
        )
        with pytest.raises(Forbidden) as refused:
            strategies.set_strategy(db, actor=frontline.actor, data=StrategyIn())
    assert refused.value.details == {"permission": "manage_settings", "role": "frontline"}
