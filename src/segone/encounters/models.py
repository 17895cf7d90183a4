"""Tables of the encounters domain."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from segone.clock import utcnow
from segone.storage.base import Base


class Encounter(Base):
    __tablename__ = "encounters"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    employee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    channel: Mapped[str] = mapped_column(String(20))
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    duration_minutes: Mapped[int | None]
    notes: Mapped[str] = mapped_column(Text, default="")
    cares_about: Mapped[str] = mapped_column(Text, default="")
    worries_about: Mapped[str] = mapped_column(Text, default="")
    # The employee's own estimate of the share of the time spent listening and asking.
    listening_share: Mapped[float | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class RejectedSuggestion(Base):
    """A sentence of an encounter's notes not to propose again: the employee said it is not a fact, or
    confirmed it in other words (``differentiator_id``: the fact it became)."""

    __tablename__ = "rejected_suggestions"
    __table_args__ = (UniqueConstraint("encounter_id", "sentence_hash"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    encounter_id: Mapped[int] = mapped_column(ForeignKey("encounters.id"), index=True)
    # SHA-256 of the sentence's normalised text: the suggestion's id, stable across page views.
    sentence_hash: Mapped[str] = mapped_column(String(64), index=True)
    text: Mapped[str] = mapped_column(Text)
    rejected_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    rejected_at: Mapped[datetime] = mapped_column(default=utcnow)
    differentiator_id: Mapped[int | None] = mapped_column(ForeignKey("differentiators.id"))
