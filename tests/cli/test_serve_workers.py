"""``segone serve --workers N``: several processes over one store, the settings the parent resolved."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pyarrow.parquet as pq
import pytest

from segone.accounts.schemas import Role
from segone.accounts.throttle import AuthThrottle
from segone.behaviour import ingest
from segone.cli.serve import environment_of
from segone.jobs import JOB_NICENESS
from segone.runtime import Runtime
from segone.settings import Settings
from tests.api.helpers import api_user
from tests.cli.test_installed import SEGONE, _env
from tests.factories import make_customer
from tests.serving import serving


def test_the_workers_get_the_settings_the_parent_resolved(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    resolved = Settings(
        data_dir=Path("relative/data"),
        currency="EUR",
        knowledge_threshold=0.5,
        cookie_secure=True,
        workers=3,
        fact_categories="family:consumer,work:business",
        secret_key="not-passed-on",
    )
    monkeypatch.chdir(tmp_path)
    variables = environment_of(resolved)
    assert "SEGONE_SECRET_KEY" not in variables  # inherited as it was, or read from the data directory
    assert variables["SEGONE_DATA_DIR"] == str(tmp_path / "relative" / "data")  # wherever a worker starts
    for name in [n for n in os.environ if n.startswith("SEGONE_")]:
        monkeypatch.delenv(name)
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir("/")
    in_a_worker = Settings()
    expected = resolved.model_copy(update={"data_dir": tmp_path / "relative" / "data", "secret_key": ""})
    assert in_a_worker == expected


def test_with_in_memory_counts_each_worker_allows_its_share_of_the_sign_in_limits() -> None:
    one = AuthThrottle.from_settings(Settings(auth_failures_per_account="10 per 15 minutes", workers=1))
    three = AuthThrottle.from_settings(
        Settings(auth_failures_per_account="10/15 minutes", auth_failures_per_address="50/hour", workers=3)
    )
    assert one.limits == (10, 50)
    assert three.limits == (4, 17)  # rounded up: 12 and 51 in all, never a share of 0
    assert AuthThrottle(per_account="1/minute", per_address="2/minute", processes=4).limits == (1, 1)


def _workers_of(data_dir: Path) -> int:
    """Processes serving this data directory as workers: their parent passed them SEGONE_WORKERS, and
    they run at its priority (the flusher, which inherits the variables too, runs below)."""
    ours = os.getpriority(os.PRIO_PROCESS, 0)
    return sum(1 for niceness in _processes_of(data_dir, b"SEGONE_WORKERS=2").values() if niceness == ours)


def test_two_workers_answer_about_one_job_whichever_takes_the_request(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    runtime = Runtime(Settings(data_dir=data_dir))
    runtime.upgrade_schema()
    token = api_user(runtime, Role.ANALYST).token
    make_customer(runtime, name="Ann")
    runtime.dispose()
    headers = {"Authorization": f"Bearer {token}"}
    with serving(str(SEGONE), _env(data_dir), options=("--workers", "2")) as base:
        deadline = time.monotonic() + 30
        while _workers_of(data_dir) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _workers_of(data_dir) == 2
        started = httpx.post(f"{base}/api/v1/jobs/knowledge-refresh", headers=headers, timeout=30)
        assert started.status_code == 202, started.text
        job = started.json()
        # A connection each: the kernel hands them to either worker.
        for _ in range(20):
            polled = httpx.get(f"{base}/api/v1/jobs/{job['id']}", headers=headers, timeout=30)
            assert polled.status_code == 200, polled.text
            assert polled.json()["id"] == job["id"]
        while polled.json()["state"] == "running" and time.monotonic() < deadline + 60:
            time.sleep(0.2)
            polled = httpx.get(f"{base}/api/v1/jobs/{job['id']}", headers=headers, timeout=30)
        assert polled.json()["state"] == "done", polled.json()


def _processes_of(data_dir: Path, variable: bytes = b"") -> dict[int, int]:
    """The processes of ``segone serve`` over this data directory (its parent, workers, flusher), with
    ``variable`` in their environment if given: their nice values by process id."""
    marker, found = f"SEGONE_DATA_DIR={data_dir}".encode(), {}
    for entry in Path("/proc").iterdir():
        try:
            environ = (entry / "environ").read_bytes().split(b"\0")
            command = (entry / "cmdline").read_bytes()
            wanted = marker in environ and (not variable or variable in environ)
            if wanted and b"resource_tracker" not in command:
                found[int(entry.name)] = os.getpriority(os.PRIO_PROCESS, int(entry.name))
        except (OSError, ValueError):
            continue
    return found


def _send_events(base: str, token: str, batch: str) -> None:
    events = [
        {"event_id": f"{batch}-{n}", "customer": f"shop:{n}", "type": "visit", "timestamp": "2024-05-01"}
        for n in range(50)
    ]
    sent = httpx.post(
        f"{base}/api/v1/events",
        json={"events": events},
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    assert sent.status_code == 200, sent.text
    assert sent.json()["new"] == 50


def _in_the_dataset(runtime: Runtime) -> set[str]:
    dataset = ingest.dataset_of(runtime.settings.data_dir)
    return set(pq.read_table(dataset.files(), columns=["event_id"]).column("event_id").to_pylist())


def _staged(runtime: Runtime) -> int:
    with runtime.session() as db:
        return ingest.staged_count(db)


@contextmanager
def _store(tmp_path: Path, flush_every: int) -> Iterator[tuple[Runtime, str, dict[str, str]]]:
    """A store, an analyst's token, and the environment of a server flushing every ``flush_every`` s."""
    data_dir = tmp_path / "data"
    runtime = Runtime(Settings(data_dir=data_dir))
    runtime.upgrade_schema()
    token = api_user(runtime, Role.ANALYST).token
    try:
        yield runtime, token, {**_env(data_dir), "SEGONE_FLUSH_INTERVAL_SECONDS": str(flush_every)}
    finally:
        runtime.dispose()


def test_one_process_below_the_workers_moves_what_they_stage_into_the_dataset(tmp_path: Path) -> None:
    with _store(tmp_path, 1) as (runtime, token, env):
        data_dir = runtime.settings.data_dir
        with serving(str(SEGONE), env, options=("--workers", "2")) as base:
            deadline = time.monotonic() + 30
            while _workers_of(data_dir) < 2 and time.monotonic() < deadline:
                time.sleep(0.1)
            for batch in ("a", "b", "c"):  # a connection each: either worker takes it
                _send_events(base, token, batch)
            while (
                _staged(runtime) or not ingest.dataset_of(data_dir).files()
            ) and time.monotonic() < deadline:
                time.sleep(0.2)
            assert _staged(runtime) == 0
            assert len(_in_the_dataset(runtime)) == 150
            niceness = sorted(_processes_of(data_dir).values())
            # The parent and its two workers at the server's priority; one flusher, ten levels below.
            assert niceness[:3] == [niceness[0]] * 3
            assert niceness[3:] == [niceness[0] + JOB_NICENESS]


def test_what_is_staged_when_the_server_stops_is_moved_before_it_ends(tmp_path: Path) -> None:
    with _store(tmp_path, 3600) as (runtime, token, env):
        with serving(str(SEGONE), env) as base:
            _send_events(base, token, "last")
            assert _staged(runtime) == 50
        assert _staged(runtime) == 0
        assert _in_the_dataset(runtime) == {f"last-{n}" for n in range(50)}
        assert _processes_of(runtime.settings.data_dir) == {}  # no flusher outlives its server
