"""Tables of the knowledge domain."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from segone.storage.base import Base, utcnow


class Differentiator(Base):
    """A fact that makes this customer different: a line on the customer's easel sheet."""

    __tablename__ = "differentiators"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    text: Mapped[str] = mapped_column(Text)
    category: Mapped[str] = mapped_column(String(60), index=True)
    learned_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    learned_at: Mapped[datetime] = mapped_column(default=utcnow)
    encounter_id: Mapped[int | None] = mapped_column(ForeignKey("encounters.id"), index=True)
    channel: Mapped[str | None] = mapped_column(String(20))
    confidence: Mapped[float] = mapped_column(default=0.8)
    status: Mapped[str] = mapped_column(String(10), default="current")  # current | outdated
    outdated_at: Mapped[datetime | None]
    replaced_by_id: Mapped[int | None] = mapped_column(ForeignKey("differentiators.id"))
    last_confirmed_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    acknowledgement: Mapped[Acknowledgement | None] = relationship(
        back_populates="differentiator", lazy="selectin", uselist=False
    )


class Acknowledgement(Base):
    """The customer has been shown that we know this fact (the circle in a different colour)."""

    __tablename__ = "acknowledgements"

    id: Mapped[int] = mapped_column(primary_key=True)
    differentiator_id: Mapped[int] = mapped_column(ForeignKey("differentiators.id"), unique=True)
    acknowledged_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    acknowledged_at: Mapped[datetime] = mapped_column(default=utcnow)
    encounter_id: Mapped[int | None] = mapped_column(ForeignKey("encounters.id"))
    how: Mapped[str] = mapped_column(Text, default="")

    differentiator: Mapped[Differentiator] = relationship(back_populates="acknowledgement")
