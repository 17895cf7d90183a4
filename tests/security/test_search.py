"""Every search box and filter, web and API, given SQL metacharacters, wildcards, NUL and very long text.

The boxes are the GET routes' free-text query parameters, read from the application: one added later is
tried by construction. Each answer must be a page or a 4xx (never a 5xx), show none of the text as markup,
and leave the tables as they were; a ``LIKE`` wildcard matches itself, not everything.
"""

from __future__ import annotations

import httpx

from segone.server import create_app
from tests.conftest import LiveServer
from tests.factories import make_customer
from tests.security.hostile import HTML, MARKUP, concrete, get_routes, seed
from tests.web.conftest import signed_in

HOSTILE_QUERIES = (
    "' OR 1=1 --",
    '" OR ""="',
    "%",
    "_",
    "\\",
    "%%_\\%",
    ";DROP TABLE customers;--",
    "1; SELECT pg_sleep(5)",
    "a\x00b",
    "\x00",
    "x" * 5000,
    HTML,
    "ünïcödé ✓ \U0001f600",
)


def _api(live_server: LiveServer, token: str) -> httpx.Client:
    return httpx.Client(base_url=live_server.url, headers={"Authorization": f"Bearer {token}"}, timeout=60)


def _counts(api: httpx.Client) -> tuple[int, ...]:
    return tuple(
        api.get(path, params={"limit": 1}).json()["total"]
        for path in ("/api/v1/customers", "/api/v1/offerings", "/api/v1/audit")
    )


def test_every_search_box_takes_hostile_text(live_server: LiveServer) -> None:
    seeded = seed(live_server.runtime)
    routes = [r for r in get_routes(create_app(runtime=live_server.runtime)) if r.text_query]
    assert {"/customers", "/search", "/api/v1/customers", "/api/v1/search", "/api/v1/audit"} <= {
        r.path for r in routes
    }
    problems = []
    with signed_in(live_server, seeded.admin) as web, _api(live_server, seeded.admin.token) as api:
        before = _counts(api)
        for route in routes:
            client = api if route.is_api else web
            for path in concrete(route.path, seeded.ids):
                for name in route.text_query:
                    for text in HOSTILE_QUERIES:
                        where = f"GET {path}?{name}={text[:30]!r}"
                        try:
                            response = client.get(path, params={name: text})
                        except httpx.TransportError as exc:  # the server gave up on the request
                            problems.append(f"{where}: {exc!r}")
                            continue
                        if response.status_code >= 500:
                            problems.append(f"{where}: {response.status_code}")
                        elif response.headers.get("content-type", "").startswith("text/html"):
                            problems += [f"{where} shows {m!r}" for m in MARKUP if m in response.text]
        # Nothing was dropped, added or changed: the audit log only grows by the reads it records.
        after = _counts(api)
    assert not problems, "\n".join(problems[:60])
    assert after[:2] == before[:2] and after[2] >= before[2]


def test_wildcards_in_a_search_match_themselves(live_server: LiveServer) -> None:
    seeded = seed(live_server.runtime)
    cotton = make_customer(live_server.runtime, name="Cotton 100% Ltd")
    underscore = make_customer(live_server.runtime, name="snake_case fan")
    backslash = make_customer(live_server.runtime, name="back\\slash")
    with _api(live_server, seeded.admin.token) as api:

        def found(q: str) -> set[int]:
            response = api.get("/api/v1/customers", params={"q": q, "limit": 200})
            assert response.status_code == 200, response.text
            return {c["id"] for c in response.json()["items"]}

        assert found("%") == {cotton}
        assert found("0% L") == {cotton}
        assert found("_") == {underscore}
        assert found("e_c") == {underscore}
        assert found("\\") == {backslash}
        assert found("' OR 1=1 --") == set()
        offerings = api.get("/api/v1/offerings", params={"q": "%"}).json()
        assert offerings["total"] == 0
    with signed_in(live_server, seeded.admin) as web:
        page = web.get("/customers", params={"q": "%"}).text
        assert "Cotton 100% Ltd" in page and "snake_case fan" not in page
