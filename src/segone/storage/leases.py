"""One run of a job at a time across processes, and a run whose process died reads as failed.

A job that records its runs in a table (a behaviour refresh in ``behaviour_refreshes``) gives the table
the ``Leased`` columns and a unique index on ``status`` where it is ``running``, so at most one row runs,
whatever the processes and the database. ``take`` starts a run: a running row whose owner is gone is
marked failed first, a running row whose owner lives refuses with ``Conflict``. While the run works, a
``Heartbeat`` thread pushes its lease's expiry forward.

Whether a run still lives is asked of its owner first (``processes.Owner.alive``: on the same host the
kernel knows at once, which covers SQLite and any single machine); only an owner on another host is
judged by the lease's expiry, which its heartbeat renews every quarter of ``lease_seconds``. That is why
both are kept: a process id alone cannot be checked from another host, and an expiry alone would keep a
killed run "running" for a whole lease.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta
from types import TracebackType
from typing import Any

from sqlalchemy import String, select, update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from segone import processes
from segone.clock import utcnow
from segone.errors import Conflict
from segone.storage.engine import session_scope

log = logging.getLogger(__name__)

RUNNING = "running"
FAILED = "failed"


class Leased:
    """The columns of a run that holds a lease (its table has ``status``, ``finished_at`` and ``message``)."""

    owner: Mapped[str | None] = mapped_column(String(200))
    lease_expires_at: Mapped[datetime | None]


def is_alive(run: Any, *, now: datetime | None = None) -> bool:
    """Whether a run recorded as running still runs (False for any other status)."""
    if run.status != RUNNING or run.lease_expires_at is None:
        return False  # a run recorded before leases, or finished
    owner = processes.parse(run.owner or "")
    alive = None if owner is None else owner.alive()
    if alive is not None:
        return alive
    return bool(run.lease_expires_at > (now or utcnow()))


def stopped_message(run: Any) -> str:
    """Why a run recorded as running is not: its process ended, or stopped renewing its lease."""
    owner = processes.parse(run.owner or "")
    who = f"its process ({owner.host}, process {owner.pid})" if owner else "its process"
    if run.lease_expires_at is None:
        return f"Stopped without finishing: {who} ended before it could record how it went."
    return (
        f"Stopped without finishing: {who} ended (killed, or its machine stopped) or stopped renewing its "
        f"lease, which ran out at {run.lease_expires_at:%Y-%m-%d %H:%M:%S} UTC. Nothing it computed was "
        "written; start it again."
    )


def status_of(run: Any) -> str:
    """The status to show: ``running`` only while the run lives, ``failed`` once its process is gone."""
    if run.status == RUNNING and not is_alive(run):
        return FAILED
    return str(run.status)


def take(db: Session, model: type[Any], run: Any, *, what: str, lease_seconds: float) -> None:
    """Add ``run`` as the one running run of ``model`` (flushed, so it has its id), or refuse.

    ``what`` names the job in messages ("A behaviour refresh").
    """
    now = utcnow()
    for other in db.scalars(select(model).where(model.status == RUNNING)):
        if is_alive(other, now=now):
            owner = processes.parse(other.owner or "")
            where = f" on {owner.host} (process {owner.pid})" if owner else ""
            raise Conflict(
                f"{what} is running already: run {other.id}, started {other.started_at:%Y-%m-%d %H:%M} "
                f"UTC{where}. Wait for it to finish; its status says when."
            )
        other.status, other.finished_at = FAILED, now
        other.message = stopped_message(other)
    db.flush()
    run.status = RUNNING
    run.owner = str(processes.current())
    run.lease_expires_at = now + timedelta(seconds=lease_seconds)
    db.add(run)
    try:
        db.flush()
    except IntegrityError as exc:  # another process took it between our read and our write
        raise Conflict(f"{what} started at the same moment in another process; wait for it.") from exc


def adopt(sessions: sessionmaker[Session], model: type[Any], run_id: int | str) -> bool:
    """Make this process the owner of a running run another process started for it (a server worker
    that recorded the run, then handed the work to a job process): from now on the run lives while this
    process does. False when the run no longer runs."""
    with session_scope(sessions) as db:
        adopted = db.execute(
            update(model)
            .where(model.id == run_id, model.status == RUNNING)
            .values(owner=str(processes.current()))
        )
    return getattr(adopted, "rowcount", 1) != 0


class Heartbeat:
    """While the block runs, renew the run's lease every quarter of ``lease_seconds`` (in a thread).

    A renewal that finds the run no longer ours (marked failed by another process that judged it dead)
    sets ``lost``; ``check`` then refuses to go on.
    """

    def __init__(
        self, sessions: sessionmaker[Session], model: type[Any], run_id: int, *, lease_seconds: float
    ) -> None:
        self.sessions = sessions
        self.model = model
        self.run_id = run_id
        self.lease_seconds = lease_seconds
        self.lost = False
        self._owner = str(processes.current())
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="segone-lease", daemon=True)

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    def check(self, what: str) -> None:
        if self.lost:
            raise Conflict(
                f"{what} lost its lease: another process took it for dead and may have started again."
            )

    def renew(self) -> None:
        model = self.model
        with session_scope(self.sessions) as db:
            renewed = db.execute(
                update(model)
                .where(model.id == self.run_id, model.status == RUNNING, model.owner == self._owner)
                .values(lease_expires_at=utcnow() + timedelta(seconds=self.lease_seconds))
            )
        if getattr(renewed, "rowcount", 1) == 0:
            self.lost = True
            self._stop.set()

    def _run(self) -> None:
        while not self._stop.wait(self.lease_seconds / 4):
            try:
                self.renew()
            except OperationalError:  # the database busy or away for a moment: the next beat retries
                log.warning("Could not renew the lease of run %s; retrying.", self.run_id, exc_info=True)
