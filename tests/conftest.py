"""Real databases for every test: SQLite and PostgreSQL, each created for this session and dropped.

``runtime`` is parametrised over both backends; tests that only need one use ``sqlite_runtime``.
Between tests every table is emptied, so each test starts from a migrated, empty store.
With ``CI=true`` a missing PostgreSQL fails the run instead of skipping.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from segone.migrations.tables import Base
from segone.runtime import Runtime
from segone.settings import Settings
from segone.storage.engine import create_engine_for

IN_CI = os.environ.get("CI", "").lower() == "true"
POSTGRES_ADMIN_URL = os.environ.get(
    "SEGONE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)

# Most tests are about something else than consent and expect every customer in builds and refreshes:
# consent is granted by default here (the product's default is refused); tests/customers/test_consent.py
# and the effects' tests record refusals or pass the refused default themselves. Set in the environment so
# that CLI subprocesses and the test server see it too.
os.environ.setdefault("SEGONE_CONSENT_DEFAULT", "granted")

# The suite signs in and sends unauthenticated API calls thousands of times from one address, to one
# long-lived server: no limit on failed attempts here (tests/web/test_login_limits.py sets its own).
UNTHROTTLED = {
    "auth_failures_per_account": "1000000 per hour",
    "auth_failures_per_address": "1000000 per hour",
}


def _postgres_unavailable(reason: str) -> None:
    if IN_CI:
        pytest.fail(f"PostgreSQL is required in CI and is not usable: {reason}")
    pytest.skip(f"PostgreSQL not reachable ({reason}); set CI=true to make this an error")


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    name = f"segone_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # any failure to reach the server means the same here
        admin.dispose()
        _postgres_unavailable(str(exc).splitlines()[0])
    url = make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def empty_all_tables(engine: Engine) -> None:
    tables = Base.metadata.sorted_tables
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            names = ", ".join(f'"{t.name}"' for t in tables)
            connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in reversed(tables):
                connection.execute(table.delete())


def _make_runtime(backend: str, base_dir: Path, request: pytest.FixtureRequest) -> Runtime:
    data_dir = base_dir / backend
    if backend == "postgres":
        url = request.getfixturevalue("postgres_url")
    else:
        url = f"sqlite:///{data_dir / 'segone.db'}"
    settings = Settings(
        data_dir=data_dir,
        database_url=url,
        secret_key="test-secret-key",
        flush_interval_seconds=0,
        **UNTHROTTLED,
    )
    runtime = Runtime(settings, engine=create_engine_for(settings))
    runtime.upgrade_schema()
    return runtime


@pytest.fixture(scope="session")
def _runtimes(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[dict[str, Runtime]]:
    made: dict[str, Runtime] = {}
    base = tmp_path_factory.mktemp("stores")

    def get(backend: str) -> Runtime:
        if backend not in made:
            made[backend] = _make_runtime(backend, base, request)
        return made[backend]

    class _Lazy(dict[str, Runtime]):
        def __missing__(self, key: str) -> Runtime:
            return get(key)

    yield _Lazy()
    for runtime in made.values():
        runtime.dispose()


def _runtime_for(backend: str, runtimes: dict[str, Runtime]) -> Iterator[Runtime]:
    runtime = runtimes[backend]
    empty_all_tables(runtime.engine)
    # The events dataset is part of the store: each test starts without the files of the last one.
    shutil.rmtree(runtime.settings.data_dir / "events", ignore_errors=True)
    yield runtime


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def runtime(request: pytest.FixtureRequest, _runtimes: dict[str, Runtime]) -> Iterator[Runtime]:
    """A migrated, empty operational store, on SQLite and on PostgreSQL."""
    yield from _runtime_for(request.param, _runtimes)


@pytest.fixture
def sqlite_runtime(_runtimes: dict[str, Runtime]) -> Iterator[Runtime]:
    yield from _runtime_for("sqlite", _runtimes)


@pytest.fixture
def fresh_settings(tmp_path: Path) -> Settings:
    """Settings for a store of its own in a new folder (CLI and migration tests)."""
    return Settings(
        data_dir=tmp_path / "data", secret_key="test-secret-key", flush_interval_seconds=0, **UNTHROTTLED
    )


class LiveServer:
    """The real application served by uvicorn on a free local port, in a thread of the test process."""

    def __init__(self, runtime: Runtime) -> None:
        import socket
        import threading

        import uvicorn

        from segone.server import create_app

        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        self.runtime = runtime
        self.url = f"http://127.0.0.1:{port}"
        self.app = create_app(runtime=runtime)
        config = uvicorn.Config(self.app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)
        self._thread.start()
        import time

        deadline = time.monotonic() + 20
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the test server did not start")
            time.sleep(0.02)

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)


@contextmanager
def serving_with(runtime: Runtime, **settings: Any) -> Iterator[LiveServer]:
    """A server of its own over ``runtime``'s store, with some settings changed (limits, cookies)."""
    changed = Runtime(runtime.settings.model_copy(update=settings), engine=runtime.engine)
    server = LiveServer(changed)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def _servers(_runtimes: dict[str, Runtime]) -> Iterator[dict[str, LiveServer]]:
    servers: dict[str, LiveServer] = {}

    class _Lazy(dict[str, LiveServer]):
        def __missing__(self, backend: str) -> LiveServer:
            servers[backend] = LiveServer(_runtimes[backend])
            self[backend] = servers[backend]
            return servers[backend]

    yield _Lazy()
    for server in servers.values():
        server.stop()


def _backend_of(runtime: Runtime) -> str:
    return "postgres" if runtime.engine.dialect.name == "postgresql" else "sqlite"


@pytest.fixture
def live_server(runtime: Runtime, _servers: dict[str, LiveServer]) -> LiveServer:
    """The app over real HTTP, on the same (emptied) store as ``runtime``; both backends."""
    return _servers[_backend_of(runtime)]


@pytest.fixture
def sqlite_live_server(sqlite_runtime: Runtime, _servers: dict[str, LiveServer]) -> LiveServer:
    return _servers["sqlite"]
