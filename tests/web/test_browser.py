"""The front-line flows in a real browser (headless Debian Chromium): the easel sheet, one-tap
acknowledgement, encounter capture that survives a dropped connection, and a phone-sized screen.

Screenshots land in /tmp (segone-*.png) so a person can judge the design.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from segone.accounts.schemas import SYSTEM, Role
from segone.behaviour import ingest, refresh
from segone.customers import service as customers
from segone.customers.schemas import CustomerKind
from segone.encounters import service as encounters
from segone.knowledge.categories.service import in_force as categories_in_force
from segone.knowledge.facts import service as knowledge
from segone.knowledge.facts.schemas import AcknowledgeRequest, DifferentiatorCreate
from tests.behaviour.conftest import DUCKDB_WARNING
from tests.conftest import LiveServer
from tests.factories import PASSWORD, MadeUser, make_customer, make_user

pytestmark = [
    pytest.mark.browser,
    pytest.mark.xdist_group("browser"),
    pytest.mark.filterwarnings(DUCKDB_WARNING),
]

CRM = Path(__file__).parents[1] / "data" / "crm"
NOTES = "Looked at running shoes; training for her first marathon."


def sign_in(page: Page, server: LiveServer, user: MadeUser, then: str = "/") -> None:
    page.goto(f"{server.url}/login?next={then}")
    page.get_by_label("E-mail address").fill(user.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{server.url}{then}")


def no_horizontal_scroll(page: Page) -> bool:
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"))


def test_add_a_differentiator_and_circle_it_in_one_tap(
    sqlite_live_server: LiveServer, context: BrowserContext
) -> None:
    server = sqlite_live_server
    user = make_user(server.runtime, Role.FRONTLINE)
    customer_id = make_customer(
        server.runtime,
        name="Hollis Hardware",
        kind=CustomerKind.BUSINESS,
        identities=["email:owner@hollis.example"],
        attributes={"City": "Leeds"},
    )
    page = context.new_page()
    sign_in(page, server, user)
    page.get_by_label("Find a customer by name, number or any id").fill("hollis")
    page.get_by_role("button", name="Find").click()
    page.get_by_role("link", name="Hollis Hardware").click()
    expect(page.get_by_role("heading", name="Hollis Hardware")).to_be_visible()
    expect(page.get_by_text("This easel sheet is still blank")).to_be_visible()
    page.screenshot(path="/tmp/segone-sheet-blank.png", full_page=True)

    page.evaluate("window.__samePage = true")
    # A teaching prompt picks the category for the inline form.
    page.get_by_role("button", name="Growth plans").click()
    expect(page.locator("#fact-category")).to_have_value("growth_plans")
    page.locator("#fact-text").fill("Opening a second shop in Harrogate next spring")
    page.get_by_role("button", name="Add to the sheet").click()

    fact = page.locator(".fact", has_text="Opening a second shop in Harrogate next spring")
    expect(fact).to_be_visible()
    expect(page.locator(".category h3", has_text="Growth plans")).to_be_visible()
    expect(page.locator("#recognition")).to_contain_text("Knows we know 0 of 1")
    assert page.evaluate("window.__samePage === true"), "adding reloaded the page"

    fact.get_by_role("button", name="They know we know").click()
    ring = fact.locator("svg.ring")
    expect(ring).to_be_visible()
    expect(fact).to_have_class("fact known just-circled")
    expect(fact.locator(".known-note")).to_contain_text("Knows we know")
    expect(page.locator("#recognition")).to_contain_text("100%")
    assert page.evaluate("window.__samePage === true"), "acknowledging reloaded the page"
    page.wait_for_timeout(900)  # let the marker finish drawing its circle
    fact.screenshot(path="/tmp/segone-fact-circled.png")
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path="/tmp/segone-sheet-tablet.png", full_page=True)

    # The ring encloses the text it circles.
    text_box = fact.locator(".fact-text .ink").bounding_box()
    ring_box = ring.bounding_box()
    assert text_box and ring_box
    assert (
        ring_box["x"] < text_box["x"]
        and ring_box["x"] + ring_box["width"] > text_box["x"] + text_box["width"]
    )
    assert (
        ring_box["y"] < text_box["y"]
        and ring_box["y"] + ring_box["height"] > text_box["y"] + text_box["height"]
    )

    page.reload()
    persisted = page.locator(".fact.known", has_text="Opening a second shop in Harrogate next spring")
    expect(persisted.locator("svg.ring")).to_be_visible()
    expect(persisted.get_by_role("button", name="They know we know")).to_have_count(0)

    with server.runtime.session() as db:
        (stored,) = knowledge.list_for_customer(db, actor=SYSTEM, customer_id=customer_id)
        assert stored.text == "Opening a second shop in Harrogate next spring"
        assert stored.category == "growth_plans"
        assert stored.learned_by_id == user.id
        assert stored.acknowledgement is not None
        assert stored.acknowledgement.acknowledged_by_id == user.id


def test_log_an_encounter_with_a_fact_even_when_the_connection_drops(
    sqlite_live_server: LiveServer, context: BrowserContext
) -> None:
    server = sqlite_live_server
    user = make_user(server.runtime, Role.FRONTLINE)
    customer_id = make_customer(server.runtime, name="Imani Ellis")
    page = context.new_page()
    sign_in(page, server, user, then=f"/customers/{customer_id}")
    page.get_by_role("link", name="Log an encounter").first.click()
    expect(page.get_by_role("heading", name="Log an encounter with Imani Ellis")).to_be_visible()

    page.get_by_role("radio", name="Store visit").check()
    page.get_by_role("button", name="15", exact=True).click()
    page.get_by_label("Notes").fill(NOTES)
    page.get_by_label("They care about").fill("Comfort over long distances")
    page.get_by_label("They worry about").fill("Knee pain")
    page.locator("#listening_share").fill("80")
    expect(page.locator("[data-listening-output]")).to_have_text("80% listening")
    page.locator("#fact-text-1").fill("Training for her first marathon in October")
    page.locator("#fact-cat-1").select_option("lifestyle")
    page.get_by_role("button", name="+ Another fact").click()
    page.locator("#fact-text-2").fill("Runs with her two daughters on Sundays")
    page.locator("#fact-cat-2").select_option("family")
    page.wait_for_timeout(400)  # the draft is saved a moment after typing stops

    # The tablet's browser is closed or reloaded mid-form: nothing is lost.
    page.reload()
    expect(page.get_by_text("Restored what you typed earlier on this device.")).to_be_visible()
    expect(page.get_by_label("Notes")).to_have_value(
        "Looked at running shoes; training for her first marathon."
    )
    expect(page.locator("#fact-text-2")).to_have_value("Runs with her two daughters on Sundays")
    expect(page.locator("#fact-cat-2")).to_have_value("family")
    expect(page.locator("input[name=channel][value=store]")).to_be_checked()
    expect(page.locator("[data-listening-output]")).to_have_text("80% listening")
    page.set_viewport_size({"width": 390, "height": 844})
    assert no_horizontal_scroll(page)
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path="/tmp/segone-encounter-form-phone.png", full_page=True)

    # The connection drops as the form is sent: say so, keep everything.
    context.set_offline(True)
    page.get_by_role("button", name="Save encounter").click()
    expect(page.locator("[data-send-status]")).to_contain_text("No connection")
    expect(page.get_by_label("Notes")).to_have_value(
        "Looked at running shoes; training for her first marathon."
    )
    with server.runtime.session() as db:
        assert encounters.list_for_customer(db, actor=SYSTEM, customer_id=customer_id) == []

    context.set_offline(False)
    page.get_by_role("button", name="Save encounter").click()
    page.wait_for_url(f"{server.url}/customers/{customer_id}?logged=*")
    expect(page.get_by_text("Encounter logged. 2 new differentiators on the easel sheet.")).to_be_visible()
    expect(page.locator(".fact", has_text="Training for her first marathon in October")).to_be_visible()
    expect(page.locator(".category h3", has_text="Family make-up")).to_be_visible()
    draft = page.evaluate(f"window.localStorage.getItem('segone:draft:encounter-{customer_id}')")
    assert draft is None, "the saved encounter's draft is forgotten"

    with server.runtime.session() as db:
        (encounter,) = encounters.list_for_customer(db, actor=SYSTEM, customer_id=customer_id)
        out = encounters.to_out_many(db, [encounter])[0]
        assert out.channel.value == "store"
        assert out.duration_minutes == 15
        assert out.listening_share == 0.8
        assert out.cares_about == "Comfort over long distances"
        assert len(out.differentiator_ids) == 2

    page.goto(f"{server.url}/encounters/{encounter.id}")
    expect(page.get_by_role("heading", name="Store visit with Imani Ellis")).to_be_visible()
    page.screenshot(path="/tmp/segone-encounter-detail-phone.png", full_page=True)


def _busy_sheet(server: LiveServer) -> int:
    customer_id = make_customer(
        server.runtime,
        name="Maximiliana Oyelaran-Vandersloot",
        identities=["email:maximiliana.oyelaran-vandersloot@very-long-domain.example", "loyalty:MX-0042"],
        attributes={"Home store": "Briggate, Leeds", "Shoe size": "39"},
    )
    facts = [
        ("Collects first editions of 1930s detective novels", "free_time", True),
        ("Lives with her partner and their two greyhounds", "family", True),
        (
            "Wants everything delivered before 8am because she leaves early for the hospital",
            "lifestyle",
            False,
        ),
        (
            "Pays for quality but hates waste: https://example.com/a-very-long-link-without-any-spaces",
            "values",
            False,
        ),
        ("Prefers a text message to a call", "preferences", False),
    ]
    with server.runtime.session() as db:
        for text, category, known in facts:
            fact = knowledge.add(
                db,
                actor=SYSTEM,
                customer_id=customer_id,
                data=DifferentiatorCreate(text=text, category=category),
                categories=categories_in_force(server.runtime.settings),
            )
            if known:
                knowledge.acknowledge(db, actor=SYSTEM, differentiator_id=fact.id, data=AcknowledgeRequest())
    # Her purchases, and other customers' to fit the models on: the behaviour panel is on the sheet too.
    events = [
        {
            "customer": "loyalty:MX-0042",
            "type": "purchase",
            "timestamp": f"2024-{month:02d}-14T12:00Z",
            "value": "64.5",
        }
        for month in range(1, 13)
    ]
    for n in range(30):
        events += [
            {"customer": f"loyalty:OTHER-{n}", "type": "purchase", "timestamp": f"2024-{m:02d}-0{1 + n % 9}"}
            for m in range(1, 2 + n % 6)
        ]
    with server.runtime.session() as db:
        ingest.stage_batch(db, actor=SYSTEM, events=events)
    refresh.refresh(server.runtime.sessions, server.runtime.settings, actor=SYSTEM, as_of=date(2024, 12, 31))
    return customer_id


@pytest.mark.parametrize("width", [390, 360])
def test_the_easel_sheet_fits_a_phone(sqlite_live_server: LiveServer, browser: Browser, width: int) -> None:
    server = sqlite_live_server
    user = make_user(server.runtime, Role.MANAGER)
    customer_id = _busy_sheet(server)
    context = browser.new_context(viewport={"width": width, "height": 844}, locale="en-GB", is_mobile=True)
    try:
        page = context.new_page()
        sign_in(page, server, user)
        for path in ("/", "/customers", f"/customers/{customer_id}", f"/customers/{customer_id}/merge"):
            page.goto(server.url + path)
            assert no_horizontal_scroll(page), f"{path} scrolls sideways at {width}px"
        page.goto(f"{server.url}/customers/{customer_id}")
        panel = page.locator("#behaviour")
        expect(panel.locator('svg[aria-labelledby="timeline-title"]')).to_be_visible()
        expect(panel.locator("g.stem")).to_have_count(12)
        expect(panel).to_contain_text("Usually every 4 weeks, like clockwork (the middle of 11 gaps")
        # P(alive) over time comes after the page, into the same panel: both charts fit.
        expect(panel.locator("#alive-history svg")).to_be_visible()
        for chart in panel.locator("svg").all():
            box = chart.bounding_box()
            assert box is not None and box["width"] <= width
        page.locator(".fact-more summary").first.click()  # an open edit panel must fit too
        assert no_horizontal_scroll(page)
        page.locator(".fact-more summary").first.click()
        small = page.evaluate(
            """() => [...document.querySelectorAll('#main .btn, #main button, #main select')]
                .filter(el => el.offsetParent !== null)
                .map(el => [el.textContent.trim().slice(0, 30), el.getBoundingClientRect().height])
                .filter(([, height]) => height < 44)"""
        )
        assert small == [], f"touch targets under 44px: {small}"
        if width == 390:
            page.evaluate("window.scrollTo(0, 0)")
            page.screenshot(path="/tmp/segone-sheet-phone.png", full_page=True)
            page.screenshot(path="/tmp/segone-sheet-phone-top.png")
    finally:
        context.close()


def test_an_analyst_checks_a_crm_export_then_imports_it(
    sqlite_live_server: LiveServer, context: BrowserContext
) -> None:
    server = sqlite_live_server
    user = make_user(server.runtime, Role.ANALYST)
    page = context.new_page()
    sign_in(page, server, user, then="/customers")
    page.get_by_role("link", name="Import from a file").click()
    expect(page.get_by_role("heading", name="Import customers")).to_be_visible()
    page.get_by_label("File").set_input_files(str(CRM / "salesforce-contacts.csv"))
    page.get_by_label("Exported from").select_option("salesforce")
    page.get_by_role("button", name="Check").click()

    counts = page.locator(".import-counts")
    expect(counts).to_contain_text("10 rows, read as windows-1252")
    expect(counts).to_contain_text("9 new customers, 0 updated, 0 unchanged, 1 row merged into earlier rows")
    expect(page.locator(".import-warnings")).to_contain_text("Row 7, Account Name: looks like a spreadsheet")
    rows = page.locator(".import-preview tbody tr")
    expect(rows).to_have_count(10)
    expect(rows.nth(0)).to_contain_text("Zoë Müller")
    expect(rows.nth(0)).to_contain_text("salesforce:0035g00000A1bCdAAJ")
    expect(rows.nth(6)).to_contain_text("Grünwald Ltd")
    expect(rows.nth(6).locator(".badge-business")).to_be_visible()
    expect(rows.nth(7)).to_contain_text("Merged with row 2")
    assert no_horizontal_scroll(page)
    page.screenshot(path="/tmp/segone-import-check.png", full_page=True)
    with server.runtime.session() as db:
        assert customers.count_active(db) == 0

    page.get_by_role("button", name="Import", exact=True).click()
    page.wait_for_url(f"{server.url}/customers")
    expect(page.locator(".flash")).to_contain_text("Imported salesforce-contacts.csv: 9 new customers")
    expect(page.get_by_role("link", name="Siobhán O\u2019Brien")).to_be_visible()
    page.get_by_label("Find a customer by name, number or any id").fill("grünwald")
    page.get_by_role("button", name="Find").click()
    page.get_by_role("link", name="Grünwald Ltd").click()
    expect(page.get_by_role("heading", name="Grünwald Ltd")).to_be_visible()
    expect(page.locator("main")).to_contain_text("salesforce:0035g00000A1bCjAAJ")


def test_an_analyst_downloads_the_customers_from_the_list(
    sqlite_live_server: LiveServer, context: BrowserContext
) -> None:
    server = sqlite_live_server
    make_customer(server.runtime, name="=Ann Patel", identities=["crm:B1"], attributes={"city": "Leeds"})
    page = context.new_page()
    sign_in(page, server, make_user(server.runtime, Role.ANALYST), then="/customers")
    page.get_by_text("Export", exact=True).click()
    row = page.locator(".export-menu-panel li").filter(has_text="Customers")
    expect(row.get_by_role("link", name="Parquet")).to_be_visible()
    page.screenshot(path="/tmp/segone-export-menu.png")
    with page.expect_download() as download:
        row.get_by_role("link", name="CSV").click()
    saved = download.value
    assert re.fullmatch(r"segone-customers-\d{8}-\d{4}\.csv", saved.suggested_filename)
    lines = Path(saved.path()).read_text(encoding="utf-8").splitlines()
    assert (
        lines[0] == "id,kind,name,identities,consent:contact,consent:profiling,consent:personalisation,city"
    )
    assert lines[1].endswith(",person,'=Ann Patel,crm:B1,,,,Leeds")
