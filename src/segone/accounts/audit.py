"""The audit trail: every change a service makes is recorded here, in the same transaction."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from segone.accounts.models import AuditEntry
from segone.accounts.schemas import Actor


def record_audit(
    db: Session,
    *,
    actor: Actor,
    action: str,
    summary: str,
    customer_id: int | None = None,
    details: dict[str, Any] | None = None,
) -> AuditEntry:
    entry = AuditEntry(
        actor_id=actor.user_id,
        actor_email=actor.email,
        action=action,
        customer_id=customer_id,
        summary=summary,
        details=details or {},
    )
    db.add(entry)
    return entry


def audit_trail(db: Session, *, customer_ids: list[int], limit: int = 200) -> list[AuditEntry]:
    stmt = (
        select(AuditEntry)
        .where(AuditEntry.customer_id.in_(customer_ids))
        .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
        .limit(limit)
    )
    return list(db.scalars(stmt))
