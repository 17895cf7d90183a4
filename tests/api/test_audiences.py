"""Segments' customers and named audiences over real HTTP: pages with names and identities, files in both
formats (audited), an audience saved, changed by hand, evaluated again after a build, and deleted."""

from __future__ import annotations

import csv
import io
from typing import Any

import httpx
import pyarrow.parquet as pq
from sqlalchemy import select

from segone.accounts.models import AuditEntry
from segone.accounts.schemas import SYSTEM, Role
from segone.customers import service as customers
from segone.customers.schemas import CustomerUpdate
from segone.runtime import Runtime
from segone.segmentation import service
from tests.api.conftest import ClientFactory
from tests.api.helpers import api_user, error_of, fields_at_fault
from tests.factories import make_customer


def _planted(runtime: Runtime) -> dict[str, list[int]]:
    gold = [
        make_customer(
            runtime, name=f"Gold {i}", attributes={"plan": "gold", "spend": 900 + i}, identities=[f"crm:G{i}"]
        )
        for i in range(4)
    ]
    basic = [make_customer(runtime, attributes={"plan": "basic", "spend": 10 + i}) for i in range(4)]
    return {"gold": gold, "basic": basic}


def _gold(runtime: Runtime) -> tuple[int, int]:
    """A build on the plan, and its gold segment's node id."""
    version = service.build(
        runtime.sessions, runtime.settings, actor=SYSTEM, variables=["attribute:plan"], max_depth=1
    ).id
    with runtime.session() as db:
        top = service.segments(db, actor=SYSTEM, version_id=version, max_depth=1)
    return version, next(s.node_id for s in top if s.conditions == ["plan: gold"])


def _csv_ids(response: httpx.Response) -> list[int]:
    assert response.status_code == 200, response.text
    return [int(row["id"]) for row in csv.DictReader(io.StringIO(response.text))]


def _exports(runtime: Runtime) -> list[dict[str, Any]]:
    with runtime.session() as db:
        entries = db.scalars(select(AuditEntry).where(AuditEntry.action == "data.exported")).all()
        return [entry.details for entry in entries]


def test_a_segments_customers_page_by_page_and_as_a_file(runtime: Runtime, api: ClientFactory) -> None:
    groups = _planted(runtime)
    version, node = _gold(runtime)
    manager = api(api_user(runtime, Role.MANAGER).token)
    analyst = api(api_user(runtime, Role.ANALYST).token)

    first = manager.get(f"/segmentations/{version}/segments/{node}/members", params={"limit": 3})
    assert first.status_code == 200, first.text
    page = first.json()
    assert (page["version_id"], page["node_id"], page["total"], page["offset"], page["limit"]) == (
        version, node, 4, 0, 3,
    )  # fmt: skip
    assert [{k: v for k, v in m.items() if k != "leaf"} for m in page["items"]] == [
        {"customer_id": c, "name": f"Gold {i}", "identity": f"crm:G{i}"}
        for i, c in enumerate(groups["gold"][:3])
    ]
    # Each with the leaf they are in below the segment.
    assert all(isinstance(m["leaf"], int) and m["leaf"] >= node for m in page["items"])
    rest = manager.get(f"/segmentations/{version}/segments/{node}/members", params={"offset": 3}).json()
    assert [m["customer_id"] for m in rest["items"]] == groups["gold"][3:] and rest["total"] == 4

    exported = analyst.get(f"/segmentations/{version}/segments/{node}/export")
    assert exported.headers["content-type"] == "text/csv; charset=utf-8"
    assert f'filename="segone-segment-{version}-{node}-customers-' in exported.headers["content-disposition"]
    assert _csv_ids(exported) == groups["gold"]
    parquet = analyst.get(f"/segmentations/{version}/segments/0/export", params={"format": "parquet"})
    assert parquet.status_code == 200, parquet.text
    table = pq.read_table(io.BytesIO(parquet.content))
    assert table.column("id").to_pylist() == sorted(groups["gold"] + groups["basic"])
    assert [d["rows"] for d in _exports(runtime)] == [4, 8]

    error_of(manager.get(f"/segmentations/{version}/segments/{node}/export"), 403, "forbidden")
    error = error_of(manager.get(f"/segmentations/{version}/segments/99/members"), 404, "not_found")
    assert error["message"] == f"Version {version} has no segment 99."
    assert fields_at_fault(manager.get(f"/segmentations/{version}/segments/{node}/members?limit=0")) == {
        "limit"
    }
    assert fields_at_fault(analyst.get(f"/segmentations/{version}/segments/{node}/export?format=xlsx")) == {
        "format"
    }


