"""Long jobs started through the API or the web: run in a process of their own, polled through any server.

A job is a function that takes a ``progress.Progress`` and returns its result as a JSON-ready dict (the
same function the CLI runs under a progress bar). ``Jobs.start`` runs it in the background and answers at
once; ``Jobs.get`` reports where it is: its stage, how far, and at the end its result or its error.

Where it runs is ``Settings.jobs_in``. ``process`` (the default, and what ``segone serve`` uses): a child
process started for the job, ten nice levels below the server. A job's Python in a thread of a serving
process would hold that process's interpreter lock for as long as it computes (a behaviour refresh: two
minutes on 100,000 customers), and every page that process serves would wait for it; lowering the
thread's priority made that worse, the lock's holder waiting for a CPU. The function must then survive
pickling: a module-level function, or a ``functools.partial`` of one, over arguments that pickle (settings,
an actor, ids, dates; a ``Runtime`` pickles as its settings and opens its own connections in the child).
``thread``: a thread of the process that started it, for a ``Jobs`` made without settings (the library
used from Python, tests of this module).

Jobs live in the ``jobs`` table, so that with several server processes (``segone serve --workers``) a job
started by one is polled through another. The process or thread running the job writes its progress to
the row in short transactions of its own (at most twice a second, at once on a new stage, and at the end)
and beats: the row holds a lease (``storage.leases``) its writes push forward; a job's process adopts the
row (its owner is the child, not the server) so that a killed child reads as failed.

One job of a kind runs at a time, across processes: a unique index allows one ``running`` row per kind,
and starting it again while it runs answers with the running job (two refreshes at once would only
race to write the same rows). A running job whose process died (the kernel says so on this host; its
lease ran out elsewhere) is reported failed, and the kind is free again.

``start`` writes the job's row in a transaction of its own: a caller starts a job outside a write
transaction of its own, since on SQLite that transaction would hold the lock the row waits for.

A job's result holds counts, ids and settings, never a customer's name or facts; an unexpected error is
kept as its type and first line only (a database error's parameters could quote a customer), the whole
of it goes to the server's log. So the erasure of a customer has nothing to erase here.
"""

from __future__ import annotations

import enum
import logging
import multiprocessing
import os
import pickle
import sys
import threading
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import JSON, Index, String, Text, delete, select, text, update
from sqlalchemy.exc import IntegrityError, StatementError
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from segone import processes
from segone.clock import utcnow
from segone.errors import NotFound, SegoneError
from segone.progress import Progress, ProgressStatus, ProgressTracker
from segone.settings import Settings
from segone.storage import leases
from segone.storage.base import Base
from segone.storage.engine import create_engine_for, session_factory, session_scope
from segone.storage.periodic import Periodic

log = logging.getLogger(__name__)

Work = Callable[[Progress], dict[str, Any]]

KEEP_FINISHED = 50  # finished jobs kept for polling; the oldest are deleted first
STALE_AFTER_SECONDS = (
    60.0  # a running job whose lease is this old (on another host) belongs to a dead process
)
BEAT_SECONDS = 5.0  # how often a running job's row is touched when its progress has not changed
WRITE_SECONDS = 0.5  # progress is written at most this often (and at once on a new stage)
POLL_SECONDS = 0.1  # how often ``wait`` reads a job another process runs

_RUNNING = text("status = 'running'")


class JobState(enum.StrEnum):
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class Job(Base, leases.Leased):
    """One job: what it is, where it is, and at the end its result or why it failed.

    Leased (``storage.leases``): its owner process and when its lease ends unless the job beats again.
    """

    __tablename__ = "jobs"
    __table_args__ = (
        Index("uq_jobs_kind_running", "kind", unique=True, sqlite_where=_RUNNING, postgresql_where=_RUNNING),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)  # uuid4 hex
    kind: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(20))  # running, done, failed
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    progress: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    stages: Mapped[list[str]] = mapped_column(JSON)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    message: Mapped[str | None] = mapped_column(Text)  # why it failed


