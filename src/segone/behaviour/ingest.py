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
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, cast

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from ibis import BaseBackend
from sqlalchemy import Table, delete, func, select
from sqlalchemy.orm import Session, sessionmaker

from segone.accounts.schemas import Actor, Permission
from segone.accounts.service import require
from segone.analytics import backend
from segone.behaviour.dataset import Compaction, EventDataset, Leftover
from segone.behaviour.events import EVENT_SCHEMA, ISO8601, read_cdnow_master, validate_events
from segone.behaviour.models import StagedEvent
from segone.behaviour.stored_ids import StoredIds
from segone.clock import utcnow
from segone.customers import service as customers
from segone.customers.schemas import parse_identity
from segone.errors import Invalid
from segone.importing import (
    ImportProblem,
    ImportRejected,
    ImportReport,
    bad_rows_message,
    reported_as_dry_run,
)
from segone.importing.tables import read_table
from segone.storage.batching import SQLITE_VALUES, array_literal, chunks, delete_ids, driver_batches
from segone.storage.engine import session_scope

Unknown = Literal["create", "reject"]
PRESETS = ("cdnow",)
MAX_BATCH = 10_000
MAX_ERRORS = 1000
_PART_ROWS = 2_000_000

_STAGED = cast(Table, StagedEvent.__table__)
# Staged rows a flush turns into Arrow in one go (about 15 ms of holding the interpreter lock).
FLUSH_ROWS = 10_000
# How SQLAlchemy writes a datetime on SQLite (Arrow's %S carries the microseconds of a "us" timestamp).
_SQLITE_TIME = "%Y-%m-%d %H:%M:%S"
_PG_ARRAYS = {
    pa.string(): "text[]",
    pa.int64(): "bigint[]",
    pa.float64(): "float8[]",
    pa.timestamp("us", tz="UTC"): "timestamptz[]",
}


class IngestReport(ImportReport):
    """What an events import did (or, in a dry run, would do); ``errors`` name records by position."""

    events_written: int = 0
    customers_created: int = 0
    seconds: float = 0.0
    error_count: int = 0


@dataclass
class BatchReport:
    received: int
    new: int
    duplicates: int
    customers_created: int

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def dataset_of(data_dir: Path) -> EventDataset:
    """The events dataset under the data directory."""
    return EventDataset(data_dir / "events")


# --- resolving identities -----------------------------------------------------------------------------------


@dataclass
class _Resolved:
    table: pa.Table | None
    created: int
    errors: list[ImportProblem]
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

    errors: list[ImportProblem] = []
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
        errors = sorted(errors + more, key=lambda e: e.row or 0)[:MAX_ERRORS]
        error_count += count
    if errors:
        return _Resolved(None, 0, errors, error_count)

    created = len(missing)
    if not write:
        return _Resolved(events, created, [], 0)
    if missing:
        made = customers.create_for_identities(db, actor=actor, keys=missing, source="events")
        made_keys = pa.array([f"{system}:{value}" for system, value in made], pa.string())
        made_ids = pa.array(list(made.values()), pa.int64())
        owners = pc.coalesce(owners, pc.take(made_ids, pc.index_in(keys, value_set=made_keys)))
    customer_ids = pc.take(owners, positions)
    index = events.schema.get_field_index("customer_id")
    resolved = events.set_column(index, EVENT_SCHEMA.field("customer_id"), customer_ids)
    customers.note_first_activity(db, _first_events(resolved))
    return _Resolved(resolved, created, [], 0)


def _first_events(events: pa.Table) -> dict[int, datetime]:
    """Each customer's earliest event: their first activity may be older than their record."""
    firsts = events.select(["customer_id", "ts"]).group_by("customer_id").aggregate([("ts", "min")])
    # Read without the zone (UTC, as every ``ts``) and marked UTC here: Arrow makes zone-aware datetimes
    # twice as slowly, a thousand of them in every batch.
    times = firsts.column("ts_min").cast(pa.timestamp("us")).to_pylist()
    return dict(
        zip(
            firsts.column("customer_id").to_pylist(),
            [at.replace(tzinfo=UTC) for at in times],
            strict=True,
        )
    )


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
    """The customer id holding each key (``system:value``), or null, as an int64 array in the keys' order."""
    found_keys: list[pa.Array] = []
    found_ids: list[pa.Array] = []
    wanted = pc.is_valid(keys)
    for entry in pc.value_counts(systems.filter(wanted)).to_pylist():
        system = str(entry["values"])
        in_system = pc.and_(wanted, pc.equal(systems, system))
        held, ids = customers.identity_holders(db, system=system, values=values.filter(in_system).to_pylist())
        found_keys.append(pc.binary_join_element_wise(f"{system}:", pa.array(held, pa.string()), ""))
        found_ids.append(pa.array(ids, pa.int64()))
    if not found_keys:
        return pa.nulls(len(keys), pa.int64())
    owner_keys = pa.concat_arrays(found_keys)
    owner_ids = pa.concat_arrays(found_ids)
    return pc.take(owner_ids, pc.index_in(keys, value_set=owner_keys))


