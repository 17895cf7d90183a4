"""Failed sign-ins are limited per account and per client address (accounts/throttle.py): past the limit a
clear 429 page with Retry-After, whatever the password; other accounts from other addresses go on."""

from __future__ import annotations

import time

import httpx

from segone.accounts.schemas import Role
from segone.runtime import Runtime
from tests.conftest import LiveServer, serving_with
from tests.factories import PASSWORD, make_user
from tests.web.conftest import client_for, token_of


def _sign_in(server: LiveServer, email: str, password: str, address: str) -> httpx.Response:
    # uvicorn takes the client's address from X-Forwarded-For when the request comes from 127.0.0.1, as
    # behind a local proxy: so one test machine can be many clients.
    with client_for(server) as client:
        client.headers["X-Forwarded-For"] = address
        token = token_of(client, "/login")
        return client.post("/login", data={"csrf_token": token, "email": email, "password": password})


def test_the_26th_wrong_password_is_refused_with_429_and_others_go_on(sqlite_runtime: Runtime) -> None:
    user = make_user(sqlite_runtime, Role.ADMIN)
    other = make_user(sqlite_runtime, Role.FRONTLINE)
    limits = {"auth_failures_per_account": "25 per 10 minutes", "auth_failures_per_address": "1000 per hour"}
    with serving_with(sqlite_runtime, **limits) as server:
        for attempt in range(25):
            response = _sign_in(server, user.email, f"guess {attempt}", "10.0.0.1")
            assert response.status_code == 401, attempt
        refused = _sign_in(server, user.email, "guess 26", "10.0.0.1")
        assert refused.status_code == 429
        assert 0 < int(refused.headers["Retry-After"]) <= 600
        assert "text/html" in refused.headers["content-type"]
        assert "Too many failed sign-ins for this account" in refused.text
        assert '<form method="post" action="/login"' in refused.text  # the way on: the form, for later
        # The right password is refused too while the account is locked: a guesser learns nothing.
        assert _sign_in(server, user.email, PASSWORD, "10.0.0.9").status_code == 429
        # Another account from another address signs in as ever.
        assert _sign_in(server, other.email, PASSWORD, "10.0.0.2").status_code == 303


def test_an_address_that_failed_too_often_is_refused_for_every_account(sqlite_runtime: Runtime) -> None:
    users = [make_user(sqlite_runtime, Role.FRONTLINE) for _ in range(4)]
    limits = {"auth_failures_per_account": "100 per hour", "auth_failures_per_address": "3 per 10 minutes"}
    with serving_with(sqlite_runtime, **limits) as server:
        for user in users[:3]:
            assert _sign_in(server, user.email, "wrong", "10.0.1.1").status_code == 401
        assert _sign_in(server, users[3].email, PASSWORD, "10.0.1.1").status_code == 429
        assert _sign_in(server, users[3].email, PASSWORD, "10.0.1.2").status_code == 303


def test_the_limit_lifts_when_the_window_has_passed(sqlite_runtime: Runtime) -> None:
    user = make_user(sqlite_runtime, Role.FRONTLINE)
    limits = {"auth_failures_per_account": "2 per 2 seconds", "auth_failures_per_address": "1000 per hour"}
    with serving_with(sqlite_runtime, **limits) as server:
        for _ in range(2):
            assert _sign_in(server, user.email, "wrong", "10.0.2.1").status_code == 401
        refused = _sign_in(server, user.email, PASSWORD, "10.0.2.1")
        assert refused.status_code == 429
        time.sleep(float(refused.headers["Retry-After"]) + 0.2)
        assert _sign_in(server, user.email, PASSWORD, "10.0.2.1").status_code == 303


def test_a_successful_sign_in_clears_the_account_count(sqlite_runtime: Runtime) -> None:
    user = make_user(sqlite_runtime, Role.FRONTLINE)
    limits = {"auth_failures_per_account": "3 per 10 minutes", "auth_failures_per_address": "1000 per hour"}
    with serving_with(sqlite_runtime, **limits) as server:
        for _ in range(2):
            assert _sign_in(server, user.email, "typo", "10.0.3.1").status_code == 401
        assert _sign_in(server, user.email, PASSWORD, "10.0.3.1").status_code == 303
        for _ in range(3):  # 'in a row': the count started again
            assert _sign_in(server, user.email, "typo", "10.0.3.1").status_code == 401
        assert _sign_in(server, user.email, PASSWORD, "10.0.3.1").status_code == 429
