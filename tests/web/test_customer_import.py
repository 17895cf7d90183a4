"""The import page over real HTTP: upload, check (a dry run with a preview), import what was checked."""

from __future__ import annotations

import re
from html import unescape
from pathlib import Path

import httpx

from segone.accounts.schemas import SYSTEM, Role
from segone.customers import service as customers
from tests.conftest import LiveServer
from tests.factories import make_user
from tests.web.conftest import csrf_of, field_error, signed_in, token_of

CRM = Path(__file__).parents[1] / "data" / "crm"
SALESFORCE = (CRM / "salesforce-contacts.csv").read_bytes()


def _check(client: httpx.Client, data: bytes, name: str = "contacts.csv", **fields: str) -> httpx.Response:
    token = token_of(client, "/customers/import")
    return client.post(
        "/customers/import/check",
        data={"csrf_token": token, **fields},
        files={"file": (name, data, "text/csv")},
    )


def _hidden(html: str) -> dict[str, str]:
    """The hidden fields of the import form of a checked file."""
    form = html.split('action="/customers/import"', 1)[1].split("</form>", 1)[0]
    return {k: unescape(v) for k, v in re.findall(r'type="hidden" name="([^"]+)" value="([^"]*)"', form)}


def _count(server: LiveServer) -> int:
    with server.runtime.session() as db:
        return customers.count_active(db)


def test_check_shows_the_preview_then_import_writes_it(live_server: LiveServer) -> None:
    analyst = make_user(live_server.runtime, Role.ANALYST)
    with signed_in(live_server, analyst) as client:
        assert 'href="/customers/import"' in client.get("/customers").text
        checked = _check(client, SALESFORCE, "salesforce-contacts.csv", preset="salesforce")
        assert checked.status_code == 200, checked.text
        page = unescape(checked.text)
        assert "salesforce-contacts.csv</strong>: 10 rows, read as windows-1252." in page
        assert "9 new customers, 0 updated, 0 unchanged, 1 row merged into earlier rows." in page
        assert "Row 7, Account Name: looks like a spreadsheet formula; stored as text" in page
        assert "Merged with row 2" in page
        for shown in (
            "Zoë Müller",
            "Siobhán O\u2019Brien",
            "salesforce:0035g00000A1bCdAAJ",
            "Mailing City: München",
        ):
            assert shown in page
        assert page.count('<tr class="outcome-') == 10
        assert _count(live_server) == 0

        hidden = _hidden(checked.text)
        assert (hidden["preset"], hidden["file_name"]) == ("salesforce", "salesforce-contacts.csv")
        other = make_user(live_server.runtime, Role.ANALYST)
        with signed_in(live_server, other) as stranger:  # a checked file is its uploader's only
            taken = stranger.post("/customers/import", data={**hidden, "csrf_token": token_of(stranger)})
            assert taken.status_code == 404
        imported = client.post("/customers/import", data=hidden)
        assert imported.status_code == 303 and imported.headers["location"] == "/customers"
        listed = unescape(client.get("/customers").text)
        assert (
            "Imported salesforce-contacts.csv: 9 new customers, 0 updated, 0 unchanged, "
            "1 rows merged into earlier ones." in listed
        )
        assert "Grünwald Ltd" in listed
        assert _count(live_server) == 9
        again = client.post("/customers/import", data=hidden)  # the checked file is gone once imported
        assert again.status_code == 404 and "upload it again" in again.text
    with live_server.runtime.session() as db:
        entry = customers.history(
            db,
            actor=SYSTEM,
            customer_id=customers.get_by_identity(db, actor=SYSTEM, identity="email:soren@example.dk").id,
        )[0]
        assert entry.actor_email == analyst.email


def test_bad_rows_can_be_left_out_and_a_refused_file_cannot_be_imported(live_server: LiveServer) -> None:
    analyst = make_user(live_server.runtime, Role.ADMIN)
    with signed_in(live_server, analyst) as client:
        bad = _check(client, b"name,email\nAnn,ann@example.com\nBob,not-a-mail\n")
        assert bad.status_code == 200
        page = unescape(bad.text)
        assert "1 of the 2 rows is bad (dry run: nothing was written)." in page
        assert "Row 3, email: 'not-a-mail' is not an e-mail address" in page
        assert "Import the good rows, leave out the rest" in page
        hidden = _hidden(bad.text)
        assert hidden["skip_bad_rows"] == "1"
        assert client.post("/customers/import", data=hidden).status_code == 303
        assert _count(live_server) == 1

        refused = _check(client, b"Email,City\nann@example.com,Leeds\n")
        assert refused.status_code == 422
        assert "no &#39;name&#39; column" in refused.text or "no 'name' column" in unescape(refused.text)
        assert 'action="/customers/import"' not in refused.text

        token = token_of(client, "/customers/import")
        nothing = client.post("/customers/import/check", data={"csrf_token": token})
        assert nothing.status_code == 422 and field_error(nothing.text) == ["Choose the file to check."]
        bad_map = _check(client, b"name,email\nA,a@example.com\n", map="name")
        assert bad_map.status_code == 422
        assert "field=column pairs" in " ".join(field_error(bad_map.text))


def test_the_page_and_its_link_are_for_those_who_may_import(live_server: LiveServer) -> None:
    manager = make_user(live_server.runtime, Role.MANAGER)
    with signed_in(live_server, manager) as client:
        assert 'href="/customers/import"' not in client.get("/customers").text
        refused = client.get("/customers/import")
        assert refused.status_code == 403 and "import data" in refused.text
        assert csrf_of(client.get("/customers").text)


def test_the_preview_shows_each_rows_consent(live_server: LiveServer) -> None:
    analyst = make_user(live_server.runtime, Role.ANALYST)
    data = b"name,email,GDPR Opt-in\nAnn Patel,ann@example.com,granted\nBob Stone,bob@example.com,No\n"
    with signed_in(live_server, analyst) as client:
        checked = _check(client, data, map="consent:profiling=GDPR Opt-in")
        assert checked.status_code == 200, checked.text
        page = unescape(checked.text)
        assert "2 new customers, 0 updated, 0 unchanged." in page
        assert "profiling consent: granted" in page and "profiling consent: refused" in page
        assert "GDPR Opt-in:" not in page  # not a detail
