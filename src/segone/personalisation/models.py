"""Tables of the personalisation domain: the catalogue of offerings, and the offerings matched to each
customer by the last refresh."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Float, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from segone.clock import utcnow
from segone.storage.base import Base
from segone.storage.leases import Leased

_RUNNING = text("status = 'running'")


class Offering(Base):
    """A package of value the business sells. ``key`` is what events carry in their ``offering`` field,
    so it never changes once purchases name it; an offering no longer sold is deactivated, not deleted."""

    __tablename__ = "offerings"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(300), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    attributes: Mapped[dict[str, Any]] = mapped_column(default=dict)
    price_band: Mapped[str | None] = mapped_column(String(20))  # a schemas.PriceBand value
    # The needs it serves, as short lower-case tags ("learn an instrument"), in the order given.
    needs: Mapped[list[str]] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class RecommendationRun(Base, Leased):
    """One run of ``segone offers refresh``: when, with which weights and settings, what it found. The
    recommendations served are those of the newest run that is done; a failed run says why.

    Leased (``storage.leases``): one run at most is ``running``, held by a live process; a run whose
    process was killed reads as failed.
    """

    __tablename__ = "recommendation_runs"
    __table_args__ = (
        Index(
            "uq_recommendation_runs_running",
            "status",
            unique=True,
            sqlite_where=_RUNNING,
            postgresql_where=_RUNNING,
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    status: Mapped[str] = mapped_column(String(20))  # running, done, failed
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    customers: Mapped[int | None]  # customers with at least one recommendation
    recommendations: Mapped[int | None]
    offerings: Mapped[int | None]  # active offerings
    purchases: Mapped[int | None] = mapped_column(BigInteger)  # purchase events naming an offering
    facts: Mapped[int | None]  # current facts read
    # The blend's weights and the model's settings ({"weights": {...}, "factors": 32, ...}).
    settings: Mapped[dict[str, Any]] = mapped_column(default=dict)
    seconds: Mapped[dict[str, Any]] = mapped_column(default=dict)
    message: Mapped[str | None] = mapped_column(Text)


class Recommendation(Base):
    """An offering recommended to a customer by a run, at a rank, with its score, the blend's components
    and its reasons (JSON: each cites a fact or a purchase event of that customer)."""

    __tablename__ = "recommendations"

    run_id: Mapped[int] = mapped_column(
        ForeignKey("recommendation_runs.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    rank: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    offering_id: Mapped[int] = mapped_column(ForeignKey("offerings.id", ondelete="CASCADE"), index=True)
    score: Mapped[float] = mapped_column(Float)
    collaborative: Mapped[float] = mapped_column(Float)
    content: Mapped[float] = mapped_column(Float)
    popularity: Mapped[float] = mapped_column(Float)
    reasons: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
