"""A file as a header and rows of text, each row with the line where it starts: for imports that check
every row in Python (customers, facts: up to a few hundred thousand rows)."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, replace
from typing import Any

from segone.exporting.cells import unescape
from segone.importing.problems import ImportRejected
from segone.importing.text import decode, sniff_delimiter

SHEET_FORMATS = ("csv", "parquet", "jsonl")


@dataclass(frozen=True)
class Sheet:
    header_line: int | None
    """The header's line in a CSV file; None where the header is not a line (Parquet, JSON Lines)."""
    header: list[str]
    rows: list[tuple[int, list[str]]]
    """Each non-blank row: where it is (CSV, JSON Lines: its first line; Parquet: its position from 1)
    and its cells as text, in the header's order."""
    encoding: str | None = None
    """How the text was read (``text.Decoded.encoding``); None for Parquet and text given as text."""


def read_sheet(data: bytes | str, *, needs: str, fmt: str = "csv", encoding: str | None = None) -> Sheet:
    """Read a CSV (encoding detected unless named, delimiter sniffed), Parquet or JSON Lines file.

    ``needs`` says what the header must hold, for the message about an empty file (``"a 'name'
    column"``). Raises ``ImportRejected`` for a file that cannot be read.
    """
    if fmt == "csv":
        decoded = decode(data, encoding=encoding)
        sheet = replace(_csv(decoded.text), encoding=decoded.encoding)
    elif fmt == "parquet":
        sheet = _parquet(data.encode() if isinstance(data, str) else data)
    elif fmt == "jsonl":
        decoded = decode(data, encoding=encoding)
        sheet = replace(_jsonl(decoded.text), encoding=decoded.encoding)
    else:
        raise ImportRejected.of_file(f"Unknown format '{fmt}'; use one of {', '.join(SHEET_FORMATS)}.")
    if not sheet.header:
        raise ImportRejected.of_file(f"The file is empty: it needs a header line with {needs}.")
    return sheet


def _csv(text: str) -> Sheet:
    """Cells as the text they hold: the ``'`` that guards a formula-like cell (``'=1+2``, as exports and
    spreadsheets write it) is taken off (``segone.exporting.cells``)."""
    first_line = next((line for line in text.splitlines() if line.strip()), "")
    # The header decides the delimiter: spreadsheets in many locales write ';' (values may hold ';').
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sniff_delimiter(first_line))
    header: list[str] = []
    header_line = 0
    rows: list[tuple[int, list[str]]] = []
    end = 0
    try:
        for values in reader:
            start, end = end + 1, reader.line_num
            if not any(value.strip() for value in values):
                continue
            values = [unescape(value) if value[:1] == "'" else value for value in values]
            if not header:
                header, header_line = values, start
            else:
                rows.append((start, values))
    except csv.Error as exc:
        raise ImportRejected.of_file(f"Line {end + 1} is not valid CSV ({exc}).", row=end + 1) from exc
    return Sheet(header_line, header, rows)


def _parquet(data: bytes) -> Sheet:
    import pyarrow as pa  # only here: the text formats need no Arrow
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(pa.BufferReader(data))
    except (pa.ArrowInvalid, OSError) as exc:
        raise ImportRejected.of_file(f"The file is not Parquet ({exc}).") from exc
    columns = [table.column(name).to_pylist() for name in table.column_names]
    rows = [(i + 1, [_cell(column[i]) for column in columns]) for i in range(table.num_rows)]
    return Sheet(None, list(table.column_names), rows)


def _jsonl(text: str) -> Sheet:
    records: list[tuple[int, dict[str, Any]]] = []
    for line, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            record = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise ImportRejected.of_file(f"Line {line} is not valid JSON ({exc.msg}).", row=line) from exc
        if not isinstance(record, dict):
            raise ImportRejected.of_file(f"Line {line} is not a JSON object.", row=line)
        records.append((line, record))
    header = list(dict.fromkeys(key for _line, record in records for key in record))
    return Sheet(None, header, [(line, [_cell(r.get(key)) for key in header]) for line, r in records])


def _cell(value: Any) -> str:
    """A value of a typed file as the text a CSV cell would hold."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, default=str)
    return str(value)
