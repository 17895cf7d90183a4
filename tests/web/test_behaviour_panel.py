"""The behaviour panel of a customer page: before any refresh, and with a profile, scores and a timeline."""

from __future__ import annotations

import re
from datetime import date

import httpx
import pytest
from playwright.sync_api import BrowserContext, expect

from segone.accounts.schemas import SYSTEM, Role
from segone.behaviour import ingest, refresh
from segone.behaviour import service as profiles
from segone.behaviour.schemas import AliveHistory, BehaviourOut, Interval, ScoreIntervals, ScoresOut
from segone.customers import service as customers
from segone.web import behaviour_panel
from tests.behaviour.conftest import DUCKDB_WARNING, refreshed_on_cdnow
from tests.conftest import LiveServer
from tests.factories import PASSWORD, MadeUser, make_customer, make_user

pytestmark = pytest.mark.filterwarnings(DUCKDB_WARNING)


def _panel(html: str) -> str:
    match = re.search(r'<section id="behaviour".*?</section>', html, re.S)
    assert match, "the page has no behaviour panel"
    return match.group(0)


def test_the_panel_waits_for_the_first_refresh(
    live_server: LiveServer, frontline_client: tuple[httpx.Client, MadeUser]
) -> None:
    client, _ = frontline_client
    customer = make_customer(live_server.runtime, name="Nia Newcomer")
    panel = _panel(client.get(f"/customers/{customer}").text)
    assert "No behaviour yet" in panel and "<svg" not in panel


def test_the_panel_shows_the_profile_scores_and_a_stem_per_purchase_day(
    live_server: LiveServer, frontline_client: tuple[httpx.Client, MadeUser]
) -> None:
    client, _ = frontline_client
    runtime = live_server.runtime
    customer = make_customer(runtime, name="Bea Buyer", identities=["shop:bea"])
    days = ["2024-01-05", "2024-02-02", "2024-03-01", "2024-03-29", "2024-04-26", "2024-05-24"]
    events = [
        {"customer": "shop:bea", "type": "purchase", "timestamp": f"{day}T18:30:00Z", "value": "40"}
        for day in days
    ]
    events.append(
        {"customer": "shop:bea", "type": "contact", "timestamp": "2024-05-25", "reason": "delivery"}
    )
    events.append({"customer": "shop:bea", "type": "referral", "timestamp": "2024-05-26"})
    for n in range(40):  # enough other customers to fit the models on
        events += [
            {
                "customer": f"shop:{n}",
                "type": "purchase",
                "timestamp": f"2024-0{m}-0{1 + n % 9}",
                "value": "12",
            }
            for m in range(1, 2 + n % 5)
        ]
    with runtime.session() as db:
        ingest.stage_batch(db, actor=SYSTEM, events=events)
    refresh.refresh(runtime.sessions, runtime.settings, actor=SYSTEM, as_of=date(2024, 6, 1))

    panel = _panel(client.get(f"/customers/{customer}").text)
    assert "as of 2024-06-01" in panel
    assert re.search(r"Still buying from us: \d+% likely|At risk|Probably lapsed", panel)
    assert panel.count('<g class="stem') == len(days)
    assert "6 purchase days from 2024-01-05 to 2024-05-24, worth $240.00 in all" in panel
    assert "Bought on 6 days, the last on 2024-05-24 (8 days before 2024-06-01)." in panel
    assert "Usually every 4 weeks, like clockwork (the middle of 5 gaps between purchase days)." in panel
    assert "Most active on Fridays: 6 of 8 events." in panel
    assert "Most active around 18:00 UTC: 6 of 8 events." in panel
    assert "Contacted us 1 time, about delivery." in panel
    assert "1 referral" in panel
    assert "Purchase days expected in the 52 weeks after 2024-06-01" in panel
    assert "Spent up to 2024-06-01</dt><dd>$240.00<" in panel
    # The plot has its axes and units, and its values written on it, not only in hover titles.
    svg = panel[panel.index("<svg") : panel.index("</svg>")]
    assert "value of the day (USD)" in svg and "purchase days as of 2024-06-01" in svg
    assert re.findall(r'class="chart-tick"[^>]*>([^<]+)<', svg) == [
        "$0",
        "$10",
        "$20",
        "$30",
        "$40",
        "Jan 2024",
        "Jun 2024",
    ]
    assert re.findall(r'class="chart-value"[^>]*>([^<]+)<', svg) == [
        "24 May: $40.00"
    ]  # the last, also the largest


