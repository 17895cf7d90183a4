"""Rows about one data subject as plain JSON values: what a data-subject access export is made of.

Each domain names its own tables and the column that points at the customer (``data_about`` in its
service); this only reads, in chunks of ids sized for the database, ordered by primary key.
"""

from __future__ import annotations

import base64
from collections.abc import Collection
from datetime import date, datetime
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import Table, select
from sqlalchemy.orm import Session

from segone.storage.batching import chunks, values_per_statement

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
