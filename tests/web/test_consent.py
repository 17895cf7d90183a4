"""The sheet's consent section over real HTTP: the state per purpose, the form, what it leaves them out of."""

from __future__ import annotations

from html import unescape

import httpx

from segone.accounts.schemas import SYSTEM
from segone.customers import service as customers
from tests.conftest import LiveServer
from tests.factories import MadeUser, make_customer
from tests.web.conftest import token_of

NOTICE = "No profiling consent: left out of segments, scores and offers."


def test_the_sheet_shows_consent_and_its_form_records_it(
    live_server: LiveServer, frontline_client: tuple[httpx.Client, MadeUser]
) -> None:
    client, user = frontline_client
    ann = make_customer(live_server.runtime, name="Ann Archer")
    page = unescape(client.get(f"/customers/{ann}").text)
    assert 'id="consent"' in page and "nothing recorded: the default" in page and NOTICE not in page
    assert f'action="/customers/{ann}/consent"' in page

    token = token_of(client, f"/customers/{ann}")
    sent = client.post(
        f"/customers/{ann}/consent",
        data={"csrf_token": token, "profiling": "refused", "contact": "", "note": "asked at the till"},
    )
    assert sent.status_code == 303 and sent.headers["location"] == f"/customers/{ann}#consent"
    page = unescape(client.get(f"/customers/{ann}").text)
    assert NOTICE in page and f"form, {user.email}" in page
    assert NOTICE in unescape(client.get(f"/customers/{ann}/briefing").text)
    with live_server.runtime.session() as db:
        out = customers.consent_of(db, actor=SYSTEM, customer_id=ann, default_granted=True)
    assert [(r.purpose.value, r.granted, r.source.value, r.note) for r in out.history] == [
        ("profiling", False, "form", "asked at the till")
    ]

    nothing = client.post(f"/customers/{ann}/consent", data={"csrf_token": token, "profiling": ""})
    assert nothing.status_code == 303
    assert "Name at least one purpose" in unescape(client.get(f"/customers/{ann}").text)
