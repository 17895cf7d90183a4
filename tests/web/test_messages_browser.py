"""In a real browser (headless Chromium) on a tablet: open a briefing, draft a message, mark it sent, and
see on the customer sheet that the customer now knows we know what it revealed."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import BrowserContext, expect

from segone.accounts.schemas import SYSTEM, Role
from segone.knowledge.categories.service import in_force as categories_in_force
from segone.knowledge.facts import service as knowledge
from segone.knowledge.facts.schemas import DifferentiatorCreate
from tests.behaviour.conftest import DUCKDB_WARNING
from tests.conftest import LiveServer
from tests.factories import make_customer, make_user
from tests.web.test_browser import no_horizontal_scroll, sign_in

pytestmark = [
    pytest.mark.browser,
    pytest.mark.xdist_group("browser"),
    pytest.mark.filterwarnings(DUCKDB_WARNING),
]


def test_draft_a_message_from_the_briefing_and_mark_it_sent(
    sqlite_live_server: LiveServer, context: BrowserContext
) -> None:
    server = sqlite_live_server
    runtime = server.runtime
    customer = make_customer(runtime, name="Ann Archer", identities=["email:ann@example.com"])
    with runtime.session() as db:
        categories = categories_in_force(runtime.settings)
        kids, bees = (
            knowledge.add(
                db,
                actor=SYSTEM,
                customer_id=customer,
                data=DifferentiatorCreate(text=text, category=category),
                categories=categories,
            ).id
            for text, category in (("Has two children", "family"), ("Keeps bees on the roof", "free_time"))
        )
    page = context.new_page()
    sign_in(page, server, make_user(runtime, Role.FRONTLINE), then=f"/customers/{customer}/briefing")

    page.get_by_label("Message purpose").select_option("thank-you")
    page.get_by_role("button", name="Draft a message").click()
    page.wait_for_url(f"{server.url}/customers/{customer}/messages/draft?purpose=thank-you")
    expect(page.get_by_role("heading", name="A message to Ann Archer")).to_be_visible()
    text = page.get_by_label("Text")
    expect(text).to_have_value(
        re.compile(
            r"Dear Ann,\n\nThank you for your visit\. It was good to hear what matters to you: "
            r"you keep bees on the roof\.\n\nIf anything is not quite right for you, tell us and you will "
            r"have our full attention\.\n\nBest wishes,\nFrontline \d+"
        )
    )
    expect(page.locator("#revealed")).to_contain_text("Keeps bees on the roof")
    expect(page.locator("#about-them")).to_contain_text("100%")
    assert no_horizontal_scroll(page)

    # An edit that says something about us is marked when checked again; the bees stay mentioned.
    text.fill(
        text.input_value().replace("Thank you for your visit.", "Thank you for your visit. We are proud.")
    )
    page.get_by_role("button", name="Check again").click()
    expect(page.locator("#about-them mark")).to_have_text("We are proud.")
    expect(page.locator("#revealed")).to_contain_text("Keeps bees on the roof")
    page.get_by_label("Sent by").select_option("letter")
    page.screenshot(path="/tmp/segone-message-draft.png", full_page=True)
    page.get_by_role("button", name="Mark sent").click()

    page.wait_for_url(f"{server.url}/customers/{customer}")
    expect(page.locator(".flash")).to_contain_text("Now they know we know: Keeps bees on the roof.")
    bees_fact = page.locator(f"#fact-{bees}")
    expect(bees_fact).to_have_class("fact known")
    expect(bees_fact.locator(".known-note")).to_contain_text("through message of")
    expect(bees_fact.locator(".known-note")).to_contain_text("(thank-you)")
    expect(page.locator(f"#fact-{kids}")).not_to_have_class("fact known")
    expect(page.locator("#recognition")).to_contain_text("Knows we know 1 of 2 differentiators")
    page.screenshot(path="/tmp/segone-message-sent.png", full_page=True)
