"""/offerings over real HTTP: the catalogue read by front-line staff, changed by administrators, imported
from CSV (as the body or a multipart file), with the purchases the events dataset holds of one."""

from __future__ import annotations

from pathlib import Path

import pytest

from segone.accounts.schemas import SYSTEM, Role
from segone.behaviour import ingest
from segone.runtime import Runtime
from tests.api.conftest import ClientFactory
from tests.api.helpers import api_user, error_of, fields_at_fault
from tests.behaviour.conftest import DUCKDB_WARNING

EXAMPLE = Path(__file__).parents[2] / "examples" / "offerings.csv"
GUITAR = {
    "key": "guitar-lessons-10",
    "name": "Ten guitar lessons",
    "description": "One a week.",
    "attributes": {"lessons": 10},
    "price_band": "50_200",
    "needs": ["Learn an instrument"],
}


def test_administrators_add_change_and_deactivate_offerings(runtime: Runtime, api: ClientFactory) -> None:
    admin = api(api_user(runtime, Role.ADMIN).token)
    created = admin.post("/offerings", json=GUITAR)
    assert created.status_code == 201, created.text
    assert created.json()["needs"] == ["learn an instrument"] and created.json()["active"] is True
    error_of(admin.post("/offerings", json=GUITAR), 409, "conflict")

    changed = admin.patch("/offerings/guitar-lessons-10", json={"price_band": None, "name": "Guitar lessons"})
    assert changed.status_code == 200, changed.text
    body = changed.json()
    assert (body["name"], body["price_band"], body["attributes"]) == ("Guitar lessons", None, {"lessons": 10})
    # Null leaves a field as it is (tests/api/test_fuzz.py found `"active": null` answered with a 500).
    nulls = {"name": None, "description": None, "attributes": None, "needs": None, "active": None}
    unchanged = admin.patch("/offerings/guitar-lessons-10", json=nulls)
    assert unchanged.status_code == 200, unchanged.text
    assert unchanged.json() == body

    removed = admin.delete("/offerings/guitar-lessons-10")
    assert removed.status_code == 200 and removed.json()["active"] is False
    assert admin.get("/offerings").json()["total"] == 0
    assert admin.get("/offerings?include_inactive=true").json()["total"] == 1
    assert admin.get("/offerings/guitar-lessons-10").json()["active"] is False


def test_bad_offerings_and_unknown_keys(runtime: Runtime, api: ClientFactory) -> None:
    admin = api(api_user(runtime, Role.ADMIN).token)
    assert fields_at_fault(admin.post("/offerings", json={"key": " ", "name": ""})) == {"key", "name"}
    assert fields_at_fault(admin.post("/offerings", json={**GUITAR, "price_band": "cheap"})) == {"price_band"}
    assert fields_at_fault(admin.post("/offerings", json={**GUITAR, "attributes": {"a": [1]}})) == {
        "attributes"
    }
    error = error_of(admin.get("/offerings/nope"), 404, "not_found")
    assert error["message"] == "There is no offering 'nope'."
    error_of(admin.patch("/offerings/nope", json={"name": "x"}), 404, "not_found")
    error_of(admin.delete("/offerings/nope"), 404, "not_found")


@pytest.mark.filterwarnings(DUCKDB_WARNING)
def test_front_line_staff_search_the_catalogue_and_see_its_purchases(
    runtime: Runtime, api: ClientFactory
) -> None:
    admin = api(api_user(runtime, Role.ADMIN).token)
    assert admin.post("/offerings", json=GUITAR).status_code == 201
    assert (
        admin.post("/offerings", json={"key": "repair", "name": "Repair", "needs": ["repair"]}).status_code
        == 201
    )
    with runtime.session() as db:
        ingest.stage_batch(
            db,
            actor=SYSTEM,
            events=[
                {"customer": "crm:1", "type": "purchase", "timestamp": "2024-05-01", "offering": "repair"}
            ],
        )
    ingest.flush_staged(runtime.sessions, dataset=ingest.dataset_of(runtime.settings.data_dir))

    clerk = api(api_user(runtime).token)
    page = clerk.get("/offerings", params={"q": "INSTRUMENT"}).json()
    assert [item["key"] for item in page["items"]] == ["guitar-lessons-10"]
    paged = clerk.get("/offerings", params={"limit": 1, "offset": 1}).json()
    assert (paged["total"], [item["key"] for item in paged["items"]]) == (2, ["guitar-lessons-10"])
    assert clerk.get("/offerings/repair").json()["purchases"] == 1
    assert clerk.get("/offerings/guitar-lessons-10").json()["purchases"] == 0
    error_of(clerk.post("/offerings", json={"key": "x", "name": "x"}), 403, "forbidden")


def test_the_catalogue_imports_as_a_body_or_a_file_all_or_nothing(
    runtime: Runtime, api: ClientFactory
) -> None:
    admin = api(api_user(runtime, Role.ADMIN).token)
    data = EXAMPLE.read_bytes()
    checked = admin.post(
        "/offerings/import", params={"dry_run": "true"}, files={"file": ("offerings.csv", data, "text/csv")}
    )
    assert checked.status_code == 200, checked.text
    assert checked.json()["dry_run"] and checked.json()["created"] == 5
    assert admin.get("/offerings").json()["total"] == 0

    done = admin.post("/offerings/import", content=data, headers={"content-type": "text/csv"})
    assert done.status_code == 200 and done.json()["created"] == 5
    again = admin.post("/offerings/import", content=data, headers={"content-type": "text/csv"})
    assert again.json()["unchanged"] == 5

    bad = admin.post(
        "/offerings/import",
        content=b"key,name\nnew-one,New\nbad/key,Bad\n",
        headers={"content-type": "text/csv"},
    )
    error = error_of(bad, 422, "invalid")
    assert [(p["row"], p["column"]) for p in error["details"]["errors"]] == [(3, "key")]
    assert admin.get("/offerings/new-one").status_code == 404