def _flags(array: pa.Array) -> Any:
    """A boolean array as numpy, nulls as False."""
    return np.asarray(pc.fill_null(array, False).to_numpy(zero_copy_only=False), dtype=np.bool_)


def _identity_errors(
    raw: pa.ChunkedArray, problems: dict[str, str], text: Any
) -> tuple[list[ImportProblem], int]:
    wanted = pa.array(list(problems), pa.string())
    mask = np.asarray(pc.fill_null(pc.is_in(raw, value_set=wanted), False).to_numpy(zero_copy_only=False))
    rows = np.flatnonzero(mask)
    values = raw.take(pa.array(rows[:MAX_ERRORS])).to_pylist()
    return [
        ImportProblem(row=int(row) + 1, column="customer", problem=text(problems[value]))
        for row, value in zip(rows[:MAX_ERRORS], values, strict=True)
    ], int(rows.size)


# --- files --------------------------------------------------------------------------------------------------


def import_file(
    sessions: sessionmaker[Session],
    *,
    dataset: EventDataset,
    actor: Actor,
    path: Path,
    fmt: str | None = None,
    mapping: dict[str, str] | None = None,
    date_formats: tuple[str, ...] = (ISO8601,),
    preset: str | None = None,
    unknown: Unknown = "create",
    dry_run: bool = False,
) -> IngestReport:
    """Validate, resolve and write one file (CSV, Parquet, JSON Lines; a CDNOW file with ``preset``) as
    one batch of the dataset; raises ``ImportRejected`` naming the bad records."""
    require(actor, Permission.IMPORT_DATA)
    started = time.perf_counter()
    with _pages_kept_a_while(), reported_as_dry_run(dry_run):
        return _import_file(
            sessions, dataset, actor, path, fmt, mapping, date_formats, preset, unknown, dry_run, started
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
    sessions: sessionmaker[Session],
    dataset: EventDataset,
    actor: Actor,
    path: Path,
    fmt: str | None,
    mapping: dict[str, str] | None,
    date_formats: tuple[str, ...],
    preset: str | None,
    unknown: Unknown,
    dry_run: bool,
    started: float,
) -> IngestReport:
    if preset is not None:
        if preset != "cdnow":
            raise Invalid(f"Unknown preset '{preset}'; presets: {', '.join(PRESETS)}.")
        events = read_cdnow_master(path)
    else:
        source = read_table(path, fmt=fmt)
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
    return _import_events(sessions, dataset, actor, events, unknown, dry_run, started, path.name)


def import_events(
    sessions: sessionmaker[Session],
    *,
    dataset: EventDataset,
    actor: Actor,
    events: pa.Table,
    unknown: Unknown = "create",
    name: str = "The events",
) -> IngestReport:
    """Resolve and write events already read and checked (``EVENT_SCHEMA``, as ``validate_events`` or
    ``read_cdnow_master`` give them) as one batch of the dataset, like ``import_file``."""
    require(actor, Permission.IMPORT_DATA)
    return _import_events(sessions, dataset, actor, events, unknown, False, time.perf_counter(), name)


def _import_events(
    sessions: sessionmaker[Session],
    dataset: EventDataset,
    actor: Actor,
    events: pa.Table,
    unknown: Unknown,
    dry_run: bool,
    started: float,
    name: str,
) -> IngestReport:
    with session_scope(sessions) as db:
        resolved = resolve_customers(db, actor=actor, events=events, unknown=unknown, write=not dry_run)
        if resolved.table is None:
            _reject(
                IngestReport(
                    rows=events.num_rows,
                    dry_run=dry_run,
                    errors=resolved.errors,
                    error_count=resolved.error_count,
                ),
                name,
            )
        assert resolved.table is not None
        report = IngestReport(rows=events.num_rows, customers_created=resolved.created, dry_run=dry_run)
        if dry_run:
            db.rollback()
            report.seconds = time.perf_counter() - started
            return report
    # After the commit: a failure here leaves created customers, and importing again completes the job.
    dataset.write_batch(resolved.table)
    report.events_written = resolved.table.num_rows
    report.seconds = time.perf_counter() - started
    return report


