"""``kill -9`` during ``segone db upgrade``, at points over the whole run: the store stays as it was, and
running the upgrade again completes to the same store an upgrade never killed makes.

On SQLite this holds because the upgrade runs in one transaction that the migrations' environment begins
itself (Python's sqlite3 would commit every CREATE and ALTER on its own); on PostgreSQL DDL is
transactional anyway.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, MetaData, Table, insert
from sqlalchemy.exc import OperationalError

from segone.migrations import migrate
from segone.settings import Settings
from segone.storage.engine import create_engine_for
from tests.conftest import _postgres_unavailable
from tests.killing import kill_points, segone
from tests.stores import fresh_postgres_database, snapshot

OLDER = "0022"  # before the batch (table-copying) migrations on SQLite: 0024 rebuilds behaviour_refreshes


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def new_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[[str], tuple[Path, str]]]:
    """Makes empty stores by name: (data dir, database URL; empty for SQLite in the data dir)."""
    with ExitStack() as stack:

        def make(name: str) -> tuple[Path, str]:
            if request.param == "sqlite":
                return tmp_path / name, ""
            try:
                return tmp_path / name, stack.enter_context(fresh_postgres_database())
            except OperationalError as exc:
                _postgres_unavailable(str(exc).splitlines()[0])
                raise

        yield make


def _engine(data_dir: Path, url: str) -> Engine:
    return create_engine_for(Settings(data_dir=data_dir, database_url=url))


def _snapshot(data_dir: Path, url: str) -> dict[str, Any]:
    engine = _engine(data_dir, url)
    try:
        return snapshot(engine)
    finally:
        engine.dispose()


def _seed_older_store(data_dir: Path, url: str) -> None:
    """A store at revision 0022 with customers, identities and a refresh left running, as one in use had."""
    engine = _engine(data_dir, url)
    migrate.upgrade(engine, OLDER)
    tables = MetaData()
    at = datetime(2026, 5, 1, 10, tzinfo=UTC)
    customers = Table("customers", tables, autoload_with=engine)
    identities = Table("customer_identities", tables, autoload_with=engine)
    refreshes = Table("behaviour_refreshes", tables, autoload_with=engine)
    with engine.begin() as connection:
        connection.execute(
            insert(customers),
            [
                {
                    "id": i,
                    "kind": "person",
                    "name": f"Customer {i}",
                    "attributes": {"city": "Ljubljana"},
                    "created_at": at,
                    "updated_at": at,
                    "since": at,
                }
                for i in range(1, 201)
            ],
        )
        connection.execute(
            insert(identities),
            [{"customer_id": i, "system": "crm", "value": str(i), "created_at": at} for i in range(1, 201)],
        )
        connection.execute(
            insert(refreshes),
            {
                "as_of": at.date(),
                "status": "running",
                "started_at": at,
                "horizon_weeks": 52,
                "annual_discount_rate": 0.1,
                "models": {},
            },
        )
    engine.dispose()


def _kill_then_finish(data_dir: Path, url: str, points: list[int], expected: dict[str, Any]) -> None:
    before = _snapshot(data_dir, url)
    for point in points:
        run = segone("db", "upgrade", data_dir=data_dir, database_url=url, kill_at=point)
        assert run.killed, run.stderr
        assert _snapshot(data_dir, url) == before, f"killed before statement {point}: the store changed"
    again = segone("db", "upgrade", data_dir=data_dir, database_url=url)
    assert again.returncode == 0, again.stderr
    assert f"to revision {migrate.head_revision()}" in again.stdout
    assert _snapshot(data_dir, url) == expected


def test_an_upgrade_of_an_empty_store_killed_anywhere_leaves_nothing_and_runs_again(
    new_store: Callable[[str], tuple[Path, str]],
) -> None:
    reference_dir, reference_url = new_store("reference")
    whole = segone("db", "upgrade", data_dir=reference_dir, database_url=reference_url)
    assert whole.returncode == 0 and whole.statements, whole.stderr
    expected = _snapshot(reference_dir, reference_url)

    data_dir, url = new_store("killed")
    _snapshot(data_dir, url)  # the SQLite file exists, empty, as a first start leaves it
    _kill_then_finish(data_dir, url, kill_points(whole.statements, range(2)), expected)


def test_an_upgrade_with_data_killed_anywhere_keeps_every_row_once(
    new_store: Callable[[str], tuple[Path, str]],
) -> None:
    reference_dir, reference_url = new_store("reference")
    _seed_older_store(reference_dir, reference_url)
    whole = segone("db", "upgrade", data_dir=reference_dir, database_url=reference_url)
    assert whole.returncode == 0 and whole.statements, whole.stderr
    expected = _snapshot(reference_dir, reference_url)
    assert len(expected["customers"]["rows"]) == 200
    [refresh] = expected["behaviour_refreshes"]["rows"]
    assert "'failed'" in refresh  # migration 0024 marked the run left running

    data_dir, url = new_store("killed")
    _seed_older_store(data_dir, url)
    _kill_then_finish(data_dir, url, kill_points(whole.statements, range(10, 12)), expected)
