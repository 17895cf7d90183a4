"""A recovery in a real browser (headless Debian Chromium): from the customer sheet, open a case, record
what was done, close it with the customer's verdict; the sheet and the home page put it first meanwhile.

Screenshots land in /tmp (segone-recovery-*.png) so a person can judge the design.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import BrowserContext, expect

from segone.accounts.schemas import SYSTEM, Role
from segone.customer_service.recovery import service as recovery
from segone.customer_service.recovery.schemas import CaseStatus
from tests.conftest import LiveServer
from tests.customer_service.conftest import set_strategy
from tests.factories import make_customer, make_user
from tests.web.test_browser import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


def test_open_a_case_from_the_customer_sheet_and_close_it(
    sqlite_live_server: LiveServer, context: BrowserContext
) -> None:
    server = sqlite_live_server
    set_strategy(server.runtime)
    user = make_user(server.runtime, Role.FRONTLINE)
    customer = make_customer(
        server.runtime, name="Hollis Hardware", identities=["email:owner@hollis.example"]
    )
    page = context.new_page()
    sign_in(page, server, user, then=f"/customers/{customer}")

    recovery_section = page.locator("#recovery")
    expect(recovery_section.get_by_role("heading", name="Recovery")).to_be_visible()
    page.get_by_text("Open a recovery case").click()
    page.get_by_label("What went wrong for Hollis?").fill("The parcel was stolen from the doorstep")
    page.locator("#recovery").get_by_role("radio", name="High").check()
    page.get_by_role("button", name="Open the case").click()

    page.wait_for_url(f"{server.url}/recovery/*")
    expect(
        page.get_by_role("heading", name="Case 1: The parcel was stolen from the doorstep")
    ).to_be_visible()
    expect(page.locator("#flash")).to_contain_text("is open and yours")
    expect(page.locator(".case-head")).to_contain_text("high priority")

    # Meanwhile the sheet and the home page put it first.
    page.goto(f"{server.url}/customers/{customer}")
    expect(page.locator("#recovery h2")).to_have_text("Put right first: 1 open recovery case")
    page.screenshot(path="/tmp/segone-recovery-sheet.png", full_page=True)
    page.goto(f"{server.url}/")
    expect(page.locator("#recovery")).to_contain_text("The parcel was stolen from the doorstep")
    page.screenshot(path="/tmp/segone-recovery-home.png", full_page=True)
    page.locator("#recovery").get_by_role("link", name="The parcel was stolen").click()

    page.get_by_label("What did you do?").fill("Sent a replacement by courier at no charge")
    page.get_by_label("Exception granted").select_option("free-delivery")
    page.get_by_label("Its cost").fill("12.50")
    page.get_by_role("button", name="Record it").click()
    expect(page.locator("#actions")).to_contain_text("Sent a replacement by courier at no charge")
    expect(page.locator("#actions")).to_contain_text("Free delivery: $12.50")

    page.get_by_label("How was it put right?").fill("Replacement delivered the next morning")
    page.locator("#close").get_by_role("radio", name="Satisfied", exact=True).check()
    page.get_by_role("button", name="Close the case").click()
    expect(page.locator("#case-state")).to_have_text("closed · the customer satisfied")
    expect(page.get_by_role("button", name="Close the case")).to_have_count(0)
    page.screenshot(path="/tmp/segone-recovery-case.png", full_page=True)

    page.goto(f"{server.url}/customers/{customer}")
    expect(page.locator("#recovery h2")).to_have_text("Recovery")
    expect(page.locator("#recovery")).to_contain_text("Recently closed (1)")
    with server.runtime.session() as db:
        closed = recovery.list_cases(db, actor=SYSTEM, status=CaseStatus.CLOSED, customer_id=customer).items
    assert [(c.summary, c.verdict, c.exceptions_cost) for c in closed] == [
        ("The parcel was stolen from the doorstep", "satisfied", 12.5)
    ]
