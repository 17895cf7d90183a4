"""The append-only events dataset: Parquet files in one directory, read through Ibis on any engine.

Each batch becomes one file, written under a hidden temporary name and renamed, so a batch is visible
whole or not at all. Appends lock nothing: several processes may append at once (file names are unique).
Only the moves of the staging table into the dataset take turns (``flushing``): the server's flusher, a
refresh and ``segone events flush`` flushing together would otherwise write the same staged events twice.
The temporary name carries its writer (``processes.Owner``): a writer killed mid-file leaves it behind,
and the next write or compaction removes it once its writer is seen dead, or after ``LEFTOVER_AGE``
untouched when that cannot be seen (another host); a writer seen alive keeps its file. ``leftovers``
lists them for ``segone events count``.
An event sent twice (same ``event_id``) counts once: ``deduplicated`` keeps one row per id on every read,
and ``compact`` rewrites the files de-duplicated into fewer, larger ones (new files first, then the old
ones removed; a reader in between sees both, which the read-time de-duplication makes harmless).
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Collection, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

try:
    import fcntl
except ImportError:  # pragma: no cover (Windows)
    fcntl = None  # type: ignore[assignment]

import ibis
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from ibis import BaseBackend
from ibis.expr.types import Table

from segone import processes
from segone.analytics import backend
from segone.behaviour.events import EVENT_SCHEMA
from segone.errors import Invalid

ROWS_PER_FILE = 10_000_000
# A writer appends row groups as it goes, so a live one keeps its file's time recent: an hour untouched is
# a writer gone, on whatever host it ran.
LEFTOVER_AGE = 3600.0
_TEMPORARY_SUFFIX = ".tmp"
_FLUSH_LOCK = ".flush.lock"
_BATCH_ROWS = 1 << 20
# Columns of few distinct values are dictionary-encoded; event ids (all distinct) and customers (up to
# millions) are not: building a dictionary that overflows costs time and makes the file larger.
_DICTIONARY_COLUMNS = ("type", "channel", "offering", "reason", "properties")
_TIEBREAK = ("ts", "customer", "type", "value", "quantity", "channel", "offering", "reason", "properties")


@dataclass(frozen=True)
class Compaction:
    files_before: int
    files_after: int
    rows_after: int
    leftovers_removed: int = 0


@dataclass(frozen=True)
class Leftover:
    """A temporary file of a write that has not finished: under way, or its writer died."""

    path: Path
    size: int
    writer: str | None  # the writer's ``Owner`` as text; None in names of older versions
    abandoned: bool  # its writer is gone (seen dead, or the file untouched for LEFTOVER_AGE)


class EventDataset:
    """The events under ``directory`` (usually ``settings.data_dir / "events"``)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def files(self) -> list[Path]:
        """The visible data files, oldest name first (temporary files are hidden)."""
        if not self.directory.is_dir():
            return []
        return sorted(
            path for path in self.directory.glob("*.parquet") if not path.name.startswith((".", "_"))
        )

    @contextmanager
    def flushing(self) -> Iterator[None]:
        """One flush of the staging table into this dataset at a time, across the processes of this host
        (an exclusive lock on a hidden file, released when the block ends or its process dies)."""
        self.directory.mkdir(parents=True, exist_ok=True)
        with open(self.directory / _FLUSH_LOCK, "a+b") as lock:
            if fcntl is not None:  # not on Windows: there flushes may overlap, de-duplicated on read
                fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
            yield  # closing the file releases the lock

    def write_batch(self, table: pa.Table) -> Path | None:
        """Append one batch of normalised events (see ``validate_events``) as one file; all or nothing."""
        table = _conform(table)
        if table.num_rows == 0:
            return None
        self.directory.mkdir(parents=True, exist_ok=True)
        self.remove_abandoned()
        with self._new_file("part") as (temporary, final):
            _write(temporary, table.to_batches(max_chunksize=_BATCH_ROWS))
        return final

    def read(self, con: BaseBackend) -> Table:
        """All events, one row per ``event_id``, as an Ibis table on ``con``."""
        if not self.files():
            return backend.empty_table(con, EVENT_SCHEMA)
        return deduplicated(backend.read_parquet_dir(con, self.directory))

    def compact(self, con: BaseBackend, *, rows_per_file: int = ROWS_PER_FILE) -> Compaction:
        """Rewrite the current files de-duplicated into files of up to ``rows_per_file`` rows.

        Files appended while this runs are left alone; two compactions at once only waste work.
        """
        removed = len(self.remove_abandoned())
        snapshot = self.files()
        if not snapshot:
            return Compaction(0, 0, 0, removed)
        events = deduplicated(backend.read_parquet_files(con, snapshot))
        batches = (
            _conform(pa.Table.from_batches([batch]))
            for batch in backend.to_arrow_batches(events, chunk_size=_BATCH_ROWS)
        )
        written: list[Path] = []
        rows = 0
        try:
            for chunk in _chunked(batches, rows_per_file):
                with self._new_file("compact") as (temporary, final):
                    rows += _write(temporary, chunk)
                written.append(final)
        except BaseException:
            for path in written:
                path.unlink(missing_ok=True)
            raise
        for path in snapshot:
            path.unlink(missing_ok=True)
        _sync_directory(self.directory)
        return Compaction(len(snapshot), len(written), rows, removed)

    def remove_customers(self, *, customer_ids: Collection[int], customers: Collection[str]) -> int:
        """Rewrite every file holding an event of these customers (by id, or by the identity an event
        named them with) without those events, each new file before its old one is removed; returns how
        many events went. An erasure's way to take a customer out of an append-only dataset."""
        self.remove_abandoned()
        ids = pa.array(sorted(set(customer_ids)), pa.int64())
        keys = pa.array(sorted(set(customers)), pa.string())
        removed = 0
        for path in self.files():
            owners = pq.read_table(path, columns=["customer_id", "customer"])
            if not pc.any(_theirs(owners, ids, keys)).as_py():
                continue
            source = pq.ParquetFile(path)
            kept = (
                batch.filter(pc.invert(_theirs(batch, ids, keys)))
                for batch in source.iter_batches(batch_size=_BATCH_ROWS)
            )
            with self._new_file("erased") as (temporary, final):
                written = _write(temporary, kept)
            if written == 0:
                final.unlink()
            removed += source.metadata.num_rows - written
            path.unlink()
            _sync_directory(self.directory)
        return removed

    def leftovers(self, *, now: float | None = None) -> list[Leftover]:
        """Temporary files in the dataset's directory, each with whether its writer is gone."""
        if not self.directory.is_dir():
            return []
        now = time.time() if now is None else now
        found: list[Leftover] = []
        for path in sorted(self.directory.glob(f".*{_TEMPORARY_SUFFIX}")):
            try:
                stat = path.stat()
            except FileNotFoundError:  # renamed or removed meanwhile: that write finished
                continue
            writer = _writer_of(path.name)
            alive = None if writer is None else writer.alive()
            abandoned = alive is False or (alive is None and now - stat.st_mtime > LEFTOVER_AGE)
            found.append(Leftover(path, stat.st_size, None if writer is None else str(writer), abandoned))
        return found

    def remove_abandoned(self) -> list[Leftover]:
        """Remove the temporary files whose writers are gone; returns those removed."""
        removed = []
        for leftover in self.leftovers():
            if leftover.abandoned:
                leftover.path.unlink(missing_ok=True)
                removed.append(leftover)
        return removed

    @contextmanager
    def _new_file(self, prefix: str) -> Iterator[tuple[Path, Path]]:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        final = self.directory / f"{prefix}-{stamp}-{uuid.uuid4().hex[:12]}.parquet"
        temporary = self.directory / f".{final.name}.{processes.current()}{_TEMPORARY_SUFFIX}"
        try:
            yield temporary, final
            os.replace(temporary, final)
            _sync_directory(self.directory)
        finally:
            temporary.unlink(missing_ok=True)


