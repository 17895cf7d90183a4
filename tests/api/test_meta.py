"""The categories in force, the health check, and the OpenAPI document people read at /docs."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from segone import __version__
from segone.accounts.schemas import Role
from segone.knowledge.categories.schemas import DEFAULT_CATEGORIES
from segone.runtime import Runtime
from segone.server import create_app
from segone.settings import Settings
from tests.api.conftest import ClientFactory
from tests.api.helpers import api_routes, api_user, error_of, fields_at_fault
from tests.conftest import LiveServer

DOCS = Path(__file__).parents[2] / "docs" / "api-examples.md"


def test_health_needs_no_token_and_asks_the_database(runtime: Runtime, api: ClientFactory) -> None:
    response = api(None).get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "version": __version__, "database": "ok"}


@pytest.fixture
def server_without_database(tmp_path: Path) -> Iterator[LiveServer]:
    # Nothing listens on port 1: every connection is refused at once.
    settings = Settings(data_dir=tmp_path, database_url="postgresql+psycopg://postgres@127.0.0.1:1/none")
    server = LiveServer(Runtime(settings))
    yield server
    server.stop()
    server.runtime.dispose()


def test_health_says_when_the_database_does_not_answer(server_without_database: LiveServer) -> None:
    response = httpx.get(server_without_database.url + "/api/v1/health", timeout=30)
    assert response.status_code == 503
    assert response.json() == {"status": "error", "version": __version__, "database": "unavailable"}


def test_categories(runtime: Runtime, api: ClientFactory) -> None:
    error_of(api(None).get("/categories"), 401, "unauthenticated")
    client = api(api_user(runtime, Role.FRONTLINE).token)
    everything = client.get("/categories").json()
    assert [c["name"] for c in everything] == [c.name for c in DEFAULT_CATEGORIES]
    family = next(c for c in everything if c["name"] == "family")
    assert family == {
        "name": "family",
        "label": "Family make-up",
        "kind": "consumer",
        "prompt": "Who do they live with, and who do they buy for?",
    }
    business = client.get("/categories", params={"kind": "business"}).json()
    person = client.get("/categories", params={"kind": "person"}).json()
    assert {c["kind"] for c in business} == {"business", "both"}
    assert {c["kind"] for c in person} == {"consumer", "both"}
    assert len(business) + len(person) == len(everything) + sum(c["kind"] == "both" for c in everything)
    assert fields_at_fault(client.get("/categories", params={"kind": "consumer"})) == {"kind"}


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path, secret_key="test-secret-key")


def test_every_operation_is_documented_for_its_readers(settings: Settings) -> None:
    document = create_app(settings).openapi()
    operations = [
        (method.upper(), path, operation)
        for path, item in document["paths"].items()
        if path.startswith("/api/v1")
        for method, operation in item.items()
    ]
    assert len(operations) >= 25
    error_schema = {"$ref": "#/components/schemas/ErrorOut"}
    for method, path, operation in operations:
        where = f"{method} {path}"
        assert operation.get("summary") and operation["summary"][0].isupper(), where
        assert len(operation.get("description", "")) > 30, where
        assert operation.get("tags"), where
        if path.endswith("/health") or path.endswith("/customers/import"):
            continue
        assert operation.get("security") == [{"HTTPBearer": []}], where
        assert operation["responses"]["401"]["content"]["application/json"]["schema"] == error_schema, where
        # A caller who failed the token check too often is refused before it (accounts/throttle.py).
        assert operation["responses"]["429"]["content"]["application/json"]["schema"] == error_schema, where
        if operation.get("requestBody"):  # the body size cap (docs/security.md, "Input")
            assert operation["responses"]["413"]["content"]["application/json"]["schema"] == error_schema, (
                where
            )
        if operation.get("parameters") or operation.get("requestBody"):
            assert operation["responses"]["422"]["content"]["application/json"]["schema"] == error_schema, (
                where
            )


def _verb(call: str) -> str:
    explicit = re.search(r"-X\s+([A-Z]+)", call)
    if explicit:
        return explicit.group(1)
    return "POST" if re.search(r"\s(-d|--data|--data-binary|--json|-F)\s", call) else "GET"


def test_the_curl_examples_name_real_routes(settings: Settings) -> None:
    """docs/api-examples.md: every curl call is a route of the API with the method it takes, and the
    JSON bodies are JSON (except in the Errors section, which sends broken JSON on purpose)."""
    routes = [
        (method, re.compile("^" + re.sub(r"\{[^}]+\}", "[^/?]+", path) + r"(\?.*)?$"))
        for method, path in api_routes(create_app(settings))
    ]
    text = DOCS.read_text(encoding="utf-8")
    calls = re.findall(r"curl\b(.*?)(?<!\\)\n", text, flags=re.S)
    for body in re.findall(r"-d '([^']*)'", text.split("\n## Errors\n")[0]):
        json.loads(body)
    seen = set()
    for call in calls:
        url = re.search(r"\$SEGONE(/api/v1/[^\"\s]*)", call)
        assert url, call
        verb, path = _verb(call), url.group(1)
        assert any(verb == m and pattern.match(path) for m, pattern in routes), f"{verb} {path}"
        seen.add((verb, re.sub(r"/\d+", "/{id}", path.split("?")[0])))
    assert len(seen) >= 24, sorted(seen)
