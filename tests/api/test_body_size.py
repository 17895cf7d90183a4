"""Request bodies over the caps are refused with a 413 before they are read whole (docs/security.md,
"Input"): a server whose caps are a few kilobytes, over real HTTP, and the middleware on its own."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from segone.accounts.schemas import Role
from segone.api.body_size import MB, BodySizeLimit
from segone.api.errors import Message, Receive, Scope, Send
from segone.customers.models import Customer
from segone.runtime import Runtime
from tests.api.helpers import api_user, error_of
from tests.conftest import LiveServer

BODY_LIMIT = 1024
UPLOAD_LIMIT = 4096


@pytest.fixture
def small(sqlite_runtime: Runtime) -> Iterator[tuple[Runtime, LiveServer]]:
    """The app over the SQLite store, with caps of 1 KB for bodies and 4 KB for imports."""
    settings = sqlite_runtime.settings.model_copy(
        update={"max_body_mb": BODY_LIMIT / MB, "max_upload_mb": UPLOAD_LIMIT / MB}
    )
    runtime = Runtime(settings, engine=sqlite_runtime.engine)
    server = LiveServer(runtime)
    yield runtime, server
    server.stop()


def _client(server: LiveServer, token: str) -> httpx.Client:
    return httpx.Client(base_url=f"{server.url}/api/v1", headers={"Authorization": f"Bearer {token}"})


def _chunks(total: int, size: int = 512) -> Iterator[bytes]:
    for _ in range(total // size):
        yield b" " * size


def _customers(runtime: Runtime) -> int:
    with runtime.session() as db:
        return db.scalar(select(func.count()).select_from(Customer)) or 0


def test_a_json_body_over_the_cap_is_413(small: tuple[Runtime, LiveServer]) -> None:
    runtime, server = small
    with _client(server, api_user(runtime, Role.ADMIN).token) as client:
        padded = '{"name": "Ann", "attributes": {"note": "' + "x" * 2000 + '"}}'
        declared = client.post("/customers", content=padded, headers={"Content-Type": "application/json"})
        error = error_of(declared, 413, "too_large")
        assert error["message"] == "The request body is larger than this server accepts (1024 bytes)."
        assert error["details"] == {"limit_bytes": BODY_LIMIT}
        # Chunked, without a Content-Length: counted as it arrives.
        chunked = client.post(
            "/customers", content=_chunks(64 * 1024), headers={"Content-Type": "application/json"}
        )
        error_of(chunked, 413, "too_large")
    with _client(server, api_user(runtime, Role.ADMIN).token) as client:
        small_enough = client.post("/customers", json={"name": "Ann"})
        assert small_enough.status_code == 201, small_enough.text
    assert _customers(runtime) == 1


def test_an_import_over_the_upload_cap_is_413_and_stores_nothing(small: tuple[Runtime, LiveServer]) -> None:
    runtime, server = small
    rows = "".join(f"Customer {n},email:c{n}@example.com\n" for n in range(200)).encode()
    csv = b"name,identities\n" + rows
    assert len(csv) > UPLOAD_LIMIT
    with _client(server, api_user(runtime, Role.ADMIN).token) as client:
        uploaded = client.post("/customers/import", files={"file": ("customers.csv", csv, "text/csv")})
        error_of(uploaded, 413, "too_large")
    with _client(server, api_user(runtime, Role.ADMIN).token) as client:
        streamed = client.post(
            "/customers/import", content=iter([csv[:3000], csv[3000:]]), headers={"Content-Type": "text/csv"}
        )
        error_of(streamed, 413, "too_large")
    assert _customers(runtime) == 0
    with _client(server, api_user(runtime, Role.ADMIN).token) as client:
        # The import cap, not the smaller body cap, applies to imports.
        fits = client.post(
            "/customers/import", content=csv[:2000].rsplit(b"\n", 1)[0], headers={"Content-Type": "text/csv"}
        )
        assert fits.status_code == 200, fits.text
    assert _customers(runtime) > 0


def test_an_endless_body_is_read_no_further_than_the_cap() -> None:
    """The middleware stops pulling a body that never ends once the cap is passed."""
    pulled = 0

    async def endless() -> Message:
        nonlocal pulled
        pulled += 1
        return {"type": "http.request", "body": b"x" * 100, "more_body": True}

    async def reads_everything(scope: Scope, receive: Receive, send: Send) -> None:
        while (await receive()).get("more_body"):
            pass
        raise AssertionError("the body has no end")

    sent: list[dict[str, Any]] = []

    async def send(message: Message) -> None:
        sent.append(dict(message))

    app = BodySizeLimit(reads_everything, max_body=1000, max_upload=5000)
    scope = {"type": "http", "method": "POST", "path": "/api/v1/customers", "headers": []}
    asyncio.run(app(scope, endless, send))
    assert sent[0]["status"] == 413
    assert pulled == 11  # 1,100 bytes: the first chunk over 1,000
