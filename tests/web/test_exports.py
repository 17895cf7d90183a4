"""The Export buttons over real HTTP: shown to those who may export, downloads streamed like the API's."""

from __future__ import annotations

import csv
import io
import re

import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy import select

from segone.accounts.models import AuditEntry
from segone.accounts.schemas import Role
from tests.conftest import LiveServer
from tests.factories import make_customer, make_user
from tests.web.conftest import signed_in

LINKS = re.compile(r'href="(/exports/[a-z]+\?format=[a-z]+)" download')


def test_analysts_get_the_export_menu_on_the_customer_list_and_the_dashboard(live_server: LiveServer) -> None:
    with signed_in(live_server, make_user(live_server.runtime, Role.ANALYST)) as client:
        assert LINKS.findall(client.get("/customers").text) == [
            f"/exports/{what}?format={fmt}"
            for what in ("customers", "facts", "encounters")
            for fmt in ("csv", "parquet")
        ]
        assert LINKS.findall(client.get("/dashboards/knowledge").text) == [
            f"/exports/{what}?format={fmt}" for what in ("facts", "encounters") for fmt in ("csv", "parquet")
        ]
    for role in (Role.FRONTLINE, Role.MANAGER):
        with signed_in(live_server, make_user(live_server.runtime, role)) as client:
            page = client.get("/customers").text
            assert "Customers" in page and "export-menu" not in page and not LINKS.findall(page)
            if role is Role.MANAGER:
                dashboard = client.get("/dashboards/knowledge")
                assert dashboard.status_code == 200 and not LINKS.findall(dashboard.text)


def test_the_buttons_download_the_export_and_record_who_exported(live_server: LiveServer) -> None:
    runtime = live_server.runtime
    make_customer(runtime, name="@Ann", identities=["crm:W1"], attributes={"city": "Leeds"})
    analyst = make_user(runtime, Role.ANALYST)
    with signed_in(live_server, analyst) as client:
        with client.stream("GET", "/exports/customers?format=csv") as response:
            assert response.status_code == 200
            assert response.headers["transfer-encoding"] == "chunked"
            assert response.headers["content-type"] == "text/csv; charset=utf-8"
            assert re.fullmatch(
                r'attachment; filename="segone-customers-\d{8}-\d{4}\.csv"',
                response.headers["content-disposition"],
            )
            rows = list(csv.reader(io.StringIO(response.read().decode(), newline="")))
        assert [row[1:] for row in rows] == [
            [
                "kind",
                "name",
                "identities",
                "consent:contact",
                "consent:profiling",
                "consent:personalisation",
                "city",
            ],
            ["person", "'@Ann", "crm:W1", "", "", "", "Leeds"],
        ]
        parquet = client.get("/exports/customers?format=parquet")
        assert pq.read_table(pa.BufferReader(parquet.content)).column("name").to_pylist() == ["@Ann"]
        assert client.get("/exports/segments").status_code == 404
    with runtime.session() as db:
        entries = db.scalars(select(AuditEntry).where(AuditEntry.action == "data.exported")).all()
    assert [(e.actor_email, e.details["format"]) for e in entries] == [
        (analyst.email, "csv"),
        (analyst.email, "parquet"),
    ]
