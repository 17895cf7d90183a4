"""Segmentation over real HTTP: a build started as a job, then its versions, segments, diff and paths."""

from __future__ import annotations

import time
from typing import Any

import httpx

from segone.accounts.schemas import Role
from segone.runtime import Runtime
from tests.api.conftest import ClientFactory
from tests.api.helpers import api_user, error_of, fields_at_fault
from tests.factories import make_customer


def _planted(runtime: Runtime) -> dict[str, list[int]]:
    """A big-spending gold group and a small-spending basic one: plan is the first split."""
    gold = [make_customer(runtime, attributes={"plan": "gold", "spend": 900 + 10 * i}) for i in range(4)]
    basic = [make_customer(runtime, attributes={"plan": "basic", "spend": 10 + i}) for i in range(4)]
    return {"gold": gold, "basic": basic}


def _built(client: httpx.Client, body: dict[str, Any]) -> dict[str, Any]:
    started = client.post("/segmentations", json=body)
    assert started.status_code == 202, started.text
    job = started.json()
    assert job["kind"] == "segmentation-build"
    assert started.headers["location"] == f"/api/v1/jobs/{job['id']}"
    deadline = time.monotonic() + 120
    while job["state"] == "running" and time.monotonic() < deadline:
        time.sleep(0.2)
        job = client.get(f"/jobs/{job['id']}").json()
    assert job["state"] == "done", job
    version: dict[str, Any] = job["result"]
    return version


def test_a_build_started_over_http_is_read_back_segment_by_segment(
    runtime: Runtime, api: ClientFactory
) -> None:
    groups = _planted(runtime)
    analyst = api(api_user(runtime, Role.ANALYST).token)
    variables = analyst.get("/segmentations/variables")
    assert variables.status_code == 200, variables.text
    assert {"attribute:plan", "attribute:spend"} <= {v["name"] for v in variables.json()}

    version = _built(analyst, {"variables": ["attribute:plan", "attribute:spend"], "name": "by plan"})

    assert version["status"] == "done" and version["name"] == "by plan"
    assert version["customers"] == 8 and version["segments_of_one"] == 8
    assert analyst.get(f"/segmentations/{version['id']}").json() == version
    assert [v["id"] for v in analyst.get("/segmentations").json()] == [version["id"]]

    top = analyst.get(f"/segmentations/{version['id']}/segments", params={"max_depth": 1}).json()
    assert [s["depth"] for s in top] == [0, 1, 1]
    assert sorted(s["size"] for s in top[1:]) == [4, 4]
    assert {s["conditions"][0].split(":")[0] for s in top[1:]} == {"plan"}
    root = analyst.get(f"/segmentations/{version['id']}/segments/0").json()
    assert root["size"] == 8 and root["share"] == 1.0 and root["children"] == [s["node_id"] for s in top[1:]]
    children = analyst.get(f"/segmentations/{version['id']}/segments", params={"parent": 0}).json()
    assert [c["node_id"] for c in children] == root["children"]

    frontline = api(api_user(runtime, Role.FRONTLINE).token)
    path = frontline.get(f"/customers/{groups['gold'][0]}/segments").json()
    assert path[0]["node_id"] == 0 and path[-1]["is_leaf"] and path[-1]["size"] == 1
    assert [s["depth"] for s in path] == list(range(len(path)))
    assert "plan: gold" in path[-1]["conditions"]
    pinned = frontline.get(f"/customers/{groups['gold'][0]}/segments", params={"version": version["id"]})
    assert pinned.json() == path

    later = _built(
        analyst, {"variables": ["attribute:plan"], "min_size": 1, "max_segments": 2, "unknown": "side"}
    )
    assert later["settings"]["max_segments"] == 2 and later["leaves"] == 2
    assert later["settings"]["unknown"] == "side"
    found = analyst.get(
        "/segmentations/diff", params={"before": version["id"], "after": later["id"], "depth": 1}
    )
    assert found.status_code == 200, found.text
    assert found.json()["stayed"] == 8 and found.json()["appeared"] == found.json()["vanished"] == []
    assert [v["id"] for v in analyst.get("/segmentations").json()] == [later["id"], version["id"]]


