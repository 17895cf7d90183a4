"""GET /api/v1/exports/{what} over real HTTP: streamed in chunks as the pages are read, as an attachment."""

from __future__ import annotations

import csv
import io
import re

import pyarrow as pa
import pyarrow.parquet as pq

from segone.accounts.schemas import SYSTEM, Role
from segone.customers import service as customers
from segone.runtime import Runtime
from segone.server import create_app
from tests.api.conftest import ClientFactory
from tests.api.helpers import api_user, error_of, fields_at_fault
from tests.factories import make_customer

MANY = customers.EXPORT_BATCH * 2 + 1  # three pages


def test_customers_stream_as_a_chunked_csv_attachment_that_imports_back(
    runtime: Runtime, api: ClientFactory
) -> None:
    with runtime.session() as db:
        keys = [("crm", f"C{n:06d}") for n in range(MANY - 1)]
        customers.create_for_identities(db, actor=SYSTEM, keys=keys, source="test")
    make_customer(runtime, name='=HYPERLINK("http://evil.example")', identities=["email:last@example.com"])
    client = api(api_user(runtime, Role.ANALYST).token)
    with client.stream("GET", "/exports/customers") as response:
        assert response.status_code == 200
        assert response.headers["content-type"] == "text/csv; charset=utf-8"
        assert response.headers["transfer-encoding"] == "chunked"
        assert "content-length" not in response.headers
        disposition = response.headers["content-disposition"]
        assert re.fullmatch(r'attachment; filename="segone-customers-\d{8}-\d{4}\.csv"', disposition)
        body = response.read()
    rows = list(csv.reader(io.StringIO(body.decode("utf-8"), newline="")))
    consent = ["consent:contact", "consent:profiling", "consent:personalisation"]
    assert rows[0] == ["id", "kind", "name", "identities", *consent]
    assert len(rows) == MANY + 1
    assert rows[1][2:] == ["Customer crm:C000000", "crm:C000000", "", "", ""]
    assert rows[-1][2:] == ['\'=HYPERLINK("http://evil.example")', "email:last@example.com", "", "", ""]
    imported = client.post("/customers/import", content=body, headers={"content-type": "text/csv"})
    assert imported.status_code == 200, imported.text
    assert (imported.json()["rows"], imported.json()["unchanged"]) == (MANY, MANY)


def test_parquet_facts_and_encounters(runtime: Runtime, api: ClientFactory) -> None:
    customer = make_customer(runtime, identities=["crm:P1"])
    client = api(api_user(runtime, Role.ADMIN).token)
    added = client.post(
        f"/customers/{customer}/encounters",
        json={
            "channel": "call",
            "notes": "Keeps bees.",
            "facts": [{"text": "Keeps bees", "category": "free_time"}],
        },
    )
    assert added.status_code == 201, added.text
    response = client.get("/exports/facts", params={"format": "parquet"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/vnd.apache.parquet"
    assert response.headers["content-disposition"].endswith('.parquet"')
    facts = pq.read_table(pa.BufferReader(response.content))
    assert facts.column("customer").to_pylist() == ["crm:P1"]
    assert facts.column("encounter_id").to_pylist() == [added.json()["id"]]
    encounters = list(csv.DictReader(io.StringIO(client.get("/exports/encounters").text, newline="")))
    assert [(e["customer"], e["notes"], e["facts_learned"]) for e in encounters] == [
        ("crm:P1", "Keeps bees.", "1")
    ]


def test_exports_need_the_export_permission_and_a_known_kind_and_format(
    runtime: Runtime, api: ClientFactory
) -> None:
    error_of(api(None).get("/exports/customers"), 401, "unauthenticated")
    for role in (Role.FRONTLINE, Role.MANAGER):
        error = error_of(api(api_user(runtime, role).token).get("/exports/facts"), 403, "forbidden")
        assert error["details"] == {"permission": "export_data", "role": role.value}
    analyst = api(api_user(runtime, Role.ANALYST).token)
    assert fields_at_fault(analyst.get("/exports/segments")) == {"what"}
    assert fields_at_fault(analyst.get("/exports/customers", params={"format": "xlsx"})) == {"format"}


def test_the_openapi_document_describes_both_formats(sqlite_runtime: Runtime) -> None:
    route = create_app(runtime=sqlite_runtime).openapi()["paths"]["/api/v1/exports/{what}"]["get"]
    assert set(route["responses"]["200"]["content"]) == {
        "text/csv; charset=utf-8",
        "application/vnd.apache.parquet",
    }
    assert {p["name"] for p in route["parameters"]} == {"what", "format"}
