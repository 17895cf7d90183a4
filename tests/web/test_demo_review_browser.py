"""A month's review on the demo, in a real browser (headless Debian Chromium), as the demo's manager (Tom
Whitaker, Store Leeds) would run it: from the report cards to his store's card, last month's review with the
designed shortfall and its action plan, the plan moved on; Think customer, the perception gap and the
advocates as the demo left them; then an open recovery case put right with the customer's verdict
(docs/user-guide.md, "A month's review").

The demo is loaded small (120 people) on today's date, as ``segone demo`` would. Screenshots land in /tmp
(segone-demo-review-*.png) so a person can judge the design.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from segone import demo
from segone.accounts import service as accounts
from segone.accounts.schemas import SYSTEM
from segone.clock import utcnow
from segone.customer_service.recovery import service as recovery
from segone.customer_service.recovery.schemas import CaseStatus
from segone.demo.quality import load_quality
from segone.demo.users import DEMO_PASSWORD, MANAGER_EMAIL
from segone.knowledge.categories.service import in_force as categories_in_force
from segone.quality import service as quality
from segone.quality.periods import of_day
from segone.quality.schemas import PlanStatus
from segone.views import perception
from tests.behaviour.conftest import DUCKDB_WARNING
from tests.conftest import LiveServer

pytestmark = [
    pytest.mark.browser,
    pytest.mark.xdist_group("browser"),
    pytest.mark.filterwarnings(DUCKDB_WARNING),
]

CARD = "Store Leeds for customers: store"
QUEUES = "Queues at the till are short"


def _load_demo(server: LiveServer) -> None:
    runtime = server.runtime
    day = utcnow().date()
    with runtime.session() as db:
        demo.load(
            db,
            actor=SYSTEM,
            categories=categories_in_force(runtime.settings),
            day=day,
            people=120,
            businesses=30,
        )
    load_quality(runtime, actor=SYSTEM, day=day)


def _sign_in_as_the_demo_manager(page: Page, server: LiveServer) -> None:
    page.goto(f"{server.url}/login")
    page.get_by_label("E-mail address").fill(MANAGER_EMAIL)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{server.url}/")


def test_a_months_review_on_the_demo(sqlite_live_server: LiveServer, context: BrowserContext) -> None:
    server = sqlite_live_server
    _load_demo(server)
    runtime = server.runtime
    last_month = str(of_day(utcnow().date()).previous())
    with runtime.session() as db:
        tom = accounts.actor_for(accounts.get_by_email(db, email=MANAGER_EMAIL))
        card = quality.resolve(db, actor=SYSTEM, reference=CARD)
        reviewed = quality.review(db, actor=tom, card_id=card.id, period=last_month)
        queues = next(d for d in reviewed.deliverables if d.name == QUEUES)
        assert queues.shortfall is not None and len(queues.plans) == 1
        plan = queues.plans[0]
        assert plan.status is PlanStatus.OPEN

    page = context.new_page()
    _sign_in_as_the_demo_manager(page, server)

    # The report cards: his store's card, last month's review.
    page.goto(f"{server.url}/cards")
    page.get_by_role("link", name=CARD).first.click()
    page.wait_for_url(re.compile(rf".*/cards/{card.id}/review$"))
    expect(page.locator("#period")).to_have_value(last_month)
    expect(page.locator(".review-summary")).to_contain_text(f"{reviewed.raters} ratings")
    plans = page.locator("#plans")
    item = plans.locator("li", has=page.get_by_role("heading", name=QUEUES))
    expect(item.locator(".pill", has_text="shortfall")).to_be_visible()
    expect(item).to_contain_text(queues.shortfall.why)
    expect(item).to_contain_text(plan.notes)
    expect(item).to_contain_text(plan.owner.name)
    page.screenshot(path="/tmp/segone-demo-review-card.png", full_page=True)

    # The plan is under way: he says so.
    item.get_by_label(f"Status of the plan for {QUEUES}").select_option("in_progress")
    item.get_by_role("button", name="Save").click()
    expect(page.locator("#flash")).to_contain_text(f"Action plan for {QUEUES}: in progress")
    with runtime.session() as db:
        after = quality.review(db, actor=tom, card_id=card.id, period=last_month)
    moved = next(d for d in after.deliverables if d.name == QUEUES).plans[0]
    assert (moved.id, moved.status) == (plan.id, PlanStatus.IN_PROGRESS)
    expect(page.locator("#plans .pill", has_text="in progress").first).to_be_visible()

    # Think customer: his team's gaps, month by month, as the service works them out.
    with runtime.session() as db:
        empathy = quality.empathy(db, actor=tom)
        survey = quality.list_surveys(db, actor=tom)[0]
        gap = perception.gap(db, actor=tom, survey_id=survey.id)
    assert empathy.teams and {r.name for r in empathy.teams} == {"Store Leeds"}
    page.get_by_role("link", name="← Report cards").click()
    page.get_by_role("link", name="Think customer").click()
    expect(page.locator("#empathy-summary")).to_contain_text(
        f"{empathy.predictions} predictions, {empathy.awaiting} still waiting"
    )
    newest = empathy.teams[0]
    month = page.locator(f"#month-{newest.month}")
    expect(month.get_by_role("row", name=re.compile("^Store Leeds")).locator("td")).to_have_text(
        [str(newest.count), f"{newest.mean_gap:+.2f}", f"{newest.mean_absolute_gap:.2f}"]
    )
    page.screenshot(path="/tmp/segone-demo-review-empathy.png", full_page=True)

    # The perception gap: the three groups side by side, and the strategy check.
    page.goto(f"{server.url}/cards/gap")
    groups = page.locator("#gap-groups")
    for group in gap.groups:
        cells = groups.get_by_role("row", name=re.compile(f"^{group.label}")).locator("td")
        expect(cells.nth(0)).to_have_text(str(group.answers))
        expect(cells.nth(1)).to_have_text(str(group.agreeing))
    executives, _, customers = gap.groups
    assert executives.share is not None and customers.share is not None
    assert executives.share > 0.5 > 0.2 > customers.share
    expect(page.locator("#strategy-check")).to_contain_text(gap.statements[0].statement)
    page.screenshot(path="/tmp/segone-demo-review-gap.png", full_page=True)

    # The advocates.
    page.goto(f"{server.url}/cards/advocates")
    with runtime.session() as db:
        advocates = quality.advocates(
            db, actor=tom, data_dir=runtime.settings.data_dir, analytics_url=runtime.settings.analytics_url
        )
    assert len(advocates.items) >= 20
    expect(page.locator("#advocacy-summary")).to_contain_text(
        f"{advocates.customers} customers referred us or reviewed us: {advocates.referrals} referrals, "
        f"{advocates.reviews} reviews."
    )
    first = advocates.items[0]
    expect(page.locator("#advocates tbody tr").first).to_contain_text(first.name)
    expect(page.locator("#advocates tbody tr")).to_have_count(len(advocates.items))

    # Recovery: an open case, put right and closed with the customer's verdict.
    page.goto(f"{server.url}/recovery")
    cases = page.locator("#cases .case-item")
    expect(cases.first).to_be_visible()
    opened = cases.first.locator("a")
    href = opened.get_attribute("href")
    assert href is not None and href.startswith("/recovery/")
    case_id = int(href.rsplit("/", 1)[1])
    opened.click()
    expect(page.locator("#case-state")).to_have_text("open")
    page.get_by_label("How was it put right?").fill("Apologised in person and refunded the delivery")
    page.locator("#close").get_by_role("radio", name="Satisfied", exact=True).check()
    page.get_by_role("button", name="Close the case").click()
    expect(page.locator("#case-state")).to_have_text("closed · the customer satisfied")
    page.screenshot(path="/tmp/segone-demo-review-case.png", full_page=True)
    with runtime.session() as db:
        closed = recovery.get_case(db, actor=SYSTEM, case_id=case_id)
    assert (closed.status, closed.verdict, closed.resolution) == (
        CaseStatus.CLOSED,
        "satisfied",
        "Apologised in person and refunded the delivery",
    )
