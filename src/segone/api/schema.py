"""The OpenAPI document says what the validation behind it checks, so that a request the schema allows
is not refused (a fuzzer such as schemathesis holds the API to that).

What the models cannot say themselves is added here, once, for every operation: the categories in
force (a setting) as the enum of a fact's category, that the address may not hold a NUL character
(the input guard refuses one), and the 413 of a body over the size cap.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

from fastapi import FastAPI

from segone.api.errors import ErrorOut
from segone.inputs import NO_NUL

_TOO_LARGE = {
    "description": "The body is larger than the server accepts (SEGONE_MAX_BODY_MB, or SEGONE_MAX_UPLOAD_MB "
    "for imports); it was not read.",
    "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{ErrorOut.__name__}"}}},
}


def make_precise(app: FastAPI, *, categories: Sequence[str]) -> None:
    """Replace ``app.openapi`` by one whose document is refined as this module says."""
    generate: Callable[[], dict[str, Any]] = app.openapi

    def openapi() -> dict[str, Any]:
        fresh = app.openapi_schema is None
        document = generate()  # FastAPI keeps it: it is refined once
        if fresh:
            refine(document, categories=categories)
        return document

    app.openapi = openapi  # type: ignore[method-assign]


def refine(document: dict[str, Any], *, categories: Sequence[str]) -> None:
    components = document.get("components", {}).get("schemas", {})
    for operation in _operations(document):
        for parameter in operation.get("parameters", []):
            for schema in _strings(parameter.get("schema", {})):
                schema.setdefault("pattern", NO_NUL)
        if "requestBody" in operation:
            operation["responses"].setdefault("413", _TOO_LARGE)
            for name in _request_models(operation["requestBody"], components):
                category = components[name].get("properties", {}).get("category")
                for schema in _strings(category or {}):
                    schema["enum"] = list(categories)


def _operations(document: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for item in document.get("paths", {}).values():
        for method, operation in item.items():
            if method in ("get", "put", "post", "delete", "patch", "head", "options"):
                yield operation


def _strings(schema: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The string schemas of a schema, alone or among the choices of ``anyOf`` (an optional one)."""
    if schema.get("type") == "string" and "enum" not in schema and "format" not in schema:
        yield schema
    for choice in schema.get("anyOf", []):
        yield from _strings(choice)


def _request_models(body: Any, components: dict[str, Any]) -> set[str]:
    """The names of the component schemas a request body refers to, however deeply."""
    found: set[str] = set()
    pending = [body]
    while pending:
        value = pending.pop()
        if isinstance(value, dict):
            ref = value.get("$ref")
            if isinstance(ref, str) and ref.split("/")[-1] not in found:
                name = ref.split("/")[-1]
                found.add(name)
                pending.append(components.get(name, {}))
            pending.extend(v for k, v in value.items() if k != "$ref")
        elif isinstance(value, list):
            pending.extend(value)
    return found
