"""Tables of the personalisation domain: the catalogue of offerings."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from segone.clock import utcnow
from segone.storage.base import Base


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
