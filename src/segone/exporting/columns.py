"""What an export is made of: fixed, typed columns and rows read in batches."""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlalchemy.orm import Session


class Kind(enum.StrEnum):
    """A column's type: how CSV writes its values and which Parquet type holds them."""

    TEXT = "text"
    INTEGER = "integer"
    FLOAT = "float"
    BOOLEAN = "boolean"
    TIMESTAMP = "timestamp"
    """An aware datetime in UTC: ISO 8601 in CSV (``2024-03-01T14:30:00+00:00``), timestamp[us, UTC] in
    Parquet."""


@dataclass(frozen=True)
class Column:
    name: str
    kind: Kind = Kind.TEXT


Row = Mapping[str, Any]
Batch = Sequence[Row] | Any
"""Rows keyed by column name (a missing key or None is an empty cell), or a ``pyarrow.RecordBatch`` with
the export's columns."""


@dataclass(frozen=True)
class Export:
    """An export as its domain describes it, before any row is read."""

    name: str
    """What is exported, in the plural (``customers``): the audit trail and file names use it."""
    columns: tuple[Column, ...]
    rows: int
    """How many rows there were when the export started."""
    read: Callable[[Session], Iterator[Batch]]
    """The rows in batches, read by keyset pagination in the session given (never all at once)."""
