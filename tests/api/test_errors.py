"""Bad input is a 4xx in the one error shape, never a 500: on SQLite and on PostgreSQL alike.

Hand-picked cases first (text and numbers no backend stores the same way, broken JSON), then random
requests derived from the OpenAPI document: each body field gets a value of about the right kind, or of
any kind at all, and each path id is a real one, a missing one or an impossible one.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from segone.accounts.schemas import SYSTEM, Role
from segone.channels import Channel
from segone.encounters import service as encounters
from segone.encounters.schemas import EncounterCreate
from segone.knowledge.categories.service import in_force as categories_in_force
from segone.knowledge.facts import service as knowledge
from segone.knowledge.facts.schemas import DifferentiatorCreate
from segone.runtime import Runtime
from segone.server import create_app
from segone.settings import Settings
from tests.api.conftest import ClientFactory
from tests.api.helpers import api_user, error_of, fields_at_fault
from tests.factories import make_customer

JSON = {"content-type": "application/json"}


def _raw(
    client: httpx.Client, path: str, body: bytes | str, headers: dict[str, str] = JSON
) -> httpx.Response:
    return client.post(path, content=body, headers=headers)


def test_text_that_not_every_database_can_hold_is_refused(runtime: Runtime, api: ClientFactory) -> None:
    client = api(api_user(runtime).token)
    # PostgreSQL cannot store NUL characters, and no database stores half a surrogate pair: refused
    # everywhere, so that SQLite does not keep what PostgreSQL would refuse.
    assert fields_at_fault(_raw(client, "/customers", r'{"name": "Ann\u0000"}')) == {"name"}
    assert fields_at_fault(_raw(client, "/customers", r'{"name": "Ann", "attributes": {"a\u0000": 1}}')) == {
        "attributes"
    }
    assert fields_at_fault(_raw(client, "/customers", r'{"name": "Ann", "identities": ["crm:\ud800"]}')) == {
        "identities.0"
    }
    # The same as an upper-case escape, as UTF-8 bytes that the JSON parser passes through, and in a
    # UTF-16 body: the guard looks for them in the raw body before it walks the document.
    assert fields_at_fault(_raw(client, "/customers", r'{"name": "Ann\uDFFF"}')) == {"name"}
    surrogate = b'{"name": "Ann \xed\xa0\x80"}'
    assert fields_at_fault(_raw(client, "/customers", surrogate)) == {"name"}
    utf16 = '{"name": "Ann\\u0000"}'.encode("utf-16")
    assert fields_at_fault(_raw(client, "/customers", utf16)) == {"name"}
    assert _raw(client, "/customers", '{"name": "Ann \\ud83d\\ude00 \\u00e9"}').status_code == 201
    error = error_of(client.get("/customers", params={"q": "a\x00b"}), 422, "invalid")
    assert "NUL" in error["message"]
    error_of(client.get("/customers/by-identity/crm:%00"), 422, "invalid")
    assert client.get("/customers").json()["total"] == 1  # the one with a pair of surrogates: an emoji


def test_numbers_json_does_not_have_are_refused(runtime: Runtime, api: ClientFactory) -> None:
    client = api(api_user(runtime).token)
    for number in ("NaN", "Infinity", "-Infinity", "1e999"):
        response = _raw(client, "/customers", f'{{"name": "Ann", "attributes": {{"score": {number}}}}}')
        assert fields_at_fault(response) == {"body"}, number
    cid = make_customer(runtime)
    response = _raw(client, f"/customers/{cid}/encounters", '{"channel": "call", "listening_share": NaN}')
    error_of(response, 422, "invalid")
    assert client.get(f"/customers/{cid}/encounters").json() == []
    for field, body in (
        ("merged_id", {"merged_id": 2**31}),
        ("merged_id", {"merged_id": 10**30}),
    ):
        assert fields_at_fault(client.post(f"/customers/{cid}/merge", json=body)) == {field}
    assert (
        api(api_user(runtime, Role.MANAGER).token)
        .post(f"/customers/{cid}/merge", json={"merged_id": 2**31})
        .status_code
        == 422
    )


def test_broken_and_misdeclared_bodies(runtime: Runtime, api: ClientFactory) -> None:
    client = api(api_user(runtime).token)
    for body in (
        '{"name": "Ann"',
        "",
        "null",
        '"Ann"',
        "[" * 50_000,
        '{"name": ' + "9" * 5000 + "}",
        b"\xff\xfe",
    ):
        response = _raw(client, "/customers", body)
        assert fields_at_fault(response) <= {"body", "name"}, (body[:20], response.text)
    error_of(_raw(client, "/customers", '{"name": "Ann"}', {"content-type": "text/plain"}), 422, "invalid")
    error_of(
        _raw(client, "/customers", "name=Ann", {"content-type": "application/x-www-form-urlencoded"}),
        422,
        "invalid",
    )
    assert (
        _raw(
            client, "/customers", '{"name": "Ann"}', {"content-type": "application/json; charset=utf-8"}
        ).status_code
        == 201
    )


def test_a_broken_multipart_upload_is_a_422_naming_the_body(runtime: Runtime, api: ClientFactory) -> None:
    """Found by tests/api/test_fuzz.py: Starlette answered a body it cannot parse as multipart with an
    undocumented 400."""
    client = api(api_user(runtime, Role.ANALYST).token)
    broken = {"content-type": "multipart/form-data; boundary=xyz"}
    for path in ("/customers/import", "/offerings/import"):
        response = _raw(client, path, "--xyz\r\n[not a header]\r\n\r\nname\r\n--xyz--\r\n", broken)
        assert fields_at_fault(response) == {"body"}, response.text
        assert "multipart" in response.json()["error"]["message"]


# --- random requests --------------------------------------------------------------------------------

_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30)
)
_any_json = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=6,
)


_PLAUSIBLE_TEXT = [
    "family",
    "values",
    "growth_plans",
    "crm:1",
    "email:a@b.co",
    "2026-01-01T00:00:00Z",
    "call",
]
_NASTY_TEXT = ["a\x00b", "crm:\x00", " ", "0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-05:00", "1e999"]


def _resolve(schema: dict[str, Any], document: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = document["components"]["schemas"][name]
    return schema


def _value_for(schema: dict[str, Any], document: dict[str, Any], depth: int = 0) -> st.SearchStrategy[Any]:
    """A value of about the kind the schema asks for (the edges of its bounds included), or of any kind."""
    schema = _resolve(schema, document)
    choices: list[st.SearchStrategy[Any]] = [_any_json]
    if "enum" in schema:
        choices.append(st.sampled_from(schema["enum"]))
    for option in schema.get("anyOf", []) + schema.get("allOf", []):
        choices.append(_value_for(option, document, depth + 1))
    kind = schema.get("type")
    if kind == "string":
        longest = schema.get("maxLength", 50)
        choices += [
            st.text(max_size=min(longest + 2, 60)),
            st.sampled_from(_PLAUSIBLE_TEXT),
            st.sampled_from(_NASTY_TEXT),
            st.just("x" * (longest + 1)),
        ]
    elif kind == "integer":
        choices.append(st.integers(-3, 3) | st.sampled_from([2**31 - 1, 2**31, 2**63, 10**20, -(2**63)]))
    elif kind == "number":
        choices.append(st.floats(-2, 2, allow_nan=False) | st.sampled_from([0.0, 1.0, 1e308, -1e308]))
    elif kind == "boolean":
        choices.append(st.booleans())
    elif kind == "array" and depth < 3:
        choices.append(st.lists(_value_for(schema.get("items", {}), document, depth + 1), max_size=3))
    elif (kind == "object" or "properties" in schema) and depth < 3:
        choices.append(_object_for(schema, document, depth + 1))
    return st.one_of(*choices)


def _object_for(schema: dict[str, Any], document: dict[str, Any], depth: int = 0) -> st.SearchStrategy[Any]:
    properties = _resolve(schema, document).get("properties", {})
    return st.fixed_dictionaries(
        {}, optional={name: _value_for(sub, document, depth) for name, sub in properties.items()}
    )


def _operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """(method, path, operation) of every API operation that takes a JSON body or query parameters."""
    found = []
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if not path.startswith("/api/v1") or method == "delete" or path.endswith("/import"):
                continue
            if "application/json" in operation.get("requestBody", {}).get("content", {}) or any(
                p["in"] == "query" for p in operation.get("parameters", [])
            ):
                found.append((method.upper(), path.removeprefix("/api/v1"), operation))
    return found


_DOCUMENT = create_app(Settings(secret_key="unused")).openapi()
_OPERATIONS = _operations(_DOCUMENT)
_IMPOSSIBLE_IDS = ["0", "-1", "4242", str(2**31), "99999999999999999999", "x"]


@st.composite
def _requests(draw: st.DrawFn, ids: dict[str, list[str]]) -> tuple[str, str, Any, dict[str, Any]]:
    method, path, operation = draw(st.sampled_from(_OPERATIONS))
    for name, real in ids.items():
        if "{" + name + "}" in path:
            path = path.replace("{" + name + "}", draw(st.sampled_from(real + _IMPOSSIBLE_IDS)))
    path = path.replace("{identity}", draw(st.sampled_from(["crm:1", "x", "email:%20", "crm:" + "9" * 400])))
    params = {
        p["name"]: draw(_value_for(p["schema"], _DOCUMENT).map(json.dumps) | st.text(max_size=20))
        for p in operation.get("parameters", [])
        if p["in"] == "query" and draw(st.booleans())
    }
    body: Any = None
    request_body = operation.get("requestBody", {}).get("content", {}).get("application/json")
    if request_body:
        body = draw(_value_for(request_body["schema"], _DOCUMENT))
    return method, path, body, params


def test_the_operations_are_found() -> None:
    posts = {(m, p) for m, p, _ in _OPERATIONS}
    assert ("POST", "/customers/{customer_id}/encounters") in posts
    assert ("PATCH", "/users/{user_id}") in posts
    assert ("GET", "/customers") in posts


def test_random_requests_never_fail_on_the_server(runtime: Runtime, api: ClientFactory) -> None:
    admin = api_user(runtime, Role.ADMIN)
    client = api(admin.token)
    customer = make_customer(runtime, identities=["crm:1"])
    target = api_user(runtime)
    with runtime.session() as db:
        encounter = encounters.record(
            db,
            actor=SYSTEM,
            customer_id=customer,
            data=EncounterCreate(channel=Channel.CALL),
            categories=categories_in_force(runtime.settings),
        ).id
        fact = knowledge.add(
            db,
            actor=SYSTEM,
            customer_id=customer,
            data=DifferentiatorCreate(text="Two kids", category="family"),
            categories=categories_in_force(runtime.settings),
        ).id
    ids = {
        "customer_id": [str(customer)],
        "differentiator_id": [str(fact)],
        "encounter_id": [str(encounter)],
        "user_id": [str(target.id)],  # never the admin's own id: a random PATCH could lock them out
    }
    statuses: dict[int, int] = {}

    @settings(
        max_examples=150,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(request=_requests(ids))
    def check(request: tuple[str, str, Any, dict[str, Any]]) -> None:
        method, path, body, params = request
        response = client.request(method, path, json=body, params=params)
        statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
        assert response.status_code < 500, (method, path, body, params, response.text)
        if response.status_code >= 400:
            error_of(response, response.status_code, response.json()["error"]["code"])

    check()
    assert statuses.get(422, 0) > 0 and sum(n for s, n in statuses.items() if s < 300) > 0, statuses
    assert client.get("/me").status_code == 200  # the admin was not locked out along the way
