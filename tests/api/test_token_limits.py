"""Failed API token checks count against the caller's address, as failed sign-ins do: past the limit every
call from there is a 429 in the API's error shape, with Retry-After; other addresses go on."""

from __future__ import annotations

import httpx

from segone.accounts.schemas import Role
from segone.runtime import Runtime
from tests.api.conftest import API
from tests.api.helpers import error_of
from tests.conftest import serving_with
from tests.factories import make_user


def test_too_many_bad_tokens_from_one_address_get_429(sqlite_runtime: Runtime) -> None:
    user = make_user(sqlite_runtime, Role.FRONTLINE)
    limits = {"auth_failures_per_address": "5 per 10 minutes"}
    with serving_with(sqlite_runtime, **limits) as server:

        def call(token: str | None, address: str) -> httpx.Response:
            headers = {"X-Forwarded-For": address}
            if token:
                headers["Authorization"] = f"Bearer {token}"
            return httpx.get(f"{server.url}{API}/categories", headers=headers, timeout=20)

        for attempt in range(5):
            bad = call(None if attempt == 0 else f"sg1_guess{attempt}", "10.1.0.1")
            error_of(bad, 401, "unauthenticated")
        refused = call("sg1_guess6", "10.1.0.1")
        error_of(refused, 429, "too_many_attempts")
        assert 0 < int(refused.headers["Retry-After"]) <= 600
        # Refused before the token is looked at: a right one from there waits too.
        error_of(call(user.token, "10.1.0.1"), 429, "too_many_attempts")
        assert call(user.token, "10.1.0.2").status_code == 200