def test_two_purchases_on_consecutive_days_are_too_few_to_tell_a_rhythm(
    live_server: LiveServer, frontline_client: tuple[httpx.Client, MadeUser]
) -> None:
    client, _ = frontline_client
    runtime = live_server.runtime
    customer = make_customer(runtime, name="Duo Twice", identities=["shop:duo"])
    events = [
        {"customer": "shop:duo", "type": "purchase", "timestamp": "1997-01-01", "value": "26.55"},
        {"customer": "shop:duo", "type": "purchase", "timestamp": "1997-01-02", "value": "11.77"},
    ]
    with runtime.session() as db:
        ingest.stage_batch(db, actor=SYSTEM, events=events)
    refresh.refresh(runtime.sessions, runtime.settings, actor=SYSTEM, as_of=date(1998, 6, 30))

    panel = _panel(client.get(f"/customers/{customer}").text)
    assert "How often they buy: too few purchases to tell (2 purchase days; we say it from 5)." in panel
    assert "Favourite weekday: too few events to tell (2 events; we say it from 8)." in panel
    assert "Usually every" not in panel and "Wednesdays" not in panel
    assert "Bought on 2 days, the last on 1997-01-02 (18 months before 1998-06-30)." in panel
    assert "Spent up to 1998-06-30</dt><dd>$38.32<" in panel


def test_the_forecast_page_shows_each_score_with_its_interval_and_p_alive_over_time(
    live_server: LiveServer, frontline_client: tuple[httpx.Client, MadeUser]
) -> None:
    client, _ = frontline_client
    runtime = live_server.runtime
    waiting = make_customer(runtime, name="Nia Newcomer")
    refreshed_on_cdnow(runtime)
    with runtime.session() as db:
        customer = customers.get_by_identity(db, actor=SYSTEM, identity="cdnow:00004")
        assert customer is not None
        behaviour = profiles.behaviour_with_intervals(
            db, actor=SYSTEM, customer_id=customer.id, currency="USD", level=0.9
        )
    scores = behaviour.scores
    assert scores is not None and scores.intervals is not None and scores.intervals.p_alive is not None
    assert behaviour.profile is not None

    # The customer page links to it; the intervals are not on the page itself.
    panel = _panel(client.get(f"/customers/{customer.id}").text)
    link = f'href="/customers/{customer.id}/forecast"'
    assert link in panel and "interval" not in panel.replace("Intervals and P(alive)", "")

    page = client.get(f"/customers/{customer.id}/forecast")
    assert page.status_code == 200
    html = page.text
    # Each score as shown, with its interval; as precise as it takes for the two ends to differ.
    found = re.findall(r'<dt>([^<]+)</dt><dd>([^<]+) <span class="interval">\(([^<]+)\)</span>', html)
    shown = {label: f"{value} ({interval})" for label, value, interval in found}
    alive = re.fullmatch(r"([\d.]+)% \(([\d.]+)\u2013([\d.]+)%\)", shown["Still buying from us (P(alive))"])
    assert alive is not None
    value, low, high = (float(v) / 100 for v in alive.groups())
    rounding = 0.5 * 10 ** -(len(alive.group(1).partition(".")[2]) + 2) + 1e-12
    assert low < high and value == pytest.approx(scores.p_alive, abs=rounding)
    assert low == pytest.approx(scores.intervals.p_alive.low, abs=rounding)
    assert high == pytest.approx(scores.intervals.p_alive.high, abs=rounding)
    clv = scores.intervals.clv
    assert clv is not None
    assert (
        shown["Value of those weeks (CLV)"] == f"${scores.clv:,.2f} (${clv.low:,.2f}\u2013${clv.high:,.2f})"
    )
    assert f"Purchase days expected in the 52 weeks after {behaviour.as_of}" in shown
    assert "with 90% probability" in html
    # P(alive) over time: a line, a dot per purchase day, the last value written at its end.
    chart = re.search(r'<section id="alive-history".*?</section>', html, re.S)
    assert chart is not None
    svg = chart.group(0)
    assert svg.count('<circle class="chart-dot"') == behaviour.profile.purchases
    assert re.search(r'<polyline class="chart-line" points="[\d., ]+"/>', svg)
    assert f">{scores.p_alive:.0%}</text>" in svg
    assert [t for t in re.findall(r'class="chart-tick"[^>]*>([^<]+)<', svg)][:5] == [
        "0%",
        "25%",
        "50%",
        "75%",
        "100%",
    ]

    # Before a refresh has scored someone: no link, and the page says why it is empty.
    assert "/forecast" not in _panel(client.get(f"/customers/{waiting}").text)
    assert "No forecast yet" in client.get(f"/customers/{waiting}/forecast").text
    assert client.get("/customers/999999/forecast").status_code == 404


def _alive_history(html: str) -> str:
    match = re.search(r'<section id="alive-history".*?</section>', html, re.S)
    assert match, "no P(alive) chart"
    return match.group(0)


