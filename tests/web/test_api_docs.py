"""The API's reference pages work with no network but segone's: Swagger UI at /docs, ReDoc at /redoc.

Chromium is given segone's address only: every request to another host is aborted and recorded. A page
that needs a CDN (a script, a style sheet, a font, a logo) shows nothing or records a request, and fails.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import httpx
import pytest
from playwright.sync_api import BrowserContext, Page, Route, expect

from tests.conftest import LiveServer

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

LOOPBACK = {"127.0.0.1", "localhost"}
CUSTOMERS = "/api/v1/customers"


@dataclass
class Offline:
    """A page whose requests leave the machine only to be aborted, each one written down."""

    page: Page
    aborted: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)

    def route(self, route: Route) -> None:
        url = route.request.url
        if urlsplit(url.removeprefix("blob:")).hostname in LOOPBACK:
            route.continue_()
        else:
            self.aborted.append(url)
            route.abort("internetdisconnected")


@pytest.fixture
def offline(context: BrowserContext) -> Iterator[Offline]:
    page = context.new_page()
    watch = Offline(page)
    # On the context, not the page, so that requests from the viewers' web workers are caught too.
    context.route("**/*", watch.route)
    page.on("requestfailed", lambda request: watch.failed.append(f"{request.url}: {request.failure}"))
    yield watch
    page.close()


def operations_of(server: LiveServer) -> list[tuple[str, str]]:
    document = httpx.get(f"{server.url}/openapi.json", timeout=20).json()
    return [
        (method.upper(), path)
        for path, item in document["paths"].items()
        for method in item
        if method in {"get", "post", "put", "patch", "delete"}
    ]


def test_swagger_ui_shows_every_operation_offline(sqlite_live_server: LiveServer, offline: Offline) -> None:
    page = offline.page
    page.goto(f"{sqlite_live_server.url}/docs")

    # Swagger UI renders about 200 operations at once: seconds on a busy two-core machine (CI missed 5 s).
    expect(page.locator(f'.opblock-get .opblock-summary-path[data-path="{CUSTOMERS}"]')).to_be_visible(
        timeout=30_000
    )
    expect(page.locator(".opblock")).to_have_count(len(operations_of(sqlite_live_server)), timeout=30_000)
    assert page.title() == "Segment of One API - Swagger UI"
    page.wait_for_load_state("networkidle")
    assert offline.aborted == [], "the page asked another host"
    assert offline.failed == []


def test_redoc_shows_the_operations_offline(sqlite_live_server: LiveServer, offline: Offline) -> None:
    page = offline.page
    page.goto(f"{sqlite_live_server.url}/redoc")

    # ReDoc lays out the whole specification (about 200 operations) before it shows anything: seconds on a
    # busy two-core machine.
    expect(page.get_by_role("heading", name="Segment of One", level=1)).to_be_visible(timeout=60_000)
    operations = operations_of(sqlite_live_server)
    # ReDoc gives each operation a section with its method and path.
    expect(page.locator("[data-section-id^='tag/'][data-section-id*='/operation/']")).to_have_count(
        len(operations), timeout=30_000
    )
    expect(page.get_by_text(CUSTOMERS, exact=True).first).to_be_visible()
    page.wait_for_load_state("networkidle")  # the sidebar's logo comes last
    assert offline.aborted == [], "the page asked another host"
    assert offline.failed == []
