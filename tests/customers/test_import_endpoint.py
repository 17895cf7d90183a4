"""POST /api/v1/customers/import over real HTTP: CSV as the body or as a multipart file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from segone.accounts.schemas import SYSTEM, Role
from segone.customers import service as customers
from segone.runtime import Runtime
from tests.conftest import LiveServer
from tests.factories import make_user

CSV = (
    "name,kind,email,identity:crm,city\n"
    "Ann Patel,person,ann@example.com,C1,Leeds\n"
    "Harbour Cafe,business,,C2,York\n"
)
CRM = Path(__file__).parents[1] / "data" / "crm"
BAD = "name,email\n,nobody@example.com\nGood Row,good@example.com\nBad Mail,nope\n"


def _post(
    server: LiveServer,
    token: str | None,
    *,
    content: str | bytes | None = None,
    media: str = "text/csv",
    **kwargs: Any,
) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    if content is not None:
        headers["Content-Type"] = media
    return httpx.post(
        f"{server.url}/api/v1/customers/import", headers=headers, content=content, timeout=30, **kwargs
    )


def _count(runtime: Runtime) -> int:
    with runtime.session() as db:
        return customers.count_active(db)


def test_anonymous_and_roles_without_the_import_permission_are_refused(
    runtime: Runtime, live_server: LiveServer
) -> None:
    manager = make_user(runtime, Role.MANAGER)
    assert _post(live_server, None, content=CSV).status_code == 401
    refused = _post(live_server, manager.token, content=CSV)
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "forbidden"
    assert _count(runtime) == 0


def test_csv_body_imports_and_a_second_post_changes_nothing(
    runtime: Runtime, live_server: LiveServer
) -> None:
    analyst = make_user(runtime, Role.ANALYST)
    headers = {"Authorization": f"Bearer {analyst.token}", "Content-Type": "text/csv; charset=utf-8"}
    url = f"{live_server.url}/api/v1/customers/import"
    first = httpx.post(url, content=CSV.encode(), headers=headers, timeout=30)
    assert first.status_code == 200, first.text
    body = first.json()
    assert {key: value for key, value in body.items() if key != "preview"} == {
        "dry_run": False,
        "rows": 2,
        "encoding": "utf-8",
        "created": 2,
        "updated": 0,
        "unchanged": 0,
        "merged": 0,
        "skipped": 0,
        "errors": [],
        "warnings": [],
    }
    assert [(p["row"], p["name"], p["kind"], p["outcome"]) for p in body["preview"]] == [
        (2, "Ann Patel", "person", "create"),
        (3, "Harbour Cafe", "business", "create"),
    ]
    second = httpx.post(url, content=CSV.encode(), headers=headers, timeout=30)
    assert (second.json()["created"], second.json()["unchanged"]) == (0, 2)
    with runtime.session() as db:
        cafe = customers.get_by_identity(db, actor=SYSTEM, identity="crm:C2")
        assert (cafe.kind, cafe.attributes) == ("business", {"city": "York"})


def test_multipart_upload_and_dry_run(runtime: Runtime, live_server: LiveServer) -> None:
    admin = make_user(runtime, Role.ADMIN)
    dry = _post(
        live_server, admin.token, params={"dry_run": "true"}, files={"file": ("c.csv", CSV, "text/csv")}
    )
    assert dry.status_code == 200
    assert (dry.json()["dry_run"], dry.json()["created"]) == (True, 2)
    assert _count(runtime) == 0
    real = _post(live_server, admin.token, files={"file": ("c.csv", CSV.encode("utf-8-sig"), "text/csv")})
    assert real.json()["created"] == 2
    assert _count(runtime) == 2


def test_bad_rows_are_a_422_naming_each_row_and_nothing_is_written(
    runtime: Runtime, live_server: LiveServer
) -> None:
    analyst = make_user(runtime, Role.ANALYST)
    response = _post(live_server, analyst.token, content=BAD)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert "nothing was imported" in error["message"]
    assert [(e["row"], e["column"]) for e in error["details"]["errors"]] == [(2, "name"), (4, "email")]
    assert _count(runtime) == 0
    partial = _post(
        live_server,
        analyst.token,
        params={"skip_bad_rows": "true"},
        content=BAD,
    )
    assert partial.status_code == 200
    assert (partial.json()["created"], partial.json()["skipped"]) == (1, 2)


def test_a_file_refused_under_a_dry_run_says_it_was_one(runtime: Runtime, live_server: LiveServer) -> None:
    analyst = make_user(runtime, Role.ANALYST)
    for content in ("email\na@example.com\n", b"", b"\xff\xfe\x00", BAD, "name,identity:\nAnn,1\n"):
        checked = _post(live_server, analyst.token, params={"dry_run": "true"}, content=content)
        assert checked.status_code == 422, content
        assert checked.json()["error"]["details"]["dry_run"] is True, content
        imported = _post(live_server, analyst.token, content=content)
        assert imported.status_code == 422, content
        assert imported.json()["error"]["details"]["dry_run"] is False, content
    assert _count(runtime) == 0


def test_other_media_types_and_missing_header_are_explained(
    runtime: Runtime, live_server: LiveServer
) -> None:
    analyst = make_user(runtime, Role.ANALYST)
    as_json = _post(live_server, analyst.token, json={"name": "Ann"})
    assert as_json.status_code == 415
    assert "text/csv" in as_json.json()["error"]["message"]
    no_name = _post(live_server, analyst.token, content="email\na@example.com\n")
    assert no_name.status_code == 422
    assert "no 'name' column" in no_name.json()["error"]["message"]
    empty = _post(live_server, analyst.token, content=b"")
    assert empty.status_code == 422
    assert "empty" in empty.json()["error"]["message"]


def test_crm_exports_with_a_preset_map_and_encoding(runtime: Runtime, live_server: LiveServer) -> None:
    analyst = make_user(runtime, Role.ANALYST)
    salesforce = (CRM / "salesforce-contacts.csv").read_bytes()
    wrong = _post(
        live_server, analyst.token, content=salesforce, params={"preset": "salesforce", "encoding": "utf-8"}
    )
    assert wrong.status_code == 422
    error = wrong.json()["error"]
    assert error["message"].startswith("The file is not utf-8 text: line 2 holds bytes utf-8 cannot read")
    assert error["details"]["errors"][0]["row"] == 2

    dry = _post(
        live_server,
        analyst.token,
        params={"preset": "salesforce", "dry_run": "true"},
        files={"file": ("salesforce-contacts.csv", salesforce, "application/vnd.ms-excel")},
    )
    assert dry.status_code == 200, dry.text
    report = dry.json()
    assert (report["encoding"], report["created"], report["merged"]) == ("windows-1252", 9, 1)
    assert [(w["row"], w["column"]) for w in report["warnings"]] == [(7, "Account Name"), (9, None)]
    assert report["preview"][0]["name"] == "Zoë Müller"
    assert report["preview"][6] == {
        "row": 8,
        "name": "Grünwald Ltd",
        "kind": "business",
        "identities": ["salesforce:0035g00000A1bCjAAJ", "phone:+442079460000"],
        "attributes": {"Mailing City": "London"},
        "consent": {},
        "outcome": "create",
        "customer_id": None,
        "merged_with": None,
    }
    assert _count(runtime) == 0

    hubspot = (CRM / "hubspot-contacts.csv").read_bytes()
    mapped = _post(
        live_server,
        analyst.token,
        content=hubspot,
        params={"preset": "hubspot", "map": "identity:crm=Record ID,stage=Lifecycle Stage"},
    )
    assert mapped.status_code == 200, mapped.text
    assert mapped.json()["created"] == 9
    with runtime.session() as db:
        northwind = customers.to_out(customers.get_by_identity(db, actor=SYSTEM, identity="crm:55"))
        assert (northwind.name, northwind.kind.value) == ("Northwind Traders", "business")
        assert "hubspot:55" in northwind.identities
        assert northwind.attributes == {"stage": "Customer", "Create Date": "2023-07-15 16:45"}
    bad_map = _post(live_server, analyst.token, content=hubspot, params={"map": "name"})
    assert bad_map.status_code == 422
    assert "field=column pairs" in bad_map.json()["error"]["message"]


def test_consent_columns_over_http_a_bad_value_is_a_422_and_a_second_post_records_nothing(
    runtime: Runtime, live_server: LiveServer
) -> None:
    analyst = make_user(runtime, Role.ANALYST)
    consenting = "name,email,consent:profiling,consent:contact\nAnn Patel,ann@example.com,Yes,no\n"
    bad = consenting + "Bob Stone,bob@example.com,perhaps,\n"
    refused = _post(live_server, analyst.token, content=bad)
    assert refused.status_code == 422
    assert [(e["row"], e["column"], e["problem"]) for e in refused.json()["error"]["details"]["errors"]] == [
        (
            3,
            "consent:profiling",
            "'perhaps' is not a consent; use yes or no (true/false, 1/0, y/n, granted/refused)",
        )
    ]
    assert _count(runtime) == 0

    first = _post(live_server, analyst.token, content=consenting)
    assert first.status_code == 200, first.text
    assert first.json()["preview"][0]["consent"] == {"profiling": True, "contact": False}
    second = _post(live_server, analyst.token, content=consenting)
    assert (second.json()["updated"], second.json()["unchanged"]) == (0, 1)
    with runtime.session() as db:
        ann = customers.get_by_identity(db, actor=SYSTEM, identity="email:ann@example.com")
        out = customers.consent_of(db, actor=SYSTEM, customer_id=ann.id, default_granted=False)
    assert [(r.purpose.value, r.granted, r.source.value, r.recorded_by) for r in out.history] == [
        ("contact", False, "import", analyst.email),
        ("profiling", True, "import", analyst.email),
    ]
