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
import os
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
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
from segone.accounts.schemas import Actor, Permission
from segone.accounts.service import require
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
from segone.clock import utcnow
from segone.customers import repository
from segone.customers.models import Customer, CustomerIdentity
from segone.customers.schemas import parse_identity
from segone.errors import Invalid
from segone.runtime import Runtime
from segone.storage import bulk

Unknown = Literal["create", "reject"]
FORMATS = ("csv", "parquet", "jsonl")
PRESETS = ("cdnow",)
MAX_BATCH = 10_000
MAX_ERRORS = 1000
_WRITE_BATCH = 10_000
_PART_ROWS = 2_000_000

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
    distinct, positions = _distinct(raw)
    systems, values, bad = _parse_identities(distinct)
    keys = pc.binary_join_element_wise(systems, values, ":")  # "system:value", null where unparsable
    owners = _owners(db, systems, values, keys)
    unknown_rows = np.flatnonzero(_flags(pc.and_(pc.is_valid(keys), pc.is_null(owners))))
    unknown_keys = list(
        zip(systems.take(unknown_rows).to_pylist(), values.take(unknown_rows).to_pylist(), strict=True)
    )
    missing = sorted(set(unknown_keys))

    errors: list[RowError] = []
    error_count = 0
    if bad:
        errors, error_count = _identity_errors(raw, bad, lambda text: text)
    if missing and unknown == "reject":
        unknown_raw = {
            identity: f"unknown customer {system}:{value}"
            for identity, (system, value) in zip(
                distinct.take(unknown_rows).to_pylist(), unknown_keys, strict=True
            )
        }
        more, count = _identity_errors(raw, unknown_raw, lambda text: text)
        errors = sorted(errors + more, key=lambda e: e.row)[:MAX_ERRORS]
        error_count += count
    if errors:
        return _Resolved(None, 0, errors, error_count)

    created = len(missing)
    if not write:
        return _Resolved(events, created, [], 0)
    if missing:
        made = _create_customers(db, actor, missing)
        made_keys = pa.array([f"{system}:{value}" for system, value in made], pa.string())
        made_ids = pa.array(list(made.values()), pa.int64())
        owners = pc.coalesce(owners, pc.take(made_ids, pc.index_in(keys, value_set=made_keys)))
    customer_ids = pc.take(owners, positions)
    index = events.schema.get_field_index("customer_id")
    resolved = events.set_column(index, EVENT_SCHEMA.field("customer_id"), customer_ids)
    return _Resolved(resolved, created, [], 0)


