"""The audit trail: every change a service makes, and every read of a customer's sheet, briefing or data,
is recorded here in the same transaction.

Append-only: this module (the only one that touches ``audit_log``) inserts and reads, nothing else, and
migration 0026 adds database triggers that refuse any UPDATE of an entry, and any DELETE on PostgreSQL
(docs/security.md, "Privacy"). The one exception is an erasure (``redact_about``): migration 0029 lets the
triggers pass an UPDATE of an entry's summary and details while that customer's erasure is under way in
the same transaction (docs/security.md, "Erasure").
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, cast

from sqlalchemy import Select, Table, func, select, text, update
from sqlalchemy.orm import Session

from segone.accounts.models import AuditEntry, Erasure
from segone.accounts.schemas import READ_ACTIONS, Actor, AuditAction, AuditFilter, AuditRecord
from segone.clock import as_utc, utcnow
from segone.exporting import Batch, Column, Export, Kind
from segone.storage import bulk
from segone.storage.batching import chunks, is_postgres, values_per_statement

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


# What an erased customer's entries keep: when, who, what and the record's id; not the words about them.
ERASED_SUMMARY = "Personal data erased"


def open_erasure(db: Session, *, actor: Actor, customer_ids: Sequence[int]) -> list[Erasure]:
    """Record the erasure of these records, under way: until ``close_erasure`` in this transaction the
    audit log's trigger lets ``redact_about`` change their entries (PostgreSQL also needs the
    transaction-local setting ``segone.erasing``, which ends with the transaction whatever happens)."""
    records = [
        Erasure(customer_id=customer_id, erased_by_id=actor.user_id, erased_by=actor.email, under_way=True)
        for customer_id in sorted(set(customer_ids))
    ]
    db.add_all(records)
    db.flush()
    if is_postgres(db):
        db.execute(text("SELECT set_config('segone.erasing', 'on', true)"))
    return records


def redact_about(db: Session, *, customer_ids: Sequence[int]) -> int:
    """Blank the summary and details of every entry about these records; returns how many."""
    redacted = 0
    for chunk in chunks(sorted(set(customer_ids)), values_per_statement(db)):
        result = db.execute(
            update(_AUDIT).where(_AUDIT.c.customer_id.in_(chunk)).values(summary=ERASED_SUMMARY, details={})
        )
        redacted += int(getattr(result, "rowcount", 0) or 0)
    return redacted


def close_erasure(db: Session, records: Sequence[Erasure]) -> None:
    """Close the door ``open_erasure`` opened, before the transaction commits."""
    for record in records:
        record.under_way = False
    db.flush()
    if is_postgres(db):
        db.execute(text("SELECT set_config('segone.erasing', 'off', true)"))


def erasure_of(db: Session, customer_id: int) -> Erasure | None:
    """The erasure of this record, if it was erased."""
    return db.scalars(
        select(Erasure).where(Erasure.customer_id == customer_id).order_by(Erasure.id.desc()).limit(1)
    ).first()
