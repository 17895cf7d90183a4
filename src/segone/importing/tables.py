"""A file as one Arrow table, every CSV column as text: for imports of millions of rows (events), which
check columns with vectorised kernels. A record's number is its position from 1 (the first data row)."""

from __future__ import annotations

import csv
import gzip
import io
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.json as pajson
import pyarrow.parquet as pq

from segone.importing.problems import ImportRejected
from segone.importing.text import FALLBACK, detect_encoding, sniff_delimiter

FORMATS = ("csv", "parquet", "jsonl")
_SUFFIXES = {
    ".csv": "csv",
    ".txt": "csv",
    ".tsv": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "jsonl",
}
_HEAD = 1 << 16


def format_of(path: Path) -> str:
    """A file's format by its extension (a ``.gz`` after it is read through)."""
    suffixes = [s.lower() for s in path.suffixes if s.lower() != ".gz"]
    kind = _SUFFIXES.get(suffixes[-1] if suffixes else "")
    if kind is None:
        raise ImportRejected.of_file(
            f"Cannot tell the format of {path.name}: use .csv, .tsv, .parquet or .jsonl."
        )
    return kind


def read_table(path: Path, *, fmt: str | None = None, delimiter: str | None = None) -> pa.Table:
    """Read a CSV (optionally gzipped), Parquet or JSON Lines file; ``fmt`` by the extension when None.

    CSV: the encoding is detected (``text.detect_encoding``: UTF-8 with or without a byte order mark,
    UTF-16 with one, else Windows-1252, else Latin-1) and the delimiter sniffed from the header unless
    given; a ``.tsv`` file is tab-separated.
    """
    kind = fmt or format_of(path)
    if kind == "csv":
        if delimiter is None and ".tsv" in [s.lower() for s in path.suffixes[-2:]]:
            delimiter = "\t"
        try:
            return _csv(path, delimiter)
        except pa.ArrowInvalid as exc:
            raise ImportRejected.of_file(f"{path.name} is not valid CSV: {exc}") from exc
    if kind == "parquet":
        try:
            return pq.read_table(str(path))
        except pa.ArrowInvalid as exc:
            raise ImportRejected.of_file(f"{path.name} is not Parquet: {exc}") from exc
    if kind == "jsonl":
        _check_json_lines(path)
        try:
            return pajson.read_json(str(path))
        except pa.ArrowInvalid as exc:
            raise ImportRejected.of_file(f"{path.name} is not valid JSON Lines: {exc}") from exc
    raise ImportRejected.of_file(f"Unknown format '{kind}'; use one of {', '.join(FORMATS)}.")


def _check_json_lines(path: Path) -> None:
    """Each line one JSON object, nested no deeper than Python allows: Arrow's parser recurses without
    a limit, and a line of a hundred thousand brackets would crash the process rather than fail."""
    opener = gzip.open if path.suffix.lower() == ".gz" else open
    with opener(path, "rb") as file:
        for number, line in enumerate(file, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except RecursionError:
                raise ImportRejected.of_file(
                    f"{path.name} is not valid JSON Lines: line {number} is nested too deeply."
                ) from None
            except ValueError as exc:
                raise ImportRejected.of_file(
                    f"{path.name} is not valid JSON Lines: line {number}: {exc}"
                ) from exc
            if not isinstance(record, dict):
                raise ImportRejected.of_file(
                    f"{path.name} is not valid JSON Lines: line {number} is not an object."
                )


def _csv(path: Path, delimiter: str | None) -> pa.Table:
    opener = gzip.open if path.suffix.lower() == ".gz" else open
    with opener(path, "rb") as file:
        head = file.read(_HEAD)
    encoding = detect_encoding(head, partial=True)
    text = head.decode(encoding, errors="ignore")
    first_line = next((line for line in text.splitlines() if line.strip()), "")
    delimiter = delimiter or sniff_delimiter(first_line)
    names = next(csv.reader(io.StringIO(text.removeprefix("\ufeff")), delimiter=delimiter), [])
    if not names:
        raise ImportRejected.of_file(f"{path.name} is empty: the first line must name the columns.")

    def read(encoding: str) -> pa.Table:
        return pacsv.read_csv(
            str(path),
            read_options=pacsv.ReadOptions(encoding="utf8" if encoding.startswith("utf-8") else encoding),
            parse_options=pacsv.ParseOptions(delimiter=delimiter),
            convert_options=pacsv.ConvertOptions(column_types=dict.fromkeys(names, pa.string())),
        )

    try:
        return read(encoding)
    except pa.ArrowInvalid as exc:
        if encoding != "utf-8" or "UTF8" not in str(exc):
            raise
    return read(FALLBACK)  # valid UTF-8 at the start only
