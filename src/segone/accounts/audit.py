"""The audit trail: every change a service makes, and every read of a customer's sheet, briefing or data,
is recorded here in the same transaction.

Append-only: this module (the only one that touches ``audit_log``) inserts and reads, nothing else, and
migration 0026 adds database triggers that refuse any UPDATE of an entry, and any DELETE on PostgreSQL
(docs/security.md, "Privacy").
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, cast

from sqlalchemy import Select, Table, func, select
from sqlalchemy.orm import Session

from segone.accounts.models import AuditEntry
from segone.accounts.schemas import READ_ACTIONS, Actor, AuditAction, AuditFilter, AuditRecord
from segone.clock import as_utc, utcnow
from segone.exporting import Batch, Column, Export, Kind
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
    """What happened to these records, newest first; reads of their pages are in the log, not here."""
    stmt = (
        select(AuditEntry)
        .where(AuditEntry.customer_id.in_(customer_ids))
        .where(AuditEntry.action.not_in([action.value for action in READ_ACTIONS]))
        .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
        .limit(limit)
    )
    return list(db.scalars(stmt))


def _matching(stmt: Select[Any], wanted: AuditFilter) -> Select[Any]:
    if wanted.customer_id is not None:
        stmt = stmt.where(AuditEntry.customer_id == wanted.customer_id)
    if wanted.user:
        who = wanted.user.strip()
        if who.isdigit():
            stmt = stmt.where(AuditEntry.actor_id == int(who))
        else:
            stmt = stmt.where(func.lower(AuditEntry.actor_email) == who.lower())
    if wanted.action:
        stmt = stmt.where(AuditEntry.action == wanted.action)
    if wanted.since is not None:
        stmt = stmt.where(AuditEntry.at >= as_utc(wanted.since))  # a naive moment is UTC
    if wanted.until is not None:
        stmt = stmt.where(AuditEntry.at < as_utc(wanted.until))
    return stmt


def search(db: Session, wanted: AuditFilter, *, offset: int, limit: int) -> tuple[list[AuditEntry], int]:
    """The entries that match, newest first, a page of them, and how many match in all."""
    total = db.scalar(_matching(select(func.count(AuditEntry.id)), wanted)) or 0
    stmt = (
        _matching(select(AuditEntry), wanted)
        .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
        .offset(offset)
        .limit(limit)
    )
    return list(db.scalars(stmt)), int(total)


EXPORT_COLUMNS = (
    Column("id", Kind.INTEGER),
    Column("at", Kind.TIMESTAMP),
    Column("actor_email"),
    Column("action"),
    Column("customer_id", Kind.INTEGER),
    Column("summary"),
    Column("details"),
)


def export(db: Session, wanted: AuditFilter, *, batch_size: int = WRITE_BATCH) -> Export:
    """The matching entries, oldest first, read by keyset pagination (``details`` as JSON text)."""
    import json

    rows = db.scalar(_matching(select(func.count(AuditEntry.id)), wanted)) or 0

    def read(session: Session) -> Iterator[Batch]:
        after = 0
        while True:
            page = list(
                session.scalars(
                    _matching(select(AuditEntry), wanted)
                    .where(AuditEntry.id > after)
                    .order_by(AuditEntry.id)
                    .limit(batch_size)
                )
            )
            if not page:
                return
            after = page[-1].id
            yield [
                {
                    "id": entry.id,
                    "at": entry.at,
                    "actor_email": entry.actor_email,
                    "action": entry.action,
                    "customer_id": entry.customer_id,
                    "summary": entry.summary,
                    "details": json.dumps(entry.details, ensure_ascii=False, sort_keys=True, default=str),
                }
                for entry in page
            ]

    return Export(name="audit-log", columns=EXPORT_COLUMNS, rows=int(rows), read=read)
