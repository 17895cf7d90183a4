"""Signing in and out, the session cookie, and the form token every POST must carry."""

from __future__ import annotations

from urllib.parse import quote

import httpx
import pytest

from segone.accounts import service as accounts
from segone.accounts.schemas import SYSTEM, Role, UserUpdate
from segone.customers import service as customers
from segone.web.deps import safe_next
from segone.web.session import COOKIE_NAME
from tests.conftest import LiveServer
from tests.factories import PASSWORD, make_customer, make_user
from tests.web.conftest import client_for, csrf_of, signed_in, token_of


def test_sign_in_sets_a_safe_cookie_and_lands_on_the_page_asked_for(live_server: LiveServer) -> None:
    user = make_user(live_server.runtime, Role.FRONTLINE)
    customer_id = make_customer(live_server.runtime, name="Ada Byron")
    with client_for(live_server) as client:
        wanted = f"/customers/{customer_id}?added=1"
        first = client.get(wanted)
        assert first.status_code == 303
        assert first.headers["location"] == "/login?next=" + quote(wanted, safe="/")

        cookie = first.headers["set-cookie"]
        assert cookie.startswith(f"{COOKIE_NAME}=")
        assert "HttpOnly" in cookie
        assert "SameSite=lax" in cookie
        assert "Secure" not in cookie  # cookie_secure is off in the test settings
        page = client.get(first.headers["location"])
        assert page.status_code == 200

        response = client.post(
            "/login",
            data={
                "csrf_token": csrf_of(page.text),
                "email": user.email.upper(),
                "password": PASSWORD,
                "next": wanted,
            },
        )
        assert response.status_code == 303
        assert response.headers["location"] == wanted
        sheet = client.get(wanted)
        assert sheet.status_code == 200
        assert "Ada Byron" in sheet.text
        # Signed in already: the sign-in page sends you on.
        assert client.get("/login").status_code == 303


def test_a_wrong_password_shows_one_message_and_signs_nobody_in(live_server: LiveServer) -> None:
    user = make_user(live_server.runtime, Role.FRONTLINE)
    with client_for(live_server) as client:
        token = token_of(client, "/login")
        response = client.post("/login", data={"csrf_token": token, "email": user.email, "password": "nope"})
        assert response.status_code == 401
        assert "The e-mail address or the password is wrong." in response.text
        assert f'value="{user.email}"' in response.text  # the e-mail stays filled in
        unknown = client.post(
            "/login", data={"csrf_token": token, "email": "ghost@example.com", "password": PASSWORD}
        )
        assert unknown.status_code == 401
        assert client.get("/").status_code == 303


@pytest.mark.parametrize(
    ("asked", "goes_to"),
    [
        ("/customers/7?q=a", "/customers/7?q=a"),
        ("https://evil.example/", "/"),
        ("//evil.example/x", "/"),
        ("/\\evil.example", "/"),
        ("javascript:alert(1)", "/"),
        ("", "/"),
    ],
)
def test_next_is_only_ever_a_path_on_this_site(asked: str, goes_to: str) -> None:
    assert safe_next(asked) == goes_to


def test_sign_in_does_not_follow_a_next_that_leaves_the_site(live_server: LiveServer) -> None:
    user = make_user(live_server.runtime, Role.FRONTLINE)
    with client_for(live_server) as client:
        token = token_of(client, "/login")
        response = client.post(
            "/login",
            data={"csrf_token": token, "email": user.email, "password": PASSWORD, "next": "//evil.example/"},
        )
        assert response.status_code == 303
        assert response.headers["location"] == "/"


def test_sign_out_ends_the_session(live_server: LiveServer) -> None:
    user = make_user(live_server.runtime, Role.FRONTLINE)
    with signed_in(live_server, user) as client:
        token = token_of(client, "/")
        response = client.post("/logout", data={"csrf_token": token})
        assert response.status_code == 303
        assert response.headers["location"] == "/login"
        assert "You are signed out." in client.get("/login").text
        assert client.get("/").status_code == 303


def test_post_without_the_form_token_is_rejected_with_a_clear_page(live_server: LiveServer) -> None:
    user = make_user(live_server.runtime, Role.FRONTLINE)
    with signed_in(live_server, user) as client:
        for data in ({"name": "Sneaky"}, {"name": "Sneaky", "csrf_token": "forged"}):
            response = client.post("/customers", data=data)
            assert response.status_code == 403
            assert "This form has expired" in response.text
            assert "Nothing was changed" in response.text
        # A token from another session does not work here either.
        with signed_in(live_server, make_user(live_server.runtime, Role.FRONTLINE)) as other:
            foreign = token_of(other, "/customers/new")
        response = client.post("/customers", data={"name": "Sneaky", "csrf_token": foreign})
        assert response.status_code == 403
        # With the session's own token it works.
        response = client.post("/customers", data={"name": "Welcome", "csrf_token": token_of(client, "/")})
        assert response.status_code == 303
    with live_server.runtime.session() as db:
        names = [c.name for c in customers.search(db, actor=SYSTEM)[0]]
    assert names == ["Welcome"]


def test_sign_in_form_needs_its_token_too(live_server: LiveServer) -> None:
    user = make_user(live_server.runtime, Role.FRONTLINE)
    with client_for(live_server) as client:
        response = client.post("/login", data={"email": user.email, "password": PASSWORD})
        assert response.status_code == 403
        assert "This form has expired" in response.text
        assert client.get("/").status_code == 303


def test_a_tampered_cookie_is_worth_nothing(live_server: LiveServer) -> None:
    user = make_user(live_server.runtime, Role.ADMIN)
    with signed_in(live_server, user) as client:
        value = client.cookies[COOKIE_NAME]
        payload, _, signature = value.partition(".")
        client.cookies.set(COOKIE_NAME, payload[:-2] + "xx." + signature)
        assert client.get("/").status_code == 303
    with httpx.Client(base_url=live_server.url, cookies={COOKIE_NAME: "garbage"}) as client:
        response = client.get("/customers", follow_redirects=False)
        assert response.status_code == 303


def test_deactivating_or_a_new_password_ends_existing_sessions(live_server: LiveServer) -> None:
    runtime = live_server.runtime
    for change in (UserUpdate(password="a brand new one"), UserUpdate(active=False)):
        user = make_user(runtime, Role.FRONTLINE)
        with signed_in(live_server, user) as client:
            assert client.get("/").status_code == 200
            with runtime.session() as db:
                accounts.update(db, actor=SYSTEM, user_id=user.id, data=change)
            assert client.get("/").status_code == 303
    # A deactivated user cannot sign in again either.
    with client_for(live_server) as client:
        token = token_of(client, "/login")
        response = client.post(
            "/login", data={"csrf_token": token, "email": user.email, "password": PASSWORD}
        )
        assert response.status_code == 401
