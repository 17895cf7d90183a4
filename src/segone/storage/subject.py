"""Rows about one data subject: as plain JSON values (what a data-subject access export is made of), and
removed (what an erasure does).

Each domain names its own tables and the column that points at the customer (``data_about`` and
``erase_about`` in its service); this reads or deletes in chunks of ids sized for the database, reads
ordered by primary key.
"""

from __future__ import annotations

import base64
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import Engine, Table, delete, select, text
from sqlalchemy.orm import Session

from segone.storage.batching import chunks, is_postgres, values_per_statement

Rows = list[dict[str, Any]]


def plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    return value


def rows_about(db: Session, model: Any, column: str, values: Collection[Any]) -> Rows:
    """Every row of ``model``'s table whose ``column`` is one of ``values``, each as a dict of JSON values."""
    table = cast(Table, model.__table__)
    if not values:
        return []
    key = table.c[column]
    order = list(table.primary_key.columns) or [key]
    found: Rows = []
    for chunk in chunks(sorted(set(values)), values_per_statement(db)):
        stmt = select(table).where(key.in_(chunk)).order_by(*order)
        found.extend(
            {name: plain(value) for name, value in row.items()} for row in db.execute(stmt).mappings()
        )
    return found


def ids_of(rows: Rows, column: str = "id") -> list[Any]:
    return [row[column] for row in rows]


def delete_about(db: Session, model: Any, column: str, values: Collection[Any]) -> int:
    """Delete every row of ``model``'s table whose ``column`` is one of ``values``; returns how many."""
    table = cast(Table, model.__table__)
    deleted = 0
    for chunk in chunks(sorted(set(values)), values_per_statement(db)):
        result = db.execute(delete(table).where(table.c[column].in_(chunk)))
        deleted += int(getattr(result, "rowcount", 0) or 0)
    return deleted


def ids_where(db: Session, model: Any, column: str, values: Collection[Any], key: str = "id") -> list[Any]:
    """The ``key`` of every row of ``model``'s table whose ``column`` is one of ``values``."""
    table = cast(Table, model.__table__)
    found: list[Any] = []
    for chunk in chunks(sorted(set(values)), values_per_statement(db)):
        found.extend(db.scalars(select(table.c[key]).where(table.c[column].in_(chunk))))
    return found


@contextmanager
def overwriting_deleted(db: Session) -> Iterator[None]:
    """SQLite: have this connection zero what it deletes (``secure_delete``) instead of leaving the bytes
    in free space of the file, whatever its build's default; restored after. PostgreSQL's dead rows go
    with its vacuum."""
    if is_postgres(db):
        yield
        return
    before = db.execute(text("PRAGMA secure_delete")).scalar()
    db.execute(text("PRAGMA secure_delete = 1"))
    try:
        yield
    finally:
        db.execute(text(f"PRAGMA secure_delete = {int(before or 0)}"))


def settle(engine: Engine) -> None:
    """SQLite, after an erasure commits: fold the write-ahead log into the file and empty it, so no older
    copy of an erased page stays in the log. A reader holding an old snapshot keeps it until it ends."""
    if engine.dialect.name == "sqlite":
        with engine.connect() as connection:
            connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
