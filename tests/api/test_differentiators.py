"""The easel sheet over real HTTP: differentiators, outdating, acknowledgement, recognition ratio."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx

from segone.accounts.schemas import Role
from segone.customers.schemas import CustomerKind
from segone.runtime import Runtime
from tests.api.conftest import ClientFactory
from tests.api.helpers import api_user, error_of, fields_at_fault
from tests.factories import make_customer


def _add(client: httpx.Client, customer_id: int, text: str, category: str = "family", **more: object) -> int:
    response = client.post(
        f"/customers/{customer_id}/differentiators", json={"text": text, "category": category, **more}
    )
    assert response.status_code == 201, response.text
    fact_id: int = response.json()["id"]
    return fact_id


def test_anonymous_callers_are_turned_away(runtime: Runtime, api: ClientFactory) -> None:
    cid = make_customer(runtime)
    fact = _add(api(api_user(runtime).token), cid, "Two kids")
    anonymous = api(None)
    for response in (
        anonymous.get(f"/customers/{cid}/differentiators"),
        anonymous.post(f"/customers/{cid}/differentiators", json={"text": "x", "category": "family"}),
        anonymous.patch(f"/differentiators/{fact}", json={"confirmed": True}),
        anonymous.post(f"/differentiators/{fact}/outdate"),
        anonymous.post(f"/differentiators/{fact}/acknowledge"),
        anonymous.get(f"/customers/{cid}/recognition"),
    ):
        error_of(response, 401, "unauthenticated")


def test_every_role_may_learn_and_acknowledge(runtime: Runtime, api: ClientFactory) -> None:
    """No role is forbidden here: knowing customers is everyone's job (the matrix checks each route)."""
    cid = make_customer(runtime)
    for role in Role:
        client = api(api_user(runtime, role).token)
        fact = _add(client, cid, f"Learned by the {role.value}")
        assert client.post(f"/differentiators/{fact}/acknowledge").status_code == 200
    assert api(api_user(runtime).token).get(f"/customers/{cid}/recognition").json()["ratio"] == 1.0


def test_unknown_customers_and_differentiators(runtime: Runtime, api: ClientFactory) -> None:
    client = api(api_user(runtime).token)
    error_of(client.get("/customers/4242/differentiators"), 404, "not_found")
    error_of(
        client.post("/customers/4242/differentiators", json={"text": "x", "category": "family"}),
        404,
        "not_found",
    )
    error_of(client.get("/customers/4242/recognition"), 404, "not_found")
    message = error_of(client.patch("/differentiators/4242", json={"confirmed": True}), 404, "not_found")[
        "message"
    ]
    assert message == "There is no differentiator 4242."
    error_of(client.post("/differentiators/4242/outdate"), 404, "not_found")
    error_of(client.post("/differentiators/4242/acknowledge"), 404, "not_found")
    assert fields_at_fault(client.post("/differentiators/0/acknowledge")) == {"differentiator_id"}


def test_a_recorded_fact_says_who_learned_it_when_and_how_sure(runtime: Runtime, api: ClientFactory) -> None:
    cid = make_customer(runtime)
    clerk = api_user(runtime)
    client = api(clerk.token)
    response = client.post(
        f"/customers/{cid}/differentiators",
        json={
            "text": "  Training for   the Leeds marathon ",
            "category": "free_time",
            "confidence": 0.6,
            "channel": "call",
            "learned_at": "2026-03-01T09:30:00+01:00",
        },
    )
    assert response.status_code == 201, response.text
    fact = response.json()
    assert fact["text"] == "Training for the Leeds marathon"
    assert (fact["category"], fact["category_label"]) == ("free_time", "Free time")
    assert (fact["learned_by"], fact["confidence"], fact["channel"]) == (clerk.email, 0.6, "call")
    assert datetime.fromisoformat(fact["learned_at"]) == datetime(2026, 3, 1, 8, 30, tzinfo=UTC)
    assert (fact["status"], fact["acknowledgement"], fact["outdated_at"]) == ("current", None, None)
    assert client.get(f"/customers/{cid}/differentiators").json() == [fact]
    assert client.get(f"/customers/{cid}/history").json()[0]["action"] == "differentiator.added"


