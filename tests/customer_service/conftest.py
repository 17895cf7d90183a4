"""What the customer-service tests share: a strategy on record and moments in time."""

from __future__ import annotations

from datetime import UTC, datetime

from segone.accounts.schemas import SYSTEM, Role
from segone.customer_service.strategy import service as strategies
from segone.customer_service.strategy.schemas import ExceptionRule, StrategyIn, StrategyOut
from segone.runtime import Runtime

REFUND = ExceptionRule(key="refund", label="Refund", limits={Role.FRONTLINE: 50, Role.MANAGER: 500})
FREE_DELIVERY = ExceptionRule(key="free-delivery", label="Free delivery", limits={Role.FRONTLINE: 15})


def at(day: str, hour: int = 9, minute: int = 0) -> datetime:
    """``at("2026-01-10", 14)``: that moment in UTC."""
    year, month, dom = (int(part) for part in day.split("-"))
    return datetime(year, month, dom, hour, minute, tzinfo=UTC)


def set_strategy(runtime: Runtime, **changes: object) -> StrategyOut:
    data = {
        "core_service": [
            "We provide and support quality solutions.",
            "We make promises and always keep them.",
        ],
        "service_experience": [
            "We are easy to do business with.",
            "We care.",
            "Recovery is our #1 priority.",
        ],
        "exceptions": [REFUND, FREE_DELIVERY],
        "target_hours_high": 24,
        "target_hours_normal": 72,
        **changes,
    }
    with runtime.session() as db:
        return strategies.set_strategy(db, actor=SYSTEM, data=StrategyIn.model_validate(data))
