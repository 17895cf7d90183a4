"""Tables of the messages: the business's templates by purpose, and the messages marked sent."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from segone.clock import utcnow
from segone.storage.base import Base


class MessageTemplate(Base):
    """The business's own template for a purpose; a purpose without one uses segone's default."""

    __tablename__ = "message_templates"

    id: Mapped[int] = mapped_column(primary_key=True)
    purpose: Mapped[str] = mapped_column(String(20), unique=True)  # a schemas.Purpose value
    body: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class Message(Base):
    """A message marked sent: its text as sent, and the facts it showed the customer we know. The
    acknowledgements it made name it (``acknowledgements.message_id``)."""

    __tablename__ = "messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    purpose: Mapped[str] = mapped_column(String(20))
    channel: Mapped[str] = mapped_column(String(20))  # a schemas.MessageChannel value
    text: Mapped[str] = mapped_column(Text)
    offering: Mapped[str | None] = mapped_column(String(300))
    # [{"id": 12, "text": "Plays fiddle in a ceilidh band"}, ...]: the facts as they read when it was sent.
    revealed: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    # The ids of those this message made known to them (the others they knew we knew already).
    acknowledged: Mapped[list[int]] = mapped_column(JSON, default=list)
    score: Mapped[float | None] = mapped_column(Float)
    sent_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
