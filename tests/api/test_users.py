"""Your own account and tokens (/me), and users managed by administrators (/users), over real HTTP."""

from __future__ import annotations

from segone.accounts.schemas import Role
from segone.runtime import Runtime
from tests.api.conftest import ClientFactory
from tests.api.helpers import api_user, error_of, fields_at_fault


def test_anonymous_callers_are_turned_away(runtime: Runtime, api: ClientFactory) -> None:
    anonymous = api(None)
    for response in (
        anonymous.get("/me"),
        anonymous.get("/me/tokens"),
        anonymous.post("/me/tokens", json={"name": "x"}),
        anonymous.delete("/me/tokens/1"),
        anonymous.get("/users"),
        anonymous.post("/users", json={"email": "a@example.com", "role": "admin"}),
        anonymous.get("/users/1"),
        anonymous.patch("/users/1", json={"role": "admin"}),
        anonymous.post("/users/1/tokens"),
    ):
        error_of(response, 401, "unauthenticated")


def test_me(runtime: Runtime, api: ClientFactory) -> None:
    manager = api_user(runtime, Role.MANAGER, team="Store 7")
    me = api(manager.token).get("/me").json()
    assert (me["id"], me["email"], me["role"], me["team"], me["active"]) == (
        manager.id,
        manager.email,
        "manager",
        "Store 7",
        True,
    )


def test_my_tokens_create_use_list_and_revoke(runtime: Runtime, api: ClientFactory) -> None:
    clerk = api_user(runtime)
    client = api(clerk.token)
    response = client.post("/me/tokens", json={"name": "till 3"})
    assert response.status_code == 201, response.text
    created = response.json()
    secret = created["token"]
    assert secret.startswith("sg1_") and created["prefix"] == secret[:10] and created["name"] == "till 3"
    assert api(secret).get("/me").json()["email"] == clerk.email

    unnamed = client.post("/me/tokens")
    assert unnamed.status_code == 201 and unnamed.json()["name"] == "api"
    listed = client.get("/me/tokens").json()
    assert [t["name"] for t in listed] == ["tests", "till 3", "api"]
    assert all("token" not in t for t in listed)  # the secret is shown once only
    assert fields_at_fault(client.post("/me/tokens", json={"name": ""})) == {"name"}
    assert fields_at_fault(client.post("/me/tokens", json={"name": "x" * 121})) == {"name"}

    revoked = client.delete(f"/me/tokens/{created['id']}")
    assert revoked.status_code == 200 and revoked.json()["revoked_at"] is not None
    error_of(api(secret).get("/me"), 401, "unauthenticated")
    assert client.delete(f"/me/tokens/{created['id']}").json()["revoked_at"] == revoked.json()["revoked_at"]
    assert client.get("/me").status_code == 200  # the other tokens still work


def test_another_users_token_is_not_found(runtime: Runtime, api: ClientFactory) -> None:
    clerk, colleague = api_user(runtime), api_user(runtime)
    theirs = api(colleague.token).get("/me/tokens").json()[0]["id"]
    error_of(api(clerk.token).delete(f"/me/tokens/{theirs}"), 404, "not_found")
    error_of(api(clerk.token).delete("/me/tokens/4242"), 404, "not_found")
    assert api(colleague.token).get("/me").status_code == 200
    assert fields_at_fault(api(clerk.token).delete("/me/tokens/0")) == {"token_id"}


def test_only_administrators_manage_users(runtime: Runtime, api: ClientFactory) -> None:
    target = api_user(runtime)
    for role in (Role.FRONTLINE, Role.MANAGER, Role.ANALYST):
        client = api(api_user(runtime, role).token)
        for response in (
            client.get("/users"),
            client.post("/users", json={"email": "new@example.com", "role": "frontline"}),
            client.get(f"/users/{target.id}"),
            client.patch(f"/users/{target.id}", json={"role": "admin"}),
            client.post(f"/users/{target.id}/tokens"),
        ):
            error = error_of(response, 403, "forbidden")
            assert error["details"] == {"permission": "manage_users", "role": role.value}
    me = api_user(runtime, Role.ANALYST)
    assert api(me.token).get(f"/users/{me.id}").json()["email"] == me.email  # yourself, yes
    assert api(target.token).get("/me").json()["role"] == "frontline"


def test_unknown_users(runtime: Runtime, api: ClientFactory) -> None:
    admin = api(api_user(runtime, Role.ADMIN).token)
    error_of(admin.get("/users/4242"), 404, "not_found")
    error_of(admin.patch("/users/4242", json={"name": "X"}), 404, "not_found")
    error_of(admin.post("/users/4242/tokens"), 404, "not_found")
    assert fields_at_fault(admin.get("/users/99999999999")) == {"user_id"}


def test_administrators_add_change_and_deactivate_users(runtime: Runtime, api: ClientFactory) -> None:
    admin_user = api_user(runtime, Role.ADMIN)
    admin = api(admin_user.token)
    response = admin.post("/users", json={"email": " Bea@Example.com", "role": "manager", "team": "North"})
    assert response.status_code == 201, response.text
    bea = response.json()
    assert (bea["email"], bea["name"], bea["role"], bea["team"], bea["active"]) == (
        "bea@example.com",
        "bea",
        "manager",
        "North",
        True,
    )
    assert admin.get(f"/users/{bea['id']}").json() == bea
    assert bea["email"] in [u["email"] for u in admin.get("/users").json()]
    error_of(admin.post("/users", json={"email": "bea@example.com", "role": "admin"}), 409, "conflict")
    assert fields_at_fault(admin.post("/users", json={"email": "not an address", "role": "admin"})) == {
        "email"
    }
    assert fields_at_fault(admin.post("/users", json={"email": "c@example.com", "role": "boss"})) == {"role"}
    assert fields_at_fault(
        admin.post("/users", json={"email": "c@example.com", "role": "admin", "password": "short"})
    ) == {"password"}

    token = admin.post(f"/users/{bea['id']}/tokens", json={"name": "feed"})
    assert token.status_code == 201, token.text
    bea_client = api(token.json()["token"])
    assert bea_client.get("/me").json()["email"] == "bea@example.com"

    changed = admin.patch(f"/users/{bea['id']}", json={"name": "Bea Smith", "role": "analyst", "team": None})
    assert changed.status_code == 200, changed.text
    assert (changed.json()["name"], changed.json()["role"], changed.json()["team"]) == (
        "Bea Smith",
        "analyst",
        None,
    )
    assert bea_client.get("/me").json()["role"] == "analyst"

    assert admin.patch(f"/users/{bea['id']}", json={"active": False}).json()["active"] is False
    error_of(bea_client.get("/me"), 401, "unauthenticated")
    error_of(admin.post(f"/users/{bea['id']}/tokens"), 422, "invalid")
    assert fields_at_fault(admin.patch(f"/users/{bea['id']}", json={"active": "perhaps"})) == {"active"}