class JobOut(BaseModel):
    id: str
    kind: str = Field(description="What the job does, e.g. 'knowledge-refresh'.")
    state: JobState
    started_at: datetime
    finished_at: datetime | None
    progress: ProgressStatus | None = Field(
        description="The stage it is in and how far; null before the first."
    )
    stages: list[str] = Field(description="The stages it has been through, in order.")
    result: dict[str, Any] | None = Field(description="What it did, once done.")
    error: str | None = Field(description="Why it failed, once failed.")


def _out(job: Job) -> JobOut:
    return JobOut(
        id=job.id,
        kind=job.kind,
        state=JobState(job.status),
        started_at=job.started_at,
        finished_at=job.finished_at,
        progress=ProgressStatus(**job.progress) if job.progress else None,
        stages=list(job.stages),
        result=job.result,
        error=job.message,
    )


def _stopped(job: Job) -> str:
    owner = processes.parse(job.owner or "")
    who = f" ({owner.host}, process {owner.pid})" if owner else ""
    return (
        f"The server stopped while it ran: its process{who} ended or stopped beating. What it wrote "
        "before stays; start it again."
    )


def _settle(db: Session, job: Job) -> Job:
    """The job as it is: a running job whose process is gone is marked failed on the way."""
    if job.status == JobState.RUNNING and not leases.is_alive(job):
        job.status, job.finished_at, job.message = JobState.FAILED.value, utcnow(), _stopped(job)
        db.flush()
    return job


def _error_of(exc: BaseException) -> str:
    if isinstance(exc, SegoneError):
        return exc.message
    if isinstance(exc, StatementError):  # its text quotes the statement's parameters
        return f"{type(exc).__name__}: the database refused a statement (the server's log has it)."
    first = str(exc).splitlines()[0] if str(exc) else ""
    return f"{type(exc).__name__}: {first}"[:1000]


