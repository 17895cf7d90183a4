"""The migrations build exactly the schema the models declare, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

from segone.runtime import Runtime
from segone.settings import Settings
from segone.storage import migrate
from segone.storage.tables import Base


def test_migrated_schema_matches_the_models(runtime: Runtime) -> None:
    with runtime.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert differences == []


def test_upgrade_is_recorded_and_repeatable(runtime: Runtime) -> None:
    head = migrate.current_revision(runtime.engine)
    assert head is not None
    runtime.upgrade_schema()
    assert migrate.current_revision(runtime.engine) == head


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