def _reject(report: IngestReport, name: str) -> None:
    bad = len({error.row for error in report.errors})
    more = report.error_count - len(report.errors)
    message = bad_rows_message(bad, report.rows, dry_run=report.dry_run, more=more)
    raise ImportRejected(f"{name}: {message}", report)


# --- API batches --------------------------------------------------------------------------------------------


def stage_batch(
    db: Session,
    *,
    actor: Actor,
    events: list[dict[str, Any]],
    unknown: Unknown = "create",
    stored: StoredIds | None = None,
) -> BatchReport:
    """Validate and resolve one batch and stage its new events.

    An event is a duplicate when its ``event_id`` is staged already, or in the dataset (``stored``, the
    server's index of it; without one only staging is checked): duplicates are counted and not staged,
    so a batch re-sent after the flush leaves the dataset as it was, whichever server process flushed it
    and whichever receives it again (the staging table's unique ``event_id`` and the dataset's files are
    shared; ``stored`` lists the files at each check).
    """
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
    table = resolved.table
    checked: frozenset[Path] = frozenset()
    if stored is not None:
        found, checked = stored.check(table.column("event_id").combine_chunks())
        table = table.filter(pa.array(~found))
    new = _stage(db, table)
    if stored is not None and new:
        new = max(0, new - _unstage_flushed_meanwhile(db, table, stored, checked))
    return BatchReport(len(events), new, len(events) - new, resolved.created)


def _unstage_flushed_meanwhile(
    db: Session, table: pa.Table, stored: StoredIds, checked: frozenset[Path]
) -> int:
    """Delete the staged events of ``table`` that a file written since ``checked`` holds; how many.

    A flush (of this process or another) may write its file after the batch's check and delete its staged
    rows before the batch's insert: the insert then stages an event the dataset holds already. A flush
    writes its file before it deletes the rows, and the insert waits for that delete (PostgreSQL, on the
    unique event_id) or for the write lock (SQLite): asked after the insert, the files show every such
    event. Rare, so only a directory listing on the common path.
    """
    late, _ = stored.check(table.column("event_id").combine_chunks(), besides=checked)
    if not late.any():
        return 0
    ids = table.column("event_id").filter(pa.array(late)).to_pylist()
    deleted = 0
    for chunk in chunks(ids, SQLITE_VALUES):
        result = db.execute(delete(StagedEvent).where(StagedEvent.event_id.in_(chunk)))
        deleted += int(getattr(result, "rowcount", 0) or 0)
    return deleted


def _stage(db: Session, table: pa.Table) -> int:
    """The events into the staging table, an ``event_id`` staged already (by this batch, an earlier one,
    or one committed meanwhile) skipped; how many were new (both drivers count the rows inserted,
    conflicts skipped). Straight to the driver, a column at a time: SQLAlchemy's per-value type
    processing took a third of a batch's time. PostgreSQL takes each column as one array (``unnest``:
    one statement, not one per event, each array one literal Arrow writes); SQLite an ``executemany``, times
    as the text SQLAlchemy writes."""
    if not table.num_rows:  # every event of the batch in the dataset already
        return 0
    connection = db.connection()
    quote = connection.dialect.identifier_preparer.quote
    names = list(EVENT_SCHEMA.names)
    into = f"INSERT INTO {quote(_STAGED.name)} ({', '.join(quote(n) for n in [*names, 'received_at'])})"
    conflict = "ON CONFLICT (event_id) DO NOTHING"
    if connection.dialect.name == "postgresql":
        arrays = ", ".join(f"%s::{_PG_ARRAYS[EVENT_SCHEMA.field(n).type]}" for n in names)
        statement = f"{into} SELECT u.*, %s FROM unnest({arrays}) AS u {conflict}"
        columns = [array_literal(table.column(n)) for n in names]
        return int(connection.exec_driver_sql(statement, (utcnow(), *columns)).rowcount)
    columns = [
        (pc.strftime(table.column(n), format=_SQLITE_TIME) if n == "ts" else table.column(n)).to_pylist()
        for n in names
    ]
    received_at = utcnow().strftime("%Y-%m-%d %H:%M:%S.%f")
    rows = list(zip(*columns, [received_at] * table.num_rows, strict=True))
    statement = f"{into} VALUES ({', '.join('?' for _ in range(len(names) + 1))}) {conflict}"
    return int(connection.exec_driver_sql(statement, rows).rowcount)


