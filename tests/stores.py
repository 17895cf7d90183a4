"""Stores of their own for tests that need a database no other test touches (a fresh PostgreSQL one)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, MetaData, create_engine, inspect, select, text
from sqlalchemy.engine import make_url

from tests.conftest import POSTGRES_ADMIN_URL


@contextmanager
def fresh_postgres_database() -> Iterator[str]:
    """The URL of a new, empty PostgreSQL database, dropped at the end."""
    name = f"segone_fault_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        yield make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def snapshot(engine: Engine, *, ids: bool = True) -> dict[str, Any]:
    """Every table of the store: its columns, indexes and rows (sorted), to compare two stores whole.

    Without ``ids``, integer ``id`` columns are left out of the rows: a PostgreSQL sequence moves on for a
    transaction that was rolled back, so a killed run's retry numbers its rows differently.
    """
    inspector = inspect(engine)
    metadata = MetaData()
    metadata.reflect(engine)
    tables: dict[str, Any] = {}
    with engine.connect() as connection:
        for name, table in sorted(metadata.tables.items()):
            columns = [c.name for c in table.columns if ids or c.name != "id"]
            rows = sorted(
                (
                    tuple(repr(value) for value in row)
                    for row in connection.execute(select(*[table.c[c] for c in columns]))
                ),
            )
            tables[name] = {
                "columns": [(c["name"], str(c["type"]), c["nullable"]) for c in inspector.get_columns(name)],
                "indexes": sorted(
                    (i["name"] or "", tuple(i["column_names"]), bool(i["unique"]))
                    for i in inspector.get_indexes(name)
                ),
                "rows": rows,
            }
    return tables
