"""Your API tokens; administering users, roles and teams."""

from __future__ import annotations

import re

import httpx
import pytest

from segone.accounts import service as accounts
from segone.accounts.schemas import SYSTEM, Role
from segone.errors import Unauthenticated
from tests.conftest import LiveServer
from tests.factories import PASSWORD, MadeUser, make_user
from tests.web.conftest import client_for, field_error, signed_in, token_of


def test_create_a_token_shown_once_and_revoke_it(
    live_server: LiveServer, frontline_client: tuple[httpx.Client, MadeUser]
) -> None:
    client, user = frontline_client
    token = token_of(client, "/account")
    nameless = client.post("/account/tokens", data={"csrf_token": token, "name": ""})
    assert nameless.status_code == 422
    assert field_error(nameless.text)

    created = client.post("/account/tokens", data={"csrf_token": token, "name": "nightly import"})
    assert created.status_code == 200
    assert created.headers["cache-control"] == "no-store"
    secret = re.search(r'<code class="secret"[^>]*>([^<]+)</code>', created.text)
    assert secret, "the new token is shown"
    with live_server.runtime.session() as db:
        assert accounts.user_for_token(db, token=secret.group(1)).id == user.id

    again = client.get("/account").text
    assert secret.group(1) not in again  # shown once only
    assert "nightly import" in again
    with live_server.runtime.session() as db:
        tokens = accounts.list_tokens(db, actor=SYSTEM, user_id=user.id)
    token_id = next(t.id for t in tokens if t.name == "nightly import")
    revoked = client.post(f"/account/tokens/{token_id}/revoke", data={"csrf_token": token})
    assert revoked.status_code == 303
    assert "is revoked" in client.get("/account").text
    with live_server.runtime.session() as db, pytest.raises(Unauthenticated):
        accounts.user_for_token(db, token=secret.group(1))

    # Somebody else's token is not yours to revoke.
    other = make_user(live_server.runtime, Role.FRONTLINE)
    with live_server.runtime.session() as db:
        theirs = accounts.list_tokens(db, actor=SYSTEM, user_id=other.id)[0].id
    assert client.post(f"/account/tokens/{theirs}/revoke", data={"csrf_token": token}).status_code == 404


def test_admin_creates_a_user_changes_role_and_team_and_deactivates(
    live_server: LiveServer, admin_client: tuple[httpx.Client, MadeUser]
) -> None:
    client, admin = admin_client
    token = token_of(client, "/admin/users")
    bad = client.post(
        "/admin/users",
        data={"csrf_token": token, "email": "not-an-email", "role": "wizard", "password": "short"},
    )
    assert bad.status_code == 422
    assert len(field_error(bad.text)) >= 3

    created = client.post(
        "/admin/users",
        data={
            "csrf_token": token,
            "email": "Hal@Example.com",
            "name": "Hal Jordan",
            "role": "frontline",
            "team": "Leeds store",
            "password": PASSWORD,
        },
    )
    assert created.status_code == 303
    listing = client.get("/admin/users").text
    assert "Hal Jordan" in listing and "Leeds store" in listing and "front-line employee" in listing
    duplicate = client.post(
        "/admin/users", data={"csrf_token": token, "email": "hal@example.com", "role": "frontline"}
    )
    assert duplicate.status_code == 409
    with live_server.runtime.session() as db:
        hal = accounts.get_by_email(db, email="hal@example.com")
        hal_id = hal.id

    hal_user = MadeUser(hal_id, "hal@example.com", Role.FRONTLINE, accounts.actor_for(hal), "")
    with signed_in(live_server, hal_user) as hal_client:
        assert hal_client.get("/customers/1/merge").status_code == 403
        changed = client.post(
            f"/admin/users/{hal_id}",
            data={"csrf_token": token, "name": "Hal Jordan", "role": "manager", "team": "York store"},
        )
        assert changed.status_code == 303
        page = client.get(f"/admin/users/{hal_id}").text
        assert 'value="York store"' in page
        # The new role counts from the next page on: no need to sign in again.
        assert hal_client.get("/customers/1/merge").status_code == 404

        deactivated = client.post(f"/admin/users/{hal_id}/deactivate", data={"csrf_token": token})
        assert deactivated.status_code == 303
        assert "deactivated" in client.get(deactivated.headers["location"]).text
        assert hal_client.get("/").status_code == 303  # signed out everywhere
    with client_for(live_server) as anonymous:
        login_token = token_of(anonymous, "/login")
        refused = anonymous.post(
            "/login", data={"csrf_token": login_token, "email": "hal@example.com", "password": PASSWORD}
        )
        assert refused.status_code == 401
    assert client.post(f"/admin/users/{hal_id}/activate", data={"csrf_token": token}).status_code == 303

    myself = client.post(f"/admin/users/{admin.id}/deactivate", data={"csrf_token": token})
    assert myself.status_code == 409
    assert "You cannot deactivate yourself" in myself.text
    demote = client.post(
        f"/admin/users/{admin.id}", data={"csrf_token": token, "name": "Me", "role": "frontline"}
    )
    assert demote.status_code == 422
    assert "You cannot change your own role; ask another administrator." in field_error(demote.text)
