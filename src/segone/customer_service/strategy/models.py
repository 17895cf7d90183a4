"""Tables of the service strategy: one row per version; the latest is the strategy in force."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, Text
from sqlalchemy.orm import Mapped, mapped_column

from segone.clock import utcnow
from segone.storage.base import Base


class StrategyVersion(Base):
    """The strategy as an administrator set it. Rows are never changed: a change is a new version, so
    what was in force when an exception was granted can always be read back."""

    __tablename__ = "service_strategies"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(Integer, unique=True)
    # Statements as the front line reads them, in the order given.
    core_service: Mapped[list[str]] = mapped_column(JSON, default=list)
    service_experience: Mapped[list[str]] = mapped_column(JSON, default=list)
    # [{"key", "label", "limits": {role: amount}}]: what front-line staff may grant without asking.
    exceptions: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    target_hours_high: Mapped[int] = mapped_column(Integer)
    target_hours_normal: Mapped[int] = mapped_column(Integer)
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