def test_p_alive_over_time_has_a_page_the_panel_loads_its_chart_from(
    live_server: LiveServer, frontline_client: tuple[httpx.Client, MadeUser]
) -> None:
    client, _ = frontline_client
    runtime = live_server.runtime
    waiting = make_customer(runtime, name="Nia Newcomer")
    refreshed_on_cdnow(runtime)
    with runtime.session() as db:
        customer = customers.get_by_identity(db, actor=SYSTEM, identity="cdnow:00004")
        assert customer is not None
        history = profiles.alive_history(db, actor=SYSTEM, customer_id=customer.id)
        behaviour = profiles.behaviour_of(db, actor=SYSTEM, customer_id=customer.id, currency="USD")
    assert history.points and behaviour.profile is not None and behaviour.scores is not None

    # The customer page does not compute it: a placeholder names the page and the part to take from it.
    panel = _panel(client.get(f"/customers/{customer.id}").text)
    slot = f'data-load="/customers/{customer.id}/alive-history" data-load-part="alive-history"'
    assert slot in panel and "chart-line" not in panel
    page = client.get(f"/customers/{customer.id}/alive-history")
    assert page.status_code == 200
    chart = _alive_history(page.text)
    # A dot per purchase day, the line through every point, today's P(alive) at its end: the forecast
    # page's chart, from the same template.
    assert chart.count('<circle class="chart-dot"') == behaviour.profile.purchases
    line = re.search(r'<polyline class="chart-line" points="([\d., ]+)"/>', chart)
    assert line is not None and len(line.group(1).split()) == len(history.points)
    assert f">{behaviour.scores.p_alive:.0%}</text>" in chart
    assert chart == _alive_history(client.get(f"/customers/{customer.id}/forecast").text)

    # Nobody scored yet: no placeholder on the panel, and the page says why it is empty.
    assert "data-load" not in _panel(client.get(f"/customers/{waiting}").text)
    empty = client.get(f"/customers/{waiting}/alive-history")
    assert empty.status_code == 200 and "No P(alive) yet" in empty.text and "chart-line" not in empty.text
    assert client.get("/customers/999999/alive-history").status_code == 404


@pytest.mark.browser
@pytest.mark.xdist_group("browser")
def test_the_panel_shows_p_alive_over_time_once_the_page_is_shown(
    live_server: LiveServer, context: BrowserContext
) -> None:
    runtime = live_server.runtime
    refreshed_on_cdnow(runtime)
    with runtime.session() as db:
        customer = customers.get_by_identity(db, actor=SYSTEM, identity="cdnow:00004")
        assert customer is not None
        purchases = profiles.behaviour_of(db, actor=SYSTEM, customer_id=customer.id, currency="USD").profile
    assert purchases is not None
    user = make_user(runtime, Role.FRONTLINE)
    page = context.new_page()
    page.goto(f"{live_server.url}/login?next=/customers/{customer.id}")
    page.get_by_label("E-mail address").fill(user.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live_server.url}/customers/{customer.id}")
    panel = page.locator("#behaviour")
    expect(panel.locator("#alive-history polyline.chart-line")).to_be_visible()
    expect(panel.locator("#alive-history circle.chart-dot")).to_have_count(purchases.purchases)
    expect(panel.locator(".alive-history-slot")).to_have_count(0)
    expect(panel.get_by_role("link", name="How sure are these scores?")).to_be_visible()
    panel.screenshot(path="/tmp/segone-behaviour-panel.png")


def test_each_score_is_shown_as_precisely_as_its_interval_needs() -> None:
    def shown(p_alive: Interval, clv: Interval | None = None) -> list[tuple[str, str | None]]:
        scores = ScoresOut(
            model="Pareto/NBD",
            p_alive=0.996145,
            expected_purchases=0.90225,
            expected_value=None,
            value_population_mean=None,
            value_population_weight=None,
            clv=2397.578186,
            horizon_weeks=52,
            annual_discount_rate=0.1,
            intervals=ScoreIntervals(
                level=0.9,
                draws=500,
                p_alive=p_alive,
                expected_purchases=Interval(low=0.88762, high=0.916616, level=0.9),
                expected_value=None,
                clv=clv,
            ),
        )
        behaviour = BehaviourOut(
            customer_id=1,
            currency="USD",
            as_of=date(2026, 12, 7),
            refreshed_at=None,
            profile=None,
            scores=scores,
            timeline=[],
            reading=None,
        )
        history = AliveHistory(customer_id=1, model="Pareto/NBD", as_of=date(2026, 12, 7), points=[])
        forecast = behaviour_panel.forecast(behaviour, history)
        assert forecast is not None and forecast.chart is None
        return [(score.value, score.interval) for score in forecast.scores]

    narrow = shown(
        Interval(low=0.995892, high=0.996402, level=0.9),
        Interval(low=2384.416573, high=2411.826855, level=0.9),
    )
    # Not one number twice: two decimals more, and the value with them; purchases to two decimals too.
    assert narrow == [
        ("99.61%", "99.59\u201399.64%"),
        ("0.90", "0.89\u20130.92"),
        ("$2,397.58", "$2,384.42\u2013$2,411.83"),
    ]
    wide = shown(Interval(low=0.48, high=0.75, level=0.9))
    assert wide[0] == ("100%", "48\u201375%") and wide[2] == ("$2,397.58", None)
    certain = shown(Interval(low=1.0, high=1.0, level=0.9))
    assert certain[0] == ("100%", "100% at both ends")
