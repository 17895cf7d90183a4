"""Tables of the encounters domain."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
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
