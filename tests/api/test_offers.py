"""Offers over real HTTP, at the terminal and in the briefing: the refresh as a job, a customer's offers
with their reasons, the evaluation, and the refusals (4xx, exit code 2)."""

from __future__ import annotations

import json
import time
from html import unescape
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner, Result

from segone.accounts.schemas import Role
from segone.cli.main import app as cli
from segone.runtime import Runtime
from segone.views.briefing import EMPTY, briefing_lines
from segone.views.schemas import Briefing
from tests.api.conftest import ClientFactory
from tests.api.helpers import api_user, error_of, fields_at_fault
from tests.behaviour.conftest import DUCKDB_WARNING
from tests.conftest import LiveServer
from tests.factories import make_customer, make_user
from tests.personalisation.planted import load, planted_world
from tests.web.conftest import signed_in

pytestmark = pytest.mark.filterwarnings(DUCKDB_WARNING)


def _cli(runtime: Runtime, *args: str) -> Result:
    """``segone offers ...`` (or another command) on the live server's own store."""
    env = {
        "SEGONE_DATA_DIR": str(runtime.settings.data_dir),
        "SEGONE_DATABASE_URL": runtime.settings.database_url or "",
        "SEGONE_FACT_CATEGORIES": "",
    }
    return CliRunner().invoke(cli, list(args), env=env)


def _done(client: httpx.Client, job: dict[str, Any]) -> dict[str, Any]:
    deadline = time.monotonic() + 120
    while job["state"] == "running" and time.monotonic() < deadline:
        time.sleep(0.1)
        job = client.get(f"/jobs/{job['id']}").json()
    assert job["state"] == "done", job
    return job


def test_refresh_as_a_job_then_the_offers_in_the_api_the_cli_and_the_briefing(
    runtime: Runtime, api: ClientFactory, live_server: LiveServer
) -> None:
    world = planted_world(customers=60, groups=3, seed=8)
    load(runtime, world)
    reader = api(api_user(runtime).token)
    customer = reader.get("/customers/by-identity/crm:C00001").json()["id"]
    before = reader.get(f"/customers/{customer}/offers")
    assert before.status_code == 200 and before.json() == {
        "customer_id": customer,
        "run_id": None,
        "computed_at": None,
        "items": [],
    }

    analyst = api(api_user(runtime, Role.ANALYST).token)
    started = analyst.post("/offers/refresh")
    assert started.status_code == 202, started.text
    assert started.headers["location"] == f"/api/v1/jobs/{started.json()['id']}"
    job = _done(analyst, started.json())
    assert job["kind"] == "offers-refresh" and job["result"]["status"] == "done"
    assert job["result"]["customers"] == 60 and "Ranking and storing offers" in job["stages"]

    found = reader.get(f"/customers/{customer}/offers", params={"limit": 3}).json()
    assert found["run_id"] == job["result"]["id"] and len(found["items"]) == 3
    first = found["items"][0]
    assert first["rank"] == 1 and set(first["scores"]) == {"collaborative", "content", "popularity"}
    assert first["reasons"] and all(r["fact_id"] or r["event_id"] for r in first["reasons"])
    assert first["offering"]["key"] in {o.key for o in world.offerings}

    # The terminal: by id or identity, as text or JSON, the same offers.
    as_json = _cli(runtime, "offers", "recommend", "crm:C00001", "--k", "3", "--json")
    assert as_json.exit_code == 0, as_json.output
    assert json.loads(as_json.stdout) == found
    text = _cli(runtime, "offers", "recommend", str(customer), "--k", "3")
    assert text.exit_code == 0, text.output
    for item in found["items"]:
        assert f"{item['rank']}. {item['offering']['name']} ({item['offering']['key']})" in text.stdout
        for reason in item["reasons"]:
            assert f"   - {reason['text']}" in text.stdout

    # The briefing shows the first offers with their reasons, the same on every entry point.
    brief = reader.get(f"/customers/{customer}/briefing").json()
    offers = brief["offers"]
    assert offers["available"] is True
    assert [o["key"] for o in offers["items"]] == [i["offering"]["key"] for i in found["items"]]
    assert [[r["text"] for r in o["reasons"]] for o in offers["items"]] == [
        [r["text"] for r in i["reasons"]] for i in found["items"]
    ]
    lines = briefing_lines(Briefing.model_validate(brief))["offers"]
    assert lines[0].startswith(f"{found['items'][0]['offering']['name']}: ")
    printed = _cli(runtime, "briefing", "crm:C00001")
    with signed_in(live_server, make_user(runtime)) as browser:
        page = unescape(browser.get(f"/customers/{customer}/briefing").text)
    for line in lines:
        assert line in page and line in printed.stdout
    assert EMPTY["offers"] not in page


