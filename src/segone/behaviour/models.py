"""Tables of the behaviour domain: events received through the API, staged until they are flushed."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Float, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from segone.storage.base import Base, utcnow


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
