"""A month's review in a real browser (headless Debian Chromium): a member of Sales finds Marketing's report
card from the home page, rates it with taps, and lands on the review, whose plot, figures and shortfalls
are those of the ratings; a manager then adds an action plan for the shortfall.

Screenshots land in /tmp (segone-cards-*.png) so a person can judge the design.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from playwright.sync_api import BrowserContext, expect

from segone.accounts.schemas import SYSTEM, Role
from segone.quality import service as quality
from segone.quality.periods import of_day
from segone.quality.schemas import CardCreate, RatingCreate
from tests.conftest import LiveServer
from tests.factories import make_user
from tests.web.test_browser import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

THIS = of_day(date.today())


def test_rate_a_card_and_open_the_review(sqlite_live_server: LiveServer, context: BrowserContext) -> None:
    server = sqlite_live_server
    runtime = server.runtime
    manager = make_user(runtime, Role.MANAGER, team="Marketing")
    rater = make_user(runtime, Role.FRONTLINE, team="Sales")
    colleague = make_user(runtime, Role.FRONTLINE, team="Sales")
    with runtime.session() as db:
        card = quality.create(
            db,
            actor=SYSTEM,
            data=CardCreate(
                supplier_team="Marketing",
                customer_team="Sales",
                deliverables=["Leads qualified", "Campaign calendar", "Sales materials"],
            ),
        )
        # Two months before: the calendar at 4.5 then 4.0, so a 3 and a 4 this month (3.5) make it fall
        # twice in a row, as well as below the target.
        for period, calendar in ((THIS.shifted(-2), 4.5), (THIS.shifted(-1), 4.0)):
            for who, score in ((rater, int(calendar)), (colleague, 5 if calendar == 4.5 else 4)):
                quality.rate(
                    db,
                    actor=who.actor,
                    card_id=card.id,
                    data=RatingCreate(
                        period=str(period), scores={"Campaign calendar": score, "Leads qualified": 4}
                    ),
                )
        quality.rate(
            db,
            actor=colleague.actor,
            card_id=card.id,
            data=RatingCreate(period=str(THIS), scores={"Campaign calendar": 4, "Leads qualified": 5}),
        )

    page = context.new_page()
    sign_in(page, server, rater)
    page.get_by_role("link", name="Report cards").click()
    expect(page.get_by_role("heading", name="Sales rates")).to_be_visible()
    page.get_by_role("link", name="Rate", exact=True).click()
    expect(page.get_by_role("heading", name="Marketing for Sales")).to_be_visible()
    page.get_by_label("Leads qualified: 5").check()
    page.get_by_label("Campaign calendar: 3").check()
    page.get_by_label("Sales materials: skip").check()
    page.get_by_label("Comment (optional)").fill("The calendar came a week late.")
    page.screenshot(path="/tmp/segone-cards-rate.png", full_page=True)
    page.get_by_role("button", name="Send the rating").click()

    page.wait_for_url(re.compile(rf".*/cards/{card.id}/review\?period={THIS}$"))
    expect(
        page.get_by_text(f"Thank you: your rating of Marketing for Sales for {THIS} is in.")
    ).to_be_visible()
    summary = page.locator(".review-summary")
    # Leads 5 and 5, calendar 4 and 3: (5 + 5 + 4 + 3) / 4 = 4.25 of 4 scores; one shortfall.
    expect(summary).to_contain_text("2 ratings")
    expect(summary).to_contain_text("card mean 4.25 of 4 scores")
    expect(summary).to_contain_text("1 shortfall")
    calendar = page.locator(".chart", has_text="Campaign calendar")
    expect(calendar.locator(".chart-latest")).to_contain_text("3.50")
    expect(calendar.locator("svg polyline").first).to_be_visible()
    expect(calendar).to_contain_text("3.50 is below the target of 4.00")
    expect(calendar).to_contain_text("fell two periods in a row: 4.50")
    expect(page.get_by_text("“The calendar came a week late.”")).to_be_visible()
    page.screenshot(path="/tmp/segone-cards-review.png", full_page=True)
    page.get_by_role("button", name="Sign out").click()

    sign_in(page, server, manager, then="/dashboards/knowledge")
    page.get_by_role("link", name=re.compile("Report cards")).click()
    page.get_by_role("link", name="Review").first.click()
    page.get_by_label("Deliverable", exact=True).select_option("Campaign calendar")
    page.get_by_label("Owner's e-mail").fill(manager.email)
    page.get_by_label("Due", exact=True).fill((date.today() + timedelta(days=14)).isoformat())
    page.get_by_label("What will be done").fill("One owner for the calendar, sent on the 1st.")
    page.get_by_role("button", name="Add the plan").click()
    plans = page.locator("#plans")
    expect(plans).to_contain_text("One owner for the calendar, sent on the 1st.")
    expect(plans.locator(".pill", has_text="open")).to_be_visible()