def _theirs(events: pa.Table | pa.RecordBatch, ids: pa.Array, keys: pa.Array) -> pa.Array:
    by_id = pc.fill_null(pc.is_in(events.column("customer_id"), value_set=ids), False)
    return pc.or_(by_id, pc.is_in(events.column("customer"), value_set=keys))


def _writer_of(name: str) -> processes.Owner | None:
    """The writer named in a temporary file's name (``.part-….parquet.<owner>.tmp``)."""
    _, separator, rest = name.removesuffix(_TEMPORARY_SUFFIX).partition(".parquet.")
    return processes.parse(rest) if separator else None


def deduplicated(events: Table) -> Table:
    """One row per ``event_id``: the first by timestamp, then by the other fields (the same on any engine)."""
    order = [ibis.asc(events[name], nulls_first=False) for name in _TIEBREAK]
    rank = ibis.row_number().over(group_by=events.event_id, order_by=order)
    return events.mutate(_rank=rank).filter(ibis._._rank == 0).drop("_rank")


def _conform(table: pa.Table) -> pa.Table:
    missing = [name for name in EVENT_SCHEMA.names if name not in table.column_names]
    if missing:
        raise Invalid(f"Events lack the columns {', '.join(missing)}; validate them with validate_events.")
    table = table.select(EVENT_SCHEMA.names)
    for field in EVENT_SCHEMA:
        if not field.nullable and table.column(field.name).null_count:
            raise Invalid(
                f"Events must have a {field.name} in every row; validate them with validate_events."
            )
    try:
        return table.cast(EVENT_SCHEMA)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise Invalid(f"Events do not fit the event schema: {exc}") from exc


def _write(path: Path, batches: Iterable[pa.RecordBatch]) -> int:
    rows = 0
    with pq.ParquetWriter(
        str(path), EVENT_SCHEMA, compression="zstd", use_dictionary=list(_DICTIONARY_COLUMNS)
    ) as writer:
        for batch in batches:
            writer.write_batch(batch)
            rows += batch.num_rows
    with path.open("rb") as written:
        os.fsync(written.fileno())
    return rows


def _chunked(tables: Iterable[pa.Table], rows_per_file: int) -> Iterator[list[pa.RecordBatch]]:
    """Group the batches of ``tables`` into lists of at most ``rows_per_file`` rows (never empty)."""
    current: list[pa.RecordBatch] = []
    size = 0
    for table in tables:
        for batch in table.to_batches():
            offset = 0
            while offset < batch.num_rows:
                take = min(batch.num_rows - offset, rows_per_file - size)
                current.append(batch.slice(offset, take))
                size += take
                offset += take
                if size == rows_per_file:
                    yield current
                    current, size = [], 0
    if current:
        yield current


def _sync_directory(directory: Path) -> None:
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
