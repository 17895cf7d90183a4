"""/customers over real HTTP: anonymous, forbidden, not found, then what each call does."""

from __future__ import annotations

from segone.accounts.schemas import Role
from segone.customers.schemas import CustomerKind
from segone.runtime import Runtime
from tests.api.conftest import ClientFactory
from tests.api.helpers import api_user, error_of, fields_at_fault
from tests.factories import make_customer


def test_anonymous_and_unknown_tokens_are_turned_away(runtime: Runtime, api: ClientFactory) -> None:
    cid = make_customer(runtime)
    for client in (api(None), api("sg1_not-a-real-token")):
        for response in (
            client.get("/customers"),
            client.get(f"/customers/{cid}"),
            client.post("/customers", json={"name": "Ann"}),
            client.patch(f"/customers/{cid}", json={"name": "Ann"}),
            client.get(f"/customers/{cid}/history"),
        ):
            error_of(response, 401, "unauthenticated")
            assert response.headers["www-authenticate"] == "Bearer"
    assert "segone tokens create" in api(None).get("/customers").json()["error"]["message"]


def test_a_deactivated_users_token_stops_working(runtime: Runtime, api: ClientFactory) -> None:
    admin, clerk = api_user(runtime, Role.ADMIN), api_user(runtime)
    assert api(clerk.token).get("/customers").status_code == 200
    assert api(admin.token).patch(f"/users/{clerk.id}", json={"active": False}).status_code == 200
    error_of(api(clerk.token).get("/customers"), 401, "unauthenticated")


def test_unknown_and_impossible_ids(runtime: Runtime, api: ClientFactory) -> None:
    client = api(api_user(runtime).token)
    error = error_of(client.get("/customers/4242"), 404, "not_found")
    assert error["message"] == "There is no customer 4242."
    error_of(client.patch("/customers/4242", json={"name": "X"}), 404, "not_found")
    error_of(client.get("/customers/4242/history"), 404, "not_found")
    error_of(client.get("/customers/by-identity/email:nobody@example.com"), 404, "not_found")
    error_of(client.get("/customers/by-identity/no-colon"), 422, "invalid")
    for impossible in ("0", "-3", "99999999999999999999", "abc", "1.5"):
        assert fields_at_fault(client.get(f"/customers/{impossible}")) == {"customer_id"}
    error_of(client.get("/no-such-route"), 404, "not_found")
    error_of(client.delete("/customers"), 405, "method_not_allowed")


def test_create_read_and_find_by_identity(runtime: Runtime, api: ClientFactory) -> None:
    clerk = api_user(runtime)
    client = api(clerk.token)
    response = client.post(
        "/customers",
        json={
            "name": "  Ann Example ",
            "identities": ["Email: Ann@Example.COM", "crm:00042"],
            "attributes": {"city": "Leeds", "vip": True},
        },
    )
    assert response.status_code == 201, response.text
    created = response.json()
    assert (created["name"], created["kind"], created["merged_into_id"]) == ("Ann Example", "person", None)
    assert created["identities"] == ["email:ann@example.com", "crm:00042"]
    assert created["attributes"] == {"city": "Leeds", "vip": True}
    assert client.get(f"/customers/{created['id']}").json() == created
    assert client.get("/customers/by-identity/EMAIL:ANN@example.com").json()["id"] == created["id"]
    assert client.get("/customers/by-identity/crm:00042").json()["id"] == created["id"]
    (entry,) = client.get(f"/customers/{created['id']}/history").json()
    assert (entry["action"], entry["actor_email"]) == ("customer.created", clerk.email)
    assert entry["actor_name"] == clerk.email.split("@")[0]  # the name of a user created without one


def test_bad_customers_are_refused_with_the_fields_at_fault(runtime: Runtime, api: ClientFactory) -> None:
    client = api(api_user(runtime).token)
    assert fields_at_fault(client.post("/customers", json={"name": "   "})) == {"name"}
    assert fields_at_fault(client.post("/customers", json={"name": "x" * 301})) == {"name"}
    assert fields_at_fault(client.post("/customers", json={"name": "Ann", "kind": "robot"})) == {"kind"}
    assert fields_at_fault(client.post("/customers", json={"name": "Ann", "identities": ["ann"]})) == {
        "identities"
    }
    assert fields_at_fault(
        client.post("/customers", json={"name": "Ann", "identities": ["crm:1", "CRM: 1"]})
    ) == {"identities"}
    assert fields_at_fault(client.post("/customers", json={"name": "Ann", "attributes": {"a": [1]}})) == {
        "attributes"
    }
    assert fields_at_fault(client.post("/customers", json={})) == {"name"}
    assert fields_at_fault(client.post("/customers", json=["Ann"])) == {"body"}
    assert client.get("/customers").json()["total"] == 0


