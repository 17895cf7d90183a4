"""The segment explorer over real HTTP and in Chromium: the versions, the icicle drilled down to a segment
of one and on to the customer's sheet, how a segment differs from the average customer, its customers,
and the migration between two versions as a matrix."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from datetime import date
from html import unescape

import pytest
from playwright.sync_api import Browser, Page, expect

from segone.accounts.schemas import SYSTEM, Role
from segone.behaviour import ingest
from segone.behaviour import refresh as behaviour_refresh
from segone.runtime import Runtime
from segone.segmentation import service
from segone.segmentation.models import SegmentationVersion
from segone.storage import leases
from segone.web import segments as segments_page
from tests.behaviour.conftest import DUCKDB_WARNING
from tests.conftest import LiveServer
from tests.factories import PASSWORD, MadeUser, make_customer, make_user
from tests.web.conftest import csrf_of, signed_in

BROWSER = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


@dataclass(frozen=True)
class Planted:
    gold: list[int]
    basic: list[int]
    version: int  # plan and spend: plan splits first, then spend down to segments of one
    later: int  # spend alone


def _planted(runtime: Runtime) -> Planted:
    """Eight gold customers who spend a lot and four basic ones who spend little, every spend different:
    the tree splits on plan, then on spend down to segments of one (gold ones four splits down)."""
    gold = [
        make_customer(runtime, name=f"Gold {i}", attributes={"plan": "gold", "spend": 900 + 10 * i})
        for i in range(8)
    ]
    basic = [
        make_customer(runtime, name=f"Basic {i}", attributes={"plan": "basic", "spend": 10 + i})
        for i in range(4)
    ]
    version = service.build(
        runtime.sessions,
        runtime.settings,
        actor=SYSTEM,
        variables=["attribute:plan", "attribute:spend"],
        name="by plan",
    )
    later = service.build(runtime.sessions, runtime.settings, actor=SYSTEM, variables=["attribute:spend"])
    return Planted(gold, basic, version.id, later.id)


def _links(html: str, prefix: str) -> list[str]:
    return re.findall(rf'href="({re.escape(prefix)}[^"#?]*)[^"]*"', html)


def _section(html: str, section_id: str) -> str:
    start = html.index(f'id="{section_id}"')
    return html[start : html.index("</section>", start)]


def _tiles(html: str) -> list[tuple[str, str]]:
    """The icicle's tiles: (link, tooltip)."""
    return [
        (href, unescape(title))
        for href, title in re.findall(
            r'<a class="icicle-tile[^"]*" href="([^"]+)"><title>([^<]*)</title>', html
        )
    ]


def _segment(runtime: Runtime, version_id: int, conditions: list[str]) -> int:
    with runtime.session() as db:
        every = service.segments(db, actor=SYSTEM, version_id=version_id)
    (found,) = [s.node_id for s in every if s.conditions == conditions]
    return found


def test_the_versions_list_links_each_build_newest_first(live_server: LiveServer) -> None:
    runtime = live_server.runtime
    manager = make_user(runtime, Role.MANAGER)
    with signed_in(live_server, manager) as client:
        empty = client.get("/segments")
        assert empty.status_code == 200
        assert "No segmentation is built yet" in empty.text
        assert "segone segments build --min-size 1" in empty.text
        assert 'action="/segments/build"' not in empty.text  # a manager does not build
        assert 'href="/segments"' in empty.text  # in the menu

        planted = _planted(runtime)
        html = client.get("/segments").text
    table = _section(html, "versions")
    assert _links(table, "/segments/") == [
        f"/segments/{planted.later}",
        "/segments/compare",
        f"/segments/{planted.version}",
    ]
    assert f"before={planted.version}&amp;after={planted.later}" in table
    assert "by plan" in table and "attribute:plan, attribute:spend" in table
    # 12 customers, 12 leaves, 12 segments of one in the first version.
    first = table[table.index("by plan</a>") :]
    assert re.findall(r'<td class="number">([^<]*)</td>', first)[:3] == ["12", "12", "12"]


