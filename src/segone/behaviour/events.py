"""Events: what customers did (purchases, contacts, visits, complaints, returns, referrals, reviews).

An event row follows ``EVENT_SCHEMA``. Files arrive in any column layout; ``validate_events`` maps their
columns onto the schema, parses dates, numbers and names with vectorised Arrow kernels (fast for tens of
millions of rows), and returns either the normalised table or the bad rows with what is wrong in each.

``customer`` is the external identity as the source wrote it (``email:ann@example.com``, ``cdnow:00042``).
Resolving it to our customer id is the caller's job: ``customer_id`` is left empty for it to fill.
"""

from __future__ import annotations

import binascii
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from segone.errors import Invalid
from segone.importing import ImportProblem, ImportRejected, match_columns

EVENT_TYPES = ("purchase", "contact", "visit", "complaint", "return", "referral", "review")

EVENT_SCHEMA = pa.schema(
    [
        pa.field("event_id", pa.string(), nullable=False),
        pa.field("customer", pa.string(), nullable=False),
        pa.field("customer_id", pa.int64()),
        pa.field("type", pa.string(), nullable=False),
        pa.field("ts", pa.timestamp("us", tz="UTC"), nullable=False),
        pa.field("value", pa.float64()),
        pa.field("quantity", pa.int64()),
        pa.field("channel", pa.string()),
        pa.field("offering", pa.string()),
        pa.field("reason", pa.string()),
        pa.field("properties", pa.string()),
    ]
)
FIELDS = tuple(EVENT_SCHEMA.names)
FIELD_ALIASES = {"timestamp": "ts"}

_UTC = pa.timestamp("us", tz="UTC")
ISO8601 = "ISO8601"
"""The default date format: ``2024-05-01``, ``2024-05-01 14:03``, ``2024-05-01T14:03:07.25+02:00``..."""

_TYPE_PATTERN = r"^[a-z][a-z0-9_]*$"
_DECIMAL_PATTERN = r"^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?$"
_INTEGER_PATTERN = r"^[+-]?[0-9]{1,18}$"
_ISO_PATTERN = (
    r"^(?P<date>[0-9]{4}-[0-9]{2}-[0-9]{2})"
    r"(?:[T ](?P<hm>[0-9]{2}:[0-9]{2})(?::(?P<sec>[0-9]{2})(?:[.,](?P<frac>[0-9]{1,9}))?)?)?"
    r"(?P<tz>Z|[+-][0-9]{2}(?::?[0-9]{2})?)?$"
)


@dataclass(frozen=True)
class Validation:
    """Either ``table`` (normalised to ``EVENT_SCHEMA``) or ``errors``; never both."""

    table: pa.Table | None
    errors: list[ImportProblem]
    """Each names the record's position (the first data row of a file is row 1) and the input's column."""
    error_count: int = 0
    """All errors found; ``errors`` holds at most ``max_errors`` of them, first rows first."""

    @property
    def ok(self) -> bool:
        return self.table is not None


@dataclass
class _Problem:
    column: str
    mask: npt.NDArray[np.bool_]
    problem: str
    source: pa.ChunkedArray | None = None
    """When given, the offending value is quoted in the message."""