class Jobs:
    """The jobs of every server process over one store; those started here run in a process of their own
    (``settings.jobs_in``, the default) or in a thread of this one (no settings)."""

    def __init__(self, sessions: sessionmaker[Session], settings: Settings | None = None) -> None:
        self.sessions = sessions
        self.settings = settings if settings is not None and settings.jobs_in == "process" else None
        self._finished: dict[str, threading.Event] = {}  # this process's running jobs, for ``wait``

    def start(self, kind: str, work: Work) -> JobOut:
        """Start ``work`` as a job of this kind, or answer with the job of this kind that is running."""
        if self.settings is not None:
            _check_picklable(kind, work)
        for _ in range(5):
            try:
                with session_scope(self.sessions) as db:
                    running = self._running(db, kind)
                    if running is not None:
                        return _out(running)
                    self._delete_old(db)
                    now = utcnow()
                    job = Job(
                        id=uuid.uuid4().hex,
                        kind=kind,
                        status=JobState.RUNNING.value,
                        started_at=now,
                        owner=str(processes.current()),
                        lease_expires_at=now + timedelta(seconds=STALE_AFTER_SECONDS),
                        stages=[],
                    )
                    db.add(job)
                    db.flush()
                    started = _out(job)
            except IntegrityError:  # another process started one between our read and our write
                continue
            self._finished[started.id] = threading.Event()
            if self.settings is not None:
                self._start_process(started.id, kind, work, self.settings)
            else:
                threading.Thread(
                    target=self._run_in_thread,
                    args=(_Runner(self.sessions, started.id), work),
                    name=f"segone-{kind}",
                    daemon=True,
                ).start()
            return started
        raise RuntimeError(f"Could not start or find a running {kind} job.")  # pragma: no cover

    def running(self, kind: str) -> JobOut | None:
        """The job of this kind running in any server process, if any."""
        with session_scope(self.sessions) as db:
            running = self._running(db, kind)
            return None if running is None else _out(running)

    def get(self, job_id: str) -> JobOut:
        with session_scope(self.sessions) as db:
            job = db.get(Job, job_id)
            if job is None:
                raise NotFound(f"There is no job {job_id} (the last {KEEP_FINISHED} finished jobs are kept).")
            return _out(_settle(db, job))

    def wait(self, job_id: str, timeout: float | None = None) -> JobOut:
        """The job once it has finished (or as it is after ``timeout`` seconds)."""
        finished = self._finished.get(job_id)
        if finished is not None:  # ours: its thread says when
            finished.wait(timeout)
            return self.get(job_id)
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            job = self.get(job_id)
            if job.state is not JobState.RUNNING or (deadline is not None and time.monotonic() >= deadline):
                return job
            time.sleep(POLL_SECONDS)

    def _run_in_thread(self, runner: _Runner, work: Work) -> None:
        below_requests()
        try:
            _execute(runner, work)
        finally:
            self._done(runner.job_id)

    def _start_process(self, job_id: str, kind: str, work: Work, settings: Settings) -> None:
        # Spawned, not forked: a fork of a server process would inherit its threads' locks and DuckDB's
        # thread pool half-copied.
        child = multiprocessing.get_context("spawn").Process(
            target=_run_in_process, args=(settings, job_id, work), name=f"segone-{kind}", daemon=True
        )
        child.start()
        threading.Thread(
            target=self._reap, args=(child, job_id), name=f"segone-{kind}-reaper", daemon=True
        ).start()

    def _reap(self, child: multiprocessing.process.BaseProcess, job_id: str) -> None:
        """Wait for a job's process (so it leaves no zombie, which would read as alive) and record its
        end if it could not: it died before adopting the row, or was killed."""
        child.join()
        try:
            with session_scope(self.sessions) as db:
                job = db.get(Job, job_id)
                if job is not None and job.status == JobState.RUNNING:
                    job.status, job.finished_at = JobState.FAILED.value, utcnow()
                    job.message = (
                        f"The job's process ended (exit code {child.exitcode}) before it recorded how it "
                        "went; the server's log may say why. What it wrote before stays; start it again."
                    )
        except Exception:
            log.exception("Could not record the end of job %s.", job_id)
        finally:
            self._done(job_id)

    def _done(self, job_id: str) -> None:
        finished = self._finished.pop(job_id, None)
        if finished is not None:
            finished.set()

    @staticmethod
    def _running(db: Session, kind: str) -> Job | None:
        for job in db.scalars(select(Job).where(Job.kind == kind, Job.status == JobState.RUNNING.value)):
            if _settle(db, job).status == JobState.RUNNING:
                return job
        return None

    @staticmethod
    def _delete_old(db: Session) -> None:
        old = (
            select(Job.id)
            .where(Job.status != JobState.RUNNING.value)
            .order_by(Job.finished_at.desc(), Job.id)
            .offset(KEEP_FINISHED)
        )
        ids = list(db.scalars(old))
        if ids:
            db.execute(delete(Job).where(Job.id.in_(ids)))


def _execute(runner: _Runner, work: Work) -> None:
    result: dict[str, Any] | None = None
    error: str | None = None
    runner.start()
    try:
        result = work(runner)
    except BaseException as exc:  # a job's failure is its status, never a crash of the server
        if not isinstance(exc, SegoneError):
            log.exception("Job %s failed.", runner.job_id)
        error = _error_of(exc)
    finally:
        runner.finish(result, error)


def _check_picklable(kind: str, work: Work) -> None:
    try:
        pickle.dumps(work)
    except (pickle.PicklingError, TypeError, AttributeError) as exc:
        raise TypeError(
            f"The {kind} job cannot run in a process of its own: its function and arguments must pickle "
            f"(a module-level function or a functools.partial of one): {exc}"
        ) from exc


def _run_in_process(settings: Settings, job_id: str, work: Work) -> None:
    """The job's process: below the server's priority, with connections of its own, keeping the memory it
    frees for its next allocations (``processes.keep_freed_memory``), its writes giving way to the
    requests' (``processes.give_way``)."""
    processes.keep_freed_memory()
    below_requests()  # the process's one thread so far: the threads it starts inherit its nice value
    engine = create_engine_for(settings)
    try:
        sessions = session_factory(engine)
        if leases.adopt(sessions, Job, job_id):
            _execute(_Runner(sessions, job_id), work)
    finally:
        engine.dispose()


