"""The audit trail: every change a service makes is recorded here, in the same transaction."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import Table, select
from sqlalchemy.orm import Session

from segone.accounts.models import AuditEntry
from segone.accounts.schemas import Actor, AuditAction, AuditRecord
from segone.clock import utcnow
from segone.storage import bulk
from segone.storage.batching import chunks

WRITE_BATCH = 10_000
_AUDIT = cast(Table, AuditEntry.__table__)


def record_audit(
    db: Session,
    *,
    actor: Actor,
    action: AuditAction,
    summary: str,
    customer_id: int | None = None,
    details: dict[str, Any] | None = None,
) -> AuditEntry:
    entry = AuditEntry(
        actor_id=actor.user_id,
        actor_email=actor.email,
        action=action.value,
        customer_id=customer_id,
        summary=summary,
        details=details or {},
    )
    db.add(entry)
    return entry


def record_audits(db: Session, entries: Sequence[AuditRecord]) -> None:
    """Many entries in bulk inserts (imports, the demo): the rows ``record_audit`` would write."""
    now = utcnow()
    connection = db.connection()
    for chunk in chunks(entries, WRITE_BATCH):
        bulk.insert_rows(
            connection,
            _AUDIT,
            [
                {
                    "at": entry.at or now,
                    "actor_id": entry.actor_id,
                    "actor_email": entry.actor_email,
                    "action": entry.action.value,
                    "customer_id": entry.customer_id,
                    "summary": entry.summary,
                    "details": entry.details,
                }
                for entry in chunk
            ],
        )


def audit_trail(db: Session, *, customer_ids: list[int], limit: int = 200) -> list[AuditEntry]:
    stmt = (
        select(AuditEntry)
        .where(AuditEntry.customer_id.in_(customer_ids))
        .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
        .limit(limit)
    )
    return list(db.scalars(stmt))
