"""The migrations build exactly the schema the models declare, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

from segone.migrations import migrate
from segone.migrations.fulltext import SEARCH_SCHEMA_OBJECTS
from segone.migrations.tables import Base
from segone.runtime import Runtime
from segone.settings import Settings

# Made by migration 0004 in SQL of its own, not by the models: the full-text search tables (SQLite FTS5,
# with the shadow tables FTS5 keeps) and the expression indexes (PostgreSQL). Only these are left out.
SEARCH_OBJECTS = frozenset(
    {
        *(
            f"{table}_fts{suffix}"
            for table in ("differentiators", "encounters")
            for suffix in ("", "_data", "_idx", "_docsize", "_config", "_content")
        ),
        "ix_differentiators_search",
        "ix_encounters_search",
    }
)


def _not_search_object(_object: Any, name: str | None, type_: str, reflected: bool, _other: Any) -> bool:
    return not (reflected and type_ in ("table", "index") and name in SEARCH_OBJECTS)


def test_migrated_schema_matches_the_models(runtime: Runtime) -> None:
    with runtime.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"include_object": _not_search_object})
        differences = compare_metadata(context, Base.metadata)
    assert differences == []


def test_the_search_objects_are_there_and_left_out_of_autogenerate_too(runtime: Runtime) -> None:
    # env.py (what 'alembic revision --autogenerate' would use) leaves out the very same names.
    assert SEARCH_SCHEMA_OBJECTS == SEARCH_OBJECTS
    assert not SEARCH_OBJECTS & set(Base.metadata.tables)
    inspector = inspect(runtime.engine)
    if runtime.engine.dialect.name == "sqlite":
        tables = set(inspector.get_table_names())
        assert {"differentiators_fts", "encounters_fts"} <= tables
        assert not {t for t in tables if "_fts" in t} - SEARCH_OBJECTS  # no unnamed leftovers
    else:
        names = {
            ix["name"] for table in ("differentiators", "encounters") for ix in inspector.get_indexes(table)
        }
        assert {"ix_differentiators_search", "ix_encounters_search"} <= names


def test_upgrade_is_recorded_and_repeatable(runtime: Runtime) -> None:
    head = migrate.current_revision(runtime.engine)
    assert head is not None
    runtime.upgrade_schema()
    assert migrate.current_revision(runtime.engine) == head


def test_the_revisions_read_without_alembic_are_the_ones_alembic_reads(
    runtime: Runtime, fresh_settings: Settings
) -> None:
    config = Config()
    config.set_main_option("script_location", str(migrate.MIGRATIONS))
    assert migrate.head_revision() == ScriptDirectory.from_config(config).get_current_head()
    with runtime.engine.connect() as connection:
        alembic_reads = MigrationContext.configure(connection).get_current_revision()
    assert migrate.current_revision(runtime.engine) == alembic_reads == migrate.head_revision()
    empty = Runtime(fresh_settings)
    try:
        assert migrate.current_revision(empty.engine) is None
    finally:
        empty.dispose()


def test_fresh_sqlite_store_runs_with_wal_and_foreign_keys(fresh_settings: Settings) -> None:
    runtime = Runtime(fresh_settings)
    runtime.upgrade_schema()
    try:
        assert (fresh_settings.data_dir / "segone.db").exists()
        with runtime.engine.connect() as connection:
            assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert "differentiators" in inspect(runtime.engine).get_table_names()
    finally:
        runtime.dispose()


def test_a_round_trip_down_and_up_leaves_the_schema_a_fresh_upgrade_makes(runtime: Runtime) -> None:
    """Tables, indexes and triggers (the search index's, the audit log's) alike: a downgrade that copies a
    table would silently drop the triggers on it."""

    def objects() -> list[tuple[str, str]]:
        with runtime.engine.connect() as connection:
            if connection.dialect.name == "sqlite":
                rows = connection.execute(
                    text("SELECT type, name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'")
                )
            else:
                rows = connection.execute(
                    text(
                        "SELECT 'trigger', tgname FROM pg_trigger WHERE NOT tgisinternal "
                        "UNION ALL SELECT 'index', indexname FROM pg_indexes WHERE schemaname = 'public' "
                        "UNION ALL SELECT 'table', tablename FROM pg_tables WHERE schemaname = 'public'"
                    )
                )
            return sorted((str(kind), str(name)) for kind, name in rows)

    fresh = objects()
    assert ("trigger", "audit_log_append_only") in fresh
    config = migrate.alembic_config(runtime.engine)
    command.downgrade(config, "0006")
    command.upgrade(config, "head")
    assert objects() == fresh
