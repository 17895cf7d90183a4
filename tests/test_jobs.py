"""Jobs: run in a process of their own (or a thread), kept in the store, polled through any server."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from functools import partial
from typing import Any

import pytest

from segone import processes
from segone.clock import utcnow
from segone.errors import Invalid, NotFound
from segone.jobs import JOB_NICENESS, Job, Jobs, JobState
from segone.progress import Progress
from segone.runtime import Runtime


@pytest.fixture
def other(runtime: Runtime) -> Iterator[Runtime]:
    """A second process's view of the same store: its own engine, so its own connections."""
    second = Runtime(runtime.settings)
    yield second
    second.dispose()


def test_a_job_reports_its_stage_while_it_runs_and_its_result_at_the_end(runtime: Runtime) -> None:
    jobs = Jobs(runtime.sessions)
    reached, release = threading.Event(), threading.Event()

    def work(progress: Progress) -> dict[str, Any]:
        progress("Reading", 1, 4)
        reached.set()
        release.wait(10)
        progress("Writing", 3, None)
        return {"written": 3}

    started = jobs.start("import", work)
    assert started.state is JobState.RUNNING and started.finished_at is None
    assert reached.wait(10)
    running = _with_progress(jobs, started.id)
    assert running.state is JobState.RUNNING and running.progress is not None
    assert (running.progress.stage, running.progress.done, running.progress.fraction) == ("Reading", 1, 0.25)
    assert jobs.start("import", work).id == started.id  # asked again while it runs: the same job
    assert jobs.running("import") == jobs.get(started.id)

    release.set()
    done = jobs.wait(started.id, timeout=10)
    assert done.state is JobState.DONE and done.result == {"written": 3} and done.error is None
    assert done.stages == ["Reading", "Writing"] and done.progress is not None
    assert done.progress.fraction is None  # the last stage did not know its total
    assert done.finished_at is not None and done.finished_at >= done.started_at
    assert jobs.running("import") is None
    again = jobs.start("import", lambda progress: {"written": 0})  # the kind is free again
    assert jobs.wait(again.id, timeout=10).result == {"written": 0}


def test_a_failed_job_says_why_and_the_server_goes_on(runtime: Runtime) -> None:
    jobs = Jobs(runtime.sessions)

    def refused(progress: Progress) -> dict[str, Any]:
        raise Invalid("--as-of 2999-01-01 is in the future")

    def broken(progress: Progress) -> dict[str, Any]:
        return {"ratio": 1 / 0}

    first, second = jobs.start("a", refused), jobs.start("b", broken)
    failed = jobs.wait(first.id, timeout=10)
    assert failed.state is JobState.FAILED and failed.error == "--as-of 2999-01-01 is in the future"
    crashed = jobs.wait(second.id, timeout=10)
    assert crashed.state is JobState.FAILED and crashed.error == "ZeroDivisionError: division by zero"
    assert crashed.result is None


@pytest.mark.skipif(sys.platform != "linux", reason="a thread's own nice value is Linux's")
def test_a_job_runs_below_the_requests_priority_with_the_threads_it_starts(runtime: Runtime) -> None:
    def nice() -> int:
        return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())

    def work(progress: Progress) -> dict[str, Any]:
        seen: list[int] = []
        child = threading.Thread(target=lambda: seen.append(nice()))
        child.start()
        child.join()
        return {"job": nice(), "child": seen[0]}

    here = nice()
    done = Jobs(runtime.sessions).wait(Jobs(runtime.sessions).start("nice", work).id, timeout=10)
    expected = min(19, here + JOB_NICENESS)
    assert done.result == {"job": expected, "child": expected}
    assert nice() == here  # the requests' threads keep theirs


