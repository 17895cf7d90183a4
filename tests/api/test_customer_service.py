"""The service strategy, recovery cases and promises through the REST API, over real HTTP."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import httpx
import pytest

from segone.accounts.schemas import SYSTEM, Role
from segone.behaviour import ingest
from segone.clock import utcnow
from segone.runtime import Runtime
from tests.api.conftest import ClientFactory
from tests.api.helpers import api_user, error_of, fields_at_fault
from tests.behaviour.conftest import DUCKDB_WARNING
from tests.factories import make_customer

STRATEGY = {
    "core_service": ["We make promises and always keep them."],
    "service_experience": ["We care.", "Recovery is our #1 priority."],
    "exceptions": [{"key": "refund", "label": "Refund", "limits": {"frontline": 50, "manager": 500}}],
    "target_hours_high": 24,
    "target_hours_normal": 72,
}


def _wait(client: httpx.Client, job: dict[str, Any]) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while job["state"] == "running" and time.monotonic() < deadline:
        time.sleep(0.1)
        job = client.get(f"/jobs/{job['id']}").json()
    return job


def test_the_strategy_is_put_and_read_by_everyone(runtime: Runtime, api: ClientFactory) -> None:
    admin = api(api_user(runtime, Role.ADMIN).token)
    frontline = api(api_user(runtime, Role.FRONTLINE).token)
    assert frontline.get("/strategy").json()["on_record"] is False
    assert fields_at_fault(admin.put("/strategy", json={**STRATEGY, "target_hours_high": 0})) == {
        "target_hours_high"
    }
    twice = admin.put("/strategy", json={**STRATEGY, "exceptions": STRATEGY["exceptions"] * 2})
    assert "refund is named twice" in error_of(twice, 422, "invalid")["details"][0]["problem"]
    put = admin.put("/strategy", json=STRATEGY)
    assert put.status_code == 200 and put.json()["version"] == 1
    read = frontline.get("/strategy").json()
    assert read["service_experience"] == STRATEGY["service_experience"] and read["changed_by"]
    error_of(frontline.put("/strategy", json=STRATEGY), 403, "forbidden")
    assert [v["version"] for v in frontline.get("/strategy/versions").json()] == [1]


def test_a_case_through_the_api_and_the_limit_named_in_a_403(runtime: Runtime, api: ClientFactory) -> None:
    api(api_user(runtime, Role.ADMIN).token).put("/strategy", json=STRATEGY)
    user = api_user(runtime, Role.FRONTLINE)
    client = api(user.token)
    customer = make_customer(runtime, name="Ann Archer")
    assert fields_at_fault(client.post("/recovery-cases", json={"customer_id": customer, "summary": ""})) == {
        "summary"
    }
    error_of(
        client.post("/recovery-cases", json={"customer_id": 987654, "summary": "Late"}), 404, "not_found"
    )
    later = (utcnow() + timedelta(days=1)).isoformat()
    error_of(
        client.post(
            "/recovery-cases", json={"customer_id": customer, "summary": "Late", "reported_at": later}
        ),
        422,
        "invalid",
    )
    made = client.post(
        "/recovery-cases", json={"customer_id": customer, "summary": "Late", "priority": "high"}
    )
    assert made.status_code == 201, made.text
    case = made.json()
    assert (case["owner_id"], case["status"], case["overdue"]) == (user.id, "open", False)

    over = client.post(
        f"/recovery-cases/{case['id']}/actions", json={"text": "Refund", "exception": "refund", "cost": 60}
    )
    error = error_of(over, 403, "forbidden")
    assert "over the frontline limit of $50.00" in error["message"]
    assert error["details"]["limit"] == 50.0 and error["details"]["exception"] == "refund"
    assert fields_at_fault(
        client.post(f"/recovery-cases/{case['id']}/actions", json={"text": "x", "cost": 5})
    ) == {"body"}
    granted = client.post(
        f"/recovery-cases/{case['id']}/actions", json={"text": "Refund", "exception": "refund", "cost": 50}
    )
    assert granted.status_code == 201 and granted.json()["limit"] == 50.0
    other = api_user(runtime, Role.FRONTLINE)
    error_of(
        api(other.token).patch(f"/recovery-cases/{case['id']}", json={"owner_id": other.id}), 403, "forbidden"
    )
    closed = client.post(
        f"/recovery-cases/{case['id']}/close", json={"resolution": "Refunded", "verdict": "satisfied"}
    )
    assert closed.status_code == 200 and closed.json()["hours_to_recover"] is not None
    error_of(
        client.post(
            f"/recovery-cases/{case['id']}/close", json={"resolution": "Again", "verdict": "satisfied"}
        ),
        409,
        "conflict",
    )
    detail = client.get(f"/recovery-cases/{case['id']}").json()
    assert [a["cost"] for a in detail["actions"]] == [50.0] and detail["exceptions_cost"] == 50.0
    listed = client.get("/recovery-cases", params={"status": "all", "customer_id": customer}).json()
    assert [c["id"] for c in listed["items"]] == [case["id"]] and listed["scope"] == "Ann Archer"


def test_promises_through_the_api(runtime: Runtime, api: ClientFactory) -> None:
    user = api_user(runtime, Role.FRONTLINE, team="Store York")
    manager = api(api_user(runtime, Role.MANAGER, team="Store York").token)
    client = api(user.token)
    customer = make_customer(runtime)
    today = utcnow().date()
    yesterday = (today - timedelta(days=1)).isoformat()
    assert fields_at_fault(
        client.post("/promises", json={"customer_id": customer, "text": "Call", "due_on": yesterday})
    ) == {"due_on"}
    made = client.post(
        "/promises", json={"customer_id": customer, "text": "Call", "due_on": today.isoformat()}
    )
    assert made.status_code == 201
    promise = made.json()["id"]
    future = (today + timedelta(days=1)).isoformat()
    assert fields_at_fault(client.post(f"/promises/{promise}/keep", json={"on": future})) == {"on"}
    kept = client.post(f"/promises/{promise}/keep")
    assert kept.status_code == 200 and kept.json()["state"] == "kept"
    error_of(client.post(f"/promises/{promise}/break"), 409, "conflict")
    rates = manager.get("/promises/rates", params={"by": "employee"}).json()
    assert [(r["key"], r["rate"]) for r in rates["rows"]] == [(user.email, 1.0)]
    error_of(client.get("/promises/rates"), 403, "forbidden")
    assert client.get("/promises", params={"customer_id": customer}).json()["total"] == 1


@pytest.mark.filterwarnings(DUCKDB_WARNING)
def test_sync_opens_cases_from_events_as_a_job(sqlite_runtime: Runtime, sqlite_api: ClientFactory) -> None:
    runtime = sqlite_runtime
    analyst = sqlite_api(api_user(runtime, Role.ANALYST).token)
    make_customer(runtime, name="Bob", identities=["crm:bob"])
    with runtime.session() as db:
        ingest.stage_batch(
            db,
            actor=SYSTEM,
            events=[{"customer": "crm:bob", "type": "complaint", "timestamp": "2026-01-05T10:00:00Z"}],
        )
    job = analyst.post("/recovery-cases/sync", json={"since": "2026-01-01"})
    assert job.status_code == 202
    done = _wait(analyst, job.json())
    assert done["state"] == "done" and done["result"]["opened"] == 1 and done["result"]["flushed"] == 1
    again = _wait(analyst, analyst.post("/recovery-cases/sync").json())
    assert again["result"]["opened"] == 0 and again["result"]["had_a_case"] == 1
    measured = analyst.get("/recovery-cases/measures", params={"start": "2026-01-01", "end": "2026-01-31"})
    assert measured.status_code == 200 and measured.json()["reported"] == 1
    assert fields_at_fault(
        analyst.get("/recovery-cases/measures", params={"start": "2026-02-01", "end": "2026-01-01"})
    ) == {"end"}