def validate_events(
    table: pa.Table,
    mapping: Mapping[str, str] | None = None,
    *,
    date_formats: Sequence[str] = (ISO8601,),
    constants: Mapping[str, Any] | None = None,
    max_errors: int = 1000,
) -> Validation:
    """Map ``table``'s columns onto ``EVENT_SCHEMA`` and check every row.

    ``mapping`` names the source column of a field (``{"customer": "cust_id", "timestamp": "date"}``);
    unmapped fields use the column of the same name when there is one. ``constants`` give a field one value
    for the whole table (``{"type": "purchase"}``). ``date_formats`` are tried in order per row: ``ISO8601``
    or strptime formats such as ``"%Y%m%d"``; a time without a zone is UTC. Rows without an event id get
    one derived from a stable hash of their other fields (see ``derive_event_ids``).
    """
    constants = {FIELD_ALIASES.get(key, key): value for key, value in (constants or {}).items()}
    sources = _resolve_sources(table, mapping or {}, constants)
    rows = table.num_rows
    problems: list[_Problem] = []
    columns: dict[str, pa.ChunkedArray] = {}

    def source(field: str) -> tuple[str, pa.ChunkedArray | None]:
        if field in constants:
            value = constants[field]
            array = pc.fill_null(pa.nulls(rows, pa.string()), str(value)) if value is not None else None
            return f"{field} (constant)", None if array is None else pa.chunked_array([array])
        name = sources.get(field)
        return (name or field), (table.column(name) if name else None)

    for field in FIELDS:
        label, column = source(field)
        normalise = _NORMALISERS[field]
        if column is None:
            if field in ("customer", "type", "ts"):
                raise ImportRejected.of_file(
                    f"No column for '{field}'. Columns: {', '.join(table.column_names)}; "
                    f"map one, e.g. {{'{field}': '<column>'}}.",
                    column=field,
                )
            columns[field] = _nulls(rows, EVENT_SCHEMA.field(field).type)
            continue
        if pa.types.is_nested(column.type) and field != "properties":
            raise ImportRejected.of_file(
                f"The column {label} holds lists or objects; each '{field}' must be one value.", column=label
            )
        array, found = normalise(label, column, date_formats)
        columns[field] = array
        problems.extend(found)

    error_count = sum(int(p.mask.sum()) for p in problems)
    if error_count:
        return Validation(None, _row_errors(problems, max_errors), error_count)
    normalised = pa.table(columns, schema=EVENT_SCHEMA.set(0, pa.field("event_id", pa.string())))
    ids = normalised.column("event_id")
    if ids.null_count == rows:
        normalised = normalised.set_column(0, "event_id", derive_event_ids(normalised))
    elif ids.null_count:
        missing = pc.is_null(ids)
        derived = derive_event_ids(normalised.filter(missing))
        filled = pc.replace_with_mask(
            ids.combine_chunks(), missing.combine_chunks(), derived.combine_chunks()
        )
        normalised = normalised.set_column(0, "event_id", filled)
    return Validation(normalised.cast(EVENT_SCHEMA), [], 0)


