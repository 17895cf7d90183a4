"""Helpers for the web UI tests: a signed-in HTTP client, the form token of a page, Debian's Chromium."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from html import unescape

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, sync_playwright

from segone.accounts.schemas import Role
from tests.conftest import LiveServer
from tests.factories import PASSWORD, MadeUser, make_user


def pytest_configure(config: pytest.Config) -> None:
    # Registered here too, so the browser tests' group marker is known when xdist is not loaded.
    config.addinivalue_line("markers", "xdist_group(name): run these tests in one xdist worker")


CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
TABLET = {"width": 1024, "height": 768}


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    context = browser.new_context(viewport=TABLET, locale="en-GB", timezone_id="Europe/London")
    context.set_default_timeout(10_000)
    yield context
    context.close()


_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(html: str) -> str:
    match = _TOKEN.search(html)
    assert match, "the page has no form token"
    return match.group(1)


def client_for(server: LiveServer) -> httpx.Client:
    return httpx.Client(base_url=server.url, follow_redirects=False, timeout=20)


def sign_in(server: LiveServer, user: MadeUser) -> httpx.Client:
    client = client_for(server)
    token = csrf_of(client.get("/login").text)
    response = client.post("/login", data={"csrf_token": token, "email": user.email, "password": PASSWORD})
    assert response.status_code == 303, response.text
    return client


@contextmanager
def signed_in(server: LiveServer, user: MadeUser) -> Iterator[httpx.Client]:
    client = sign_in(server, user)
    try:
        yield client
    finally:
        client.close()


def token_of(client: httpx.Client, path: str = "/") -> str:
    response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    return csrf_of(response.text)


def field_error(html: str) -> list[str]:
    """The messages shown next to fields (and at the top of a form)."""
    return [unescape(m.strip()) for m in re.findall(r'class="(?:field|form)-error"[^>]*>([^<]+)<', html)]


@pytest.fixture
def frontline_client(live_server: LiveServer) -> Iterator[tuple[httpx.Client, MadeUser]]:
    user = make_user(live_server.runtime, Role.FRONTLINE)
    with signed_in(live_server, user) as client:
        yield client, user


@pytest.fixture
def manager_client(live_server: LiveServer) -> Iterator[tuple[httpx.Client, MadeUser]]:
    user = make_user(live_server.runtime, Role.MANAGER)
    with signed_in(live_server, user) as client:
        yield client, user


@pytest.fixture
def admin_client(live_server: LiveServer) -> Iterator[tuple[httpx.Client, MadeUser]]:
    user = make_user(live_server.runtime, Role.ADMIN)
    with signed_in(live_server, user) as client:
        yield client, user