def test_an_audience_saved_changed_by_hand_and_evaluated_again(runtime: Runtime, api: ClientFactory) -> None:
    groups = _planted(runtime)
    version, node = _gold(runtime)
    analyst_user = api_user(runtime, Role.ANALYST)
    analyst = api(analyst_user.token)
    manager = api(api_user(runtime, Role.MANAGER).token)

    created = analyst.post("/audiences", json={"name": "Gold club", "version_id": version, "node_id": node})
    assert created.status_code == 201, created.text
    audience = created.json()
    assert created.headers["location"] == f"/api/v1/audiences/{audience['id']}"
    assert audience["conditions"] == ["plan: gold"] and audience["rules"][0]["levels"] == ["gold"]
    assert (audience["size"], audience["created_by"], audience["stale"]) == (4, analyst_user.email, None)
    base = f"/audiences/{audience['id']}"

    pinned, dropped = groups["basic"][0], groups["gold"][0]
    added = analyst.put(f"{base}/members/{pinned}")
    assert added.status_code == 200, added.text
    assert (added.json()["size"], added.json()["added"]) == (5, 1)
    removed = analyst.delete(f"{base}/members/{dropped}").json()
    assert (removed["size"], removed["removed"]) == (4, 1)

    # A basic customer turns gold; the next build evaluates the audience again.
    joiner = groups["basic"][1]
    with runtime.session() as db:
        customers.update(
            db, actor=SYSTEM, customer_id=joiner, data=CustomerUpdate(attributes={"plan": "gold"})
        )
    later = service.build(runtime.sessions, runtime.settings, actor=SYSTEM, variables=["attribute:spend"]).id

    got = manager.get(base).json()
    assert (got["size"], got["matched"], got["evaluated_version_id"]) == (5, 5, later)
    members = manager.get(f"{base}/members", params={"limit": 2, "offset": 1}).json()
    assert members["total"] == 5 and members["audience_id"] == audience["id"]
    everyone = manager.get(f"{base}/members", params={"limit": 500}).json()["items"]
    expected = sorted([*groups["gold"][1:], pinned, joiner])
    assert [m["customer_id"] for m in everyone] == expected
    assert members["items"] == everyone[1:3]
    assert [m["customer_id"] for m in everyone if m["added_by_hand"]] == [pinned]
    assert {m["name"] for m in everyone if m["customer_id"] == groups["gold"][1]} == {"Gold 1"}
    assert [a["id"] for a in manager.get("/audiences").json()] == [audience["id"]]

    refreshed = analyst.post(f"{base}/refresh")
    assert refreshed.status_code == 200, refreshed.text
    assert refreshed.json()["evaluated_version_id"] is None and refreshed.json()["size"] == 5
    exported = analyst.get(f"{base}/export")
    assert _csv_ids(exported) == expected
    assert f'filename="segone-audience-{audience["id"]}-customers-' in exported.headers["content-disposition"]
    parquet = analyst.get(f"{base}/export", params={"format": "parquet"})
    assert pq.read_table(io.BytesIO(parquet.content)).column("id").to_pylist() == expected
    assert [(d["rows"], d["audience"]) for d in _exports(runtime)] == [
        (5, audience["id"]),
        (5, audience["id"]),
    ]

    assert analyst.delete(base).status_code == 204
    error_of(manager.get(base), 404, "not_found")
    assert manager.get("/audiences").json() == []


def test_bad_audience_requests_are_refused(runtime: Runtime, api: ClientFactory) -> None:
    _planted(runtime)
    version, node = _gold(runtime)
    analyst = api(api_user(runtime, Role.ANALYST).token)
    body = {"name": "gold", "version_id": version, "node_id": node}
    assert analyst.post("/audiences", json=body).status_code == 201
    error = error_of(analyst.post("/audiences", json=body), 409, "conflict")
    assert (
        error["message"]
        == "There is an audience named 'gold' already: choose another name, or delete it first."
    )
    error_of(analyst.post("/audiences", json={**body, "name": "x", "version_id": 99}), 404, "not_found")
    error_of(analyst.post("/audiences", json={**body, "name": "x", "node_id": 99}), 404, "not_found")
    assert fields_at_fault(analyst.post("/audiences", json={**body, "name": ""})) == {"name"}
    assert fields_at_fault(analyst.post("/audiences", json={**body, "colour": "red"})) == {"colour"}
    saved = analyst.get("/audiences").json()[0]["id"]
    error = error_of(analyst.put(f"/audiences/{saved}/members/99999"), 404, "not_found")
    assert error["message"] == "There is no customer 99999."
    error = error_of(analyst.get("/audiences/999"), 404, "not_found")
    assert error["message"] == "There is no audience 999."