def test_the_refusals(runtime: Runtime, api: ClientFactory, live_server: LiveServer) -> None:
    customer = make_customer(runtime, identities=["crm:lonely"])
    error_of(api(None).get(f"/customers/{customer}/offers"), 401, "unauthenticated")
    reader = api(api_user(runtime).token)
    error_of(reader.get("/customers/987654/offers"), 404, "not_found")
    assert fields_at_fault(reader.get(f"/customers/{customer}/offers", params={"limit": 0})) == {"limit"}
    error = error_of(reader.post("/offers/refresh"), 403, "forbidden")
    assert error["details"] == {"permission": "run_analytics", "role": "frontline"}
    admin = api(api_user(runtime, Role.ADMIN).token)
    bad = admin.post(
        "/offerings", json={"key": "k", "name": "K", "attributes": {"eligible_if": "kind = shop"}}
    )
    (problem,) = error_of(bad, 422, "invalid")["details"]
    assert (
        problem["field"] == "attributes" and "a kind is person or business, not 'shop'" in problem["problem"]
    )
    made = admin.post(
        "/offerings", json={"key": "k", "name": "K", "attributes": {"eligible_if": "kind = person"}}
    )
    assert made.status_code == 201, made.text
    fix = admin.patch("/offerings/k", json={"attributes": {"repeatable": "often"}})
    assert "'repeatable' must be yes or no" in error_of(fix, 422, "invalid")["details"][0]["problem"]

    unknown = _cli(runtime, "offers", "recommend", "crm:nobody")
    assert unknown.exit_code == 2 and "crm:nobody" in unknown.stderr
    assert _cli(runtime, "offers", "recommend", "crm:lonely", "--k", "0").exit_code == 2
    blank = _cli(runtime, "offers", "recommend", "crm:lonely")
    assert blank.exit_code == 0 and "No offers stored yet: run 'segone offers refresh'." in blank.stdout
    nothing = _cli(runtime, "offers", "evaluate", "--holdout-days", "30")
    assert nothing.exit_code == 2 and nothing.stderr.startswith("Error: No purchase event names an offering")
    assert _cli(runtime, "offers", "evaluate", "--holdout-days", "0").exit_code == 2


def test_refresh_and_evaluate_at_the_terminal(
    sqlite_runtime: Runtime, sqlite_live_server: LiveServer
) -> None:
    runtime = sqlite_runtime
    load(runtime, planted_world(customers=200, groups=4, seed=13))
    refreshed = _cli(runtime, "offers", "refresh")
    assert refreshed.exit_code == 0, refreshed.output
    assert refreshed.stdout.startswith("Refreshed offers (run 1): 2,000 offers for 200 customers, from ")
    as_json = _cli(runtime, "offers", "refresh", "--json")
    assert json.loads(as_json.stdout)["id"] == 2

    table = _cli(runtime, "offers", "evaluate", "--holdout-days", "90", "--k", "5")
    assert table.exit_code == 0, table.output
    for words in (
        "precision@5",
        "recall@5",
        "MAP@5",
        "coverage",
        "blend",
        "popularity",
        "blend / popularity",
    ):
        assert words in table.stdout
    found = json.loads(
        _cli(runtime, "offers", "evaluate", "--holdout-days", "90", "--k", "5", "--json").stdout
    )
    assert (found["holdout_days"], found["k"]) == (90, 5)
    blend, popular = found["methods"]
    assert blend["map"] > popular["map"] and blend["precision"] > popular["precision"]
    assert f"{blend['precision']:.4f}" in table.stdout and f"{found['lift']['map']:.2f}x" in table.stdout