def test_unknown_versions_and_segments_are_404(runtime: Runtime, api: ClientFactory) -> None:
    _planted(runtime)
    analyst = api(api_user(runtime, Role.ANALYST).token)
    customer = make_customer(runtime)
    error = error_of(analyst.get(f"/customers/{customer}/segments"), 404, "not_found")
    assert "No segmentation is built yet" in error["message"]
    version = _built(analyst, {"variables": "all", "max_depth": 1})

    assert (
        "no segmentation version 999"
        in error_of(analyst.get("/segmentations/999"), 404, "not_found")["message"]
    )
    error_of(analyst.get("/segmentations/999/segments"), 404, "not_found")
    error = error_of(analyst.get(f"/segmentations/{version['id']}/segments/9999"), 404, "not_found")
    assert f"Version {version['id']} has no segment 9999" in error["message"]
    error_of(
        analyst.get(f"/segmentations/{version['id']}/segments", params={"parent": 9999}), 404, "not_found"
    )
    error_of(
        analyst.get("/segmentations/diff", params={"before": version["id"], "after": 999}), 404, "not_found"
    )
    added_since = make_customer(runtime)
    error = error_of(analyst.get(f"/customers/{added_since}/segments"), 404, "not_found")
    assert f"Customer {added_since} is in no segment" in error["message"]


def test_a_bad_build_request_is_422_and_starts_no_job(runtime: Runtime, api: ClientFactory) -> None:
    _planted(runtime)
    analyst = api(api_user(runtime, Role.ANALYST).token)

    assert fields_at_fault(analyst.post("/segmentations", json={"min_size": 0})) == {"min_size"}
    assert fields_at_fault(analyst.post("/segmentations", json={"max_depth": -1})) == {"max_depth"}
    assert fields_at_fault(analyst.post("/segmentations", json={"max_segments": 0})) == {"max_segments"}
    assert fields_at_fault(analyst.post("/segmentations", json={"unknown": "nowhere"})) == {"unknown"}
    for bad in ("some", [], [""], [3]):
        error = error_of(analyst.post("/segmentations", json={"variables": bad}), 422, "invalid")
        assert error["message"] == "variables: must be 'all' or a non-empty list of variable names", bad
    assert fields_at_fault(analyst.post("/segmentations", json={"colour": "red"})) == {"colour"}
    error = error_of(analyst.post("/segmentations", json={"variables": ["attribute:plans"]}), 422, "invalid")
    assert "Not a variable: 'attribute:plans' (did you mean attribute:plan" in error["message"]
    error = error_of(analyst.post("/segmentations", json={"target": "attribute:plan"}), 422, "invalid")
    assert "must be a number or yes/no" in error["message"]

    assert analyst.get("/segmentations").json() == []  # nothing was started, so nothing was recorded
    error_of(analyst.get("/segmentations/diff", params={"before": 1, "after": 1, "depth": 0}), 422, "invalid")


def test_customers_are_assigned_to_a_version_over_http(runtime: Runtime, api: ClientFactory) -> None:
    groups = _planted(runtime)
    analyst = api(api_user(runtime, Role.ANALYST).token)
    version = _built(analyst, {"variables": ["attribute:plan"]})
    url = f"/segmentations/{version['id']}/assign"
    new = make_customer(runtime, attributes={"plan": "gold", "spend": 950})

    done = analyst.post(url, json={"customer_ids": [new, groups["gold"][0]]})
    assert done.status_code == 200, done.text
    body = done.json()
    assert body["version_id"] == version["id"] and body["assigned"] == 1
    first, second = body["customers"]
    assert first["customer_id"] == new and first["status"] == "new" and first["previous_node_id"] is None
    assert first["path"][0]["node_id"] == 0 and first["path"][-1]["conditions"] == ["plan: gold"]
    assert second["status"] == "unchanged" and second["node_id"] == first["node_id"]
    frontline = api(api_user(runtime, Role.FRONTLINE).token)
    assert frontline.get(f"/customers/{new}/segments").json() == first["path"]

    later = make_customer(runtime, attributes={"plan": "basic"})
    every = analyst.post(url, json={"new": True}).json()
    assert every["assigned"] == 1 and [c["customer_id"] for c in every["customers"]] == [later]
    assert every["customers"][0]["status"] == "new" and every["customers"][0]["path"] == []
    assert analyst.post(url, json={"new": True}).json()["assigned"] == 0

    for bad in ({}, {"new": True, "customer_ids": [new]}, {"new": False}):
        error = error_of(analyst.post(url, json=bad), 422, "invalid")
        assert "give customer_ids, or new: true (not both)" in error["message"], bad
    assert fields_at_fault(analyst.post(url, json={"customer_ids": [0]})) == {"customer_ids.0"}
    missing = error_of(analyst.post(url, json={"customer_ids": [999999]}), 404, "not_found")
    assert missing["message"] == "There is no customer 999999 (or no longer: merged into another)."
    error_of(analyst.post("/segmentations/999/assign", json={"new": True}), 404, "not_found")
    error_of(frontline.post(url, json={"customer_ids": [new]}), 403, "forbidden")
