"""A session ends everywhere at once: a cookie copied before sign-out, a new password or deactivation is
refused afterwards, though cookies are not stored (the user's session version, web/session.py)."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
from itsdangerous import URLSafeTimedSerializer

from segone.accounts.schemas import Role
from segone.runtime import Runtime
from segone.web.session import _SALT, COOKIE_NAME
from tests.conftest import LiveServer, serving_with
from tests.factories import MadeUser, make_user
from tests.web.conftest import client_for, signed_in, token_of


def _copy_of(server: LiveServer, client: httpx.Client) -> httpx.Client:
    """Another client holding the very same cookie, as a thief or a second tab would."""
    copy = client_for(server)
    copy.cookies.set(COOKIE_NAME, client.cookies[COOKIE_NAME])
    return copy


def _sign_out(server: LiveServer, user: MadeUser, _admin: httpx.Client, client: httpx.Client) -> None:
    response = client.post("/logout", data={"csrf_token": token_of(client)})
    assert response.status_code == 303


def _new_password(server: LiveServer, user: MadeUser, admin: httpx.Client, _client: httpx.Client) -> None:
    response = admin.post(
        f"/admin/users/{user.id}",
        data={
            "csrf_token": token_of(admin, f"/admin/users/{user.id}"),
            "name": "Renamed",
            "role": user.role.value,
            "team": "Store 1",
            "password": "a brand new password",
        },
    )
    assert response.status_code == 303, response.text


def _deactivation(server: LiveServer, user: MadeUser, admin: httpx.Client, _client: httpx.Client) -> None:
    response = admin.post(
        f"/admin/users/{user.id}/deactivate",
        data={"csrf_token": token_of(admin, f"/admin/users/{user.id}")},
    )
    assert response.status_code == 303, response.text


Ending = Callable[[LiveServer, MadeUser, httpx.Client, httpx.Client], None]


@pytest.mark.parametrize("ending", [_sign_out, _new_password, _deactivation], ids=lambda f: f.__name__[1:])
def test_a_cookie_copied_before_the_session_ended_is_refused_after(
    live_server: LiveServer, ending: Ending
) -> None:
    user = make_user(live_server.runtime, Role.FRONTLINE)
    admin = make_user(live_server.runtime, Role.ADMIN)
    with signed_in(live_server, admin) as admin_client, signed_in(live_server, user) as client:
        # A second session of the same user (another device), which must end too.
        with signed_in(live_server, user) as elsewhere, _copy_of(live_server, client) as copy:
            for each in (client, copy, elsewhere):
                assert each.get("/").status_code == 200
            ending(live_server, user, admin_client, client)
            for each in (copy, elsewhere):
                response = each.get("/")
                assert response.status_code == 303
                assert response.headers["location"].startswith("/login")
            # Posting with the copied cookie and its form token changes nothing either.
            assert copy.post("/customers", data={"name": "Intruder"}).status_code in (303, 403)
        # The administrator's own session is untouched.
        assert admin_client.get("/").status_code == 200


def test_signing_in_again_after_sign_out_works(live_server: LiveServer) -> None:
    user = make_user(live_server.runtime, Role.FRONTLINE)
    with signed_in(live_server, user) as client:
        client.post("/logout", data={"csrf_token": token_of(client)})
    with signed_in(live_server, user) as again:
        assert again.get("/").status_code == 200


def test_the_cookie_is_secure_when_the_request_came_over_https(live_server: LiveServer) -> None:
    # uvicorn trusts X-Forwarded-Proto from 127.0.0.1: what a local HTTPS proxy sends.
    with client_for(live_server) as client:
        plain = client.get("/login").headers["set-cookie"]
    with client_for(live_server) as client:
        proxied = client.get("/login", headers={"X-Forwarded-Proto": "https"}).headers["set-cookie"]
    assert "secure" not in plain.lower()
    assert "secure" in proxied.lower()


def test_the_setting_makes_every_cookie_secure(sqlite_runtime: Runtime) -> None:
    with serving_with(sqlite_runtime, cookie_secure=True) as server, client_for(server) as client:
        assert "secure" in client.get("/login").headers["set-cookie"].lower()


def test_a_cookie_signed_before_session_versions_existed_ends(live_server: LiveServer) -> None:
    # The shape of the cookie before migration 0025: a fingerprint of the password hash, no version.
    user = make_user(live_server.runtime, Role.FRONTLINE)
    serializer = URLSafeTimedSerializer(live_server.runtime.settings.resolved_secret_key(), salt=_SALT)
    old = serializer.dumps({"u": user.id, "p": "0123456789abcdef", "c": "form-token", "f": []})
    with client_for(live_server) as client:
        client.cookies.set(COOKIE_NAME, old)
        assert client.get("/").status_code == 303
