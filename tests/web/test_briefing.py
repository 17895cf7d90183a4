"""The briefing in a real browser (headless Chromium) on a tablet held upright, opened from the home page."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, expect

from segone.views.briefing import EMPTY, TITLES
from tests.behaviour.conftest import DUCKDB_WARNING
from tests.conftest import LiveServer
from tests.factories import make_user
from tests.views.test_briefing import two_customers
from tests.web.test_browser import no_horizontal_scroll, sign_in

pytestmark = [
    pytest.mark.browser,
    pytest.mark.xdist_group("browser"),
    pytest.mark.filterwarnings(DUCKDB_WARNING),
]
UPRIGHT_TABLET = {"width": 768, "height": 1024}


def test_who_are_you_about_to_meet_opens_their_briefing(
    sqlite_live_server: LiveServer, browser: Browser
) -> None:
    server = sqlite_live_server
    world = two_customers(server.runtime)
    context = browser.new_context(viewport=UPRIGHT_TABLET, locale="en-GB", timezone_id="Europe/London")
    context.set_default_timeout(10_000)
    try:
        page = context.new_page()
        sign_in(page, server, make_user(server.runtime))
        expect(page.get_by_text("Who are you about to meet?")).to_be_visible()
        page.get_by_label("Find a customer by name, number or any id").fill("ann@example.com")
        page.get_by_role("button", name="Brief me").click()
        page.wait_for_url(f"{server.url}/customers/{world.ann}/briefing")

        expect(page.get_by_role("heading", name="Ann Archer")).to_be_visible()
        headings = page.locator(".brief-section h2").all_inner_texts()
        assert headings == list(TITLES.values())
        # The most important first, readable without scrolling sideways.
        first = page.locator(".brief-section").first
        expect(first).to_contain_text("Keeps bees on the roof")
        expect(page.locator("#brief-changes")).to_contain_text("Slowing: no purchase for 100 days")
        expect(page.locator("#brief-changes")).to_contain_text("A complaint since the last encounter")
        expect(page.locator("#brief-offers")).to_contain_text(EMPTY["offers"])
        expect(page.locator("#brief-service")).to_contain_text(EMPTY["service"])
        assert no_horizontal_scroll(page)
        page.screenshot(path="/tmp/segone-briefing-768.png", full_page=True)

        page.get_by_role("link", name="Print view").click()
        page.wait_for_url(f"{server.url}/customers/{world.ann}/briefing?print=1")
        expect(page.locator(".topbar")).to_have_count(0)
        expect(page.get_by_role("link", name="Print view")).to_be_hidden()
        expect(page.locator("#brief-unique")).to_contain_text("Keeps bees on the roof")
        assert no_horizontal_scroll(page)
        page.screenshot(path="/tmp/segone-briefing-print.png", full_page=True)
    finally:
        context.close()
