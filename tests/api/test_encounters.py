"""Encounters over real HTTP: logging one with what was learned, all or nothing; reading them back."""

from __future__ import annotations

from datetime import UTC, datetime

from segone.accounts.schemas import Role
from segone.runtime import Runtime
from tests.api.conftest import ClientFactory
from tests.api.helpers import api_user, error_of, fields_at_fault
from tests.factories import make_customer


def test_anonymous_callers_are_turned_away(runtime: Runtime, api: ClientFactory) -> None:
    cid = make_customer(runtime)
    encounter = (
        api(api_user(runtime).token).post(f"/customers/{cid}/encounters", json={"channel": "call"}).json()
    )
    anonymous = api(None)
    error_of(anonymous.get(f"/customers/{cid}/encounters"), 401, "unauthenticated")
    error_of(anonymous.post(f"/customers/{cid}/encounters", json={"channel": "call"}), 401, "unauthenticated")
    error_of(anonymous.get(f"/encounters/{encounter['id']}"), 401, "unauthenticated")


def test_every_role_may_log_encounters(runtime: Runtime, api: ClientFactory) -> None:
    cid = make_customer(runtime)
    for role in Role:
        response = api(api_user(runtime, role).token).post(
            f"/customers/{cid}/encounters", json={"channel": "chat"}
        )
        assert response.status_code == 201, (role, response.text)


def test_unknown_customers_and_encounters(runtime: Runtime, api: ClientFactory) -> None:
    client = api(api_user(runtime).token)
    error_of(client.get("/customers/4242/encounters"), 404, "not_found")
    error_of(client.post("/customers/4242/encounters", json={"channel": "call"}), 404, "not_found")
    assert (
        error_of(client.get("/encounters/4242"), 404, "not_found")["message"] == "There is no encounter 4242."
    )
    assert fields_at_fault(client.get("/encounters/-1")) == {"encounter_id"}


def test_log_an_encounter_with_what_was_learned(runtime: Runtime, api: ClientFactory) -> None:
    cid = make_customer(runtime)
    clerk = api_user(runtime)
    client = api(clerk.token)
    response = client.post(
        f"/customers/{cid}/encounters",
        json={
            "channel": "meeting",
            "occurred_at": "2026-05-04T15:00:00",
            "duration_minutes": 45,
            "notes": " Talked about the new store. ",
            "cares_about": "delivery on time",
            "worries_about": "cash flow",
            "listening_share": 0.7,
            "facts": [
                {"text": "Two kids", "category": "family"},
                {"text": "Values  honesty", "category": "values", "confidence": 0.5},
            ],
        },
    )
    assert response.status_code == 201, response.text
    encounter = response.json()
    assert (encounter["customer_id"], encounter["employee"], encounter["channel"]) == (
        cid,
        clerk.email,
        "meeting",
    )
    assert encounter["employee_name"] == clerk.email.split("@")[0]  # the name of a user created without one
    assert datetime.fromisoformat(encounter["occurred_at"]) == datetime(2026, 5, 4, 15, tzinfo=UTC)
    assert (encounter["duration_minutes"], encounter["listening_share"]) == (45, 0.7)
    assert (encounter["notes"], encounter["cares_about"]) == (
        "Talked about the new store.",
        "delivery on time",
    )
    assert len(encounter["differentiator_ids"]) == 2
    assert client.get(f"/encounters/{encounter['id']}").json() == encounter

    facts = {f["id"]: f for f in client.get(f"/customers/{cid}/differentiators").json()}
    assert set(facts) == set(encounter["differentiator_ids"])
    for fact in facts.values():
        assert (fact["encounter_id"], fact["channel"], fact["learned_by"]) == (
            encounter["id"],
            "meeting",
            clerk.email,
        )
        assert fact["learned_at"] == encounter["occurred_at"]
    assert {f["text"]: f["confidence"] for f in facts.values()} == {"Two kids": 0.8, "Values honesty": 0.5}
    assert client.get("/customers").json()["items"][0]["last_encounter_at"] == encounter["occurred_at"]


def test_one_bad_fact_saves_nothing(runtime: Runtime, api: ClientFactory) -> None:
    cid = make_customer(runtime)
    client = api(api_user(runtime).token)
    response = client.post(
        f"/customers/{cid}/encounters",
        json={
            "channel": "call",
            "notes": "Long call",
            "facts": [
                {"text": "Two kids", "category": "family"},
                {"text": "Opening a store", "category": "growth_plans"},
            ],
        },
    )
    assert "business category" in error_of(response, 422, "invalid")["message"]
    assert client.get(f"/customers/{cid}/encounters").json() == []
    assert client.get(f"/customers/{cid}/differentiators").json() == []
    assert [e["action"] for e in client.get(f"/customers/{cid}/history").json()] == ["customer.created"]


