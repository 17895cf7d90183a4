"""Tables of the behaviour domain: staged API events, and what a refresh writes back for customer pages."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import BigInteger, Date, Float, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from segone.clock import utcnow
from segone.storage.base import Base
from segone.storage.leases import Leased

_RUNNING = text("status = 'running'")


class StagedEvent(Base):
    """One event of an API batch, waiting for ``flush_staged`` to move it to the Parquet dataset."""

    __tablename__ = "event_staging"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[str] = mapped_column(String(200), unique=True)
    customer: Mapped[str] = mapped_column(String(400))
    customer_id: Mapped[int]
    type: Mapped[str] = mapped_column(String(60))
    ts: Mapped[datetime]
    value: Mapped[float | None] = mapped_column(Float)
    quantity: Mapped[int | None] = mapped_column(BigInteger)
    channel: Mapped[str | None] = mapped_column(String(100))
    offering: Mapped[str | None] = mapped_column(String(300))
    reason: Mapped[str | None] = mapped_column(String(300))
    properties: Mapped[str | None] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)


class BehaviourRefresh(Base, Leased):
    """One run of ``segone behaviour refresh``: when, as of which day, and the models it fitted.

    Leased (``storage.leases``): one row at most is ``running``, held by a live process.
    """

    __tablename__ = "behaviour_refreshes"
    __table_args__ = (
        Index(
            "uq_behaviour_refreshes_running",
            "status",
            unique=True,
            sqlite_where=_RUNNING,
            postgresql_where=_RUNNING,
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    as_of: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20))  # running, done, failed
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    events: Mapped[int | None] = mapped_column(BigInteger)
    customers: Mapped[int | None]
    horizon_weeks: Mapped[int]
    annual_discount_rate: Mapped[float] = mapped_column(Float)
    # Parameters, log-likelihoods and sizes of the fitted models; a note when a model could not be fitted.
    models: Mapped[dict[str, Any]] = mapped_column(default=dict)
    message: Mapped[str | None] = mapped_column(Text)


class BehaviourProfile(Base):
    """A customer's behaviour as of the last refresh: the profile, the model scores and recent purchases.

    Written whole by each refresh (a customer page reads it in one query); the columns are those of
    ``metrics.behaviour_profile`` plus the scores of ``scores.score_customers``.
    """

    __tablename__ = "behaviour_profiles"

    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    refresh_id: Mapped[int] = mapped_column(ForeignKey("behaviour_refreshes.id"), index=True)
    as_of: Mapped[date] = mapped_column(Date)
    first_purchase: Mapped[date | None] = mapped_column(Date)
    last_purchase: Mapped[date | None] = mapped_column(Date)
    purchases: Mapped[int]
    repeat_purchases: Mapped[int]
    recency_days: Mapped[int | None]
    tenure_days: Mapped[int | None]
    total_value: Mapped[float | None] = mapped_column(Float)
    mean_value: Mapped[float | None] = mapped_column(Float)
    median_gap_days: Mapped[float | None] = mapped_column(Float)
    gap_cv: Mapped[float | None] = mapped_column(Float)
    purchases_last_90d: Mapped[int]
    purchases_prev_90d: Mapped[int]
    trend_ratio: Mapped[float | None] = mapped_column(Float)
    preferred_channel: Mapped[str | None] = mapped_column(String(100))
    preferred_day_of_week: Mapped[int | None]
    preferred_hour: Mapped[int | None]
    # The events behind each preference (null in profiles written before they were counted): a habit is
    # stated only when enough events show it (``behaviour.reading``).
    preferred_channel_events: Mapped[int | None]
    channel_events: Mapped[int | None]
    preferred_day_events: Mapped[int | None]
    preferred_hour_events: Mapped[int | None]
    contacts: Mapped[int]
    top_contact_reason_1: Mapped[str | None] = mapped_column(String(300))
    top_contact_reason_2: Mapped[str | None] = mapped_column(String(300))
    top_contact_reason_3: Mapped[str | None] = mapped_column(String(300))
    complaints: Mapped[int]
    returns: Mapped[int]
    # When the last of them happened (null in profiles written before these were kept): the briefing tells
    # a complaint or a return since the last encounter.
    last_complaint_at: Mapped[datetime | None]
    last_return_at: Mapped[datetime | None]
    referrals: Mapped[int]
    reviews: Mapped[int]
    visits: Mapped[int]
    events: Mapped[int]
    p_alive: Mapped[float | None] = mapped_column(Float)
    expected_purchases: Mapped[float | None] = mapped_column(Float)
    expected_value: Mapped[float | None] = mapped_column(Float)
    clv: Mapped[float | None] = mapped_column(Float)
    # The most recent purchase days as JSON ``[["1997-01-01", 29.33, 1], ...]`` (day, value, purchases),
    # built by the engine in one pass; the page's timeline plot reads it without touching the events.
    timeline: Mapped[str] = mapped_column(Text, default="[]")
