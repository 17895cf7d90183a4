"""Batches for statements with many values, sized for the database in use (one place for both).

SQLite allows at most 32,766 bound parameters in a statement (and was built with 999 before 3.32), so a
long ``IN`` list goes in chunks of ``SQLITE_VALUES``; PostgreSQL takes one array parameter per statement
(``= ANY(:ids)`` or ``unnest``), whose size costs only memory, in chunks of ``POSTGRES_VALUES``.
Rows of an executemany are batched by ``ROWS_PER_STATEMENT`` on both.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from itertools import islice
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import ARRAY, ColumnElement, Connection, Engine, Integer, any_, bindparam
from sqlalchemy.orm import InstrumentedAttribute, Session

if TYPE_CHECKING:
    import pyarrow as pa

T = TypeVar("T")

SQLITE_VALUES = 5_000
POSTGRES_VALUES = 50_000
ROWS_PER_STATEMENT = 2_000


def is_postgres(bind: Session | Connection | Engine) -> bool:
    engine = bind.get_bind() if isinstance(bind, Session) else bind
    return engine.dialect.name == "postgresql"


def values_per_statement(bind: Session | Connection | Engine) -> int:
    """How many values one statement takes as a list (``IN``) or an array parameter."""
    return POSTGRES_VALUES if is_postgres(bind) else SQLITE_VALUES


def batched(items: Iterable[T], size: int) -> Iterator[list[T]]:
    """Consecutive lists of ``size`` items (the last one shorter)."""
    if size < 1:
        raise ValueError("a batch holds at least one item")
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch


def chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    """Consecutive slices of a sequence (no copy of the items)."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


def among(
    bind: Session | Connection | Engine,
    column: ColumnElement[Any] | InstrumentedAttribute[Any],
    ids: Sequence[int],
) -> ColumnElement[bool]:
    """``column`` is one of ``ids`` (a chunk of at most ``values_per_statement``): one array parameter on
    PostgreSQL, an ``IN`` list on SQLite."""
    if is_postgres(bind):
        return column == any_(bindparam(None, list(ids), type_=ARRAY(Integer)))
    return column.in_(ids)


def driver_rows(db: Session, query: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
    """The driver's own rows of a query (``?`` placeholders): no SQLAlchemy row or type processing per
    row, which would take most of the time of a read of many rows (an export)."""
    with _driver_cursor(db, query, params) as cursor:
        return list(cursor.fetchall())


def driver_batches(
    db: Session, query: str, params: tuple[Any, ...], size: int = ROWS_PER_STATEMENT
) -> Iterator[list[tuple[Any, ...]]]:
    """``driver_rows`` ``size`` rows at a time: a reader in a serving process makes each batch in one
    call that holds the interpreter lock, so a batch bounds how long the requests wait for it."""
    with _driver_cursor(db, query, params) as cursor:
        while rows := cursor.fetchmany(size):
            yield list(rows)


@contextmanager
def _driver_cursor(db: Session, query: str, params: tuple[Any, ...]) -> Iterator[Any]:
    connection = db.connection()
    if connection.dialect.paramstyle != "qmark":
        query = query.replace("?", "%s")
    cursor = connection.connection.cursor()
    try:
        cursor.execute(query, params)
        yield cursor
    finally:
        cursor.close()


def delete_ids(db: Session, table: str, ids: Sequence[int]) -> int:
    """Delete the rows of ``table`` (its ``id``) with these ids; how many went. Each statement takes its
    ids whole (PostgreSQL: an array literal Arrow writes; SQLite: a JSON list it reads with ``json_each``):
    compiling an ``IN`` list of 100,000 values took SQLAlchemy and the driver longer than the delete."""
    import pyarrow as pa  # here: see array_literal

    connection = db.connection()
    if not is_postgres(connection):
        statement = f"DELETE FROM {table} WHERE id IN (SELECT value FROM json_each(?))"
        values = [json.dumps(list(chunk)) for chunk in chunks(ids, POSTGRES_VALUES)]
        return sum(int(connection.exec_driver_sql(statement, (value,)).rowcount) for value in values)
    driver = connection.connection.driver_connection  # psycopg's own connection: see prepare below
    assert driver is not None
    cursor = driver.cursor()
    deleted = 0
    try:
        for chunk in chunks(ids, POSTGRES_VALUES):
            # The ids in the statement's text (Arrow writes them: digits and commas only), never prepared.
            # As a parameter, the array is not a constant when PostgreSQL plans: on a queue table last
            # analysed or vacuumed nearly empty, it scans the table comparing each row with every id in
            # turn (seconds of the server's CPU a flush, under load). A constant array is hashed for such
            # a scan, or looked up in the index. Prepared, each text would be kept by the driver's cache.
            literal = array_literal(pa.array(chunk, pa.int64()))
            statement = f"DELETE FROM {table} WHERE id = ANY('{literal}'::bigint[])"
            deleted += cursor.execute(statement, prepare=False).rowcount
        return deleted
    finally:
        cursor.close()


def array_literal(values: pa.Array | pa.ChunkedArray) -> str:
    """A PostgreSQL array literal (``{"a","b",NULL}``) of an Arrow column of text, numbers or UTC times,
    built by Arrow: passed as one text parameter and cast (``%s::text[]``), it costs the driver nothing,
    where a Python list of values is dumped one value at a time (a third of an events batch's time)."""
    # Imported here: a command that never writes an array must not load Arrow (tests/cli/test_startup.py).
    import pyarrow as pa
    import pyarrow.compute as pc

    kind = values.type
    if pa.types.is_timestamp(kind) and kind.tz in ("UTC", "+00:00", "Z"):
        # Cast without the zone then marked UTC: Arrow's zone-aware formatting is forty times slower.
        text = pc.binary_join_element_wise(
            pc.cast(values.cast(pa.timestamp(kind.unit)), pa.string()), "+00", ""
        )
    elif pa.types.is_timestamp(kind):
        text = pc.strftime(values, format="%Y-%m-%dT%H:%M:%S%z")
    elif pa.types.is_string(kind) or pa.types.is_large_string(kind):
        text = values
    else:
        text = pc.cast(values, pa.string())
    escaped = pc.replace_substring(pc.replace_substring(text, "\\", "\\\\"), '"', '\\"')
    quoted = pc.binary_join_element_wise('"', escaped, '"', "")
    items = pc.fill_null(quoted, "NULL")
    if isinstance(items, pa.ChunkedArray):
        items = items.combine_chunks()
    joined = pc.binary_join(pa.ListArray.from_arrays(pa.array([0, len(items)], pa.int32()), items), ",")
    return "{" + (joined[0].as_py() or "") + "}"
