"""Refreshes started through the API as jobs, polled over real HTTP until they are done."""

from __future__ import annotations

import time
from datetime import date, timedelta
from typing import Any

import httpx
import pytest

from segone.accounts.schemas import Role
from segone.runtime import Runtime
from tests.api.conftest import ClientFactory
from tests.api.helpers import api_user, error_of
from tests.behaviour.conftest import DUCKDB_WARNING
from tests.behaviour.killed import kill, refresh_running_elsewhere
from tests.conftest import LiveServer
from tests.factories import make_customer

pytestmark = pytest.mark.filterwarnings(DUCKDB_WARNING)


def _finished(client: httpx.Client, job: dict[str, Any], seconds: float = 120) -> dict[str, Any]:
    deadline = time.monotonic() + seconds
    while job["state"] == "running" and time.monotonic() < deadline:
        time.sleep(0.2)
        job = client.get(f"/jobs/{job['id']}").json()
    return job


def test_a_knowledge_refresh_job_reports_its_stages_and_result(runtime: Runtime, api: ClientFactory) -> None:
    writer = api(api_user(runtime, Role.FRONTLINE).token)
    ann, bo = make_customer(runtime, name="Ann"), make_customer(runtime, name="Bo")
    for customer, text in (
        (ann, "Keeps bees on the roof"),
        (ann, "Has two children"),
        (bo, "Has two children"),
    ):
        added = writer.post(
            f"/customers/{customer}/differentiators", json={"text": text, "category": "family"}
        )
        assert added.status_code == 201, added.text

    analyst = api(api_user(runtime, Role.ANALYST).token)
    started = analyst.post("/jobs/knowledge-refresh")
    assert started.status_code == 202, started.text
    assert started.json()["kind"] == "knowledge-refresh"
    job = _finished(analyst, started.json())

    assert job["state"] == "done", job
    assert job["stages"][0] == "Reading what we know" and job["stages"][-1] == "Writing the results"
    assert job["progress"]["fraction"] == 1.0
    assert job["result"]["customers"] >= 2 and job["result"]["segments_of_one"] >= 1
    knowledge = writer.get(f"/customers/{bo}/knowledge").json()
    assert knowledge["distinguishability"] == 2  # the job's refresh is what the pages read


def test_a_behaviour_refresh_job_flushes_the_api_events_first(runtime: Runtime, api: ClientFactory) -> None:
    analyst = api(api_user(runtime, Role.ANALYST).token)
    day = date.today() - timedelta(days=30)
    events = [
        {
            "customer": f"email:buyer{n}@jobs.example",
            "type": "purchase",
            "timestamp": (day + timedelta(days=k * 7)).isoformat(),
            "value": 10.0 + k,
        }
        for n in range(3)
        for k in range(n + 1)
    ]
    assert analyst.post("/events", json={"events": events}).status_code == 200

    # The purchase model asked for scores the customers (too few of them here: it says so).
    job = _finished(analyst, analyst.post("/jobs/behaviour-refresh", json={"model": "mbgnbd"}).json())

    assert job["state"] == "done", job
    assert job["stages"][0] == "Flushing staged events"
    assert job["result"]["models"]["selection"]["asked"] == "mbgnbd"
    assert any(note.startswith("MBG/NBD not fitted: ") for note in job["result"]["notes"])
    assert job["result"]["as_of"] == date.today().isoformat() and job["result"]["customers"] >= 3
    buyer = analyst.get("/customers/by-identity/email:buyer2@jobs.example").json()
    profile = analyst.get(f"/customers/{buyer['id']}/behaviour").json()["profile"]
    assert profile is not None and profile["purchases"] == 3


def test_a_refresh_killed_elsewhere_reads_as_failed_and_one_running_refuses(
    runtime: Runtime, api: ClientFactory
) -> None:
    analyst = api(api_user(runtime, Role.ANALYST).token)
    day = date.today() - timedelta(days=30)
    events = [
        {"customer": f"email:k{n}@jobs.example", "type": "purchase", "timestamp": day.isoformat()}
        for n in range(5)
    ]
    assert analyst.post("/events", json={"events": events}).status_code == 200
    with refresh_running_elsewhere(runtime.settings, date.today()) as child:
        assert analyst.get("/behaviour/refreshes/latest").json()["status"] == "running"
        refused = error_of(analyst.post("/jobs/behaviour-refresh", json={}), 409, "conflict")
        assert "is running already" in refused["message"]
        kill(child)
        latest = analyst.get("/behaviour/refreshes/latest").json()
        assert (latest["status"], latest["finished_at"]) == ("failed", None)
        assert latest["message"].startswith("Stopped without finishing")

    job = _finished(analyst, analyst.post("/jobs/behaviour-refresh", json={}).json())
    assert job["state"] == "done", job
    latest = analyst.get("/behaviour/refreshes/latest").json()
    assert (latest["id"], latest["status"]) == (job["result"]["refresh_id"], "done")


def test_jobs_need_the_analytics_permission_and_good_input(runtime: Runtime, api: ClientFactory) -> None:
    manager = api(api_user(runtime, Role.MANAGER).token)
    assert error_of(manager.post("/jobs/knowledge-refresh"), 403, "forbidden")
    assert error_of(manager.get(f"/jobs/{'a' * 32}"), 403, "forbidden")
    analyst = api(api_user(runtime, Role.ANALYST).token)
    future = (date.today() + timedelta(days=3)).isoformat()
    refused = error_of(analyst.post("/jobs/behaviour-refresh", json={"as_of": future}), 422, "invalid")
    assert "in the future" in refused["message"]
    unreadable = error_of(analyst.post("/jobs/behaviour-refresh", json={"as_of": "soon"}), 422, "invalid")
    assert "as_of" in unreadable["message"]
    error_of(analyst.post("/jobs/behaviour-refresh", json={"since": "2024-01-01"}), 422, "invalid")
    error_of(analyst.post("/jobs/behaviour-refresh", json={"model": "gamma"}), 422, "invalid")
    assert "no job" in error_of(analyst.get(f"/jobs/{'a' * 32}"), 404, "not_found")["message"]
    error_of(analyst.get("/jobs/not-a-job"), 422, "invalid")


def test_a_job_started_through_one_server_is_followed_through_another(
    runtime: Runtime, api: ClientFactory
) -> None:
    """Two applications over one store, as two workers of `segone serve --workers 2` are."""
    writer = api(api_user(runtime, Role.FRONTLINE).token)
    ann = make_customer(runtime, name="Ann")
    added = writer.post(f"/customers/{ann}/differentiators", json={"text": "Sails", "category": "family"})
    assert added.status_code == 201, added.text
    token = api_user(runtime, Role.ANALYST).token
    second_runtime = Runtime(runtime.settings)  # its own engine: its own connections, as another process
    second = LiveServer(second_runtime)
    try:
        there = httpx.Client(
            base_url=second.url + "/api/v1", headers={"Authorization": f"Bearer {token}"}, timeout=30
        )
        with there:
            started = api(token).post("/jobs/knowledge-refresh").json()
            job = _finished(there, there.get(f"/jobs/{started['id']}").json())
            assert job["id"] == started["id"] and job["state"] == "done", job
            assert job["stages"][-1] == "Writing the results" and job["result"]["customers"] >= 1
            assert api(token).get(f"/jobs/{started['id']}").json() == job
    finally:
        second.stop()
        second_runtime.dispose()
