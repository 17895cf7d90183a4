"""What a running process holds: its settings and the operational store's engine and sessions.

Built once at the edge (``create_app``, the CLI's callback, a test fixture) from a ``Settings`` object.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import cached_property

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from segone.migrations import migrate
from segone.settings import Settings
from segone.storage.engine import create_engine_for, session_factory, session_scope


class Runtime:
    def __init__(self, settings: Settings, engine: Engine | None = None) -> None:
        self.settings = settings
        self._engine = engine

    def __reduce__(self) -> tuple[type[Runtime], tuple[Settings]]:
        # A job run in a process of its own receives its runtime pickled: there it opens connections of
        # its own from the same settings (an engine's connections do not cross processes).
        return (Runtime, (self.settings,))

    @cached_property
    def engine(self) -> Engine:
        return self._engine or create_engine_for(self.settings)

    @cached_property
    def sessions(self) -> sessionmaker[Session]:
        # Every domain's tables are mapped before the first session writes: a foreign key names another
        # domain's table (an acknowledgement's encounter), which a command that never imported that
        # domain would otherwise fail to resolve. Imported here, not at the top, to keep start-up light
        # for commands that never open the store.
        from segone.migrations import tables  # noqa: F401

        return session_factory(self.engine)

    @cached_property
    def reads(self) -> sessionmaker[Session]:
        """Sessions without a transaction (autocommit), for the requests read most (a customer's page,
        sheet and briefing): a transaction would cost them a BEGIN and a COMMIT, two round trips to
        PostgreSQL out of some twenty, and buy nothing there (under READ COMMITTED each statement sees its
        own snapshot anyway). What such a request writes, at most one statement (an API token's last
        use, an audit entry outside a server), is committed by itself."""
        self.sessions  # noqa: B018  (maps every domain's tables first, as ``sessions`` says)
        return session_factory(self.engine.execution_options(isolation_level="AUTOCOMMIT"))

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A session of ``reads``."""
        with session_scope(self.reads) as db:
            yield db

    @contextmanager
    def session(self) -> Iterator[Session]:
        """One transaction: committed at the end of the block, rolled back on error."""
        with session_scope(self.sessions) as db:
            yield db

    def upgrade_schema(self) -> None:
        migrate.upgrade(self.engine)

    def dispose(self) -> None:
        if "engine" in self.__dict__:
            self.engine.dispose()