def test_an_identity_of_another_customer_is_a_conflict(runtime: Runtime, api: ClientFactory) -> None:
    owner = make_customer(runtime, identities=["crm:7"])
    client = api(api_user(runtime).token)
    error = error_of(client.post("/customers", json={"name": "B", "identities": ["crm:7"]}), 409, "conflict")
    assert error["details"] == {"taken": {"crm:7": owner}}
    other = client.post("/customers", json={"name": "B"}).json()["id"]
    error_of(client.patch(f"/customers/{other}", json={"add_identities": ["crm:7"]}), 409, "conflict")
    assert client.get(f"/customers/{other}").json()["identities"] == []


def test_update_changes_only_what_is_sent(runtime: Runtime, api: ClientFactory) -> None:
    cid = make_customer(
        runtime, name="Ann", identities=["crm:1"], attributes={"city": "Leeds", "tier": "gold"}
    )
    client = api(api_user(runtime).token)
    response = client.patch(
        f"/customers/{cid}",
        json={
            "kind": "business",
            "attributes": {"city": None, "size": 12},
            "add_identities": ["vat:GB123"],
            "remove_identities": ["crm:1"],
        },
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["name"], body["kind"]) == ("Ann", "business")
    assert body["attributes"] == {"tier": "gold", "size": 12}
    assert body["identities"] == ["vat:GB123"]
    history = client.get(f"/customers/{cid}/history").json()
    assert history[0]["action"] == "customer.updated"
    assert history[0]["details"]["attributes.city"] == {"from": "Leeds", "to": None}


def test_attribute_values_are_scalar_and_keep_their_types(runtime: Runtime, api: ClientFactory) -> None:
    client = api(api_user(runtime).token)
    nested = {"b": [1, 2, {"c": None}]}
    problem = "attribute 'b' must be text, a number, true/false or a date, not a list"
    cid = client.post("/customers", json={"name": "Ann", "attributes": {"stores": 2}}).json()["id"]
    for response in (
        client.post("/customers", json={"name": "Bob", "attributes": nested}),
        client.patch(f"/customers/{cid}", json={"attributes": nested}),
    ):
        error = error_of(response, 422, "invalid")
        assert (error["message"], error["details"]) == (
            f"attributes: {problem}",
            [{"field": "attributes", "problem": problem}],
        )
    typed = {"spend": 1250.5, "vip": False, "since": "2019-03-01", "city": "Leeds"}
    assert client.patch(f"/customers/{cid}", json={"attributes": typed}).status_code == 200
    (ann,) = client.get("/customers").json()["items"]
    assert client.get(f"/customers/{ann['id']}").json()["attributes"] == {"stores": 2, **typed}


def test_search_filters_and_pages(runtime: Runtime, api: ClientFactory) -> None:
    for n in range(7):
        make_customer(runtime, name=f"Shopper {n}", identities=[f"email:shopper{n}@example.com"])
    make_customer(runtime, name="Acme Ltd", kind=CustomerKind.BUSINESS, identities=["vat:GB999"])
    client = api(api_user(runtime).token)
    page = client.get("/customers", params={"q": "shopper", "offset": 2, "limit": 3}).json()
    assert (page["total"], page["offset"], page["limit"]) == (7, 2, 3)
    assert [c["name"] for c in page["items"]] == ["Shopper 2", "Shopper 3", "Shopper 4"]
    assert page["items"][0]["differentiators"] == page["items"][0]["acknowledged"] == 0
    assert page["items"][0]["last_encounter_at"] is None
    assert [c["name"] for c in client.get("/customers", params={"kind": "business"}).json()["items"]] == [
        "Acme Ltd"
    ]
    assert client.get("/customers", params={"q": "gb999"}).json()["total"] == 1
    assert client.get("/customers", params={"q": "99999999999999999999"}).json()["total"] == 0
    assert fields_at_fault(client.get("/customers", params={"offset": -1})) == {"offset"}
    assert fields_at_fault(client.get("/customers", params={"limit": 0})) == {"limit"}
    assert fields_at_fault(client.get("/customers", params={"limit": 501})) == {"limit"}
    assert fields_at_fault(client.get("/customers", params={"q": "x" * 201})) == {"q"}
    assert fields_at_fault(client.get("/customers", params={"kind": "robot"})) == {"kind"}


