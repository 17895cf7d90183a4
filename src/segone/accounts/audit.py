"""The audit trail: every change a service makes is recorded here in the same transaction, and every read
of a customer's sheet or briefing once its transaction has committed.

Reads are the requests a server answers most, and an entry written and committed in each would make every
read a write: readers queue behind one another for SQLite's write lock and each pays a commit. So a server
(``flush_interval_seconds`` above 0) hands the entries of a committed read to its ``ReadLog``, which one
background thread writes in batches every ``READ_FLUSH_SECONDS`` (sooner from ``READS_PER_BATCH``
entries), and once more when the server stops or the process exits. A process killed outright (``kill -9``,
the machine lost) loses the reads of the last ``READ_FLUSH_SECONDS`` at most, plus any batch the store
refused meanwhile (docs/security.md). Without a ``ReadLog`` for the store (the CLI, ``segone.connect()``,
a server with ``flush_interval_seconds`` 0, the tests) a read's entry is written in its own transaction,
as a change's is.

Append-only: this module (the only one that touches ``audit_log``) inserts and reads, nothing else, and
migration 0026 adds database triggers that refuse any UPDATE of an entry, and any DELETE on PostgreSQL
(docs/security.md, "Privacy"). The one exception is an erasure (``redact_about``): migration 0029 lets the
triggers pass an UPDATE of an entry's summary and details while that customer's erasure is under way in
the same transaction (docs/security.md, "Erasure").
"""

from __future__ import annotations

import atexit
import dataclasses
import logging
import threading
import weakref
from collections.abc import Iterator, Sequence
from typing import Any, cast

from sqlalchemy import Engine, Select, Table, event, func, select, text, update
from sqlalchemy.orm import Session, SessionTransaction, sessionmaker

from segone.accounts.models import AuditEntry, Erasure
from segone.accounts.schemas import READ_ACTIONS, Actor, AuditAction, AuditFilter, AuditRecord
from segone.clock import as_utc, utcnow
from segone.exporting import Batch, Column, Export, Kind
from segone.storage import bulk
from segone.storage.batching import chunks, is_postgres, values_per_statement
from segone.storage.engine import session_scope
from segone.storage.periodic import Periodic

WRITE_BATCH = 10_000
READ_FLUSH_SECONDS = 0.2
READS_PER_BATCH = 500
_AUDIT = cast(Table, AuditEntry.__table__)
_PENDING = "segone.audit.reads"  # a session's read entries until its transaction commits

log = logging.getLogger(__name__)


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


class ReadLog:
    """The read entries of one store's committed transactions, written in batches by one background
    thread (module docstring). ``start`` makes it the store's: from then on ``record_read`` on a session
    of that engine queues instead of writing."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        *,
        interval_seconds: float = READ_FLUSH_SECONDS,
        batch: int = READS_PER_BATCH,
    ) -> None:
        self.sessions = sessions
        self.batch = batch
        self._lock = threading.Lock()
        self._queued: list[AuditRecord] = []
        self._writing = threading.Lock()  # one batch at a time: the thread's, stop's or exit's
        self._ticks = Periodic(self.flush, interval_seconds, name="segone-audit-reads")
        self._engine: Engine | None = None

    def start(self) -> None:
        engine = self.sessions.kw["bind"]
        _read_logs[engine] = self
        self._engine = engine
        atexit.register(self.flush)
        self._ticks.start()

    def stop(self) -> None:
        """No more queueing (later reads are written at once), and everything queued written now."""
        if self._engine is not None and _read_logs.get(self._engine) is self:
            del _read_logs[self._engine]
        atexit.unregister(self.flush)
        self._ticks.stop()

    def add(self, entries: list[AuditRecord]) -> None:
        with self._lock:
            self._queued.extend(entries)
            full = len(self._queued) >= self.batch
        if full:
            self._ticks.wake()

    @property
    def queued(self) -> int:
        with self._lock:
            return len(self._queued)

    def flush(self) -> int:
        """Write what is queued, in one transaction; on failure the entries go back to the front of the
        queue for the next tick."""
        with self._writing:
            with self._lock:
                taken, self._queued = self._queued, []
            if not taken:
                return 0
            try:
                with session_scope(self.sessions) as db:
                    record_audits(db, _redacted_if_erased(db, taken))
            except Exception:
                log.exception("Writing %d read entries of the audit log failed; retried.", len(taken))
                with self._lock:
                    self._queued[:0] = taken
                return 0
            return len(taken)


def _redacted_if_erased(db: Session, entries: list[AuditRecord]) -> list[AuditRecord]:
    """The entries, those of a read before its customer's erasure redacted as the erasure redacted the
    entries on file: a read queued when the erasure came must not bring their name back."""
    about = sorted({e.customer_id for e in entries if e.customer_id is not None})
    if not about:
        return entries
    erased: dict[int, Any] = {}
    for chunk in chunks(about, values_per_statement(db)):
        query = select(Erasure.customer_id, func.max(Erasure.erased_at)).where(Erasure.customer_id.in_(chunk))
        erased.update((c, at) for c, at in db.execute(query.group_by(Erasure.customer_id)))
    if not erased:
        return entries
    return [
        dataclasses.replace(entry, summary=ERASED_SUMMARY, details={})
        if entry.customer_id in erased and (entry.at is None or entry.at <= erased[entry.customer_id])
        else entry
        for entry in entries
    ]


_read_logs: weakref.WeakKeyDictionary[Engine, ReadLog] = weakref.WeakKeyDictionary()


def record_read(
    db: Session, *, actor: Actor, action: AuditAction, summary: str, customer_id: int | None = None
) -> None:
    """A read of a customer's data: queued for the store's ``ReadLog`` when its transaction commits
    (dropped if it rolls back, as a change's entry would be), else written in the transaction."""
    assert action in READ_ACTIONS, action
    bind = cast(Engine, db.get_bind())
    # A session without a transaction (``Runtime.reads``) is bound to its engine with other options.
    reads = _read_logs.get(getattr(bind, "_proxied", bind)) if _read_logs else None
    if reads is None:
        record_audit(db, actor=actor, action=action, summary=summary, customer_id=customer_id)
        return
    entry = AuditRecord(
        actor_id=actor.user_id,
        actor_email=actor.email,
        action=action,
        summary=summary,
        customer_id=customer_id,
        at=utcnow(),
    )
    db.info.setdefault(_PENDING, (reads, []))[1].append(entry)


@event.listens_for(Session, "after_commit")
def _hand_over_reads(session: Session) -> None:
    if _PENDING in session.info and not session.in_nested_transaction():
        reads, entries = session.info.pop(_PENDING)
        reads.add(entries)


@event.listens_for(Session, "after_soft_rollback")
def _forget_reads(session: Session, previous: SessionTransaction) -> None:
    if previous.parent is None:
        session.info.pop(_PENDING, None)


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
