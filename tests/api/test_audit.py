"""The audit log over real HTTP: reads and changes of a customer's data are entries, filtered alike by
the API and the admin page, exported as CSV, and never changed afterwards."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from html import unescape

import pytest
from sqlalchemy import text, update
from sqlalchemy.exc import DBAPIError
from typer.testing import CliRunner

from segone.accounts.models import AuditEntry
from segone.accounts.schemas import Role
from segone.cli.main import app as cli
from segone.clock import utcnow
from segone.runtime import Runtime
from tests.api.conftest import ClientFactory
from tests.api.helpers import api_user, error_of
from tests.conftest import LiveServer
from tests.factories import make_customer, make_user
from tests.web.conftest import signed_in


def test_reads_and_changes_of_a_customer_are_entries_the_api_filters(
    runtime: Runtime, api: ClientFactory, live_server: LiveServer
) -> None:
    ann = make_customer(runtime, name="Ann Archer")
    bob = make_customer(runtime, name="Bob Baker")
    clerk = api_user(runtime)
    other = api_user(runtime)
    client = api(clerk.token)
    assert client.get(f"/customers/{ann}/sheet").status_code == 200
    assert client.get(f"/customers/{ann}/briefing").status_code == 200
    assert client.patch(f"/customers/{ann}", json={"name": "Ann Archer-Lee"}).status_code == 200
    fact = client.post(
        f"/customers/{ann}/differentiators", json={"text": "Keeps bees", "category": "free_time"}
    )
    assert fact.status_code == 201, fact.text
    assert api(other.token).get(f"/customers/{bob}/sheet").status_code == 200
    with signed_in(live_server, make_user(runtime)) as browser:  # the page is a read like the API's
        assert browser.get(f"/customers/{bob}").status_code == 200

    admin = api(api_user(runtime, Role.ADMIN).token)
    about_ann = admin.get("/audit", params={"customer": ann})
    assert about_ann.status_code == 200, about_ann.text
    actions = [e["action"] for e in about_ann.json()["entries"]]
    assert actions == [
        "differentiator.added",
        "customer.updated",
        "customer.briefing_viewed",
        "customer.viewed",
        "customer.created",
    ]
    assert all(e["customer_id"] == ann for e in about_ann.json()["entries"])
    by_clerk = admin.get("/audit", params={"user": clerk.email, "action": "customer.viewed"}).json()
    assert by_clerk["total"] == 1 and by_clerk["entries"][0]["customer_id"] == ann
    assert by_clerk["entries"][0]["actor_email"] == clerk.email
    views_of_bob = admin.get("/audit", params={"customer": bob, "action": "customer.viewed"}).json()
    assert views_of_bob["total"] == 2
    tomorrow = (utcnow() + timedelta(days=1)).date().isoformat()
    assert admin.get("/audit", params={"since": tomorrow}).json()["total"] == 0
    assert admin.get("/audit", params={"until": tomorrow, "customer": ann}).json()["total"] == 5
    paged = admin.get("/audit", params={"customer": ann, "limit": 2, "offset": 1}).json()
    assert [e["action"] for e in paged["entries"]] == actions[1:3] and paged["total"] == 5
    # The customer's history shows what happened to the record, not every look at it.
    history = [e["action"] for e in client.get(f"/customers/{ann}/history").json()]
    assert history == ["differentiator.added", "customer.updated", "customer.created"]

    error_of(api(None).get("/audit"), 401, "unauthenticated")
    error_of(api(api_user(runtime, Role.ANALYST).token).get("/audit"), 403, "forbidden")
    error_of(admin.get("/audit", params={"since": "last week"}), 422, "invalid")


def test_the_audit_log_exports_as_csv_with_its_filters(runtime: Runtime, api: ClientFactory) -> None:
    ann = make_customer(runtime, name='=HYPERLINK("x")')
    make_customer(runtime, name="Bob Baker")
    admin_user = api_user(runtime, Role.ADMIN)
    admin = api(admin_user.token)
    admin.get(f"/customers/{ann}/sheet")
    response = admin.get("/audit/export", params={"customer": ann})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [r["action"] for r in rows] == ["customer.created", "customer.viewed"]
    assert {r["customer_id"] for r in rows} == {str(ann)}
    assert rows[1]["actor_email"] == admin_user.email
    assert rows[0]["summary"].startswith("'") or not rows[0]["summary"].startswith("=")  # formula-safe
    exported = admin.get("/audit", params={"action": "data.exported"}).json()["entries"]
    assert len(exported) == 1 and exported[0]["details"]["filter"] == {"customer_id": ann}
    error_of(api(api_user(runtime, Role.ANALYST).token).get("/audit/export"), 403, "forbidden")

    env = {
        "SEGONE_DATA_DIR": str(runtime.settings.data_dir),
        "SEGONE_DATABASE_URL": runtime.settings.database_url or "",
    }
    whole = CliRunner().invoke(cli, ["export", "audit-log"], env=env)
    assert whole.exit_code == 0, whole.output
    logged = list(csv.DictReader(io.StringIO(whole.stdout)))
    assert [r["action"] for r in logged if r["customer_id"] == str(ann)] == [
        "customer.created",
        "customer.viewed",
    ]
    assert logged[-1]["action"] == "data.exported"  # this export, written before its rows were read


def test_the_admin_page_filters_and_downloads_the_same_entries(
    runtime: Runtime, live_server: LiveServer
) -> None:
    ann = make_customer(runtime, name="Ann Archer")
    bob = make_customer(runtime, name="Bob Baker")
    clerk = make_user(runtime)
    with signed_in(live_server, clerk) as browser:
        browser.get(f"/customers/{ann}")
        browser.get(f"/customers/{bob}")
    with signed_in(live_server, make_user(runtime, Role.ADMIN)) as admin:
        assert 'href="/admin/audit"' in admin.get("/admin/users").text
        page = unescape(admin.get("/admin/audit", params={"user": clerk.email, "customer": str(ann)}).text)
        assert "Read the sheet of Ann Archer" in page and "Bob Baker" not in page
        assert "<strong>1</strong> entry" in page
        day = utcnow().date().isoformat()
        page = unescape(
            admin.get("/admin/audit", params={"action": "customer.viewed", "since": day, "until": day}).text
        )
        assert "Read the sheet of Ann Archer" in page and "Read the sheet of Bob Baker" in page
        assert "<td>Record created</td>" not in page and "<td>Sheet read</td>" in page
        assert (
            f'href="/admin/audit/export?user={clerk.email.replace("@", "%40")}'
            in admin.get("/admin/audit", params={"user": clerk.email}).text
        )
        download = admin.get("/admin/audit/export", params={"user": clerk.email})
    assert download.status_code == 200
    assert download.headers["content-disposition"].startswith('attachment; filename="segone-audit-log-')
    rows = list(csv.DictReader(io.StringIO(download.text)))
    assert [(r["action"], r["customer_id"]) for r in rows] == [
        ("customer.viewed", str(ann)),
        ("customer.viewed", str(bob)),
    ]


def test_an_entry_cannot_be_changed_in_the_database(runtime: Runtime) -> None:
    ann = make_customer(runtime, name="Ann Archer")
    with pytest.raises(DBAPIError, match="append-only"), runtime.session() as db:
        db.execute(update(AuditEntry).where(AuditEntry.customer_id == ann).values(summary="nothing"))
    if runtime.engine.dialect.name == "postgresql":
        with pytest.raises(DBAPIError, match="append-only"), runtime.session() as db:
            db.execute(text("DELETE FROM audit_log"))
    with runtime.session() as db:
        assert db.scalar(text("SELECT count(*) FROM audit_log WHERE customer_id = :c"), {"c": ann}) == 1
