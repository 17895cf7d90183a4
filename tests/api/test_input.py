"""Input the API refuses, over real HTTP: blank names, numbers posing as booleans, NUL characters, and
the OpenAPI schema saying so beforehand (docs/security.md, "Input")."""

from __future__ import annotations

import typing

import httpx
from fastapi.routing import APIRoute, iter_route_contexts
from pydantic import BaseModel

from segone.accounts.schemas import Role
from segone.inputs import InputModel
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
