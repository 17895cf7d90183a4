"""Batches of rows as CSV: UTF-8 without a byte order mark, a header line, fields quoted where RFC 4180 needs
it (a delimiter, a quote or a line break in the value), lines ended by CRLF, and text cells guarded against
formula injection (``cells.escape``). One chunk of bytes per batch."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from segone.exporting.cells import QUOTE, TRIGGERS, escape
from segone.exporting.columns import Batch, Column, Kind


def text_of(value: Any) -> str:
    """A value of a text column that is not text (an attribute holding a number, true or false)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _text(value: Any) -> str:
    return escape(value if type(value) is str else text_of(value))


def _boolean(value: Any) -> str:
    return "true" if value else "false"


def _timestamp(value: Any) -> str:
    return str(value.isoformat())


def _guarded(form: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """A column's formatter that still guards text given where another type was expected."""
    return lambda value: escape(value) if type(value) is str else form(value)


_FORMATTERS: dict[Kind, Callable[[Any], Any]] = {
    Kind.TEXT: _text,
    Kind.INTEGER: _guarded(str),
    Kind.FLOAT: _guarded(repr),  # the shortest text that reads back as the same float
    Kind.BOOLEAN: _guarded(_boolean),
    Kind.TIMESTAMP: _guarded(_timestamp),
}
_SAFE_START = TRIGGERS | {QUOTE}
"""A text cell starting with none of these is written as it is (most cells: no call per cell)."""


def rows_of(batch: Batch) -> Sequence[Any]:
    """A batch as rows keyed by column name (an Arrow record batch is converted)."""
    to_pylist = getattr(batch, "to_pylist", None)
    return to_pylist() if to_pylist is not None else batch


def csv_chunks(columns: Sequence[Column], batches: Iterable[Batch]) -> Iterator[bytes]:
    """The header, then each batch, as UTF-8 bytes."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")

    def taken() -> bytes:
        data = buffer.getvalue().encode("utf-8")
        buffer.seek(0)
        buffer.truncate()
        return data

    writer.writerow([escape(column.name) for column in columns])
    yield taken()
    cells = [(column.name, _FORMATTERS[column.kind]) for column in columns]
    for batch in batches:
        writer.writerows(
            [
                [
                    ""
                    if (value := row.get(name)) is None
                    else value
                    if (kind := type(value)) is int or (kind is str and value[:1] not in _SAFE_START)
                    else form(value)
                    for name, form in cells
                ]
                for row in rows_of(batch)
            ]
        )
        yield taken()