class _Runner(ProgressTracker):
    """The ``Progress`` of a running job: remembers where it is, and writes that to the job's row.

    A ``Periodic`` thread writes the row when the progress changed (at most every ``WRITE_SECONDS``, at
    once on a new stage) or ``BEAT_SECONDS`` have passed, each time pushing the lease forward. A write
    that finds the row no longer ours (another process took the job for dead) stops the writing: the work
    goes on, its end is not recorded.
    """

    def __init__(self, sessions: sessionmaker[Session], job_id: str) -> None:
        super().__init__()
        self.sessions = sessions
        self.job_id = job_id
        self._owner = str(processes.current())
        self._written: tuple[Any, ...] | None = None
        self._beat = time.monotonic()
        self._lost = False
        self._ended = False
        self._writer = Periodic(self._write, WRITE_SECONDS, name=f"segone-job-{job_id[:8]}")

    def __call__(self, stage: str, done: int, total: int | None) -> None:
        new_stage = not self.stages or self.stages[-1] != stage
        super().__call__(stage, done, total)
        if new_stage:
            self._writer.wake()

    def start(self) -> None:
        self._writer.start()

    def finish(self, result: dict[str, Any] | None, error: str | None) -> None:
        self._ended = True  # the writer's last run (in ``stop``) has nothing to add: this write ends it
        self._writer.stop()
        values: dict[str, Any] = self._progress_values()
        values.update(
            status=(JobState.FAILED if error is not None else JobState.DONE).value,
            finished_at=utcnow(),
            result=result if error is None else None,
            message=error,
        )
        try:
            self._update(values)
        except Exception:  # the store away at the end: the row reads as failed once its process is gone
            log.exception("Could not record the end of job %s.", self.job_id)

    def _progress_values(self) -> dict[str, Any]:
        status = self.status
        return {
            "progress": None if status is None else status.model_dump(include={"stage", "done", "total"}),
            "stages": list(self.stages),
        }

    def _write(self) -> None:
        if self._lost or self._ended:
            return
        values = self._progress_values()
        seen = (values["progress"] and tuple(values["progress"].values()), len(values["stages"]))
        if seen == self._written and time.monotonic() - self._beat < BEAT_SECONDS:
            return
        values["lease_expires_at"] = utcnow() + timedelta(seconds=STALE_AFTER_SECONDS)
        if not self._update(values):
            self._lost = True
            log.warning(
                "Job %s was taken for dead by another process; its progress is no longer written.",
                self.job_id,
            )
            return
        self._written, self._beat = seen, time.monotonic()

    def _update(self, values: dict[str, Any]) -> bool:
        with session_scope(self.sessions) as db:
            updated = db.execute(
                update(Job)
                .where(Job.id == self.job_id, Job.status == JobState.RUNNING.value, Job.owner == self._owner)
                .values(**values)
            )
        return getattr(updated, "rowcount", 1) != 0


# How far below the requests' priority a job's thread runs (a nice value; 19 is the lowest).
JOB_NICENESS = 10


def below_requests() -> None:
    """Lower the calling thread's priority by ``JOB_NICENESS`` (Linux: a thread's own nice value; the
    threads it starts, DuckDB's among them, inherit it): a refresh takes the CPU the pages leave, so a
    page is not slow because a refresh runs. Elsewhere, and where it is not allowed, it runs as it is. Its
    writes to the database give way too (``processes.give_way``)."""
    processes.mark_below_requests()
    if sys.platform != "linux":
        return
    try:
        thread = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, thread, os.getpriority(os.PRIO_PROCESS, thread) + JOB_NICENESS)
    except OSError:
        log.debug("A job's thread kept its priority.", exc_info=True)