def test_bad_encounters_are_refused_with_the_fields_at_fault(runtime: Runtime, api: ClientFactory) -> None:
    cid = make_customer(runtime)
    client = api(api_user(runtime).token)
    url = f"/customers/{cid}/encounters"
    assert fields_at_fault(client.post(url, json={})) == {"channel"}
    assert fields_at_fault(client.post(url, json={"channel": "pigeon"})) == {"channel"}
    assert fields_at_fault(client.post(url, json={"channel": "call", "listening_share": 1.5})) == {
        "listening_share"
    }
    assert fields_at_fault(client.post(url, json={"channel": "call", "duration_minutes": -5})) == {
        "duration_minutes"
    }
    assert fields_at_fault(client.post(url, json={"channel": "call", "notes": "x" * 20001})) == {"notes"}
    assert fields_at_fault(
        client.post(url, json={"channel": "call", "occurred_at": "0001-01-01T00:00:00+05:00"})
    ) == {"occurred_at"}
    assert fields_at_fault(
        client.post(url, json={"channel": "call", "facts": [{"text": "  ", "category": "family"}]})
    ) == {"facts.0.text"}
    assert fields_at_fault(client.post(url, json={"channel": "call", "facts": "Two kids"})) == {"facts"}
    assert client.get(url).json() == []


def test_listed_most_recent_first_and_limited(runtime: Runtime, api: ClientFactory) -> None:
    cid = make_customer(runtime)
    client = api(api_user(runtime).token)
    for day in (3, 1, 2):
        client.post(
            f"/customers/{cid}/encounters",
            json={"channel": "store", "occurred_at": f"2026-01-0{day}T12:00:00Z"},
        )
    days = [e["occurred_at"][:10] for e in client.get(f"/customers/{cid}/encounters").json()]
    assert days == ["2026-01-03", "2026-01-02", "2026-01-01"]
    assert len(client.get(f"/customers/{cid}/encounters", params={"limit": 2}).json()) == 2
    assert fields_at_fault(client.get(f"/customers/{cid}/encounters", params={"limit": 0})) == {"limit"}


def test_dates_the_pages_refuse_are_refused_with_the_same_message(
    runtime: Runtime, api: ClientFactory
) -> None:
    cid = make_customer(runtime)
    client = api(api_user(runtime).token)
    url = f"/customers/{cid}/encounters"
    for when, message in (
        (
            "2099-01-01T00:00:00Z",
            "The encounter's date is in the future; log an encounter once it has happened.",
        ),
        (
            "1800-01-01T00:00:00Z",
            "The encounter's date is before 1900-01-01, the earliest an encounter may have; check the year.",
        ),
    ):
        error = error_of(client.post(url, json={"channel": "call", "occurred_at": when}), 422, "invalid")
        assert error["message"] == message
        assert error["details"] == [{"field": "occurred_at", "problem": message}]
    assert client.get(url).json() == []


def test_acknowledging_in_an_encounter_takes_only_the_customers_current_facts(
    runtime: Runtime, api: ClientFactory
) -> None:
    ann, bob = make_customer(runtime, name="Ann Example"), make_customer(runtime, name="Bob")
    client = api(api_user(runtime).token)
    bees = client.post(
        f"/customers/{ann}/differentiators", json={"text": "Keeps bees", "category": "free_time"}
    )
    sails = client.post(f"/customers/{bob}/differentiators", json={"text": "Sails", "category": "free_time"})
    bees_id, sails_id = bees.json()["id"], sails.json()["id"]
    url = f"/customers/{ann}/encounters"

    error = error_of(
        client.post(url, json={"channel": "store", "acknowledge": [bees_id, sails_id]}), 422, "invalid"
    )
    message = (
        f"Differentiator {sails_id} is not a current fact of Ann Example; only the customer's own current "
        "facts can be acknowledged."
    )
    assert error["message"] == message
    assert error["details"] == [
        {"field": "acknowledge", "problem": message, "differentiator_ids": [sails_id]}
    ]
    # A misspelt field is refused too, not dropped while the encounter is saved.
    assert fields_at_fault(client.post(url, json={"channel": "store", "acknowledged": [sails_id]})) == {
        "acknowledged"
    }
    assert client.get(url).json() == []
    (fact,) = client.get(f"/customers/{ann}/differentiators").json()
    assert fact["acknowledgement"] is None

    met = client.post(url, json={"channel": "store", "acknowledge": [bees_id]})
    assert met.status_code == 201, met.text
    (fact,) = client.get(f"/customers/{ann}/differentiators").json()
    assert fact["acknowledgement"]["encounter_id"] == met.json()["id"]
    assert client.get(f"/customers/{bob}/differentiators").json()[0]["acknowledgement"] is None
