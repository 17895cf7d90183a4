"""The behaviour panel of a customer page: before any refresh, and with a profile, scores and a timeline."""

from __future__ import annotations

import re
from datetime import date

import httpx
import pytest

from segone.accounts.schemas import SYSTEM
from segone.behaviour import ingest, refresh
from tests.behaviour.conftest import DUCKDB_WARNING
from tests.conftest import LiveServer
from tests.factories import MadeUser, make_customer

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
    assert "6 purchase days from 2024-01-05 to 2024-05-24, worth 240.00 in all" in panel
    assert "Bought on 6 days, last 8 days ago." in panel
    assert "Usually every 4 weeks, like clockwork." in panel
    assert "Mostly on Fridays, around 18:00 UTC." in panel
    assert "Contacted us 1 time, about delivery." in panel
    assert "1 referral" in panel
    assert "Purchases expected in 52 weeks" in panel and "Spent so far" in panel
