"""Tables of recovery: the cases and the actions taken on each."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from segone.clock import utcnow
from segone.storage.base import Base


class RecoveryCase(Base):
    """A problem or disappointment of a customer, to put right first."""

    __tablename__ = "recovery_cases"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    summary: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(20))  # complaint | return | hand
    # The complaint or return event it was opened from: one case per event, whatever runs the sync.
    event_id: Mapped[str | None] = mapped_column(String(200), unique=True)
    priority: Mapped[str] = mapped_column(String(10))  # high | normal
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    opened_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # When the customer told us (the event's time, or when it was opened by hand): the clock starts here.
    reported_at: Mapped[datetime]
    opened_at: Mapped[datetime] = mapped_column(default=utcnow)
    target_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(10), default="open", index=True)  # open | closed
    closed_at: Mapped[datetime | None]
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    resolution: Mapped[str] = mapped_column(Text, default="")
    verdict: Mapped[str | None] = mapped_column(String(20))  # satisfied | not_satisfied


class RecoveryAction(Base):
    """Something done for the customer on a case; an exception granted carries its cost and the limit
    that allowed it (the actor's role's, in the strategy version then in force)."""

    __tablename__ = "recovery_actions"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("recovery_cases.id"), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    by_email: Mapped[str] = mapped_column(String(320))
    role: Mapped[str] = mapped_column(String(20))
    text: Mapped[str] = mapped_column(Text)
    exception_key: Mapped[str | None] = mapped_column(String(60))
    exception_label: Mapped[str | None] = mapped_column(String(200))
    cost: Mapped[float | None] = mapped_column(Float)
    limit: Mapped[float | None] = mapped_column(Float)
    strategy_version: Mapped[int | None] = mapped_column(Integer)