def test_bad_differentiators_are_refused(runtime: Runtime, api: ClientFactory) -> None:
    person = make_customer(runtime)
    client = api(api_user(runtime).token)
    url = f"/customers/{person}/differentiators"
    error = error_of(client.post(url, json={"text": "x", "category": "hobbies"}), 422, "invalid")
    assert "family" in error["details"]["allowed"]
    error = error_of(
        client.post(url, json={"text": "Opening a second store", "category": "growth_plans"}), 422, "invalid"
    )
    assert "business category" in error["message"]
    assert fields_at_fault(client.post(url, json={"text": " ", "category": "family"})) == {"text"}
    assert fields_at_fault(client.post(url, json={"text": "x" * 2001, "category": "family"})) == {"text"}
    assert fields_at_fault(client.post(url, json={"text": "x", "category": "family", "confidence": 1.5})) == {
        "confidence"
    }
    assert fields_at_fault(
        client.post(url, json={"text": "x", "category": "family", "channel": "pigeon"})
    ) == {"channel"}
    assert fields_at_fault(
        client.post(url, json={"text": "x", "category": "family", "learned_at": "soon"})
    ) == {"learned_at"}
    assert fields_at_fault(client.post(url, json={"text": 5, "category": ["family"]})) == {"text", "category"}
    assert client.get(url).json() == []


def test_business_categories_fit_businesses(runtime: Runtime, api: ClientFactory) -> None:
    shop = make_customer(runtime, kind=CustomerKind.BUSINESS)
    client = api(api_user(runtime).token)
    _add(client, shop, "Opening a second store", "growth_plans")
    _add(client, shop, "Hates being called before 10", "preferences")
    error_of(
        client.post(f"/customers/{shop}/differentiators", json={"text": "x", "category": "family"}),
        422,
        "invalid",
    )


def test_edit_and_reconfirm(runtime: Runtime, api: ClientFactory) -> None:
    cid = make_customer(runtime)
    client = api(api_user(runtime).token)
    fact = _add(client, cid, "Two kids", learned_at="2025-01-01T00:00:00Z")
    response = client.patch(f"/differentiators/{fact}", json={"text": "Three kids", "confidence": 1.0})
    assert response.status_code == 200, response.text
    edited = response.json()
    assert (edited["text"], edited["confidence"], edited["category"]) == ("Three kids", 1.0, "family")
    assert edited["last_confirmed_at"].startswith("2025-01-01")
    confirmed = client.patch(f"/differentiators/{fact}", json={"confirmed": True}).json()
    assert datetime.fromisoformat(confirmed["last_confirmed_at"]).year >= 2026
    assert confirmed["text"] == "Three kids"
    error_of(client.patch(f"/differentiators/{fact}", json={"category": "hobbies"}), 422, "invalid")
    assert fields_at_fault(client.patch(f"/differentiators/{fact}", json={"confidence": -0.1})) == {
        "confidence"
    }
    assert client.get(f"/customers/{cid}/history").json()[0]["action"] == "differentiator.edited"