def _distinct(raw: pa.ChunkedArray) -> tuple[pa.Array, pa.ChunkedArray]:
    """The distinct values, and for each row the position of its value among them.

    One hash pass over the rows (``dictionary_encode``), split over the CPUs for big inputs: each part is
    encoded in its own thread (Arrow leaves the GIL), then the parts' dictionaries are merged.
    """
    rows = raw.length()
    parts = max(1, min(os.cpu_count() or 1, rows // _PART_ROWS))
    size = -(-rows // parts) if rows else 1
    pieces = [raw.slice(start, size) for start in range(0, rows, size)] or [raw]
    if len(pieces) == 1:
        return _encoded(pieces[0])
    with ThreadPoolExecutor(len(pieces)) as pool:
        encoded = list(pool.map(_encoded, pieces))
    distinct = pc.unique(pa.concat_arrays([dictionary for dictionary, _ in encoded]))
    positions: list[pa.Array] = []
    for dictionary, indices in encoded:
        mapping = pc.index_in(dictionary, value_set=distinct)  # this part's dictionary -> distinct
        positions.extend(pc.take(mapping, chunk) for chunk in indices.chunks)
    return distinct, pa.chunked_array(positions, type=pa.int32())


def _encoded(values: pa.ChunkedArray) -> tuple[pa.Array, pa.ChunkedArray]:
    """``dictionary_encode`` of a chunked array, as one dictionary and the indices into it."""
    encoded = pc.dictionary_encode(values)
    chunks = [chunk for chunk in encoded.chunks if len(chunk)]
    if not chunks:
        return pa.array([], values.type), pa.chunked_array([], type=pa.int32())
    first = chunks[0].dictionary
    if any(_data_address(chunk.dictionary) != _data_address(first) for chunk in chunks):
        # Every chunk normally shares the final dictionary; unify them should one not.
        unified = pa.Table.from_arrays([encoded], ["v"]).unify_dictionaries().column(0)
        chunks = [chunk for chunk in unified.chunks if len(chunk)]
        first = chunks[0].dictionary
    return first, pa.chunked_array([chunk.indices for chunk in chunks], type=pa.int32())


def _data_address(array: pa.Array) -> tuple[int, int, int]:
    buffers = array.buffers()
    return (len(array), buffers[1].address, buffers[2].address if buffers[2] is not None else 0)


# An identity that ``parse_identity`` returns as it is written (but for the lowercasing of an e-mail
# address): a valid system, a colon, then at most 300 printable ASCII characters that neither start nor end
# with a space. Those are split by Arrow kernels; the others (phone numbers, spaces to trim, capitals in the
# system, other alphabets, mistakes) go through ``parse_identity`` itself.
_PLAIN_IDENTITY = r"^[a-z][a-z0-9_.-]{0,59}:[!-~]([ -~]{0,298}[!-~])?$"
_SCAN_FROM = 1000
"""From this many distinct identities of one system on, reading all the system's identities may be cheaper
than looking each up ..."""
_SCAN_RATIO = 10
"""... which it is when the system has at most this many identities per identity wanted."""


def _parse_identities(distinct: pa.Array) -> tuple[pa.Array, pa.Array, dict[str, str]]:
    """``parse_identity`` of each distinct identity: systems, values (null where bad), and the bad ones."""
    plain = pc.and_(
        pc.match_substring_regex(distinct, _PLAIN_IDENTITY), pc.invert(pc.starts_with(distinct, "phone:"))
    )
    parts = pc.split_pattern(pc.if_else(plain, distinct, ":"), ":", max_splits=1)
    systems = pc.if_else(plain, pc.list_element(parts, 0), pa.scalar(None, pa.string()))
    values = pc.list_element(parts, 1)
    values = pc.if_else(
        plain,
        pc.if_else(pc.equal(systems, "email"), pc.utf8_lower(values), values),
        pa.scalar(None, pa.string()),
    )
    other = pc.invert(plain)
    bad: dict[str, str] = {}
    if pc.any(other).as_py():
        parsed: list[tuple[str | None, str | None]] = []
        for identity in distinct.filter(other).to_pylist():
            try:
                parsed.append(parse_identity(identity))
            except ValueError as exc:
                bad[identity] = str(exc)
                parsed.append((None, None))
        other_systems, other_values = zip(*parsed, strict=True)
        systems = pc.replace_with_mask(systems, other, pa.array(other_systems, pa.string()))
        values = pc.replace_with_mask(values, other, pa.array(other_values, pa.string()))
    return systems, values, bad


def _owners(db: Session, systems: pa.Array, values: pa.Array, keys: pa.Array) -> pa.Array:
    """The customer id holding each key (``system:value``), or null, as an int64 array in the keys' order.

    A system with many wanted identities, compared with how many it has, is read whole (one query, joined
    in Arrow); the others are looked up by ``repository.identity_owners``.
    """
    found_keys: list[pa.Array] = []
    found_ids: list[pa.Array] = []
    looked_up: list[tuple[str, str]] = []
    wanted = pc.is_valid(keys)
    for entry in pc.value_counts(systems.filter(wanted)).to_pylist():
        system, count = str(entry["values"]), int(entry["counts"])
        in_system = pc.and_(wanted, pc.equal(systems, system))
        if count >= _SCAN_FROM and _identity_count(db, system) <= _SCAN_RATIO * count:
            held, ids = _identities_of(db, system)
            found_keys.append(pc.binary_join_element_wise(f"{system}:", held, ""))
            found_ids.append(ids)
        else:
            system_values = values.filter(in_system).to_pylist()
            looked_up.extend((system, value) for value in system_values)
    if looked_up:
        owners = repository.identity_owners(db, keys=looked_up)
        found_keys.append(pa.array([f"{system}:{value}" for system, value in owners], pa.string()))
        found_ids.append(pa.array(list(owners.values()), pa.int64()))
    if not found_keys:
        return pa.nulls(len(keys), pa.int64())
    owner_keys = pa.concat_arrays(found_keys)
    owner_ids = pa.concat_arrays(found_ids)
    return pc.take(owner_ids, pc.index_in(keys, value_set=owner_keys))


def _identity_count(db: Session, system: str) -> int:
    query = select(func.count()).select_from(_IDENTITIES).where(_IDENTITIES.c.system == system)
    return int(db.scalar(query) or 0)


def _identities_of(db: Session, system: str) -> tuple[pa.Array, pa.Array]:
    """Every (value, customer id) of one system, as two Arrow arrays (a million rows in about a second)."""
    connection = db.connection()
    placeholder = "?" if connection.dialect.paramstyle == "qmark" else "%s"
    cursor = connection.connection.cursor()  # the driver's own rows: no SQLAlchemy row per identity
    try:
        cursor.execute(
            f"SELECT value, customer_id FROM {_IDENTITIES.name} WHERE system = {placeholder}", (system,)
        )
        rows = cursor.fetchall()
    finally:
        cursor.close()
    return pa.array([row[0] for row in rows], pa.string()), pa.array([row[1] for row in rows], pa.int64())


def _flags(array: pa.Array) -> Any:
    """A boolean array as numpy, nulls as False."""
    return np.asarray(pc.fill_null(array, False).to_numpy(zero_copy_only=False), dtype=np.bool_)


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
    with _pages_kept_a_while():
        return _import_file(
            runtime, actor, path, fmt, mapping, date_formats, preset, unknown, dry_run, dataset, started
        )


@contextmanager
def _pages_kept_a_while() -> Iterator[None]:
    """Arrow's jemalloc returns freed pages to the system at once by default, so each of the many large
    buffers of a big import is faulted in afresh (the first read of a 20M-row file took twice as long).
    Memory arenas made meanwhile keep freed pages for a second instead; later ones go back to the default.
    """
    jemalloc = pa.default_memory_pool().backend_name == "jemalloc"
    if jemalloc:
        pa.jemalloc_set_decay_ms(1000)
    try:
        yield
    finally:
        if jemalloc:
            pa.jemalloc_set_decay_ms(0)


def _import_file(
    runtime: Runtime,
    actor: Actor,
    path: Path,
    fmt: str | None,
    mapping: dict[str, str] | None,
    date_formats: tuple[str, ...],
    preset: str | None,
    unknown: Unknown,
    dry_run: bool,
    dataset: EventDataset | None,
    started: float,
) -> IngestReport:
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
