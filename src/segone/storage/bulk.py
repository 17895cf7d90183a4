"""Bulk inserts for imports and the demo: tens of thousands of rows in one transaction, fast.

PostgreSQL gets ``COPY``; SQLite one ``executemany`` of a prepared INSERT on the driver's cursor.
Values go through the columns' own types (UTC datetimes, JSON) and Python-side column defaults fill
missing keys, so the rows are exactly those an ORM insert would write. When the caller needs the new
ids they are taken first (PostgreSQL: from the table's sequence; SQLite: after the largest id, safe
because SQLite lets one writer at a time commit and refuses a write from a stale snapshot).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Column, Connection, DateTime, Table, TypeDecorator, func, insert, select, text
from sqlalchemy.types import JSON


def _filler(column: Column[Any]) -> Callable[[], Any]:
    default: Any = column.default
    if default is not None and default.is_callable:
        return lambda: default.arg(None)
    if default is not None and default.is_scalar:
        return lambda: default.arg
    return lambda: None


def _defaults(table: Table, rows: Sequence[dict[str, Any]]) -> tuple[list[Column[Any]], list[list[Any]]]:
    """The columns written and each row's values for them; missing ones take the column's default."""
    columns = [c for c in table.columns if c.key in rows[0] or not c.primary_key]
    fillers = [(c.key, _filler(c)) for c in columns]
    values = [[row[key] if key in row else fill() for key, fill in fillers] for row in rows]
    return columns, values


def _copy_converter(column: Column[Any], dialect: Any) -> Callable[[Any], Any] | None:
    """How a Python value of this column becomes what COPY takes: the column type's own conversion,
    JSON as text, and a datetime as ISO text (what psycopg would send; made here, ``_processed`` makes it
    once for the many rows of one time, where psycopg would for each row)."""
    column_type = column.type
    decorator = column_type if isinstance(column_type, TypeDecorator) else None
    is_json = isinstance(decorator.impl_instance if decorator else column_type, JSON)
    if decorator is None and not is_json:
        return None

    def convert(value: Any) -> Any:
        if decorator is not None:
            value = decorator.process_bind_param(value, dialect)
        if isinstance(value, datetime):
            return value.isoformat(" ")  # with its offset: the same instant in every session's zone
        return json.dumps(value) if is_json and value is not None else value

    return convert


def _copy(connection: Connection, table: Table, columns: list[Column[Any]], rows: list[list[Any]]) -> None:
    quote = connection.dialect.identifier_preparer.quote
    names = ", ".join(quote(c.name) for c in columns)
    converted = zip(
        *(
            _processed(_copy_converter(c, connection.dialect), [row[i] for row in rows])
            for i, c in enumerate(columns)
        ),
        strict=True,
    )
    cursor = connection.connection.cursor()
    try:
        with cursor.copy(f"COPY {quote(table.name)} ({names}) FROM STDIN") as copy:
            for row in converted:
                copy.write_row(row)
    finally:
        cursor.close()


def _processed(processor: Callable[[Any], Any] | None, values: list[Any]) -> list[Any]:
    """One column's values as the driver takes them; a value repeated row after row (the time of the
    import, a null) is converted once."""
    if processor is None:
        return values
    out = []
    last: Any = object()
    last_out: Any = None
    for value in values:
        if value is not last:
            last, last_out = value, processor(value)
        out.append(last_out)
    return out


def _sqlite_processor(column: Column[Any], dialect: Any) -> Callable[[Any], Any] | None:
    """The column type's own conversion; for a datetime, then the text the sqlite3 module's adapter would
    make of it (``isoformat(" ")``), here where ``_processed`` makes it once for the many rows of one time
    rather than the driver once per row."""
    processor = column.type.bind_processor(dialect)
    column_type = column.type.impl_instance if isinstance(column.type, TypeDecorator) else column.type
    if not isinstance(column_type, DateTime):
        return processor

    def as_text(value: Any) -> Any:
        if processor is not None:
            value = processor(value)
        return value.isoformat(" ") if isinstance(value, datetime) else value

    return as_text


def _executemany(
    connection: Connection, table: Table, columns: list[Column[Any]], rows: list[list[Any]]
) -> None:
    dialect = connection.dialect
    quote = dialect.identifier_preparer.quote
    processors = [_sqlite_processor(c, dialect) for c in columns]
    statement = (
        f"INSERT INTO {quote(table.name)} ({', '.join(quote(c.name) for c in columns)}) "
        f"VALUES ({', '.join('?' for _ in columns)})"
    )
    processed = list(
        zip(*(_processed(p, [row[i] for row in rows]) for i, p in enumerate(processors)), strict=True)
    )
    cursor = connection.connection.cursor()
    try:
        cursor.executemany(statement, processed)
    finally:
        cursor.close()


def insert_rows(connection: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert the rows (dicts keyed by column name) in one go."""
    if not rows:
        return
    columns, values = _defaults(table, rows)
    if connection.dialect.name == "postgresql":
        _copy(connection, table, columns, values)
    elif connection.dialect.name == "sqlite":
        _executemany(connection, table, columns, values)
    else:
        connection.execute(
            insert(table), [dict(zip([c.key for c in columns], v, strict=True)) for v in values]
        )


def next_ids(connection: Connection, table: Table, count: int) -> list[int]:
    """``count`` new ids for the table, reserved for this transaction."""
    if count == 0:
        return []
    if connection.dialect.name == "postgresql":
        drawn = connection.execute(
            text("SELECT nextval(pg_get_serial_sequence(:table, 'id')) FROM generate_series(1, :n)"),
            {"table": table.name, "n": count},
        ).scalars()
        return sorted(int(i) for i in drawn)
    largest = connection.execute(select(func.max(table.c.id))).scalar() or 0
    return list(range(int(largest) + 1, int(largest) + 1 + count))


def insert_returning_ids(connection: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> list[int]:
    """Insert the rows and return their new ids, in the order of ``rows``."""
    ids = next_ids(connection, table, len(rows))
    insert_rows(connection, table, [{**row, "id": new_id} for row, new_id in zip(rows, ids, strict=True)])
    return ids