def test_the_explorer_draws_the_tree_and_drills_down_to_a_segment_of_one(
    live_server: LiveServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    runtime = live_server.runtime
    planted = _planted(runtime)
    v = planted.version
    gold = _segment(runtime, v, ["plan: gold"])
    with signed_in(live_server, make_user(runtime, Role.MANAGER)) as client:
        root = client.get(f"/segments/{v}").text
        tiles = _tiles(root)
        # The root on top, then every level down to four below it: all 23 nodes of this small tree.
        assert len(tiles) == 23
        assert tiles[0][0] == f"/segments/{v}/0" and tiles[0][1].startswith("All customers\n12 customers")
        assert (f"/segments/{v}/{gold}", "plan: gold\n8 customers, 67% of all") in tiles
        assert sum("a segment of one" in title for _, title in tiles) == 12
        assert "this is the average customer" in _section(root, "deviations")
        assert len(_links(_section(root, "members"), "/customers/")) == 12
        assert _links(_section(root, "children"), f"/segments/{v}/") == [
            f"/segments/{v}/{_segment(runtime, v, ['plan: basic'])}",
            f"/segments/{v}/{gold}",
        ]

        page = client.get(f"/segments/{v}/{gold}").text
        trail = page[page.index('class="segment-trail"') : page.index("</nav>", page.index("segment-trail"))]
        assert _links(trail, "/segments/") == [f"/segments/{v}/0"]
        assert '<span aria-current="page">plan: gold</span>' in trail
        assert '<h1 id="segment-title">plan: gold</h1>' in page
        assert 'id="segment-size">8<' in page and "67% of all" in page
        # The top bar goes back up; the rows below are the gold side only.
        assert _tiles(page)[0][0] == f"/segments/{v}/0"
        assert len(_tiles(page)) == 1 + 2 + 4 + 8
        # How gold customers differ from the average customer: they spend more, and all are gold.
        deviations = _section(page, "deviations")
        assert 'class="chart-svg deviation-chart"' in deviations
        assert re.search(r"spend</text>.*?\+0\.\d\d SD", deviations, re.S)
        assert re.search(r"plan: gold</text>.*?\+33 pts", deviations, re.S)
        assert "100%" in deviations and "67%" in deviations
        # And from the basic side of the cut: none of them basic, against all.
        against = deviations[deviations.index('id="sibling-deviations"') :]
        assert "The other side" in against
        assert re.search(r"plan: basic</td>.*?>0%<.*?>100%<.*?\u2212100 pts", against, re.S)
        members = _section(page, "members")
        assert _links(members, "/customers/") == [f"/customers/{c}" for c in planted.gold]
        assert "Basic" not in members

        # Down the gold side to the customer who spends least: four splits down, a segment of one.
        leaf = _segment(runtime, v, ["plan: gold", "spend: under 910"])
        deep = client.get(f"/segments/{v}/{leaf}").text
        assert "A segment of one" in _section(deep, "segment-of-one")
        assert _links(_section(deep, "segment-of-one"), "/customers/") == [f"/customers/{planted.gold[0]}"]
        # Below the stored levels, its own deviations are worked out when asked: the customer's own.
        own = _section(deep, "deviations")
        assert 'id="deviations-note"' not in own and 'class="chart-svg deviation-chart"' in own
        assert re.search(r"plan: gold</text>.*?\+33 pts", own, re.S)
        # A segment too large for that shows its nearest ancestor's, and says so.
        monkeypatch.setattr(service, "LIVE_DEVIATIONS", 0)
        deep = client.get(f"/segments/{v}/{leaf}").text
        note = " ".join(unescape(_section(deep, "deviations")).split())
        assert "this one is 4 levels down and larger" in note
        ancestor = _segment(runtime, v, ["plan: gold", "spend: under 920"])
        assert f'href="/segments/{v}/{ancestor}"' in note

        # The sheet shows the customer's segment in the latest build, and links managers to it.
        sheet = client.get(f"/customers/{planted.gold[0]}").text
        assert re.search(rf'href="/segments/{planted.later}/\d+">In the explorer</a>', sheet)
        assert client.get(f"/segments/{v}/99999").status_code == 404
        assert client.get(f"/segments/{v + 100}").status_code == 404


def test_the_customers_of_a_segment_come_a_page_at_a_time(
    live_server: LiveServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(segments_page, "MEMBERS_PER_PAGE", 5)
    runtime = live_server.runtime
    planted = _planted(runtime)
    everyone = [f"/customers/{c}" for c in sorted(planted.gold + planted.basic)]
    with signed_in(live_server, make_user(runtime, Role.ANALYST)) as client:
        pages = [
            _section(client.get(f"/segments/{planted.version}?page={n}").text, "members") for n in (1, 2, 3)
        ]
        assert [_links(p, "/customers/") for p in pages] == [everyone[:5], everyone[5:10], everyone[10:]]
        assert "Page 1 of 3" in pages[0] and "Page 3 of 3" in pages[2]
        # A page past the end is the last one.
        beyond = _section(client.get(f"/segments/{planted.version}/0?page=99").text, "members")
        assert _links(beyond, "/customers/") == everyone[10:]


def test_compare_draws_the_migration_matrix_and_the_segments_that_changed(live_server: LiveServer) -> None:
    runtime = live_server.runtime
    planted = _planted(runtime)
    with signed_in(live_server, make_user(runtime, Role.MANAGER)) as client:
        html = client.get(
            "/segments/compare", params={"before": planted.version, "after": planted.later, "depth": 1}
        ).text
        # By default: the latest version against the one before it, two splits down.
        default = client.get("/segments/compare").text
        same = client.get(
            "/segments/compare", params={"before": planted.version, "after": planted.version, "depth": 1}
        ).text
        missing = client.get("/segments/compare", params={"before": 999, "after": planted.later})
    migration = unescape(_section(html, "migration"))
    assert '<svg class="chart-svg matrix migration-matrix"' in migration
    rows = re.findall(
        r'<text class="chart-tick" x="[^"]+" y="[^"]+" text-anchor="end">([^<]+)</text>', migration
    )
    assert rows == ["#1 plan: basic", "#2 plan: gold"]
    assert sorted(re.findall(r'class="matrix-count"[^>]*>([^<]+)<', migration)) == ["4", "8"]
    assert "<strong>0</strong> customers stayed" in migration and "<strong>12</strong> moved" in migration
    assert re.findall(r'class="pill fate-(\w+)"', html) == ["vanished"] * 2 + ["appeared"] * 2
    assert _links(_section(html, "segments-before"), f"/segments/{planted.version}/") == [
        f"/segments/{planted.version}/1",
        f"/segments/{planted.version}/2",
    ]
    assert "The largest moves" in html

    assert f'<option value="{planted.version}" selected>' in default
    assert f"From version {planted.version} to version {planted.later}, segments 2 splits down" in default
    # Against itself, everyone stays: the counts run down the outlined diagonal.
    assert len(re.findall(r'class="matrix-cell matrix-shade-\d matrix-same"', same)) == 2
    assert "<strong>12</strong> customers stayed" in same
    assert missing.status_code == 200 and "There is no segmentation version 999" in missing.text


def test_a_build_still_running_says_so(live_server: LiveServer) -> None:
    runtime = live_server.runtime
    with runtime.session() as db:  # held by this live process: running (one whose process died is not)
        running = SegmentationVersion(settings={}, variable_names=[])
        leases.take(db, SegmentationVersion, running, what=service.BUILD, lease_seconds=60)
        version_id = running.id
    with signed_in(live_server, make_user(runtime, Role.MANAGER)) as client:
        page = client.get(f"/segments/{version_id}")
        listed = client.get("/segments").text
    assert page.status_code == 200 and "This build is still running" in page.text
    assert '<span class="pill">running</span>' in listed
    assert f'href="/segments/{version_id}"' not in listed


def test_an_analyst_starts_a_build_from_the_page(live_server: LiveServer) -> None:
    runtime = live_server.runtime
    for i in range(4):
        make_customer(runtime, attributes={"plan": "gold" if i % 2 else "basic", "spend": i})
    with signed_in(live_server, make_user(runtime, Role.ANALYST)) as client:
        page = client.get("/segments").text
        assert 'action="/segments/build"' in page
        token = csrf_of(page)
        refused = client.post("/segments/build", data={"csrf_token": token, "min_size": "0"})
        assert refused.status_code == 303
        assert "The smallest segment must be a whole number from 1" in client.get("/segments").text
        nowhere = {"csrf_token": token, "min_size": "1", "unknown": "nowhere"}
        assert client.post("/segments/build", data=nowhere).status_code == 303
        assert "Missing values go to a segment of their own" in client.get("/segments").text
        started = client.post(
            "/segments/build",
            data={"csrf_token": token, "name": "from the page", "min_size": "1", "unknown": "side"},
        )
        assert started.status_code == 303 and started.headers["location"] == "/segments"
        assert "being built in the background" in client.get("/segments").text
        version = _wait_for_build(runtime)
        listed = client.get("/segments").text
    assert version.name == "from the page" and version.segments_of_one == 4
    assert version.settings["unknown"] == "side"
    assert f'<a href="/segments/{version.id}">from the page</a>' in listed
    assert "missing values with the side they resemble" in listed


def _wait_for_build(runtime: Runtime) -> service.VersionOut:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        with runtime.session() as db:
            found = service.list_versions(db, actor=SYSTEM)
        if found and found[0].status.value != "running":
            assert found[0].status.value == "done", found[0].message
            return found[0]
        time.sleep(0.2)
    raise AssertionError("the build did not finish")


@pytest.mark.filterwarnings(DUCKDB_WARNING)
def test_value_is_in_the_currency_and_colours_the_tree(sqlite_live_server: LiveServer) -> None:
    runtime = sqlite_live_server.runtime
    # Enough buyers with repeat purchases for the CLV models to fit (Gamma-Gamma needs 50).
    events = []
    for i in range(60):
        big = i < 20
        make_customer(runtime, identities=[f"loyalty:V{i}"], attributes={"plan": "gold" if big else "basic"})
        events += [
            {
                "customer": f"loyalty:V{i}",
                "type": "purchase",
                "timestamp": f"2024-{m:02d}-{10 + i % 15}",
                # Spends that vary from purchase to purchase, as Gamma-Gamma needs.
                "value": str((300 if big else 40) + (m * 37 + i * 11) % 50),
            }
            for m in range(1, 3 + i % 6)
        ]
    with runtime.session() as db:
        ingest.stage_batch(db, actor=SYSTEM, events=events)
    behaviour_refresh.refresh(runtime.sessions, runtime.settings, actor=SYSTEM, as_of=date(2024, 12, 31))
    version = service.build(
        runtime.sessions, runtime.settings, actor=SYSTEM, variables=["attribute:plan"], name="value"
    )
    gold = _segment(runtime, version.id, ["plan: gold"])
    with signed_in(sqlite_live_server, make_user(runtime, Role.MANAGER)) as client:
        root = client.get(f"/segments/{version.id}").text
        page = client.get(f"/segments/{version.id}/{gold}").text
    assert re.search(r'id="segment-clv-sum">\$[\d,]+\.\d\d<', root)
    assert "CLV per customer twice the average or more" in root
    assert re.search(r'class="icicle-tile icicle-value-[45]" href="/segments/\d+/' + str(gold), root)
    assert re.search(r"\d\.\d\d \u00d7 the average customer\u2019s \(\$[\d,]+\.\d\d\)", page)


# ------------------------------------------------------------------------------------------ browser


def _sign_in(page: Page, server: LiveServer, user: MadeUser) -> None:
    page.goto(f"{server.url}/login?next=/segments")
    page.get_by_label("E-mail address").fill(user.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{server.url}/segments")


def _fits(page: Page) -> bool:
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"))


@pytest.mark.parametrize("width", [768, 1280])
@pytest.mark.browser
@pytest.mark.xdist_group("browser")
def test_a_manager_clicks_down_the_icicle_to_a_customer_and_compares_versions(
    sqlite_live_server: LiveServer, browser: Browser, width: int
) -> None:
    server = sqlite_live_server
    planted = _planted(server.runtime)
    manager = make_user(server.runtime, Role.MANAGER)
    context = browser.new_context(
        viewport={"width": width, "height": 900}, locale="en-GB", timezone_id="Europe/London"
    )
    context.set_default_timeout(10_000)
    try:
        page = context.new_page()
        _sign_in(page, server, manager)
        page.get_by_role("link", name="by plan").click()
        expect(page.get_by_role("heading", name="All customers", level=1)).to_be_visible()
        page.screenshot(path=f"/tmp/segone-segments-explorer-{width}.png", full_page=True)
        assert _fits(page)
        # Each click on the first box below the top bar goes one split down: plan, then spend twice.
        for expected in ("plan: basic", "spend: under 12", "spend: under 11"):
            tile = page.locator("svg.icicle a.icicle-tile").nth(1)
            expect(tile).to_be_visible()
            tile.click()
            expect(page.locator("#segment-title")).to_have_text(expected)
            assert _fits(page)
        expect(page.locator("#segment-of-one")).to_contain_text("A segment of one")
        expect(page.locator(".segment-trail a")).to_have_count(3)
        page.screenshot(path=f"/tmp/segone-segments-one-{width}.png", full_page=True)
        page.get_by_role("link", name="Basic 0\u2019s sheet").click()
        page.wait_for_url(f"{server.url}/customers/{planted.basic[0]}")
        expect(page.get_by_role("heading", name="Basic 0")).to_be_visible()

        page.goto(f"{server.url}/segments")
        page.get_by_role("link", name=f"Compare with No. {planted.version}").click()
        matrix = page.locator("svg.migration-matrix")
        expect(matrix).to_be_visible()
        expect(matrix.locator(".matrix-count")).to_have_count(4)  # two splits down: 4 segments each
        box = matrix.bounding_box()
        assert box is not None and box["width"] > 100 and box["x"] + box["width"] <= width
        assert _fits(page)
        page.screenshot(path=f"/tmp/segone-segments-compare-{width}.png", full_page=True)
    finally:
        context.close()