def test_merging_needs_the_merge_permission(runtime: Runtime, api: ClientFactory) -> None:
    a, b = make_customer(runtime), make_customer(runtime)
    error = error_of(
        api(api_user(runtime, Role.FRONTLINE).token).post(f"/customers/{a}/merge", json={"merged_id": b}),
        403,
        "forbidden",
    )
    assert error["details"] == {"permission": "merge_customers", "role": "frontline"}
    manager = api(api_user(runtime, Role.MANAGER).token)
    error_of(manager.post(f"/customers/{a}/merge", json={"merged_id": a}), 422, "invalid")
    error_of(manager.post(f"/customers/{a}/merge", json={"merged_id": 4242}), 404, "not_found")
    assert fields_at_fault(manager.post(f"/customers/{a}/merge", json={"merged_id": "b"})) == {"merged_id"}
    assert manager.get(f"/customers/{b}").json()["merged_into_id"] is None


def test_merge_through_the_api_loses_nothing(runtime: Runtime, api: ClientFactory) -> None:
    clerk, manager = api_user(runtime), api_user(runtime, Role.MANAGER)
    client, boss = api(clerk.token), api(manager.token)
    survivor = client.post(
        "/customers",
        json={"name": "Ann", "identities": ["email:ann@example.com"], "attributes": {"city": "Leeds"}},
    ).json()["id"]
    duplicate = client.post(
        "/customers",
        json={
            "name": "Ann E.",
            "identities": ["crm:42", "phone:0113 496 0000"],
            "attributes": {"city": "York", "shoe": "38"},
        },
    ).json()["id"]
    kept = client.post(
        f"/customers/{survivor}/differentiators", json={"text": "Runs marathons", "category": "free_time"}
    )
    meeting = client.post(
        f"/customers/{duplicate}/encounters",
        json={
            "channel": "store",
            "notes": "Bought shoes",
            "facts": [{"text": "Two kids", "category": "family"}],
        },
    ).json()
    moved_fact = client.post(
        f"/customers/{duplicate}/differentiators", json={"text": "Vegetarian", "category": "values"}
    ).json()
    ack = client.post(
        f"/differentiators/{moved_fact['id']}/acknowledge",
        json={"encounter_id": meeting["id"], "how": "suggested the veggie menu"},
    )
    assert ack.status_code == 200, ack.text
    before = {
        "identities": set(client.get(f"/customers/{survivor}").json()["identities"])
        | set(client.get(f"/customers/{duplicate}").json()["identities"]),
        "facts": {
            f["id"]: (f["text"], f["acknowledgement"])
            for cid in (survivor, duplicate)
            for f in client.get(f"/customers/{cid}/differentiators").json()
        },
        "history": {
            e["id"] for cid in (survivor, duplicate) for e in client.get(f"/customers/{cid}/history").json()
        },
    }
    assert kept.status_code == 201 and len(before["facts"]) == 3

    response = boss.post(f"/customers/{survivor}/merge", json={"merged_id": duplicate})
    assert response.status_code == 200, response.text
    merged = response.json()
    assert merged["merged_id"] == duplicate
    assert merged["moved"] == {
        "identities": 2,
        "consent_records": 0,
        "differentiators": 2,
        "encounters": 1,
        "messages": 0,
        "recovery_cases": 0,
        "promises": 0,
        "rating_predictions": 0,
    }
    record = merged["survivor"]
    assert set(record["identities"]) == before["identities"]
    assert record["attributes"] == {"city": "Leeds", "shoe": "38"}  # the survivor's city stays

    facts = client.get(f"/customers/{survivor}/differentiators").json()
    assert {f["id"]: (f["text"], f["acknowledgement"]) for f in facts} == before["facts"]
    assert {f["customer_id"] for f in facts} == {survivor}
    (encounter,) = client.get(f"/customers/{survivor}/encounters").json()
    assert (encounter["id"], encounter["notes"], encounter["customer_id"]) == (
        meeting["id"],
        "Bought shoes",
        survivor,
    )
    assert client.get(f"/customers/{survivor}/recognition").json() == {
        "current": 3,
        "acknowledged": 1,
        "ratio": 0.3333,
    }

    # The old id and the old identities still lead to the survivor; the duplicate is no longer listed.
    assert client.get(f"/customers/{duplicate}").json()["id"] == survivor
    assert client.get("/customers/by-identity/phone:01134960000").json()["id"] == survivor
    assert [c["id"] for c in client.get("/customers").json()["items"]] == [survivor]
    history = client.get(f"/customers/{survivor}/history").json()
    assert before["history"] <= {e["id"] for e in history}
    assert history[0]["action"] in {"customer.merged", "customer.merged_away"}
    error_of(boss.post(f"/customers/{survivor}/merge", json={"merged_id": duplicate}), 409, "conflict")
    error_of(client.patch(f"/customers/{duplicate}", json={"name": "X"}), 409, "conflict")
