"""Engines and the session scope that owns each transaction (services never commit)."""

from __future__ import annotations

import select
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import Session, sessionmaker

from segone.settings import Settings


def _enable_sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets the server read while an import or the CLI writes; foreign keys are off by default.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def create_engine_for(settings: Settings) -> Engine:
    url = settings.resolved_database_url()
    if url.startswith("sqlite"):
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False})
        event.listen(engine, "connect", _enable_sqlite_pragmas)
        return engine
    # Kept open, not opened per request beyond SQLAlchemy's default five: a connection opened and closed
    # for each request past the fifth made PostgreSQL start a process for it and lose its prepared
    # statements, under twenty concurrent readers most of them.
    engine = create_engine(url, pool_size=settings.database_pool_size, max_overflow=10)
    event.listen(engine, "connect", _mark_used)
    event.listen(engine, "checkin", _mark_used)
    event.listen(engine, "checkout", _ping_if_idle)
    return engine


# Before a pooled connection is handed out it is checked without a round trip: a server that ended it (a
# restart, ``pg_terminate_backend``) has said so on its socket, which then has something to read while the
# connection idles. One idle this long is also asked (``SELECT 1``), for a peer gone without a word (a
# network cut). ``pool_pre_ping`` would ask on every checkout: a round trip, with a BEGIN, on every request.
PING_AFTER_IDLE_SECONDS = 10.0
_LAST_USED = "segone_last_used"


def _mark_used(_dbapi_connection: Any, record: Any) -> None:
    record.info[_LAST_USED] = time.monotonic()


def _ping_if_idle(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
    if _said_something(dbapi_connection):
        raise DisconnectionError("The server ended this pooled connection.")
    if time.monotonic() - record.info.get(_LAST_USED, 0.0) < PING_AFTER_IDLE_SECONDS:
        return
    try:
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("SELECT 1")
        finally:
            cursor.close()
        dbapi_connection.rollback()
    except Exception as exc:  # the pool discards it and hands out another (up to three times)
        raise DisconnectionError(f"A pooled connection no longer works: {exc}") from exc


def _said_something(dbapi_connection: Any) -> bool:
    """Whether an idle connection's socket has anything to read (its end, or the error before it)."""
    try:
        socket_fd = dbapi_connection.fileno()
    except Exception:  # closed already
        return True
    if hasattr(select, "poll"):
        poller = select.poll()
        poller.register(socket_fd, select.POLLIN)
        return bool(poller.poll(0))
    return bool(select.select([socket_fd], [], [], 0)[0])


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)


@contextmanager
def session_scope(engine_or_factory: Engine | sessionmaker[Session]) -> Iterator[Session]:
    """One transaction: committed when the block ends, rolled back if it raises."""
    factory = (
        session_factory(engine_or_factory) if isinstance(engine_or_factory, Engine) else engine_or_factory
    )
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
