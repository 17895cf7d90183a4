"""The jobs of a process: run in a thread, polled for their stage, one of a kind at a time."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from segone.errors import Invalid, NotFound
from segone.jobs import Jobs, JobState
from segone.progress import Progress


def test_a_job_reports_its_stage_while_it_runs_and_its_result_at_the_end() -> None:
    jobs = Jobs()
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
    running = jobs.get(started.id)
    assert running.state is JobState.RUNNING and running.progress is not None
    assert (running.progress.stage, running.progress.done, running.progress.fraction) == ("Reading", 1, 0.25)
    assert jobs.start("import", work).id == started.id  # asked again while it runs: the same job

    release.set()
    done = jobs.wait(started.id, timeout=10)
    assert done.state is JobState.DONE and done.result == {"written": 3} and done.error is None
    assert done.stages == ["Reading", "Writing"] and done.progress is not None
    assert done.progress.fraction is None  # the last stage did not know its total
    assert done.finished_at is not None and done.finished_at >= done.started_at
    again = jobs.start("import", lambda progress: {"written": 0})  # the kind is free again
    assert jobs.wait(again.id, timeout=10).result == {"written": 0}


def test_a_failed_job_says_why_and_the_server_goes_on() -> None:
    jobs = Jobs()

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


def test_unknown_jobs_are_not_found_and_old_ones_are_forgotten(monkeypatch: pytest.MonkeyPatch) -> None:
    jobs = Jobs()
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
