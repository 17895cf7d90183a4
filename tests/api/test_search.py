"""GET /api/v1/search over real HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

from segone.customers.schemas import CustomerKind
from segone.runtime import Runtime
from tests.api.conftest import ClientFactory
from tests.api.helpers import api_user, error_of, fields_at_fault
from tests.factories import make_customer


def _setup(runtime: Runtime, api: ClientFactory) -> tuple[int, int, int]:
    client = api(api_user(runtime).token)
    customer = make_customer(runtime, name="Harbour Cafe", kind=CustomerKind.BUSINESS)
    added = client.post(
        f"/customers/{customer}/differentiators",
        json={"text": "Plans to expand into new markets up the coast", "category": "growth_plans"},
    )
    assert added.status_code == 201, added.text
    logged = client.post(
        f"/customers/{customer}/encounters",
        json={"channel": "meeting", "notes": "Asked about a sound system for new markets"},
    )
    assert logged.status_code == 201, logged.text
    return customer, added.json()["id"], logged.json()["id"]


def test_search_ranks_facts_and_notes_of_a_question(runtime: Runtime, api: ClientFactory) -> None:
    customer, fact, encounter = _setup(runtime, api)
    client = api(api_user(runtime).token)
    response = client.get("/search", params={"q": "who is expanding into new markets?"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["terms"] == ["expanding", "new", "markets"]
    assert body["total"] == 2 and body["more"] is False
    first, second = body["hits"]
    assert (first["kind"], first["id"], first["matched_all_terms"]) == ("differentiator", fact, True)
    assert (second["kind"], second["id"], second["matched_all_terms"]) == ("encounter", encounter, False)
    assert first["customer_id"] == customer and first["customer_name"] == "Harbour Cafe"
    assert first["category"] == "growth_plans" and second["channel"] == "meeting"
    assert "\u27e6expand\u27e7" in first["snippet"]
    assert first["score"] >= second["score"] or first["matched_all_terms"]

    only = client.get("/search", params={"q": "markets", "kind": "encounter", "limit": 1}).json()
    assert [h["id"] for h in only["hits"]] == [encounter]
    paged = client.get("/search", params={"q": "markets", "limit": 1, "offset": 1}).json()
    assert len(paged["hits"]) == 1 and paged["offset"] == 1 and paged["more"] is False


def test_bad_searches_are_422_with_a_reason(runtime: Runtime, api: ClientFactory) -> None:
    client = api(api_user(runtime).token)
    message = error_of(client.get("/search", params={"q": "?!"}), 422, "invalid")["message"]
    assert "no words" in message
    assert (
        "common words"
        in error_of(client.get("/search", params={"q": "who is it"}), 422, "invalid")["message"]
    )
    assert "q" in fields_at_fault(client.get("/search", params={"q": "x" * 201}))
    assert "q" in fields_at_fault(client.get("/search"))
    assert "kind" in fields_at_fault(client.get("/search", params={"q": "x", "kind": "people"}))
    assert "limit" in fields_at_fault(client.get("/search", params={"q": "x", "limit": 0}))
    assert "offset" in fields_at_fault(client.get("/search", params={"q": "x", "offset": 5000}))


def test_anonymous_callers_are_turned_away(runtime: Runtime, api: ClientFactory) -> None:
    error_of(api(None).get("/search", params={"q": "markets"}), 401, "unauthenticated")
