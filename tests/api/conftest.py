"""Fixtures of the API tests: HTTP clients of the live server, one per token."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import httpx
import pytest

from tests.conftest import LiveServer

API = "/api/v1"

ClientFactory = Callable[[str | None], httpx.Client]


@pytest.fixture(scope="session")
def _transport() -> Iterator[httpx.HTTPTransport]:
    # One transport for every client: building one loads the CA bundle, which takes longer than a call.
    transport = httpx.HTTPTransport()
    yield transport
    transport.close()


def _clients(server: LiveServer, transport: httpx.HTTPTransport) -> Iterator[ClientFactory]:
    def client(token: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=server.url + API, headers=headers, timeout=30, transport=transport)

    yield client


@pytest.fixture
def api(live_server: LiveServer, _transport: httpx.HTTPTransport) -> Iterator[ClientFactory]:
    """``api(token)``: a client of the live server's /api/v1 (anonymous without a token); both backends."""
    yield from _clients(live_server, _transport)


@pytest.fixture
def sqlite_api(sqlite_live_server: LiveServer, _transport: httpx.HTTPTransport) -> Iterator[ClientFactory]:
    yield from _clients(sqlite_live_server, _transport)