def test_outdate_with_and_without_a_replacement(runtime: Runtime, api: ClientFactory) -> None:
    cid = make_customer(runtime)
    client = api(api_user(runtime).token)
    moving, single = _add(client, cid, "Lives in Leeds", "lifestyle"), _add(client, cid, "Single", "family")

    response = client.post(f"/differentiators/{moving}/outdate", json={"replacement": "Lives in  York"})
    assert response.status_code == 200, response.text
    body = response.json()
    old, new = body["outdated"], body["replacement"]
    assert (old["id"], old["status"], old["replaced_by_id"]) == (moving, "outdated", new["id"])
    assert old["outdated_at"] is not None
    assert (new["text"], new["category"], new["status"]) == ("Lives in York", "lifestyle", "current")

    alone = client.post(f"/differentiators/{single}/outdate").json()
    assert (alone["outdated"]["status"], alone["replacement"]) == ("outdated", None)

    assert [f["text"] for f in client.get(f"/customers/{cid}/differentiators").json()] == ["Lives in York"]
    everything = client.get(f"/customers/{cid}/differentiators", params={"include_outdated": True}).json()
    assert {f["id"]: f["status"] for f in everything} == {
        moving: "outdated",
        single: "outdated",
        new["id"]: "current",
    }

    error_of(client.post(f"/differentiators/{moving}/outdate"), 409, "conflict")
    error_of(client.patch(f"/differentiators/{moving}", json={"text": "x"}), 409, "conflict")
    error_of(client.post(f"/differentiators/{moving}/acknowledge"), 409, "conflict")
    assert fields_at_fault(
        client.post(f"/differentiators/{new['id']}/outdate", json={"replacement": "x" * 2001})
    ) == {"replacement"}


def test_acknowledge_records_who_when_where_and_how(runtime: Runtime, api: ClientFactory) -> None:
    cid, other = make_customer(runtime), make_customer(runtime)
    clerk = api_user(runtime)
    client = api(clerk.token)
    fact = _add(client, cid, "Vegetarian", "values")
    meeting = client.post(f"/customers/{cid}/encounters", json={"channel": "meeting"}).json()["id"]
    elsewhere = client.post(f"/customers/{other}/encounters", json={"channel": "call"}).json()["id"]

    error = error_of(
        client.post(f"/differentiators/{fact}/acknowledge", json={"encounter_id": elsewhere}), 422, "invalid"
    )
    assert f"not an encounter with customer {cid}" in error["message"]
    error_of(
        client.post(f"/differentiators/{fact}/acknowledge", json={"encounter_id": 987654}), 422, "invalid"
    )
    assert fields_at_fault(client.post(f"/differentiators/{fact}/acknowledge", json={"how": "x" * 501})) == {
        "how"
    }
    assert client.get(f"/customers/{cid}/recognition").json() == {
        "current": 1,
        "acknowledged": 0,
        "ratio": 0.0,
    }

    response = client.post(
        f"/differentiators/{fact}/acknowledge",
        json={"encounter_id": meeting, "how": " suggested the veggie menu "},
    )
    assert response.status_code == 200, response.text
    ack = response.json()["acknowledgement"]
    assert (ack["acknowledged_by"], ack["encounter_id"], ack["how"]) == (
        clerk.email,
        meeting,
        "suggested the veggie menu",
    )

    again = api(api_user(runtime).token).post(f"/differentiators/{fact}/acknowledge", json={"how": "again"})
    assert again.status_code == 200 and again.json()["acknowledgement"] == ack  # the first record stays


def test_recognition_ratio(runtime: Runtime, api: ClientFactory) -> None:
    cid = make_customer(runtime)
    client = api(api_user(runtime).token)
    assert client.get(f"/customers/{cid}/recognition").json() == {
        "current": 0,
        "acknowledged": 0,
        "ratio": None,
    }
    facts = [_add(client, cid, f"Fact {n}") for n in range(4)]
    for fact in facts[:3]:
        client.post(f"/differentiators/{fact}/acknowledge")
    assert client.get(f"/customers/{cid}/recognition").json() == {
        "current": 4,
        "acknowledged": 3,
        "ratio": 0.75,
    }
    client.post(f"/differentiators/{facts[0]}/outdate")  # only current facts count
    assert client.get(f"/customers/{cid}/recognition").json() == {
        "current": 3,
        "acknowledged": 2,
        "ratio": 0.6667,
    }
    listed = client.get("/customers").json()["items"][0]
    assert (listed["differentiators"], listed["acknowledged"]) == (3, 2)
