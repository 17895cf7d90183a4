"""The managers' self-assessment dashboard and the top-10 exercise, on a small hand-made store."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import update

from segone.accounts.schemas import SYSTEM, Role
from segone.clock import utcnow
from segone.knowledge.categories.service import in_force as categories_in_force
from segone.knowledge.distinguishability import refresh
from segone.knowledge.facts import service as knowledge
from segone.knowledge.facts.schemas import AcknowledgeRequest, DifferentiatorCreate
from segone.knowledge.models import Differentiator
from segone.runtime import Runtime
from tests.conftest import LiveServer
from tests.factories import make_customer, make_user
from tests.web.conftest import signed_in


def _facts(runtime: Runtime) -> dict[str, int]:
    people = {name: make_customer(runtime, name=name) for name in ("Ann Ash", "Bo Birch", "Cy Cedar")}
    with runtime.session() as db:
        for name, text, category in (
            ("Ann Ash", "Keeps bees on the roof", "free_time"),
            ("Ann Ash", "Has two children", "family"),
            ("Bo Birch", "Has two children", "family"),
        ):
            fact = knowledge.add(
                db,
                actor=SYSTEM,
                customer_id=people[name],
                data=DifferentiatorCreate(text=text, category=category),
                categories=categories_in_force(runtime.settings),
            )
            if text.startswith("Keeps bees"):
                knowledge.acknowledge(db, actor=SYSTEM, differentiator_id=fact.id, data=AcknowledgeRequest())
        # One fact learned two months ago and never confirmed since.
        db.execute(
            update(Differentiator)
            .where(Differentiator.customer_id == people["Bo Birch"])
            .values(learned_at=utcnow() - timedelta(days=62), last_confirmed_at=utcnow() - timedelta(days=62))
        )
    return people


def test_the_dashboard_answers_do_we_know_a_lot(live_server: LiveServer) -> None:
    runtime = live_server.runtime
    people = _facts(runtime)
    with signed_in(live_server, make_user(runtime, Role.MANAGER)) as client:
        page = client.get("/dashboards/knowledge")
        assert page.status_code == 200
        html = page.text
        assert "Not measured yet" in html
        latest = dict(re.findall(r"<h2>([^<]+)</h2>\s*<p class=\"chart-latest\">([^<]+)</p>", html))
        assert latest["Facts per customer"] == "1.00"  # 3 facts, 3 customers
        assert latest["Customers we know anything about"] == "67%"  # Ann and Bo of three
        assert (
            "counted from their first activity: first purchase, first encounter or when they were added"
            in html
        )
        assert latest["Recognition ratio: they know we know"] == "33%"  # Ann's bees
        assert latest["Facts still fresh"] == "100%"  # confirmed within 12 months
        assert len(re.findall(r'<section class="panel chart">', html)) == 7
        # Bo's fact was learned two months ago: the series starts earlier than this month.
        assert html.count('class="chart-dot"') >= 6 * 2
        # Every chart has its axes, ticks and unit, and its last value written on it (no hover needed).
        charts = re.findall(r'<section class="panel chart">\s*<h2>([^<]+)</h2>.*?</section>', html, re.S)
        assert len(charts) == 7
        known = html[html.index("<h2>Customers we know anything about</h2>") :]
        known = known[: known.index("</svg>")]
        ticks = re.findall(r'class="chart-tick"[^>]*>([^<]+)<', known)
        assert ticks[:5] == ["0%", "25%", "50%", "75%", "100%"] and len(ticks) >= 6  # and the months
        assert "% of active customers" in known and "end of month" in known
        assert re.findall(r'class="chart-value"[^>]*>([^<]+)<', known) == ["67%"]
        facts = html[html.index("<h2>Facts per customer</h2>") :]
        facts = facts[: facts.index("</svg>")]
        assert "facts per customer</text>" in facts
        assert re.findall(r'class="chart-value"[^>]*>([^<]+)<', facts) == ["1.00"]
        assert "hover" not in html

        # A team with a long name learns a fact the customer has not been shown we know.
        flagship = make_user(runtime, Role.FRONTLINE, team="Flagship store, Regent Street")
        with runtime.session() as db:
            knowledge.add(
                db,
                actor=flagship.actor,
                customer_id=people["Ann Ash"],
                data=DifferentiatorCreate(text="Sings in a choir", category="free_time"),
                categories=categories_in_force(runtime.settings),
            )
        refresh.refresh(runtime.sessions, runtime.settings, actor=SYSTEM)
        after = client.get("/dashboards/knowledge").text
        assert "<strong>1</strong> of\n    3 customers were <strong>segments of one</strong>" in after
        teams = after[after.index('id="teams"') : after.index('id="distinguishability"')]
        bars = _bars(teams)
        # The test's facts were written as the system (no team); the flagship's employee learned one.
        assert (
            bars["No team"][1] == "33% of 3 facts"
            and bars["Flagship store, Regent Street"][1] == "0% of 1 fact"
        )
        # Each bar starts at the same x, whatever the length of its team's name: one baseline.
        assert len({x for x, _ in bars.values()}) == 1
        assert "% of the team" in teams and ">100%<" in teams  # the axis, with its unit
        after = after[after.index('id="distinguishability"') :]
        spread = _bars(after)
        assert {size: value for size, (_, value) in spread.items()} == {
            "1": "1 customer",
            "2": "1 customer",
            "3-5": "1 customer",
            "6-10": "0 customers",
            "11-100": "0 customers",
            "&gt;100": "0 customers",
        }
        assert len({x for x, _ in spread.values()}) == 1


def _bars(html: str) -> dict[str, tuple[str, str]]:
    """Each bar of the first bar chart in ``html``: its label, the x it starts at and the value written."""
    chart = html[html.index("<svg") : html.index("</svg>")]
    found = re.findall(
        r'class="chart-bar-label"[^>]*>([^<]+)</text>\s*<rect x="([^"]+)"[^>]*/>\s*'
        r'<text class="chart-value"[^>]*>([^<]+)</text>',
        chart,
    )
    return {label: (x, value) for label, x, value in found}


def test_the_top_ten_shows_what_makes_each_unique(live_server: LiveServer) -> None:
    runtime = live_server.runtime
    people = _facts(runtime)
    refresh.refresh(runtime.sessions, runtime.settings, actor=SYSTEM)
    with signed_in(live_server, make_user(runtime, Role.MANAGER)) as client:
        by_facts = client.get("/dashboards/top", params={"by": "facts"}).text
        names = re.findall(r'<h2><a href="/customers/\d+">([^<]+)</a></h2>', by_facts)
        assert names == ["Ann Ash", "Bo Birch"]  # Cy has no fact to rank by
        ann = by_facts[by_facts.index("Ann Ash") : by_facts.index("Bo Birch")]
        assert "A segment of one" in ann and "Keeps bees on the roof" in ann
        chosen = client.get("/dashboards/top", params={"ids": f"{people['Cy Cedar']}, 999999"}).text
        assert re.findall(r'<h2><a href="/customers/\d+">([^<]+)</a></h2>', chosen) == ["Cy Cedar"]
        assert "Nothing we know is theirs alone" in chosen
    with signed_in(live_server, make_user(runtime, Role.FRONTLINE)) as client:
        assert client.get("/dashboards/top").status_code == 403
