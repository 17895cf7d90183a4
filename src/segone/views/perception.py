"""The perception gap: the survey's shares per group (quality) with the front line's statements graded
against the service strategy on record (customer_service), which the quality domain cannot read itself."""

from __future__ import annotations

from sqlalchemy.orm import Session

from segone.accounts.schemas import Actor
from segone.customer_service.strategy import service as strategies
from segone.quality import service as quality
from segone.quality.schemas import PerceptionGap


def gap(db: Session, *, actor: Actor, survey_id: int) -> PerceptionGap:
    """The gap of one survey; the strategy check compares with the core service and service experience
    statements of the strategy in force."""
    strategy = strategies.current(db, actor=actor)
    statements = [*strategy.core_service, *strategy.service_experience]
    return quality.gap(db, actor=actor, survey_id=survey_id, strategy=statements)
