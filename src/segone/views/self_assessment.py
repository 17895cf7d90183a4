""" "Do we know a lot about our customers?": knowledge's monthly self-assessment with the listening share of
each month's encounters."""

from __future__ import annotations

from sqlalchemy.orm import Session

from segone.accounts.schemas import Actor
from segone.clock import utcnow
from segone.encounters import service as encounters
from segone.knowledge.assessment import service as assessment
from segone.knowledge.assessment.schemas import Assessment


def self_assessment(db: Session, *, actor: Actor, months: int = 12, freshness_months: int = 12) -> Assessment:
    now = utcnow()
    found = assessment.assess(db, actor=actor, months=months, freshness_months=freshness_months, now=now)
    for month, (start, end) in zip(found.months, assessment.month_ranges(now, months), strict=True):
        month.listening_share = encounters.listening_share(db, start=start, end=end)
    return found