def _nulls(rows: int, kind: pa.DataType) -> pa.ChunkedArray:
    """``rows`` nulls as chunks that share one block (allocating and zeroing 20M offsets takes long)."""
    block = pa.nulls(min(rows, _SLICE), kind)
    pieces = [block] * (rows // _SLICE) + ([block.slice(0, rows % _SLICE)] if rows % _SLICE else [])
    return pa.chunked_array(pieces, type=kind)


def _resolve_sources(
    table: pa.Table, mapping: Mapping[str, str], constants: Mapping[str, Any]
) -> dict[str, str]:
    match = match_columns(
        table.column_names, FIELDS, aliases=FIELD_ALIASES, mapping=mapping, exact=True, noun="event field"
    )
    for key in mapping:
        if (field := FIELD_ALIASES.get(key, key)) in constants:
            raise Invalid(f"'{field}' is both mapped to a column and given a constant; choose one.")
    for key in constants:
        if key not in FIELDS:
            raise Invalid(f"Unknown event field '{key}' in the constants; fields: {', '.join(FIELDS)}.")
    return {
        field: column for field, column in match.names(table.column_names).items() if field not in constants
    }


def _row_errors(problems: list[_Problem], limit: int) -> list[ImportProblem]:
    found: list[tuple[int, int, ImportProblem]] = []
    for order, problem in enumerate(problems):
        for index in np.flatnonzero(problem.mask)[:limit]:
            text = problem.problem
            if problem.source is not None:
                text = f"{text}: {problem.source[int(index)].as_py()!r}"
            error = ImportProblem(row=int(index) + 1, column=problem.column, problem=text)
            found.append((int(index), order, error))
    found.sort(key=lambda item: (item[0], item[1]))
    return [error for _, _, error in found[:limit]]


# --- normalisers: (label, column, date formats) -> (normalised column, problems) ---------------------------

_Normalised = tuple[pa.ChunkedArray, list[_Problem]]


def _mask(array: pa.ChunkedArray | pa.Array) -> npt.NDArray[np.bool_]:
    """A boolean array with nulls as False, as numpy."""
    return np.asarray(pc.fill_null(array, False).to_numpy(zero_copy_only=False), dtype=np.bool_)


def _text(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """Any column as trimmed strings, with empty strings as null."""
    if not pa.types.is_string(column.type):
        column = column.cast(pa.string())
    if _plain_ascii(column, "trimmed"):
        return column  # nothing to trim and nothing empty: the column as it is (no copy)
    trimmed = pc.utf8_trim_whitespace(column)
    return pc.if_else(pc.equal(trimmed, ""), pa.scalar(None, pa.string()), trimmed)


def _lower(text: pa.ChunkedArray) -> pa.ChunkedArray:
    return text if _plain_ascii(text, "lower") else pc.utf8_lower(text)


def _plain_ascii(column: pa.ChunkedArray, check: str) -> bool:
    """A fast, conservative test on the raw string buffers of every non-null value.

    ``"trimmed"``: non-empty, first and last byte printable ASCII but space (trimming changes nothing);
    ``"lower"``: non-empty, every byte printable ASCII but A-Z (lowercasing changes nothing); ``"name"``:
    a lowercase name as ``_TYPE_PATTERN`` wants (a letter, then letters, digits and ``_``).
    False means "maybe not", never "no": the caller then runs the exact kernels.
    """
    if not pa.types.is_string(column.type):
        return False
    for chunk in column.chunks:
        if len(chunk) == 0 or chunk.null_count == len(chunk):
            continue
        buffers = chunk.buffers()
        offsets = np.frombuffer(buffers[1], dtype=np.int32)[chunk.offset : chunk.offset + len(chunk) + 1]
        starts, ends = offsets[:-1], offsets[1:]
        if chunk.null_count:
            valid = np.asarray(chunk.is_valid().to_numpy(zero_copy_only=False), dtype=np.bool_)
            starts, ends = starts[valid], ends[valid]
        if not bool((ends > starts).all()):
            return False  # an empty value becomes null (and is no name)
        data = np.frombuffer(buffers[2], dtype=np.uint8)
        if check == "trimmed":
            if not (_printable(data[starts]) and _printable(data[ends - 1])):
                return False
            continue
        # Every byte of the values (and of null slots, if they hold any: at worst a needless slow path).
        content = data[int(offsets[0]) : int(offsets[-1])]
        if check == "lower":
            if not (_all(content >= 0x20) and _all(content < 0x7F)) or bool(
                ((content >= ord("A")) & (content <= ord("Z"))).any()
            ):
                return False
            continue
        first = data[starts]
        lowercase = (content >= ord("a")) & (content <= ord("z"))
        digits = (content >= ord("0")) & (content <= ord("9"))
        if not (_all(lowercase | digits | (content == ord("_"))) and _all(first >= ord("a"))):
            return False
        if not _all(first <= ord("z")):
            return False
    return True


def _printable(symbols: npt.NDArray[np.uint8]) -> bool:
    return _all(symbols > 0x20) and _all(symbols < 0x7F)


def _all(condition: npt.NDArray[np.bool_]) -> bool:
    return bool(condition.all())


def _required_text(label: str, column: pa.ChunkedArray, _formats: Sequence[str]) -> _Normalised:
    values = _text(column)
    return values, [_Problem(label, _mask(pc.is_null(values)), "missing value")]


def _optional_text(label: str, column: pa.ChunkedArray, _formats: Sequence[str]) -> _Normalised:
    return _text(column), []


def _channel(label: str, column: pa.ChunkedArray, _formats: Sequence[str]) -> _Normalised:
    return _lower(_text(column)), []


def _event_type(label: str, column: pa.ChunkedArray, _formats: Sequence[str]) -> _Normalised:
    values = _lower(_text(column))
    missing = _mask(pc.is_null(values))
    if _plain_ascii(values, "name"):
        invalid = np.zeros(len(values), dtype=np.bool_)
    else:
        invalid = ~missing & ~_mask(pc.match_substring_regex(values, _TYPE_PATTERN))
    return values, [
        _Problem(label, missing, "missing event type"),
        _Problem(label, invalid, "event type must be a lowercase name such as purchase or contact", column),
    ]


def _float(label: str, column: pa.ChunkedArray, _formats: Sequence[str]) -> _Normalised:
    if (
        pa.types.is_floating(column.type)
        or pa.types.is_integer(column.type)
        or pa.types.is_decimal(column.type)
    ):
        values = column.cast(pa.float64())
        return pc.if_else(pc.is_nan(values), pa.scalar(None, pa.float64()), values), []
    text = _text(column)
    valid = pc.match_substring_regex(text, _DECIMAL_PATTERN)
    bad = _mask(pc.and_(pc.is_valid(text), pc.invert(valid)))
    values = pc.if_else(valid, text, pa.scalar(None, pa.string())).cast(pa.float64())
    return values, [_Problem(label, bad, "not a number", column)]


def _integer(label: str, column: pa.ChunkedArray, _formats: Sequence[str]) -> _Normalised:
    if pa.types.is_integer(column.type):
        return column.cast(pa.int64()), []
    if pa.types.is_floating(column.type):
        integral = pc.and_(pc.equal(pc.floor(column), column), pc.less(pc.abs(column), 2.0**62))
        bad = _mask(pc.invert(integral))
        values = pc.if_else(integral, column, pa.scalar(None, column.type)).cast(pa.int64())
        return values, [_Problem(label, bad, "not a whole number", column)]
    text = _text(column)
    valid = pc.match_substring_regex(text, _INTEGER_PATTERN)
    bad = _mask(pc.and_(pc.is_valid(text), pc.invert(valid)))
    values = pc.if_else(valid, text, pa.scalar(None, pa.string())).cast(pa.int64())
    return values, [_Problem(label, bad, "not a whole number", column)]


def _properties(label: str, column: pa.ChunkedArray, _formats: Sequence[str]) -> _Normalised:
    if pa.types.is_struct(column.type) or pa.types.is_map(column.type):
        # Nested JSON read from JSON Lines or Parquet: serialised per row (the one non-vectorised step,
        # paid only by inputs that carry nested properties).
        items = column.to_pylist()
        values = pa.chunked_array([pa.array([None if v is None else json.dumps(_plain(v)) for v in items])])
        return values.cast(pa.string()), []
    text = _text(column)
    looks_like_object = pc.and_(pc.starts_with(text, "{"), pc.ends_with(text, "}"))
    bad = _mask(pc.and_(pc.is_valid(text), pc.invert(looks_like_object)))
    return text, [_Problem(label, bad, "properties must be a JSON object", column)]


def _plain(value: Any) -> Any:
    if isinstance(value, list) and all(isinstance(v, tuple) and len(v) == 2 for v in value):
        return {str(k): _plain(v) for k, v in value}  # an Arrow map arrives as key/value pairs
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value if isinstance(value, str | int | float | bool) or value is None else str(value)


def _timestamp(label: str, column: pa.ChunkedArray, formats: Sequence[str]) -> _Normalised:
    utc = pa.timestamp("us", tz="UTC")
    kind = column.type
    if pa.types.is_timestamp(kind):
        # A zone-less timestamp is read as UTC; one with a zone is converted to UTC.
        values = column.cast(pa.timestamp("us", tz=None if kind.tz is None else "UTC"), safe=False).cast(utc)
        return values, [_Problem(label, _mask(pc.is_null(values)), "missing date")]
    if pa.types.is_date(kind):
        values = column.cast(pa.timestamp("us")).cast(utc)
        return values, [_Problem(label, _mask(pc.is_null(values)), "missing date")]
    text = _text(column)
    parsed: pa.ChunkedArray | None = None
    for fmt in formats:
        attempt = _parse_iso(text) if fmt == ISO8601 else _strptime(text, fmt)
        parsed = attempt if parsed is None else pc.coalesce(parsed, attempt)
    assert parsed is not None, "at least one date format is needed"
    missing = _mask(pc.is_null(text))
    bad = ~missing & _mask(pc.is_null(parsed))
    shown = ", ".join(formats)
    return parsed, [
        _Problem(label, missing, "missing date"),
        _Problem(label, bad, f"not a date in the format {shown}", column),
    ]


def _strptime(text: pa.ChunkedArray, fmt: str) -> pa.ChunkedArray:
    """strptime; a format without ``%z`` reads UTC (casting a zone-less timestamp to UTC keeps its digits).

    Arrow's strptime rolls impossible days over (30 February becomes 1 March), so a parsed value that
    does not print back as it was written (a rollover, or merely no zero padding) is checked with Python's
    strict strptime, once per distinct text.
    """
    parsed = pc.strptime(text, format=fmt, unit="us", error_is_null=True)
    printed = pc.strftime(parsed.cast(pa.timestamp("s", tz=parsed.type.tz)), format=fmt)
    doubtful = pc.and_(pc.is_valid(parsed), pc.not_equal(printed, text))
    if pc.any(doubtful).as_py():
        impossible = [
            value for value in pc.unique(text.filter(doubtful)).to_pylist() if not _strict(value, fmt)
        ]
        if impossible:
            parsed = pc.if_else(pc.is_in(text, pa.array(impossible)), pa.scalar(None, parsed.type), parsed)
    return parsed.cast(pa.timestamp("us", tz="UTC"))


def _strict(text: str, fmt: str) -> bool:
    try:
        datetime.strptime(text, fmt)
    except ValueError:
        return False
    return True


def _parse_iso(text: pa.ChunkedArray) -> pa.ChunkedArray:
    return pa.chunked_array([_parse_iso_chunk(chunk) for chunk in text.chunks], type=_UTC)


def _parse_iso_chunk(text: pa.Array) -> pa.Array:
    """Arrow's strict ISO 8601 cast when every value of the chunk passes it (fast); else row by row."""
    for kind in (_UTC, pa.timestamp("us")):
        try:
            return pc.cast(text, kind).cast(_UTC)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            continue
    return _parse_iso_rows(text)


def _parse_iso_rows(text: pa.Array) -> pa.Array:
    parts = pc.extract_regex(text, _ISO_PATTERN)
    date = pc.struct_field(parts, "date")
    hm = pc.if_else(pc.equal(pc.struct_field(parts, "hm"), ""), "00:00", pc.struct_field(parts, "hm"))
    sec = pc.if_else(pc.equal(pc.struct_field(parts, "sec"), ""), "00", pc.struct_field(parts, "sec"))
    base = pc.strptime(
        pc.binary_join_element_wise(date, hm, sec, " "),
        format="%Y-%m-%d %H:%M %S",
        unit="us",
        error_is_null=True,
    )
    real_day = pc.equal(pc.strftime(pc.cast(base, pa.timestamp("s")), format="%Y-%m-%d"), date)  # not 02-30
    micros = pc.cast(pc.if_else(real_day, base, pa.scalar(None, base.type)), pa.int64())
    frac = pc.struct_field(parts, "frac")
    frac_us = pc.if_else(
        pc.equal(frac, ""),
        pa.scalar(0, pa.int64()),
        pc.cast(pc.utf8_slice_codeunits(pc.utf8_rpad(frac, 6, "0"), 0, 6), pa.int64()),
    )
    tz = pc.struct_field(parts, "tz")
    digits = pc.replace_substring(pc.utf8_slice_codeunits(tz, 1), ":", "")
    hours = pc.cast(
        pc.if_else(pc.greater_equal(pc.utf8_length(digits), 2), pc.utf8_slice_codeunits(digits, 0, 2), "0"),
        pa.int64(),
    )
    minutes = pc.cast(
        pc.if_else(pc.equal(pc.utf8_length(digits), 4), pc.utf8_slice_codeunits(digits, 2, 4), "0"),
        pa.int64(),
    )
    sign = pc.if_else(pc.starts_with(tz, "-"), -1, 1)
    offset_us = pc.multiply(pc.multiply(pc.add(pc.multiply(hours, 60), minutes), sign), 60_000_000)
    offset_us = pc.if_else(pc.or_(pc.equal(tz, ""), pc.equal(tz, "Z")), pa.scalar(0, pa.int64()), offset_us)
    utc_us = pc.subtract(pc.add(micros, frac_us), offset_us)
    return pc.cast(utc_us, _UTC)


_NORMALISERS = {
    "event_id": _optional_text,
    "customer": _required_text,
    "customer_id": _integer,
    "type": _event_type,
    "ts": _timestamp,
    "value": _float,
    "quantity": _integer,
    "channel": _channel,
    "offering": _optional_text,
    "reason": _optional_text,
    "properties": _properties,
}


# --- derived event ids -------------------------------------------------------------------------------------

_BASES = (0x100000001B3, 0xC2B2AE3D27D4EB4F)
_STEPS = (0x9E3779B97F4A7C15, 0x165667B19E3779F9)
_NULL = np.uint64(0x5BD1E9955BD1E995)
_NUMBER = (np.uint64(0x2545F4914F6CDD1D), np.uint64(0x27BB2EE687B0B0FD))
_FEW_VALUES = {"type", "channel", "offering", "reason"}
_SLICE = 1 << 20

_Lanes = tuple[npt.NDArray[np.uint64], npt.NDArray[np.uint64]]


def derive_event_ids(events: pa.Table) -> pa.ChunkedArray:
    """A 32-hex-digit id per row from a 128-bit hash of its fields (all but ``event_id`` and ``customer_id``).

    The hash is defined here (polynomial string hashing and the splitmix64 finaliser on numpy, in slices of
    a million rows), so the same event re-sent later, in any file format, gets the same id. Rows that are
    identical within one batch are numbered (0, 1, ...) and the number is part of the hash: the same file
    sent twice is de-duplicated, two identical purchases in one file both count.
    """
    first = np.zeros(events.num_rows, dtype=np.uint64)
    second = np.zeros(events.num_rows, dtype=np.uint64)
    for name in FIELDS:
        if name in ("event_id", "customer_id"):
            continue
        a, b = _column_hashes(events.column(name), few_values=name in _FEW_VALUES)
        first = _fmix(first * np.uint64(_STEPS[0]) + a)
        second = _fmix(second * np.uint64(_STEPS[1]) + b)
    occurrence = _occurrence(first, second)
    repeated = np.flatnonzero(occurrence)
    if repeated.size:
        number = occurrence[repeated]
        first[repeated] = _fmix(first[repeated] ^ (number * np.uint64(_STEPS[0])))
        second[repeated] = _fmix(second[repeated] + number * np.uint64(_STEPS[1]))
    return pa.chunked_array(_hex_ids(first, second), type=pa.string())


def id_hashes(ids: pa.Array | pa.ChunkedArray) -> _Lanes:
    """The two 64-bit halves of a 128-bit hash of each text (an ``event_id``), the same in any process."""
    chunked = ids if isinstance(ids, pa.ChunkedArray) else pa.chunked_array([ids], type=ids.type)
    return _column_hashes(chunked, few_values=False)


def _fmix(h: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint64]:
    h = h ^ (h >> np.uint64(30))
    h = h * np.uint64(0xBF58476D1CE4E5B9)
    h = h ^ (h >> np.uint64(27))
    h = h * np.uint64(0x94D049BB133111EB)
    return h ^ (h >> np.uint64(31))


def _column_hashes(column: pa.ChunkedArray, *, few_values: bool) -> _Lanes:
    first = np.empty(len(column), dtype=np.uint64)
    second = np.empty(len(column), dtype=np.uint64)
    start = 0
    for piece in _slices(column):
        stop = start + len(piece)
        if not (pa.types.is_string(piece.type) or pa.types.is_large_string(piece.type)):
            a, b = _number_hashes(piece)
        elif few_values:  # hash each distinct text once
            encoded = pc.dictionary_encode(piece)
            a, b = (np.append(lane, _NULL) for lane in _string_hashes(encoded.dictionary))
            codes = pc.fill_null(encoded.indices, len(encoded.dictionary)).to_numpy(zero_copy_only=False)
            a, b = a[codes], b[codes]  # a null row takes the appended null hash
        else:
            a, b = _string_hashes(piece)
        first[start:stop], second[start:stop] = a, b
        start = stop
    return first, second


def _slices(column: pa.ChunkedArray) -> Iterator[pa.Array]:
    for chunk in column.chunks:
        for offset in range(0, len(chunk), _SLICE):
            yield chunk.slice(offset, _SLICE)


def _number_hashes(array: pa.Array) -> _Lanes:
    if pa.types.is_timestamp(array.type):
        array = array.cast(pa.int64())
    filled = pc.fill_null(array, 0).to_numpy(zero_copy_only=False)
    bits = np.ascontiguousarray(filled).view(np.uint64)
    null = _mask(pc.is_null(array))
    return (
        np.where(null, _NULL, _fmix(bits + _NUMBER[0])),
        np.where(null, _NULL, _fmix(bits ^ _NUMBER[1])),
    )


def _string_hashes(array: pa.Array) -> _Lanes:
    """Two polynomial hashes of each string's bytes (mod 2**64), finalised with its length."""
    offsets_type = np.int64 if pa.types.is_large_string(array.type) else np.int32
    buffers = array.buffers()
    offsets = np.frombuffer(buffers[1], dtype=offsets_type)[array.offset : array.offset + len(array) + 1]
    offsets = offsets.astype(np.int64)
    first, last = int(offsets[0]), int(offsets[-1])
    data = np.frombuffer(buffers[2], dtype=np.uint8)[first:last] if last > first else np.zeros(0, np.uint8)
    lengths = np.diff(offsets)
    from_end = np.repeat(offsets[1:], lengths) - np.arange(first, last, dtype=np.int64) - 1
    longest = int(lengths.max()) if len(lengths) else 0
    symbols = data.astype(np.uint64) + np.uint64(1)
    relative = offsets - first
    null = _mask(pc.is_null(array))
    lanes = []
    for base in _BASES:
        powers = np.cumprod(np.full(longest + 1, base, dtype=np.uint64))
        powers[1:], powers[0] = powers[:-1], 1
        sums = np.concatenate(
            [np.zeros(1, np.uint64), np.cumsum(symbols * powers[from_end], dtype=np.uint64)]
        )
        hashed = _fmix(
            (sums[relative[1:]] - sums[relative[:-1]]) ^ (lengths.astype(np.uint64) * np.uint64(base))
        )
        lanes.append(np.where(null, _NULL, hashed))
    return lanes[0], lanes[1]


def _occurrence(first: npt.NDArray[np.uint64], second: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint64]:
    """For each row, how many earlier rows have the same hash (0 for the first of them)."""
    occurrence = np.zeros(len(first), dtype=np.uint64)
    ordered = np.sort(first)  # rows whose first half repeats are the candidates (usually none)
    repeats = ordered[1:][ordered[1:] == ordered[:-1]]
    if not repeats.size:
        return occurrence
    candidates = np.flatnonzero(np.isin(first, repeats))
    order = candidates[np.lexsort((second[candidates], first[candidates]))]  # stable: earlier rows first
    a, b = first[order], second[order]
    positions = np.arange(len(order))
    new_run = np.ones(len(order), dtype=np.bool_)
    new_run[1:] = (a[1:] != a[:-1]) | (b[1:] != b[:-1])
    run_start = np.maximum.accumulate(np.where(new_run, positions, 0))
    occurrence[order] = (positions - run_start).astype(np.uint64)
    return occurrence


def _hex_ids(first: npt.NDArray[np.uint64], second: npt.NDArray[np.uint64]) -> list[pa.Array]:
    chunks = []
    for start in range(0, len(first), _SLICE):
        pair = np.stack([first[start : start + _SLICE], second[start : start + _SLICE]], axis=1)
        text = binascii.hexlify(pair.astype(">u8").tobytes())
        offsets = np.arange(0, 32 * (len(pair) + 1), 32, dtype=np.int32)
        chunks.append(pa.StringArray.from_buffers(len(pair), pa.py_buffer(offsets), pa.py_buffer(text)))
    return chunks


def moved(events: pa.Table, by: timedelta) -> pa.Table:
    """Events (``EVENT_SCHEMA``) moved ``by`` in time, with ids derived from the moved events: those an
    import of the moved events would give them, so importing them again changes nothing."""
    ts = pc.add(events.column("ts"), pa.scalar(by, pa.duration("us")))
    shifted = events.set_column(events.schema.get_field_index("ts"), EVENT_SCHEMA.field("ts"), ts)
    return shifted.set_column(0, EVENT_SCHEMA.field("event_id"), derive_event_ids(shifted))


# --- the CDNOW preset --------------------------------------------------------------------------------------


def cdnow_path(name: str) -> Path:
    """The shipped gzipped copy of ``CDNOW_master.txt`` or ``CDNOW_sample.txt``."""
    return Path(str(resources.files("segone.behaviour") / "data" / f"{name}.gz"))


def read_cdnow_master(path: Path | None = None) -> pa.Table:
    """CDNOW_master.txt (customer id, YYYYMMDD, CDs, dollars) as purchase events of ``cdnow:NNNNN``."""
    tokens = _whitespace_columns(path or cdnow_path("CDNOW_master.txt"), 4)
    return _cdnow_events(tokens[0], tokens[1], tokens[2], tokens[3], None)


def read_cdnow_sample(path: Path | None = None) -> pa.Table:
    """CDNOW_sample.txt (master id, sample id, date, CDs, dollars): ``properties`` holds the ``sample_id``."""
    tokens = _whitespace_columns(path or cdnow_path("CDNOW_sample.txt"), 5)
    return _cdnow_events(tokens[0], tokens[2], tokens[3], tokens[4], tokens[1])


def _whitespace_columns(path: Path, count: int) -> list[pa.ChunkedArray]:
    lines = pacsv.read_csv(
        str(path),
        read_options=pacsv.ReadOptions(column_names=["line"]),
        parse_options=pacsv.ParseOptions(delimiter="\x1f", quote_char=False),
        convert_options=pacsv.ConvertOptions(column_types={"line": pa.string()}),
    ).column("line")
    parts = pc.split_pattern_regex(pc.utf8_trim_whitespace(lines), r"\s+")
    first = pc.list_element(parts, 0)
    data = pc.match_substring_regex(first, r"^[0-9]+$")  # skips the header line of CDNOW_master.txt
    parts = parts.filter(data)
    if not _mask(pc.equal(pc.list_value_length(parts), count)).all():
        raise Invalid(f"{path.name}: every line must have {count} columns separated by spaces.")
    return [pc.list_element(parts, i) for i in range(count)]


def _cdnow_events(
    customer: pa.ChunkedArray,
    date: pa.ChunkedArray,
    cds: pa.ChunkedArray,
    dollars: pa.ChunkedArray,
    sample_id: pa.ChunkedArray | None,
) -> pa.Table:
    number = pc.utf8_lpad(pc.cast(pc.cast(customer, pa.int64()), pa.string()), 5, "0")
    columns: dict[str, Any] = {
        "customer": pc.binary_join_element_wise("cdnow:", number, ""),
        "date": date,
        "quantity": cds,
        "value": dollars,
    }
    if sample_id is not None:
        sample = pc.cast(pc.cast(sample_id, pa.int64()), pa.string())
        columns["properties"] = pc.binary_join_element_wise('{"sample_id": ', sample, "}", "")
    result = validate_events(
        pa.table(columns), {"timestamp": "date"}, date_formats=("%Y%m%d",), constants={"type": "purchase"}
    )
    if result.table is None:
        raise Invalid("The CDNOW file has unreadable rows.", details=result.errors)
    return result.table
