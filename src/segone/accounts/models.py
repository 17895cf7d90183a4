"""Tables of the accounts domain."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from segone.clock import utcnow
from segone.storage.base import Base


class Team(Base):
    __tablename__ = "teams"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"), index=True)
    password_hash: Mapped[str | None] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(default=True)
    # Written into every web session cookie and compared on each request: raising it (sign-out, a new
    # password, deactivation) ends all of the user's sessions at once, though cookies are not stored.
    session_version: Mapped[int] = mapped_column(default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    team: Mapped[Team | None] = relationship(lazy="joined")


class ApiToken(Base):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    # Only a hash is kept: a leaked database does not leak working tokens.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class AuditEntry(Base):
    """One change or read of a customer's data, by whom and when. A customer's history is its changes.
    Append-only: migration 0026's triggers refuse an UPDATE (and a DELETE on PostgreSQL)."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    actor_email: Mapped[str] = mapped_column(String(320))
    action: Mapped[str] = mapped_column(String(60), index=True)
    customer_id: Mapped[int | None] = mapped_column(index=True)
    summary: Mapped[str] = mapped_column(Text)
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)


class Erasure(Base):
    """A customer record whose personal data was erased: its id, when and by whom, nothing else. While
    ``under_way`` (inside the erasing transaction only) the audit log's trigger lets the entries about that
    record be redacted; see migration 0029 and docs/security.md#erasure."""

    __tablename__ = "erasures"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(index=True)
    erased_at: Mapped[datetime] = mapped_column(default=utcnow)
    erased_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    erased_by: Mapped[str] = mapped_column(String(320))
    under_way: Mapped[bool] = mapped_column(default=False)
