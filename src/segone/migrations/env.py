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


with engine.connect() as connection:
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:
        # Python's sqlite3 opens a transaction only before INSERT, UPDATE or DELETE: every CREATE, DROP and
        # ALTER would commit on its own, and an upgrade killed half-way would leave tables that the next
        # upgrade trips over. Begun here, the whole upgrade commits at once or not at all, as on PostgreSQL.
        # Foreign keys are off meanwhile (SQLite's own procedure for schema changes, which a transaction
        # cannot switch): a batch migration copies a table and drops the old one, whose rows others point
        # at; they are checked before the commit instead.
        connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
        connection.exec_driver_sql("BEGIN")
    try:
        context.configure(
            connection=connection,
            target_metadata=Base.metadata,
            render_as_batch=sqlite,
            compare_type=True,
            include_object=include_object,
        )
        with context.begin_transaction():
            context.run_migrations()
        if sqlite and (broken := connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()):
            raise RuntimeError(f"The migration left rows pointing at nothing: {broken[:5]}")
        connection.commit()
    except BaseException:
        connection.rollback()
        raise
    finally:
        if sqlite:
            # Not back to the pool with foreign keys off: closed, so the next connection starts with the
            # engine's pragmas (and nothing runs after the commit for a kill to land on).
            connection.invalidate()
