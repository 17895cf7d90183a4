"""Long jobs started through the API: run in a thread of the server, their progress kept for polling.

A job is a function that takes a ``progress.Progress`` and returns its result as a JSON-ready dict (the
same function the CLI runs under a progress bar). ``Jobs.start`` runs it in the background and answers at
once; ``Jobs.get`` reports where it is: its stage, how far, and at the end its result or its error. One job
of a kind runs at a time: starting it again while it runs answers with the running job (two refreshes at
once would only race to write the same rows). Jobs live in the server's memory: a restart forgets them,
while what a job wrote to the store stays.
"""

from __future__ import annotations

import enum
import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from segone.clock import utcnow
from segone.errors import NotFound, SegoneError
from segone.progress import Progress, ProgressStatus, ProgressTracker

Work = Callable[[Progress], dict[str, Any]]

KEEP_FINISHED = 50  # finished jobs remembered for polling; the oldest are forgotten first


class JobState(enum.StrEnum):
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


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


class _Job:
    def __init__(self, kind: str) -> None:
        self.id = uuid.uuid4().hex
        self.kind = kind
        self.state = JobState.RUNNING
        self.started_at = utcnow()
        self.finished_at: datetime | None = None
        self.tracker = ProgressTracker()
        self.result: dict[str, Any] | None = None
        self.error: str | None = None
        self.finished = threading.Event()

    def out(self) -> JobOut:
        return JobOut(
            id=self.id,
            kind=self.kind,
            state=self.state,
            started_at=self.started_at,
            finished_at=self.finished_at,
            progress=self.tracker.status,
            stages=list(self.tracker.stages),
            result=self.result,
            error=self.error,
        )


class Jobs:
    """The jobs of one process."""

    def __init__(self) -> None:
        self._jobs: OrderedDict[str, _Job] = OrderedDict()
        self._lock = threading.Lock()

    def start(self, kind: str, work: Work) -> JobOut:
        """Start ``work`` as a job of this kind, or answer with the job of this kind that is running."""
        with self._lock:
            for running in self._jobs.values():
                if running.kind == kind and running.state is JobState.RUNNING:
                    return running.out()
            job = _Job(kind)
            self._jobs[job.id] = job
            self._forget_old()
        threading.Thread(target=self._run, args=(job, work), name=f"segone-{kind}", daemon=True).start()
        return job.out()

    def running(self, kind: str) -> JobOut | None:
        """The job of this kind running in this process, if any."""
        with self._lock:
            for job in self._jobs.values():
                if job.kind == kind and job.state is JobState.RUNNING:
                    return job.out()
        return None

    def get(self, job_id: str) -> JobOut:
        job = self._jobs.get(job_id)
        if job is None:
            raise NotFound(f"There is no job {job_id} (jobs are forgotten when the server restarts).")
        return job.out()

    def wait(self, job_id: str, timeout: float | None = None) -> JobOut:
        """The job once it has finished (or as it is after ``timeout`` seconds)."""
        job = self._jobs.get(job_id)
        if job is None:
            raise NotFound(f"There is no job {job_id}.")
        job.finished.wait(timeout)
        return job.out()

    @staticmethod
    def _run(job: _Job, work: Work) -> None:
        try:
            job.result = work(job.tracker)
            job.state = JobState.DONE
        except BaseException as exc:  # a job's failure is its status, never a crash of the server
            job.error = exc.message if isinstance(exc, SegoneError) else f"{type(exc).__name__}: {exc}"
            job.state = JobState.FAILED
        finally:
            job.finished_at = utcnow()
            job.finished.set()

    def _forget_old(self) -> None:
        finished = [j.id for j in self._jobs.values() if j.state is not JobState.RUNNING]
        for job_id in finished[: max(0, len(finished) - KEEP_FINISHED)]:
            del self._jobs[job_id]