def test_unknown_jobs_are_not_found_and_old_ones_are_deleted(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    jobs = Jobs(runtime.sessions)
    with pytest.raises(NotFound, match="no job"):
        jobs.get("0" * 32)
    monkeypatch.setattr("segone.jobs.KEEP_FINISHED", 2)
    ids = []
    for n in range(4):
        ids.append(jobs.start(f"kind{n}", lambda progress: {}).id)
        jobs.wait(ids[-1], timeout=10)
    jobs.start("kind4", lambda progress: {})
    with pytest.raises(NotFound):
        jobs.get(ids[0])
    assert jobs.get(ids[-1]).state is JobState.DONE


def test_a_job_started_by_one_process_is_followed_through_another(runtime: Runtime, other: Runtime) -> None:
    here, there = Jobs(runtime.sessions), Jobs(other.sessions)
    release = threading.Event()

    def work(progress: Progress) -> dict[str, Any]:
        progress("Counting", 2, 8)
        release.wait(10)
        return {"counted": 8}

    started = here.start("count", work)
    seen = _with_progress(there, started.id)
    assert seen.state is JobState.RUNNING and seen.progress is not None
    assert (seen.progress.stage, seen.progress.fraction, seen.stages) == ("Counting", 0.25, ["Counting"])
    assert there.running("count") == seen
    assert there.start("count", lambda progress: {"counted": 0}).id == started.id  # not a second one

    release.set()
    done = there.wait(started.id, timeout=10)  # polled: the thread runs in the other "process"
    assert done.state is JobState.DONE and done.result == {"counted": 8} and done.stages == ["Counting"]


def test_two_processes_starting_the_same_kind_at_once_get_one_job(runtime: Runtime, other: Runtime) -> None:
    release = threading.Event()
    answers: list[str] = []
    barrier = threading.Barrier(4)

    def work(progress: Progress) -> dict[str, Any]:
        release.wait(10)
        return {}

    def start(jobs: Jobs) -> None:
        barrier.wait(10)
        answers.append(jobs.start("build", work).id)

    starters = [
        threading.Thread(target=start, args=(Jobs(r.sessions),)) for r in (runtime, other, runtime, other)
    ]
    for starter in starters:
        starter.start()
    for starter in starters:
        starter.join(30)
    release.set()
    assert len(answers) == 4 and len(set(answers)) == 1
    with runtime.session() as db:
        assert db.query(Job).filter(Job.kind == "build").count() == 1
    assert Jobs(other.sessions).wait(answers[0], timeout=10).state is JobState.DONE


def _dead_owner() -> str:
    """The name of a process of this host that has ended."""
    child = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    here = processes.current()
    return str(processes.Owner(here.host, here.namespace, int(child.stdout), "1"))


@pytest.mark.parametrize(
    ("owner", "lease_left"),
    [
        pytest.param(_dead_owner, timedelta(seconds=60), id="its-process-ended"),
        pytest.param(lambda: "elsewhere~1~42~1", timedelta(seconds=-1), id="its-lease-ran-out-elsewhere"),
    ],
)
def test_a_job_whose_process_died_reads_as_failed_and_its_kind_starts_again(
    runtime: Runtime, other: Runtime, owner: Any, lease_left: timedelta
) -> None:
    now = utcnow()
    with runtime.session() as db:
        db.add(
            Job(
                id="d" * 32,
                kind="refresh",
                status="running",
                started_at=now - timedelta(minutes=5),
                owner=owner(),
                lease_expires_at=now + lease_left,
                stages=["Reading"],
                progress={"stage": "Reading", "done": 1, "total": 2},
            )
        )
    jobs = Jobs(other.sessions)
    assert jobs.running("refresh") is None
    dead = jobs.get("d" * 32)
    assert dead.state is JobState.FAILED and dead.finished_at is not None
    assert dead.error is not None and dead.error.startswith("The server stopped while it ran")
    fresh = jobs.start("refresh", lambda progress: {"ok": True})
    assert fresh.id != dead.id and jobs.wait(fresh.id, timeout=10).result == {"ok": True}


def test_a_job_whose_owner_elsewhere_still_beats_is_running(runtime: Runtime) -> None:
    now = utcnow()
    with runtime.session() as db:
        db.add(
            Job(
                id="e" * 32,
                kind="refresh",
                status="running",
                started_at=now,
                owner="elsewhere~1~42~1",
                lease_expires_at=now + timedelta(seconds=60),
                stages=[],
            )
        )
    jobs = Jobs(runtime.sessions)
    assert jobs.start("refresh", lambda progress: {}).id == "e" * 32


def test_an_unexpected_database_error_is_kept_without_its_parameters(runtime: Runtime) -> None:
    from sqlalchemy import text

    jobs = Jobs(runtime.sessions)

    def work(progress: Progress) -> dict[str, Any]:
        with runtime.session() as db:
            db.execute(text("SELECT * FROM no_such_table WHERE name = :name"), {"name": "Ann Example"})
        return {}

    failed = jobs.wait(jobs.start("query", work).id, timeout=10)
    assert failed.state is JobState.FAILED and failed.error is not None
    assert failed.error.startswith("ProgrammingError:") or failed.error.startswith("OperationalError:")
    assert "Ann" not in failed.error


def _with_progress(jobs: Jobs, job_id: str) -> Any:
    """The job once its progress has been written (the runner writes it within half a second)."""
    import time

    deadline = time.monotonic() + 10
    job = jobs.get(job_id)
    while job.progress is None and time.monotonic() < deadline:
        time.sleep(0.05)
        job = jobs.get(job_id)
    return job


def _where_it_ran(progress: Progress, *, stage: str) -> dict[str, Any]:
    """A job (module-level, so that it pickles) that says which process ran it and at what priority."""
    progress(stage, 1, 1)
    return {"pid": os.getpid(), "nice": os.getpriority(os.PRIO_PROCESS, 0)}


def _freed_and_kept(progress: Progress) -> dict[str, Any]:
    """A job making and freeing a 64 MB array, as a fit's temporaries: how many bytes the C allocator
    holds free afterwards, ready for the next one (glibc's ``mallinfo2``)."""
    import ctypes
    import ctypes.util

    import numpy as np

    class MallInfo2(ctypes.Structure):
        _fields_ = [
            (name, ctypes.c_size_t)
            for name in [
                "arena",
                "ordblks",
                "smblks",
                "hblks",
                "hblkhd",
                "usmblks",
                "fsmblks",
                "uordblks",
                "fordblks",
                "keepcost",
            ]
        ]

    mallinfo2 = ctypes.CDLL(ctypes.util.find_library("c")).mallinfo2
    mallinfo2.restype = MallInfo2
    progress("Allocating", 0, 1)
    np.ones(8_000_000).sum()
    return {"free_bytes": int(mallinfo2().fordblks)}


def _giving_way(progress: Progress) -> dict[str, Any]:
    progress("Writing", 0, 1)
    started = time.perf_counter()
    processes.give_way(0.3)
    return {"paused": time.perf_counter() - started}


def _killed(progress: Progress) -> dict[str, Any]:
    progress("Working", 0, 1)
    os.kill(os.getpid(), signal.SIGKILL)
    return {}  # pragma: no cover


@pytest.mark.skipif(sys.platform != "linux", reason="process priorities and SIGKILL as on Linux")
def test_with_settings_a_job_runs_in_a_process_of_its_own_below_the_server(runtime: Runtime) -> None:
    assert runtime.settings.jobs_in == "process"  # the default
    jobs = Jobs(runtime.sessions, runtime.settings)
    done = jobs.wait(jobs.start("where", partial(_where_it_ran, stage="Looking")).id, timeout=60)
    assert done.state is JobState.DONE and done.stages == ["Looking"]
    assert done.result is not None and done.result["pid"] != os.getpid()
    here = os.getpriority(os.PRIO_PROCESS, 0)
    assert done.result["nice"] == min(19, here + JOB_NICENESS)
    with runtime.session() as db:  # the child adopted the row: it, not this process, was the owner
        row = db.get(Job, done.id)
        assert row is not None and row.owner is not None
        owner = processes.parse(row.owner)
        assert owner is not None and owner.pid == done.result["pid"]


@pytest.mark.skipif(sys.platform != "linux", reason="glibc's allocator")
def test_a_jobs_process_keeps_the_memory_it_frees_for_its_next_temporaries(runtime: Runtime) -> None:
    jobs = Jobs(runtime.sessions, runtime.settings)
    done = jobs.wait(jobs.start("kept", _freed_and_kept).id, timeout=60)
    assert done.state is JobState.DONE and done.result is not None
    # glibc's default maps an array this large from the kernel and gives it back when it is freed.
    assert done.result["free_bytes"] >= 64_000_000


@pytest.mark.skipif(sys.platform != "linux", reason="process priorities and SIGKILL as on Linux")
def test_a_job_whose_process_is_killed_fails_and_frees_its_kind(runtime: Runtime) -> None:
    jobs = Jobs(runtime.sessions, runtime.settings)
    failed = jobs.wait(jobs.start("doomed", _killed).id, timeout=60)
    assert failed.state is JobState.FAILED and failed.error is not None
    assert "exit code -9" in failed.error or failed.error.startswith("The server stopped while it ran")
    assert jobs.running("doomed") is None
    again = jobs.wait(jobs.start("doomed", partial(_where_it_ran, stage="Again")).id, timeout=60)
    assert again.state is JobState.DONE


def test_a_job_that_cannot_cross_to_its_process_is_refused_before_it_is_recorded(runtime: Runtime) -> None:
    jobs = Jobs(runtime.sessions, runtime.settings)
    with pytest.raises(TypeError, match="cannot run in a process of its own"):
        jobs.start("closure", lambda progress: {})
    assert jobs.running("closure") is None


def test_a_jobs_writes_give_way_to_the_requests_and_a_servers_do_not(runtime: Runtime) -> None:
    """A job pauses after a piece of its writes as long as the piece took (the database's process works at
    the requests' priority, whatever the job's own); the serving process does not."""
    jobs = Jobs(runtime.sessions, runtime.settings)
    done = jobs.wait(jobs.start("giving way", _giving_way).id, timeout=60)
    assert done.state is JobState.DONE and done.result is not None
    assert done.result["paused"] >= 0.3
    started = time.perf_counter()
    processes.give_way(0.3)
    assert time.perf_counter() - started < 0.1