def _batch_table(events: list[dict[str, Any]]) -> pa.Table:
    """Every value as text (nested objects as JSON): validation parses and reports each row. Built a
    column at a time: a column of text (most are) goes to Arrow as it is."""
    for number, event in enumerate(events, start=1):
        if not isinstance(event, dict):
            raise Invalid(f"Event {number} is not a JSON object.")
    names = list(dict.fromkeys(str(key) for event in events for key in event))
    return pa.table({name: _as_text([event.get(name) for event in events]) for name in names})


def _as_text(values: list[Any]) -> pa.Array:
    try:
        return pa.array(values, pa.string())
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        pass
    try:
        numbers = pa.array(values)
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
        numbers = None
    if numbers is not None and (pa.types.is_integer(numbers.type) or pa.types.is_floating(numbers.type)):
        return numbers.cast(pa.string())
    return pa.array(
        [
            None
            if value is None
            else json.dumps(value)
            if isinstance(value, dict | list | bool)
            else str(value)
            for value in values
        ],
        pa.string(),
    )


def flush_staged(sessions: sessionmaker[Session], *, dataset: EventDataset) -> int:
    """Move the staged events into the dataset as one file, then delete them; returns how many moved.

    A flush that dies after writing the file leaves the rows staged: the next flush writes them again,
    which the dataset's read-time de-duplication makes harmless. Flushes take turns (``dataset.flushing``):
    a flush that waited for another finds the rows it moved gone.

    ``segone serve`` runs it in a process of its own (``flusher.flush_process``); an application made
    alone runs it in a thread beside its requests. So it keeps its Python work small and in short pieces: the
    driver's rows go to Arrow a column at a time, ``FLUSH_ROWS`` at a time, and the ids are deleted as one
    parameter a statement. Read through the ORM and deleted as ``IN`` lists, 100,000 staged events (30 s
    of a busy feed) took 2.2 s of CPU, holding the interpreter lock that the requests of that process wait
    for between their queries.
    """
    with session_scope(sessions) as db:
        if db.scalars(select(StagedEvent.id).limit(1)).first() is None:
            return 0  # the usual tick of an idle server: no turn to take, no directory to make
    with dataset.flushing(), session_scope(sessions) as db:
        ids: list[int] = []
        batches: list[pa.RecordBatch] = []
        for rows in driver_batches(db, _read_staged(db), (), size=FLUSH_ROWS):
            first, *columns = zip(*rows, strict=True)
            ids.extend(first)
            batches.append(_staged_batch(columns))
        if not ids:
            return 0
        dataset.write_batch(pa.Table.from_batches(batches, schema=EVENT_SCHEMA))
        # By id, not by range: a row of a batch committed meanwhile with a lower id stays staged.
        delete_ids(db, _STAGED.name, ids)
    return len(ids)


def _read_staged(db: Session) -> str:
    quote = db.get_bind().dialect.identifier_preparer.quote
    names = ", ".join(quote(name) for name in ["id", *EVENT_SCHEMA.names])
    return f"SELECT {names} FROM {quote(_STAGED.name)} ORDER BY id"


def _staged_batch(columns: list[tuple[Any, ...]]) -> pa.RecordBatch:
    """The staged rows' columns as the dataset's schema. Times come as the driver gives them: zone-aware
    datetimes from PostgreSQL, the text ``_stage`` wrote (UTC) from SQLite."""
    arrays = []
    for field, values in zip(EVENT_SCHEMA, columns, strict=True):
        if field.name == "ts" and values and isinstance(values[0], str):
            arrays.append(pa.array(values, pa.string()).cast(pa.timestamp("us")).cast(field.type))
        else:
            arrays.append(pa.array(values, field.type))
    return pa.RecordBatch.from_arrays(arrays, schema=EVENT_SCHEMA)


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


def leftovers(dataset: EventDataset) -> list[Leftover]:
    """Temporary files of writes not finished: under way, or of a killed writer (``abandoned``)."""
    return dataset.leftovers()
