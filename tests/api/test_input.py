"""Input the API refuses, over real HTTP: blank names, numbers posing as booleans, NUL characters, and
the OpenAPI schema saying so beforehand (docs/security.md, "Input")."""

from __future__ import annotations

import typing

import httpx
from fastapi.routing import APIRoute, iter_route_contexts
from pydantic import BaseModel

from segone.accounts.schemas import Role
from segone.customers.schemas import IDENTITY_PATTERN
from segone.inputs import NO_NUL, InputModel
from segone.runtime import Runtime
from segone.server import create_app
from tests.api.conftest import ClientFactory
from tests.api.helpers import api_user, error_of, fields_at_fault
from tests.conftest import LiveServer
from tests.factories import make_customer


def test_a_blank_name_and_an_integer_boolean_are_refused_by_field(
    runtime: Runtime, api: ClientFactory
) -> None:
    admin = api(api_user(runtime, Role.ADMIN).token)
    clerk = api_user(runtime)
    assert fields_at_fault(admin.patch(f"/users/{clerk.id}", json={"name": "", "active": 0})) == {
        "name",
        "active",
    }
    assert fields_at_fault(admin.patch(f"/users/{clerk.id}", json={"name": "   "})) == {"name"}
    assert fields_at_fault(admin.patch(f"/users/{clerk.id}", json={"active": "false"})) == {"active"}
    assert fields_at_fault(admin.patch(f"/users/{clerk.id}", json={"team": ""})) == {"team"}
    assert admin.get(f"/users/{clerk.id}").json()["active"] is True  # nothing was changed
    renamed = admin.patch(f"/users/{clerk.id}", json={"name": "  Ann Lee ", "active": False})
    assert renamed.status_code == 200, renamed.text
    assert (renamed.json()["name"], renamed.json()["active"]) == ("Ann Lee", False)
    assert fields_at_fault(
        admin.post("/users", json={"email": "b@example.com", "role": "admin", "name": ""})
    ) == {"name"}


def test_names_are_never_blank_and_numbers_are_not_text(runtime: Runtime, api: ClientFactory) -> None:
    admin = api(api_user(runtime, Role.ADMIN).token)
    customer_id = make_customer(runtime)
    assert fields_at_fault(admin.patch(f"/customers/{customer_id}", json={"name": " "})) == {"name"}
    assert fields_at_fault(admin.post("/customers", json={"name": "Ann", "attributes": {"": 1}})) == {
        "attributes.[key]"
    }
    assert fields_at_fault(admin.post("/offerings", json={"key": "k1", "name": "  "})) == {"name"}
    assert fields_at_fault(admin.post("/surveys", json={"name": ""})) == {"name"}
    assert fields_at_fault(admin.post("/customers", json={"name": "Ann", "merged": 1, "kind": 1})) == {"kind"}
    assert fields_at_fault(admin.post(f"/customers/{customer_id}/merge", json={"merged_id": "2"})) == {
        "merged_id"
    }
    assert fields_at_fault(admin.post(f"/customers/{customer_id}/merge", json={"merged_id": True})) == {
        "merged_id"
    }


def test_a_nul_character_is_refused_and_the_schema_says_so(
    runtime: Runtime, api: ClientFactory, live_server: LiveServer
) -> None:
    admin = api(api_user(runtime, Role.ADMIN).token)
    error = error_of(admin.post("/customers", json={"name": "Ann\u0000Lee"}), 422, "invalid")
    assert error["details"] == [
        {"field": "name", "problem": "text may not contain the NUL character (\\u0000)"}
    ]
    schema = httpx.get(f"{live_server.url}/openapi.json").json()["components"]["schemas"]
    assert schema["CustomerCreate"]["properties"]["name"]["pattern"] == "^[^\\x00]*$"
    assert schema["UserUpdate"]["properties"]["name"]["anyOf"][0]["minLength"] == 1
    assert schema["UserUpdate"]["properties"]["active"]["anyOf"][0] == {"type": "boolean"}
    assert schema["CustomerCreate"]["properties"]["attributes"]["propertyNames"] == {"minLength": 1}


def test_every_request_body_is_an_input_model(runtime: Runtime) -> None:
    """So a body added later is strict by construction."""
    app = create_app(runtime=runtime)
    models: set[type[BaseModel]] = set()
    for context in iter_route_contexts(app.routes):
        route = context.route
        if isinstance(route, APIRoute):
            for param in route.dependant.body_params:
                models |= _models_in(param.field_info.annotation)
    assert len(models) > 30
    assert {m.__name__ for m in models if not issubclass(m, InputModel)} == set()


def _models_in(annotation: object) -> set[type[BaseModel]]:
    found: set[type[BaseModel]] = set()
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        found.add(annotation)
        for field in annotation.model_fields.values():
            found |= _models_in(field.annotation)
    for arg in typing.get_args(annotation):
        found |= _models_in(arg)
    return found


def test_options_answers_with_the_methods_of_the_path(runtime: Runtime, api: ClientFactory) -> None:
    client = api(None)
    user = client.options("/users/1")
    assert user.status_code == 204 and user.content == b""
    assert user.headers["allow"] == "GET, HEAD, OPTIONS, PATCH"
    assert client.options("/customers").headers["allow"] == "GET, HEAD, OPTIONS, POST"
    error_of(client.options("/no-such-thing"), 404, "not_found")


def test_the_schema_says_what_the_validation_checks(
    runtime: Runtime, api: ClientFactory, live_server: LiveServer
) -> None:
    document = httpx.get(f"{live_server.url}/openapi.json").json()
    schemas = document["components"]["schemas"]
    listed = api(api_user(runtime).token).get("/categories").json()
    categories = [c["name"] for c in listed]
    assert schemas["DifferentiatorCreate"]["properties"]["category"]["enum"] == categories
    assert schemas["NewFact"]["properties"]["category"]["enum"] == categories
    identity = schemas["CustomerCreate"]["properties"]["identities"]["items"]
    assert identity["pattern"] == IDENTITY_PATTERN
    by_identity = document["paths"]["/api/v1/customers/by-identity/{identity}"]["get"]["parameters"]
    assert by_identity[0]["schema"]["pattern"] == IDENTITY_PATTERN
    search = document["paths"]["/api/v1/customers"]["get"]["parameters"]
    assert {p["name"]: p["schema"]["anyOf"][0]["pattern"] for p in search if p["name"] == "q"} == {
        "q": NO_NUL
    }
    assert "409" in document["paths"]["/api/v1/users/{user_id}"]["patch"]["responses"]
    # What the schema allows is taken: a valid identity in odd spacing and case, a listed category.
    admin = api(api_user(runtime, Role.ADMIN).token)
    made = admin.post("/customers", json={"name": "Ann", "identities": [" Email : Ann@Example.com"]})
    assert made.status_code == 201 and made.json()["identities"] == ["email:ann@example.com"], made.text
    personal = next(c["name"] for c in listed if c["kind"] != "business")
    fact = admin.post(
        f"/customers/{made.json()['id']}/differentiators", json={"text": "x", "category": personal}
    )
    assert fact.status_code == 201, fact.text
    assert fields_at_fault(admin.post("/customers", json={"name": "Bo", "identities": ["no colon"]})) == {
        "identities"
    }
