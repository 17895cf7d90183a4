"""Event ingestion: files straight into the Parquet dataset, API batches through a staging table.

Each event's ``customer`` identity (``cdnow:00042``) is resolved to a customer id for the whole batch at
once: one chunked query for the distinct identities, then an Arrow ``index_in``/``take`` (no loop over
rows). Unknown identities either become new customers (``unknown="create"``: "Customer <identity>", a
person holding that identity, one audit entry per batch) or bad rows (``unknown="reject"``).

All or nothing: a file or batch with any bad row writes nothing, and the report names each bad row.
Importing the same events twice changes nothing visible: ids derived from the event's fields are stable,
and the dataset keeps one row per ``event_id`` on every read.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal, cast

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from ibis import BaseBackend
from sqlalchemy import Table, delete, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from segone.accounts.models import AuditEntry
from segone.accounts.permissions import Actor, Permission, require
from segone.analytics import backend
from segone.behaviour.dataset import Compaction, EventDataset
from segone.behaviour.events import (
    EVENT_SCHEMA,
    ISO8601,
    RowError,
    read_cdnow_master,
    read_csv,
    read_jsonl,
    read_parquet,
    read_table,
    validate_events,
)
from segone.behaviour.models import StagedEvent
from segone.customers import repository
from segone.customers.models import Customer, CustomerIdentity
from segone.customers.schemas import parse_identity
from segone.errors import Invalid
from segone.runtime import Runtime
from segone.storage import bulk
from segone.storage.base import utcnow

Unknown = Literal["create", "reject"]
FORMATS = ("csv", "parquet", "jsonl")
PRESETS = ("cdnow",)
MAX_BATCH = 10_000
MAX_ERRORS = 1000
_WRITE_BATCH = 10_000

_CUSTOMERS = cast(Table, Customer.__table__)
_IDENTITIES = cast(Table, CustomerIdentity.__table__)
_STAGED = cast(Table, StagedEvent.__table__)


@dataclass
class IngestReport:
    rows: int
    events_written: int = 0
    customers_created: int = 0
    dry_run: bool = False
    seconds: float = 0.0
    errors: list[RowError] = field(default_factory=list)
    error_count: int = 0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class BatchReport:
    received: int
    new: int
    duplicates: int
    customers_created: int

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class EventsRejected(Invalid):
    """Some rows are bad; nothing was written. ``details`` is the report naming each bad row."""

    def __init__(self, message: str, report: IngestReport) -> None:
        super().__init__(message, details=report.as_dict())
        self.report = report


def dataset_of(runtime: Runtime) -> EventDataset:
    return EventDataset(runtime.settings.data_dir / "events")


# --- resolving identities -----------------------------------------------------------------------------------


@dataclass
class _Resolved:
    table: pa.Table | None
    created: int
    errors: list[RowError]
    error_count: int


def resolve_customers(
    db: Session, *, actor: Actor, events: pa.Table, unknown: Unknown = "create", write: bool = True
) -> _Resolved:
    """Fill ``customer_id`` from the ``customer`` identities; create or reject the unknown ones."""
    if unknown not in ("create", "reject"):
        raise Invalid(f"unknown must be 'create' or 'reject', not '{unknown}'.")
    raw = events.column("customer")
    distinct = pc.unique(raw).to_pylist()
    keys: dict[str, tuple[str, str]] = {}
    bad: dict[str, str] = {}
    for identity in distinct:  # once per distinct identity, not per row
        try:
            keys[identity] = parse_identity(identity)
        except ValueError as exc:
            bad[identity] = str(exc)
    owners = repository.identity_owners(db, keys=list(dict.fromkeys(keys.values())))
    missing = sorted({key for key in keys.values() if key not in owners})

    errors: list[RowError] = []
    error_count = 0
    if bad:
        errors, error_count = _identity_errors(raw, bad, lambda text: text)
    if missing and unknown == "reject":
        unknown_raw = {
            identity: f"unknown customer {key[0]}:{key[1]}"
            for identity, key in keys.items()
            if key not in owners
        }
        more, count = _identity_errors(raw, unknown_raw, lambda text: text)
        errors = sorted(errors + more, key=lambda e: e.row)[:MAX_ERRORS]
        error_count += count
    if errors:
        return _Resolved(None, 0, errors, error_count)

    created = len(missing)
    if missing and write:
        owners.update(_create_customers(db, actor, missing))
    if not write:
        return _Resolved(events, created, [], 0)
    identities = pa.array(list(keys), pa.string())
    ids = pa.array([owners[keys[identity]] for identity in keys], pa.int64())
    positions = pc.index_in(raw, value_set=identities)
    customer_ids = pc.take(ids, positions)
    index = events.schema.get_field_index("customer_id")
    resolved = events.set_column(index, EVENT_SCHEMA.field("customer_id"), customer_ids)
    return _Resolved(resolved, created, [], 0)


def _identity_errors(raw: pa.ChunkedArray, problems: dict[str, str], text: Any) -> tuple[list[RowError], int]:
    wanted = pa.array(list(problems), pa.string())
    mask = np.asarray(pc.fill_null(pc.is_in(raw, value_set=wanted), False).to_numpy(zero_copy_only=False))
    rows = np.flatnonzero(mask)
    values = raw.take(pa.array(rows[:MAX_ERRORS])).to_pylist()
    return [
        RowError(int(row) + 1, "customer", text(problems[value]))
        for row, value in zip(rows[:MAX_ERRORS], values, strict=True)
    ], int(rows.size)


def _create_customers(db: Session, actor: Actor, keys: list[tuple[str, str]]) -> dict[tuple[str, str], int]:
    require(actor, Permission.IMPORT_DATA)
    now = utcnow()
    connection = db.connection()
    owners: dict[tuple[str, str], int] = {}
    for start in range(0, len(keys), _WRITE_BATCH):
        chunk = keys[start : start + _WRITE_BATCH]
        ids = bulk.insert_returning_ids(
            connection,
            _CUSTOMERS,
            [
                {
                    "kind": "person",
                    "name": f"Customer {system}:{value}",
                    "attributes": {},
                    "created_at": now,
                    "updated_at": now,
                    "merged_into_id": None,
                    "merged_at": None,
                }
                for system, value in chunk
            ],
        )
        bulk.insert_rows(
            connection,
            _IDENTITIES,
            [
                {"customer_id": cid, "system": system, "value": value, "created_at": now}
                for cid, (system, value) in zip(ids, chunk, strict=True)
            ],
        )
        owners.update(zip(chunk, ids, strict=True))
    shown = [f"{s}:{v}" for s, v in keys[:20]]
    db.add(
        AuditEntry(
            actor_id=actor.user_id,
            actor_email=actor.email,
            action="customers.created_from_events",
            customer_id=None,
            summary=f"{len(keys)} customers created for the events of unknown identities",
            details={"count": len(keys), "identities": shown, "source": "events"},
        )
    )
    return owners


# --- files --------------------------------------------------------------------------------------------------


def read_events_file(path: Path, *, fmt: str | None = None) -> pa.Table:
    if fmt is None:
        return read_table(path)
    if fmt == "csv":
        return read_csv(path)
    if fmt == "parquet":
        return read_parquet(path)
    if fmt == "jsonl":
        return read_jsonl(path)
    raise Invalid(f"Unknown format '{fmt}'; use one of {', '.join(FORMATS)}.")


def import_file(
    runtime: Runtime,
    *,
    actor: Actor,
    path: Path,
    fmt: str | None = None,
    mapping: dict[str, str] | None = None,
    date_formats: tuple[str, ...] = (ISO8601,),
    preset: str | None = None,
    unknown: Unknown = "create",
    dry_run: bool = False,
    dataset: EventDataset | None = None,
) -> IngestReport:
    """Validate, resolve and write one file as one batch of the dataset; raises ``EventsRejected``."""
    require(actor, Permission.IMPORT_DATA)
    started = time.perf_counter()
    if preset is not None:
        if preset != "cdnow":
            raise Invalid(f"Unknown preset '{preset}'; presets: {', '.join(PRESETS)}.")
        events = read_cdnow_master(path)
    else:
        source = read_events_file(path, fmt=fmt)
        validation = validate_events(source, mapping, date_formats=date_formats, max_errors=MAX_ERRORS)
        if validation.table is None:
            _reject(
                IngestReport(
                    rows=source.num_rows,
                    dry_run=dry_run,
                    errors=validation.errors,
                    error_count=validation.error_count,
                ),
                path.name,
            )
        assert validation.table is not None
        events = validation.table
    with runtime.session() as db:
        resolved = resolve_customers(db, actor=actor, events=events, unknown=unknown, write=not dry_run)
        if resolved.table is None:
            _reject(
                IngestReport(
                    rows=events.num_rows,
                    dry_run=dry_run,
                    errors=resolved.errors,
                    error_count=resolved.error_count,
                ),
                path.name,
            )
        assert resolved.table is not None
        report = IngestReport(rows=events.num_rows, customers_created=resolved.created, dry_run=dry_run)
        if dry_run:
            db.rollback()
            report.seconds = time.perf_counter() - started
            return report
    # After the commit: a failure here leaves created customers, and importing again completes the job.
    (dataset or dataset_of(runtime)).write_batch(resolved.table)
    report.events_written = resolved.table.num_rows
    report.seconds = time.perf_counter() - started
    return report


def _reject(report: IngestReport, name: str) -> None:
    bad = len({error.row for error in report.errors})
    more = report.error_count - len(report.errors)
    extra = f" (and {more} more problems)" if more > 0 else ""
    raise EventsRejected(
        f"{name}: {bad} rows are bad{extra}; nothing was imported. Fix every row the report names and "
        "import the file again.",
        report,
    )


# --- API batches --------------------------------------------------------------------------------------------


def stage_batch(
    db: Session, *, actor: Actor, events: list[dict[str, Any]], unknown: Unknown = "create"
) -> BatchReport:
    """Validate and resolve one batch and stage it; events already staged (same ``event_id``) are skipped."""
    require(actor, Permission.IMPORT_DATA)
    if len(events) > MAX_BATCH:
        raise Invalid(f"A batch holds at most {MAX_BATCH} events; this one has {len(events)}. Split it.")
    if not events:
        return BatchReport(0, 0, 0, 0)
    table = _batch_table(events)
    validation = validate_events(table, max_errors=MAX_ERRORS)
    if validation.table is None:
        _reject(
            IngestReport(rows=len(events), errors=validation.errors, error_count=validation.error_count),
            "The batch",
        )
    assert validation.table is not None
    resolved = resolve_customers(db, actor=actor, events=validation.table, unknown=unknown)
    if resolved.table is None:
        _reject(
            IngestReport(rows=len(events), errors=resolved.errors, error_count=resolved.error_count),
            "The batch",
        )
    assert resolved.table is not None
    rows = resolved.table.to_pylist()
    ids = list(dict.fromkeys(row["event_id"] for row in rows))
    existing = _staged_ids(db, ids)
    now = utcnow()
    values = [{**row, "received_at": now} for row in rows]
    dialect = db.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    for start in range(0, len(values), 2000):
        statement = insert(_STAGED).on_conflict_do_nothing(index_elements=["event_id"])
        db.execute(statement, values[start : start + 2000])
    new = len(ids) - len(existing)
    return BatchReport(len(events), new, len(events) - new, resolved.created)


def _batch_table(events: list[dict[str, Any]]) -> pa.Table:
    """Every value as text (nested objects as JSON): validation parses and reports each row."""
    texts: list[dict[str, str | None]] = []
    for number, event in enumerate(events, start=1):
        if not isinstance(event, dict):
            raise Invalid(f"Event {number} is not a JSON object.")
        texts.append(
            {
                str(key): None
                if value is None
                else json.dumps(value)
                if isinstance(value, dict | list | bool)
                else str(value)
                for key, value in event.items()
            }
        )
    names = list(dict.fromkeys(key for row in texts for key in row))
    return pa.table({name: pa.array([row.get(name) for row in texts], pa.string()) for name in names})


def _staged_ids(db: Session, ids: list[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(ids), 2000):
        chunk = ids[start : start + 2000]
        found.update(db.scalars(select(StagedEvent.event_id).where(StagedEvent.event_id.in_(chunk))))
    return found


def flush_staged(runtime: Runtime, *, dataset: EventDataset | None = None) -> int:
    """Move the staged events into the dataset as one file, then delete them; returns how many moved.

    A flush that dies after writing the file leaves the rows staged: the next flush writes them again,
    which the dataset's read-time de-duplication makes harmless.
    """
    with runtime.session() as db:
        rows = db.execute(select(_STAGED).order_by(_STAGED.c.id)).mappings().all()
        if not rows:
            return 0
        table = pa.Table.from_pylist(
            [{name: row[name] for name in EVENT_SCHEMA.names} for row in rows], schema=EVENT_SCHEMA
        )
        (dataset or dataset_of(runtime)).write_batch(table)
        # By id, not by range: a row of a batch committed meanwhile with a lower id stays staged.
        ids = [row["id"] for row in rows]
        for start in range(0, len(ids), 5000):
            db.execute(delete(StagedEvent).where(StagedEvent.id.in_(ids[start : start + 5000])))
    return len(rows)


def staged_count(db: Session) -> int:
    return int(db.scalar(select(func.count()).select_from(StagedEvent)) or 0)


# --- reading ------------------------------------------------------------------------------------------------


def count(con: BaseBackend, dataset: EventDataset) -> int:
    """De-duplicated events in the dataset."""
    events = dataset.read(con)
    counted = backend.to_arrow(events.aggregate(n=events.count()))
    return int(counted.column("n")[0].as_py())


def compact(con: BaseBackend, dataset: EventDataset) -> Compaction:
    return dataset.compact(con)
