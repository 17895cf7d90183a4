"""Alembic environment: the engine comes from the caller (see segone.migrations.migrate)."""

from typing import Any

from alembic import context

from segone.migrations.fulltext import SEARCH_SCHEMA_OBJECTS
from segone.migrations.tables import Base

config = context.config
engine = config.attributes["engine"]


def include_object(_object: Any, name: str | None, type_: str, reflected: bool, _compare_to: Any) -> bool:
    """Leave out the search indexes of migration 0004 (full-text tables, expression indexes): they are
    made by SQL of their own, not by the models."""
    return not (reflected and type_ in ("table", "index") and name in SEARCH_SCHEMA_OBJECTS)


with engine.begin() as connection:
    if connection.dialect.name == "sqlite":
        # Python's sqlite3 opens a transaction only before INSERT, UPDATE or DELETE: every CREATE, DROP and
        # ALTER would commit on its own, and an upgrade killed half-way would leave tables that the next
        # upgrade trips over. Begun here, the whole upgrade commits at once or not at all, as on PostgreSQL.
        connection.exec_driver_sql("BEGIN")
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        include_object=include_object,
    )
    with context.begin_transaction():
        context.run_migrations()
