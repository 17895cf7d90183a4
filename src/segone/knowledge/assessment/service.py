""" "Do we know a lot about our customers?": the self-assessment measures, month by month.

Each month's value is the state at the end of that month, rebuilt from the timestamps the store keeps
(when a fact was learned and outdated, when it was acknowledged, when a customer was created or merged),
so the series needs no snapshots. Freshness and distinguishability cannot be rebuilt that way: freshness is
the current state, and the segments of one come from the knowledge refreshes that have run.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import ColumnElement, and_, distinct, func, or_, select
from sqlalchemy.orm import Session

from segone.accounts import service as accounts
from segone.accounts.schemas import Actor, Permission
from segone.accounts.service import require
from segone.clock import utcnow
from segone.customers import service as customers_service
from segone.knowledge.assessment.schemas import Assessment, Month, RefreshPoint, TeamRecognition
from segone.knowledge.models import Acknowledgement, Differentiator, KnowledgeRefresh

DAYS_PER_MONTH = 30.44


def assess(
    db: Session,
    *,
    actor: Actor,
    months: int = 12,
    freshness_months: int = 12,
    now: datetime | None = None,
) -> Assessment:
    """What we know, month by month up to ``now``. The months' listening share is the encounters' to
    give (``views.self_assessment`` adds it); it is None here."""
    require(actor, Permission.VIEW_TEAM_DASHBOARDS)
    now = now or utcnow()
    ends = month_ranges(now, months)
    series = [_month(db, start, end) for start, end in ends]
    current = db.scalar(select(func.count()).where(Differentiator.status == "current")) or 0
    cutoff = now - timedelta(days=freshness_months * DAYS_PER_MONTH)
    fresh = db.scalar(
        select(func.count()).where(
            Differentiator.status == "current", Differentiator.last_confirmed_at >= cutoff
        )
    )
    runs = db.scalars(
        select(KnowledgeRefresh).where(KnowledgeRefresh.status == "done").order_by(KnowledgeRefresh.id)
    ).all()
    return Assessment(
        months=series,
        teams=_teams(db),
        fresh_share=round((fresh or 0) / current, 4) if current else None,
        freshness_months=freshness_months,
        refreshes=[
            RefreshPoint(
                at=run.finished_at or run.started_at,
                customers=run.customers or 0,
                segments_of_one=run.segments_of_one or 0,
                distribution=run.distribution,
            )
            for run in runs[-24:]
        ],
    )


def month_ranges(now: datetime, months: int) -> list[tuple[datetime, datetime]]:
    """(start, end) of the last ``months`` calendar months, the current one last (its end is now)."""
    starts = []
    year, month = now.year, now.month
    for _ in range(months):
        starts.append(datetime(year, month, 1, tzinfo=UTC))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    starts.reverse()
    return [(start, min(_next_month(start), now)) for start in starts]


def _next_month(start: datetime) -> datetime:
    return datetime(start.year + (start.month == 12), start.month % 12 + 1, 1, tzinfo=UTC)


def _current_at(end: datetime) -> ColumnElement[bool]:
    return and_(
        Differentiator.learned_at <= end,
        or_(Differentiator.outdated_at.is_(None), Differentiator.outdated_at > end),
    )


def _month(db: Session, start: datetime, end: datetime) -> Month:
    customers = customers_service.count_at(db, end)
    facts = db.scalar(select(func.count()).where(_current_at(end))) or 0
    known = db.scalar(select(func.count(distinct(Differentiator.customer_id))).where(_current_at(end))) or 0
    pairs = select(Differentiator.customer_id, Differentiator.category).where(_current_at(end)).distinct()
    categories = db.scalar(select(func.count()).select_from(pairs.subquery())) or 0
    acknowledged = (
        db.scalar(
            select(func.count())
            .select_from(Acknowledgement)
            .join(Differentiator, Differentiator.id == Acknowledgement.differentiator_id)
            .where(_current_at(end), Acknowledgement.acknowledged_at <= end)
        )
        or 0
    )
    employees = accounts.count_active_users(db)
    contributors = (
        db.scalar(
            select(func.count(distinct(Differentiator.learned_by_id))).where(
                Differentiator.learned_at >= start, Differentiator.learned_at <= end
            )
        )
        or 0
    )
    return Month(
        month=start.strftime("%Y-%m"),
        customers=customers,
        known_share=round(known / customers, 4) if customers else 0.0,
        facts_per_customer=round(facts / customers, 3) if customers else 0.0,
        categories_per_customer=round(categories / known, 3) if known else 0.0,
        recognition_ratio=round(acknowledged / facts, 4) if facts else None,
        contributors_share=round(min(contributors / employees, 1.0), 4) if employees else None,
        listening_share=None,
    )


def _teams(db: Session) -> list[TeamRecognition]:
    """Recognition ratio per team: of the current facts its members learned, the share acknowledged."""
    rows = db.execute(
        select(Differentiator.learned_by_id, func.count(Differentiator.id), func.count(Acknowledgement.id))
        .select_from(Differentiator)
        .outerjoin(Acknowledgement, Acknowledgement.differentiator_id == Differentiator.id)
        .where(Differentiator.status == "current")
        .group_by(Differentiator.learned_by_id)
    ).all()
    team_of = accounts.team_names_by_user(db)
    totals: dict[str | None, list[int]] = {}
    for user_id, facts, acknowledged in rows:
        total = totals.setdefault(team_of.get(user_id) if user_id is not None else None, [0, 0])
        total[0] += facts
        total[1] += acknowledged
    teams = [
        TeamRecognition(
            team=name or "No team",
            facts=facts,
            acknowledged=acknowledged,
            ratio=round(acknowledged / facts, 4) if facts else None,
        )
        for name, (facts, acknowledged) in totals.items()
    ]
    return sorted(teams, key=lambda t: (t.team == "No team", -(t.ratio or 0.0), t.team))
