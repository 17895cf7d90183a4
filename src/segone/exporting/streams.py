"""An export written out: in which format, as chunks of bytes for HTTP or into a file, with its progress."""

from __future__ import annotations

import enum
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from segone.exporting.columns import Batch, Column, Export
from segone.exporting.csv_writer import csv_chunks
from segone.progress import Progress, silent

if TYPE_CHECKING:
    from sqlalchemy.orm import Session


class Format(enum.StrEnum):
    CSV = "csv"
    PARQUET = "parquet"


_MEDIA_TYPES = {Format.CSV: "text/csv; charset=utf-8", Format.PARQUET: "application/vnd.apache.parquet"}


def media_type(fmt: Format) -> str:
    return _MEDIA_TYPES[fmt]


def file_name(name: str, fmt: Format, at: datetime) -> str:
    """``segone-customers-20261206-1432.csv``: what a download is saved as."""
    return f"segone-{name}-{at:%Y%m%d-%H%M}.{fmt.value}"


def content_disposition(name: str, fmt: Format, at: datetime) -> str:
    return f'attachment; filename="{file_name(name, fmt, at)}"'


def encode(fmt: Format, columns: Sequence[Column], batches: Iterable[Batch]) -> Iterator[bytes]:
    """The file's bytes, a chunk per batch (the header or the Parquet footer apart)."""
    if fmt is Format.PARQUET:
        from segone.exporting.parquet_writer import parquet_chunks  # loads Arrow: only for Parquet

        return parquet_chunks(columns, batches)
    return csv_chunks(columns, batches)


class Tally:
    """Batches passing through on their way to a writer: counted, with the progress reported."""

    def __init__(
        self, batches: Iterable[Batch], *, progress: Progress = silent, stage: str, total: int | None
    ) -> None:
        self._batches = batches
        self._progress = progress
        self._stage = stage
        self._total = total
        self.rows = 0

    def __iter__(self) -> Iterator[Batch]:
        self._progress(self._stage, 0, self._total)
        for batch in self._batches:
            yield batch
            self.rows += len(batch)
            self._progress(self._stage, self.rows, self._total)


def stream(
    export: Export,
    fmt: Format,
    session: Callable[[], AbstractContextManager[Session]],
    *,
    progress: Progress = silent,
) -> Iterator[bytes]:
    """The export's bytes, read in a session of its own (``Runtime.session``): an HTTP response streams
    after the request's transaction has ended."""
    with session() as db:
        tally = Tally(export.read(db), progress=progress, stage=f"Exporting {export.name}", total=export.rows)
        yield from encode(fmt, export.columns, tally)


def write_file(chunks: Iterable[bytes], path: Path) -> int:
    """Write the chunks to ``path`` through a temporary file beside it, so that a failed export leaves no
    half-written file under the name; returns the bytes written."""
    partial = path.with_name(f".{path.name}.part")
    written = 0
    try:
        with partial.open("wb") as file:
            written = write_to(chunks, file)
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    return written


def write_to(chunks: Iterable[bytes], file: BinaryIO) -> int:
    written = 0
    for chunk in chunks:
        file.write(chunk)
        written += len(chunk)
    return written
