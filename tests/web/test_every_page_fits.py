"""Every page holds at a tablet's width (820 px) and on a desktop (1440 px), with the content that breaks
layouts: a 2,000-character word, a 300-character name, long e-mail addresses, a busy behaviour chart.

An administrator sees every page; a front-line employee is refused one (the 403 page). The test fails
listing each element wider than the viewport, and checks the tablet glitches a pilot found: the sign-in
page's background, cut placeholders, a channel button alone on its line, oversized chart labels.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

import pytest
from playwright.sync_api import Browser, Page

from segone import demo
from segone.accounts import service as accounts
from segone.accounts.schemas import SYSTEM, Actor, Role, UserCreate
from segone.behaviour import ingest
from segone.behaviour import refresh as behaviour_refresh
from segone.channels import Channel
from segone.customer_service.promises import service as promises
from segone.customer_service.promises.schemas import PromiseCreate
from segone.customer_service.recovery import service as recovery
from segone.customer_service.recovery.schemas import ActionCreate, CaseOpen, Priority
from segone.customer_service.strategy import service as strategies
from segone.customer_service.strategy.schemas import ExceptionRule, StrategyIn
from segone.encounters import service as encounters
from segone.encounters.schemas import EncounterCreate, NewFact
from segone.knowledge.categories.service import in_force as categories_in_force
from segone.knowledge.distinguishability import refresh as knowledge_refresh
from segone.knowledge.facts import service as knowledge
from segone.knowledge.facts.schemas import AcknowledgeRequest, DifferentiatorCreate
from segone.personalisation import service as offerings
from segone.personalisation.schemas import OfferingCreate, PriceBand
from segone.quality import service as quality
from segone.quality.periods import of_day
from segone.quality.schemas import ActionPlanCreate, CardCreate, RatingCreate
from segone.runtime import Runtime
from segone.segmentation import service as segmentation
from tests.behaviour.conftest import DUCKDB_WARNING
from tests.conftest import LiveServer
from tests.factories import PASSWORD, make_customer

pytestmark = [
    pytest.mark.browser,
    pytest.mark.xdist_group("browser"),
    pytest.mark.filterwarnings(DUCKDB_WARNING),
    pytest.mark.filterwarnings(r"ignore:fetch_arrow_table\(\) is deprecated:DeprecationWarning"),
]

WIDTHS = (820, 1440)
DEMO_DAY = date(2026, 11, 27)
# One word, no break opportunity anywhere: the longest a fact may be, and the longest a name may be.
WORD = ("Donaudampfschifffahrtsgesellschaftskapitaen" * 50)[:2000]
NAME = "Hubert " + ("Wolfeschlegelsteinhausenbergerdorff" * 9)[:293]
ADMIN_EMAIL = "maximiliana.oyelaran-vandersloot.customer-experience@head-office.example-retail-group.co.uk"
FRONTLINE_EMAIL = "bartholomew.featherstonehaugh-cholmondeley@store-leeds-briggate.example-retail-group.co.uk"
CUSTOMER_EMAIL = "hubert.wolfeschlegelsteinhausenbergerdorff.senior@a-rather-long-company-domain.example"


@dataclass(frozen=True)
class Store:
    admin: str
    frontline: str
    customer: int
    duplicate: int
    encounter: int
    admin_id: int
    version: int  # a segmentation down to segments of one, built twice to compare
    leaf: int  # the long-named customer's segment in it
    audience: int  # that segment saved under a long name, the duplicate added by hand
    offering: str  # an offering of the longest key, name, needs and attributes
    case: int  # a recovery case of the long-named customer, with the longest summary and an exception
    card: int  # a report card between two long-named teams, of the longest deliverables, rated, with a plan
    store_card: int  # an external card at the longest touch point, rated with NPS and CSAT
    link: str  # a rating link's token for that card


def _store(server: LiveServer) -> Store:
    runtime = server.runtime
    categories = categories_in_force(runtime.settings)
    with runtime.session() as db:
        demo.load(db, actor=SYSTEM, categories=categories, people=30, businesses=8, day=DEMO_DAY)
        admin = accounts.create(
            db,
            actor=SYSTEM,
            data=UserCreate(
                email=ADMIN_EMAIL,
                name="Maximiliana Oyelaran-Vandersloot",
                role=Role.ADMIN,
                team="Head Office",
                password=PASSWORD,
            ),
        )
        accounts.create(
            db,
            actor=SYSTEM,
            data=UserCreate(
                email=FRONTLINE_EMAIL,
                name="Bartholomew Featherstonehaugh-Cholmondeley",
                role=Role.FRONTLINE,
                team="Store Leeds",
                password=PASSWORD,
            ),
        )
        admin_actor, admin_id = accounts.actor_for(admin), admin.id
    customer = make_customer(
        runtime,
        name=NAME,
        identities=[f"email:{CUSTOMER_EMAIL}", "loyalty:LONG-0001", f"crm:{WORD[:300]}"],
        attributes={"Home store": "Briggate, Leeds", "Nickname": WORD[:300]},
    )
    duplicate = make_customer(runtime, name=NAME, identities=["loyalty:LONG-0002"])
    with runtime.session() as db:
        facts = [
            (WORD, "free_time"),
            ("Lives with her partner and their two greyhounds", "family"),
            ("Prefers a text message to a call", "preferences"),
        ]
        for text, category in facts:
            fact = knowledge.add(
                db,
                actor=admin_actor,
                customer_id=customer,
                data=DifferentiatorCreate(text=text, category=category),
                categories=categories,
            )
            knowledge.acknowledge(db, actor=admin_actor, differentiator_id=fact.id, data=AcknowledgeRequest())
        knowledge.add(
            db,
            actor=admin_actor,
            customer_id=customer,
            data=DifferentiatorCreate(text=f"Collects {WORD[:1500]}", category="values"),
            categories=categories,
        )
        encounter = encounters.record(
            db,
            actor=admin_actor,
            customer_id=customer,
            data=EncounterCreate(
                channel=Channel.STORE,
                occurred_at=datetime(2026, 11, 20, 11, 30, tzinfo=UTC),
                duration_minutes=25,
                notes=f"Asked about {WORD} again.\n{WORD[:500]}",
                cares_about=WORD[:2000],
                worries_about="Delivery times",
                listening_share=0.7,
                facts=[NewFact(text=f"Restores {WORD[:1200]}", category="free_time")],
            ),
            categories=categories,
        ).id
    # Purchases every month for the behaviour chart, and other customers' for the models to fit on.
    events = [
        {"customer": "loyalty:LONG-0001", "type": "purchase", "timestamp": f"2024-{m:02d}-14", "value": "64"}
        for m in range(1, 13)
    ]
    for n in range(30):
        events += [
            {"customer": f"loyalty:OTHER-{n}", "type": "purchase", "timestamp": f"2024-{m:02d}-0{1 + n % 9}"}
            for m in range(1, 2 + n % 6)
        ]
    with runtime.session() as db:
        ingest.stage_batch(db, actor=SYSTEM, events=events)
    behaviour_refresh.refresh(runtime.sessions, runtime.settings, actor=SYSTEM, as_of=date(2024, 12, 31))
    knowledge_refresh.refresh(runtime.sessions, runtime.settings, actor=SYSTEM)
    # Every variable, the 300-character nickname among them: conditions as long as they come.
    version = segmentation.build(runtime.sessions, runtime.settings, actor=SYSTEM).id
    segmentation.build(runtime.sessions, runtime.settings, actor=SYSTEM, name=NAME[:200])
    with runtime.session() as db:
        path = segmentation.customer_path(db, actor=SYSTEM, customer_id=customer, version_id=version)
        audience = segmentation.save_audience(
            db,
            runtime.settings,
            actor=admin_actor,
            name=NAME[:200],
            version_id=version,
            node_id=path[-1].node_id,
        )
        segmentation.add_to_audience(db, actor=admin_actor, audience_id=audience.id, customer_id=duplicate)
        offering = offerings.create(
            db,
            actor=admin_actor,
            data=OfferingCreate(
                key=WORD[:300],
                name=NAME,
                description=WORD[:5000],
                attributes={WORD[:100]: WORD[:2000]},
                price_band=PriceBand.FROM_50_TO_200,
                needs=[WORD[:100], "learn an instrument", "repair"],
            ),
        )
    strategy = StrategyIn(
        core_service=[WORD[:300], "We make promises and always keep them."],
        service_experience=[WORD[:300], "Recovery is our #1 priority."],
        exceptions=[
            ExceptionRule(key="refund", label=WORD[:200], limits={Role.FRONTLINE: 50, Role.MANAGER: 500})
        ],
        note=WORD[:1000],
    )
    with runtime.session() as db:
        strategies.set_strategy(db, actor=admin_actor, data=strategy)
        case = recovery.open_case(
            db, actor=admin_actor, data=CaseOpen(customer_id=customer, summary=WORD, priority=Priority.HIGH)
        ).id
        recovery.act(
            db,
            actor=admin_actor,
            case_id=case,
            data=ActionCreate(text=WORD, exception="refund", cost=45),
            currency=runtime.settings.currency,
        )
        promises.make(
            db,
            actor=admin_actor,
            data=PromiseCreate(customer_id=customer, text=WORD[:1000], due_on=datetime.now(UTC).date()),
        )
    card, store_card, link = _cards(runtime, admin_actor, customer)
    return Store(
        ADMIN_EMAIL,
        FRONTLINE_EMAIL,
        customer,
        duplicate,
        encounter,
        admin_id,
        version,
        path[-1].node_id,
        audience.id,
        offering.key,
        case,
        card,
        store_card,
        link,
    )


def _cards(runtime: Runtime, admin: Actor, customer: int) -> tuple[int, int, str]:
    """Report cards of the longest names: two teams, six deliverables of 100 characters, three months of
    ratings with a comment of 2,000 characters, a plan; an external card at a 40-character touch point."""
    supplier = (
        "Customer Experience, Service Quality and Complaints Handling for the North of England and Scotland"
    )
    rater_team = (
        "Business-to-Business Key Account Sales, Partnerships and Distributor Relations (EMEA, Americas)"
    )
    deliverables = [f"{WORD[:100]} {n}" for n in range(6)] + ["Calendar on time"]
    period = of_day(date.today())
    with runtime.session() as db:
        for email, team in (("supplier@cards.example", supplier), ("rater@cards.example", rater_team)):
            accounts.create(db, actor=SYSTEM, data=UserCreate(email=email, role=Role.FRONTLINE, team=team))
        card = quality.create(
            db,
            actor=SYSTEM,
            data=CardCreate(
                supplier_team=supplier, customer_team=rater_team, deliverables=deliverables, name=NAME[:200]
            ),
        )
        for back in (2, 1, 0):
            quality.rate(
                db,
                actor=SYSTEM,
                card_id=card.id,
                data=RatingCreate(
                    period=str(period.shifted(-back)),
                    scores={name: 5 - back if n % 2 else 2 + back for n, name in enumerate(deliverables)},
                    comment=WORD[:2000] if back == 0 else "",
                    rater="rater@cards.example",
                ),
            )
        quality.add_plan(
            db,
            actor=admin,
            card_id=card.id,
            data=ActionPlanCreate(
                deliverable=deliverables[0],
                period=str(period),
                owner=ADMIN_EMAIL,
                due=date.today(),
                notes=WORD[:2000],
            ),
        )
        store = quality.create(
            db,
            actor=SYSTEM,
            data=CardCreate(touch_point="x" * 40, deliverables=deliverables, name=NAME[:199] + "!"),
        )
        quality.rate(
            db,
            actor=SYSTEM,
            card_id=store.id,
            data=RatingCreate(
                period=str(period),
                scores={deliverables[0]: 4},
                nps=9,
                csat=4,
                customer=str(customer),
                comment=WORD[:500],
            ),
        )
        link = quality.make_link(
            db,
            actor=SYSTEM,
            card_id=store.id,
            customer=str(customer),
            period=str(period),
            secret=runtime.settings.resolved_secret_key(),
        )
    return card.id, store.id, link.token


def _screenshots(store: Store) -> dict[str, str]:
    """Pages a person should look at after a change of layout: written to /tmp/segone-<name>-820.png."""
    c = f"/customers/{store.customer}"
    return {
        "/": "home",
        c: "long-sheet",
        f"{c}/briefing": "briefing",
        f"{c}/forecast": "forecast",
        f"{c}/encounters/new": "encounter-form",
        f"/encounters/{store.encounter}": "long-encounter",
        "/analytics/models": "models",
        "/dashboards/knowledge": "dashboard",
        f"/segments/{store.version}": "segments-explorer",
        f"/segments/{store.version}/{store.leaf}": "segment-of-one",
        "/segments/compare": "segments-compare",
        f"/audiences/{store.audience}": "audience",
        "/admin/offerings": "offerings",
        "/recovery": "recovery",
        f"/recovery/{store.case}": "recovery-case",
        "/admin/strategy": "strategy",
        "/admin/audit": "audit-log",
        f"/cards/{store.card}/review": "card-review",
        f"/cards/{store.store_card}/review": "card-review-external",
        f"/r/{store.link}": "rating-link",
    }


def _pages(store: Store) -> list[str]:
    c = f"/customers/{store.customer}"
    return [
        "/",
        "/customers",
        "/customers?page=2",
        "/customers?q=wolfeschlegel",
        "/customers/new",
        c,
        f"{c}/edit",
        f"{c}/history",
        f"{c}/forecast",
        f"{c}/alive-history",
        f"{c}/briefing",
        f"{c}/briefing?print=1",
        "/briefing?q=a",
        f"{c}/merge",
        f"{c}/merge?duplicate=loyalty:LONG-0002",
        f"{c}/erase",
        f"{c}/encounters",
        f"{c}/encounters/new",
        f"/encounters/{store.encounter}",
        "/search?q=collects",
        "/search?q=asked+again",
        "/dashboards/knowledge",
        "/dashboards/top",
        "/dashboards/top?by=facts",
        "/analytics/models",
        "/segments",
        f"/segments/{store.version}",
        f"/segments/{store.version}/{store.leaf}",
        "/segments/compare",
        f"/segments/compare?before={store.version}&after={store.version + 1}&depth=4",
        "/audiences",
        f"/audiences/{store.audience}",
        "/account",
        "/admin/users",
        f"/admin/users/{store.admin_id}",
        "/admin/audit",
        f"/admin/audit?customer={store.customer}&action=customer.viewed",
        "/admin/offerings",
        "/admin/offerings?q=wolfeschlegel",
        f"/admin/offerings/{store.offering}/edit",
        f"{c}/messages/draft?purpose=offer&offering={store.offering}",
        f"{c}/messages",
        f"{c}/advise?question=Which+lessons+suit+me",
        "/admin/message-templates",
        "/admin/message-templates/follow-up",
        "/recovery",
        "/recovery?status=all",
        f"/recovery/{store.case}",
        "/admin/strategy",
        "/cards",
        f"/cards/{store.card}/rate",
        f"/cards/{store.card}/review",
        f"/cards/{store.store_card}/rate",
        f"/cards/{store.store_card}/review",
        f"/r/{store.link}",
        "/customers/987654",
    ]


# Everything that is wider than the viewport or reaches past its right edge, and any sideways scroll.
_OVERFLOW = """() => {
  const width = document.documentElement.clientWidth;
  const found = [];
  if (document.documentElement.scrollWidth > width) {
    found.push(`the page scrolls sideways: ${document.documentElement.scrollWidth}px in ${width}px`);
  }
  for (const el of document.body.querySelectorAll('*')) {
    if (el.closest('.visually-hidden, .skip') || !el.checkVisibility()) continue;
    const box = el.getBoundingClientRect();
    if (box.width === 0 && box.height === 0) continue;
    if (box.width > width + 0.5 || box.right > width + 0.5) {
      const name = el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
        [...el.classList].map(c => '.' + c).join('');
      found.push(`${name} ${Math.round(box.left)}..${Math.round(box.right)}px: ` +
        `"${(el.textContent || '').trim().slice(0, 40)}"`);
    }
  }
  return found.slice(0, 15);
}"""

# Inputs whose placeholder does not fit in the box (measured in the input's own font).
_CUT_PLACEHOLDERS = """() => {
  const canvas = document.createElement('canvas').getContext('2d');
  const cut = [];
  for (const input of document.querySelectorAll('input[placeholder], textarea[placeholder]')) {
    if (input.tagName === 'TEXTAREA' || !input.checkVisibility()) continue;
    const style = getComputedStyle(input);
    canvas.font = `${style.fontWeight} ${style.fontSize} ${style.fontFamily}`;
    const room = input.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
    const needed = canvas.measureText(input.placeholder).width;
    if (needed > room) {
      cut.push(`#${input.id}: "${input.placeholder}" needs ${Math.ceil(needed)}px of ${room}px`);
    }
  }
  return cut;
}"""

# The chart's labels as they are drawn: their font size scaled as the SVG is.
_CHART_LABEL_SIZES = """() => [...document.querySelectorAll('#behaviour svg text')].map(
  text => parseFloat(getComputedStyle(text).fontSize) * text.getScreenCTM().a)"""

_ROWS_OF_CHANNELS = """() => {
  const rows = {};
  for (const choice of document.querySelectorAll('.channel-choices .choice')) {
    rows[choice.offsetTop] = (rows[choice.offsetTop] || 0) + 1;
  }
  return Object.values(rows);
}"""


def _sign_in(page: Page, server: LiveServer, email: str) -> None:
    page.goto(f"{server.url}/login")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{server.url}/")


def _sign_out(page: Page) -> None:
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/login*")


def _problems(page: Page, path: str, width: int) -> list[str]:
    found = [f"{path} at {width}px: {what}" for what in page.evaluate(_OVERFLOW)]
    found += [f"{path} at {width}px: cut placeholder {what}" for what in page.evaluate(_CUT_PLACEHOLDERS)]
    return found


def test_every_page_fits_a_tablet_and_a_desktop(sqlite_live_server: LiveServer, browser: Browser) -> None:
    server = sqlite_live_server
    store = _store(server)
    problems: list[str] = []
    screenshots = _screenshots(store)
    for width in WIDTHS:
        context = browser.new_context(
            viewport={"width": width, "height": 1000}, locale="en-GB", timezone_id="Europe/London"
        )
        context.set_default_timeout(10_000)
        try:
            page = context.new_page()
            page.goto(f"{server.url}/login")
            problems += _problems(page, "/login", width)
            if width == 820:
                page.screenshot(path="/tmp/segone-login-820.png")
            covered = page.evaluate(
                "() => document.documentElement.getBoundingClientRect().height >= window.innerHeight"
            )
            if not covered:
                problems.append(f"/login at {width}px: the background stops short of the window's bottom")

            _sign_in(page, server, store.admin)
            for path in _pages(store):
                response = page.goto(server.url + path)
                assert response is not None
                expected = 404 if path == "/customers/987654" else 200
                assert response.status == expected, (path, response.status)
                problems += _problems(page, path, width)
                if width == 820 and path in screenshots:
                    page.screenshot(path=f"/tmp/segone-{screenshots[path]}-820.png", full_page=True)
                if path == f"/customers/{store.customer}":
                    page.locator(".fact-more summary").first.click()  # an open edit panel must fit too
                    problems += _problems(page, f"{path} (a fact's edit panel open)", width)
                    body = float(page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)"))
                    sizes = page.evaluate(_CHART_LABEL_SIZES)
                    assert sizes, "the behaviour chart has no labels"
                    if max(sizes) > body:
                        drawn = f"chart labels drawn at {max(sizes):.1f}px, body text at {body}px"
                        problems.append(f"{path} at {width}px: {drawn}")
                if path.endswith("/encounters/new"):
                    rows = page.evaluate(_ROWS_OF_CHANNELS)
                    if len(set(rows)) != 1:
                        problems.append(f"{path} at {width}px: the channel buttons sit in rows of {rows}")
            _sign_out(page)

            _sign_in(page, server, store.frontline)
            response = page.goto(f"{server.url}/admin/users")
            assert response is not None and response.status == 403
            problems += _problems(page, "/admin/users (forbidden)", width)
        finally:
            context.close()
    assert problems == [], "\n".join(problems)
