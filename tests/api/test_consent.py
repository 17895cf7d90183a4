"""Consent over real HTTP: read, record, the history; the sheet and briefing say what it leaves them out of;
a draft without contact consent is a 409."""

from __future__ import annotations

from segone.runtime import Runtime
from tests.api.conftest import ClientFactory
from tests.api.helpers import api_user, error_of, fields_at_fault
from tests.factories import make_customer

NOTICE = "No profiling consent: left out of segments, scores and offers."


def test_consent_is_read_recorded_and_kept_as_a_history(runtime: Runtime, api: ClientFactory) -> None:
    clerk = api_user(runtime)
    client = api(clerk.token)
    ann = make_customer(runtime, name="Ann Archer")
    before = client.get(f"/customers/{ann}/consent").json()
    assert before["default"] == "granted" and before["history"] == []
    assert all(p["granted"] and not p["recorded"] for p in before["purposes"])

    put = client.put(f"/customers/{ann}/consent", json={"profiling": False, "note": "said so at the till"})
    assert put.status_code == 200, put.text
    after = put.json()
    profiling = next(p for p in after["purposes"] if p["purpose"] == "profiling")
    assert (profiling["granted"], profiling["source"], profiling["recorded_by"]) == (
        False,
        "api",
        clerk.email,
    )
    client.put(f"/customers/{ann}/consent", json={"profiling": True})
    history = client.get(f"/customers/{ann}/consent").json()["history"]
    assert [(r["purpose"], r["granted"]) for r in history] == [("profiling", True), ("profiling", False)]
    assert history[1]["note"] == "said so at the till"
    entries = client.get(f"/customers/{ann}/history").json()
    assert [e["action"] for e in entries].count("customer.consent_recorded") == 2

    error_of(client.put(f"/customers/{ann}/consent", json={}), 422, "invalid")
    assert fields_at_fault(client.put(f"/customers/{ann}/consent", json={"profiling": "maybe"})) == {
        "profiling"
    }
    error_of(client.get("/customers/4242/consent"), 404, "not_found")


def test_the_sheet_and_briefing_say_what_consent_leaves_out_and_drafts_need_contact_consent(
    runtime: Runtime, api: ClientFactory
) -> None:
    client = api(api_user(runtime).token)
    ann = make_customer(runtime, name="Ann Archer")
    assert client.get(f"/customers/{ann}/sheet").json()["consent"]["notice"] is None
    client.put(f"/customers/{ann}/consent", json={"profiling": False, "contact": False})
    sheet = client.get(f"/customers/{ann}/sheet").json()
    assert sheet["consent"]["notice"] == NOTICE
    assert client.get(f"/customers/{ann}/briefing").json()["consent_notice"] == NOTICE
    refused = error_of(
        client.post(f"/customers/{ann}/messages/draft", json={"purpose": "follow-up"}), 409, "conflict"
    )
    assert refused["message"].startswith("No contact consent: Ann Archer has not agreed to be contacted")
