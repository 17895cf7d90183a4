"""Audiences on the web over real HTTP and in Chromium: a segment saved from the explorer, the list, an
audience's page with its members a page at a time, hand changes, a refresh, deletion, and the downloads of
a segment's and an audience's customers (the API's files, audited the same way)."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from html import unescape

import httpx
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from playwright.sync_api import Browser, expect
from sqlalchemy import select

from segone.accounts.models import AuditEntry
from segone.accounts.schemas import ROLE_PERMISSIONS, SYSTEM, Permission, Role
from segone.customers import service as customers
from segone.customers.schemas import CustomerUpdate
from segone.runtime import Runtime
from segone.segmentation import service
from segone.segmentation.schemas import AudienceOut
from segone.web import audiences as audiences_page
from tests.conftest import LiveServer
from tests.factories import PASSWORD, make_customer, make_user
from tests.web.conftest import csrf_of, field_error, signed_in


@dataclass(frozen=True)
class Planted:
    gold: list[int]
    basic: list[int]
    version: int  # split on plan: the root, basic and gold
    gold_node: int
    basic_node: int


def _planted(runtime: Runtime) -> Planted:
    gold = [
        make_customer(runtime, name=f"Gold {i}", identities=[f"crm:G{i}"], attributes={"plan": "gold"})
        for i in range(8)
    ]
    basic = [
        make_customer(runtime, name=f"Basic {i}", identities=[f"crm:B{i}"], attributes={"plan": "basic"})
        for i in range(4)
    ]
    version = service.build(
        runtime.sessions, runtime.settings, actor=SYSTEM, variables=["attribute:plan"], name="by plan"
    )
    with runtime.session() as db:
        nodes = {
            tuple(s.conditions): s.node_id for s in service.segments(db, actor=SYSTEM, version_id=version.id)
        }
    return Planted(gold, basic, version.id, nodes[("plan: gold",)], nodes[("plan: basic",)])


def _save(runtime: Runtime, name: str, version_id: int, node_id: int) -> AudienceOut:
    with runtime.session() as db:
        return service.save_audience(
            db, runtime.settings, actor=SYSTEM, name=name, version_id=version_id, node_id=node_id
        )


def _section(html: str, section_id: str) -> str:
    start = html.index(f'id="{section_id}"')
    return html[start : html.index("</section>", start)]


def _text(html: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html.replace("<wbr>", ""))).split())


def _member_ids(html: str) -> list[int]:
    return [int(c) for c in re.findall(r'<a href="/customers/(\d+)">', _section(html, "members"))]


def _figure(html: str, name: str) -> str:
    found = re.search(rf'id="audience-{name}">([^<]*)<', html)
    assert found, name
    return found.group(1)


def _post(client: httpx.Client, path: str, page: str, **data: str) -> httpx.Response:
    return client.post(path, data={"csrf_token": csrf_of(client.get(page).text), **data})


def test_an_analyst_saves_a_segment_from_the_explorer_and_lands_on_its_page(live_server: LiveServer) -> None:
    runtime = live_server.runtime
    planted = _planted(runtime)
    explorer = f"/segments/{planted.version}/{planted.gold_node}"
    with signed_in(live_server, make_user(runtime, Role.ANALYST)) as client:
        use = _section(client.get(explorer).text, "segment-use")
        assert f'action="{explorer}/audience"' in use
        assert f'href="{explorer}/export?format=csv" download' in use
        assert f'href="{explorer}/export?format=parquet" download' in use

        saved = _post(client, f"{explorer}/audience", explorer, name="  Gold   club ")
        assert saved.status_code == 303
        location = saved.headers["location"]
        assert re.fullmatch(r"/audiences/\d+", location)
        page = client.get(location).text
    assert "Saved the audience &#39;Gold club&#39;: 8 customers." in page
    assert '<h1 id="audience-title">Gold club</h1>' in page
    assert "<li>plan: gold</li>" in _section(page, "audience-summary")
    assert _figure(page, "size") == "8" and _figure(page, "matched") == "8"
    assert _figure(page, "added") == "0" and _figure(page, "removed") == "0"
    assert f'href="{explorer}">segment {planted.gold_node} of version {planted.version}</a>' in page
    assert _member_ids(page) == sorted(planted.gold)
    assert "Nobody has added or removed a customer by hand." in page


def test_a_name_empty_or_taken_is_refused_on_the_explorer(live_server: LiveServer) -> None:
    runtime = live_server.runtime
    planted = _planted(runtime)
    _save(runtime, "Gold club", planted.version, planted.gold_node)
    explorer = f"/segments/{planted.version}/{planted.basic_node}"
    with signed_in(live_server, make_user(runtime, Role.ANALYST)) as client:
        taken = _post(client, f"{explorer}/audience", explorer, name="Gold club")
        empty = _post(client, f"{explorer}/audience", explorer, name="   ")
        unknown = _post(client, f"/segments/{planted.version}/999/audience", explorer, name="Nowhere")
        listed = client.get("/audiences").text
    assert taken.status_code == 409
    assert field_error(taken.text) == [
        "There is an audience named 'Gold club' already: choose another name, or delete it first."
    ]
    # The explorer is drawn again around the form, with what was typed.
    assert '<h1 id="segment-title">plan: basic</h1>' in taken.text
    assert 'value="Gold club" aria-invalid="true" aria-describedby="name-error"' in taken.text
    assert empty.status_code == 422 and field_error(empty.text) == ["An audience needs a name."]
    assert unknown.status_code == 404 and f"Version {planted.version} has no segment 999." in unknown.text
    assert len(re.findall(r'<a href="/audiences/\d+">', listed)) == 1


def test_managers_read_audiences_and_only_analysts_change_or_download_them(live_server: LiveServer) -> None:
    runtime = live_server.runtime
    planted = _planted(runtime)
    gold = _save(runtime, "Gold club", planted.version, planted.gold_node)
    with signed_in(live_server, make_user(runtime, Role.MANAGER)) as client:
        explorer = client.get(f"/segments/{planted.version}/{planted.gold_node}").text
        listed = client.get("/audiences").text
        page = client.get(f"/audiences/{gold.id}").text
    assert 'id="segment-use"' not in explorer and '/audience"' not in explorer and "/export?" not in explorer
    assert f'<a href="/audiences/{gold.id}">Gold club</a>' in listed
    assert _member_ids(page) == sorted(planted.gold)
    assert "<form" not in page.split('id="main"')[1]  # no hand changes, refresh or delete
    assert "/export?format=" not in page
    # The menu is full: the audiences are a button on the Segments page, and part of the Segments entry.
    for role in Role:
        with signed_in(live_server, make_user(runtime, role)) as client:
            segments = client.get("/segments")
            audiences = client.get("/audiences")
        if Permission.VIEW_TEAM_DASHBOARDS in ROLE_PERMISSIONS[role]:
            assert '<a class="btn" href="/audiences">Audiences</a>' in segments.text, role
            assert '<a href="/segments" aria-current="page">Segments</a>' in audiences.text, role
        else:
            assert audiences.status_code == 403 and "see team dashboards" in audiences.text, role


def test_the_list_says_what_each_audience_is_and_which_are_stale(live_server: LiveServer) -> None:
    runtime = live_server.runtime
    with signed_in(live_server, make_user(runtime, Role.MANAGER)) as client:
        empty = client.get("/audiences").text
    assert "No audience yet" in empty and "(an analyst can)" in empty
    planted = _planted(runtime)
    gold = _save(runtime, "Gold club", planted.version, planted.gold_node)
    everyone = _save(runtime, "Everyone", planted.version, 0)
    # Nobody has a plan any more: the gold audience cannot be evaluated and keeps its members.
    with runtime.session() as db:
        for customer in planted.gold + planted.basic:
            customers.update(
                db, actor=SYSTEM, customer_id=customer, data=CustomerUpdate(attributes={"plan": None})
            )
    with runtime.session() as db:
        stale = service.refresh_audience(db, runtime.settings, actor=SYSTEM, audience_id=gold.id)
    assert stale.stale == "The variable attribute:plan no longer exists."
    with signed_in(live_server, make_user(runtime, Role.MANAGER)) as client:
        listed = client.get("/audiences").text
        page = client.get(f"/audiences/{gold.id}").text
    rows = _text(listed[listed.index('id="audiences"') :])
    assert re.findall(r'<a href="/audiences/(\d+)">', listed) == [str(everyone.id), str(gold.id)]
    assert "Everyone 12 All customers segment 0 of version" in rows
    assert f"Gold club stale 8 plan: gold segment {planted.gold_node} of version {planted.version}" in rows
    assert "Why Gold club is stale: The variable attribute:plan no longer exists." in rows
    assert f'href="/segments/{planted.version}/{planted.gold_node}"' in listed
    assert "saved or refreshed by hand" in rows
    stale_note = _text(page[page.index('id="audience-stale"') : page.index('id="audience-summary"')])
    assert "Stale. The last evaluation," in stale_note
    assert "could not run: The variable attribute:plan no longer exists." in stale_note
    assert "The members are those evaluated" in stale_note
    assert _member_ids(page) == sorted(planted.gold)


def test_hand_changes_show_in_the_members_and_the_counts(live_server: LiveServer) -> None:
    runtime = live_server.runtime
    planted = _planted(runtime)
    gold = _save(runtime, "Gold club", planted.version, planted.gold_node)
    path = f"/audiences/{gold.id}"
    analyst = make_user(runtime, Role.ANALYST)
    with signed_in(live_server, analyst) as client:
        added = _post(client, f"{path}/members", path, customer=str(planted.basic[0]))
        assert added.status_code == 303 and added.headers["location"] == f"{path}#members"
        by_identity = _post(client, f"{path}/members", path, customer="crm:B1")
        assert by_identity.status_code == 303
        removed = _post(client, f"{path}/members/{planted.gold[0]}/remove", path)
        assert removed.status_code == 303
        page = client.get(path).text
    assert f"Removed Gold 0 (No. {planted.gold[0]}) by hand: Gold club has 9 customers." in page
    assert _member_ids(page) == sorted([*planted.gold[1:], *planted.basic[:2]])
    members = _section(page, "members")
    hand = re.findall(
        r'<a href="/customers/(\d+)">[^<]*</a> <span class="muted">No\. \d+</span>\s*'
        r'<span class="pill">added by hand',
        members,
    )
    assert sorted(int(c) for c in hand) == sorted(planted.basic[:2])
    assert (_figure(page, "size"), _figure(page, "matched")) == ("9", "8")
    assert (_figure(page, "added"), _figure(page, "removed")) == ("2", "1")
    changes = _text(_section(page, "hand-changes"))
    assert f"Removed Gold 0 No. {planted.gold[0]} by {analyst.email}" in changes
    assert f"Added Basic 1 No. {planted.basic[1]} by {analyst.email}" in changes
    assert f"Added Basic 0 No. {planted.basic[0]} by {analyst.email}" in changes
    # The API reads the same members.
    with runtime.session() as db:
        listed, total = service.audience_members(db, actor=SYSTEM, audience_id=gold.id)
    assert total == 9 and [m.customer_id for m in listed] == _member_ids(page)


def test_a_customer_who_cannot_be_added_is_said_on_the_form(live_server: LiveServer) -> None:
    runtime = live_server.runtime
    planted = _planted(runtime)
    gold = _save(runtime, "Gold club", planted.version, planted.gold_node)
    path = f"/audiences/{gold.id}"
    with signed_in(live_server, make_user(runtime, Role.ANALYST)) as client:
        unknown = _post(client, f"{path}/members", path, customer="987654")
        no_identity = _post(client, f"{path}/members", path, customer="crm:NOBODY")
        nonsense = _post(client, f"{path}/members", path, customer="nonsense")
        empty = _post(client, f"{path}/members", path, customer="")
        other_audience = _post(client, "/audiences/999999/members", path, customer=str(planted.gold[0]))
        remove_unknown = _post(client, f"{path}/members/987654/remove", path)
        page = client.get(path).text
    assert unknown.status_code == 404 and field_error(unknown.text) == ["There is no customer 987654."]
    assert 'value="987654" aria-invalid="true"' in unknown.text
    assert _member_ids(unknown.text) == sorted(planted.gold)  # the page is whole around the form
    assert no_identity.status_code == 404
    assert field_error(no_identity.text) == ["No customer has the identity 'crm:NOBODY'."]
    assert nonsense.status_code == 422 and len(field_error(nonsense.text)) == 1
    assert empty.status_code == 422
    assert field_error(empty.text) == ["Give the customer's number or one of their ids, such as crm:C042."]
    assert other_audience.status_code == 404 and "There is no audience 999999." in other_audience.text
    assert remove_unknown.status_code == 404 and "There is no customer 987654." in remove_unknown.text
    assert _figure(page, "size") == "8" and "Nobody has added or removed" in page


def test_members_come_a_page_at_a_time_and_a_removal_keeps_the_page(
    live_server: LiveServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(audiences_page, "MEMBERS_PER_PAGE", 5)
    runtime = live_server.runtime
    planted = _planted(runtime)
    everyone = _save(runtime, "Everyone", planted.version, 0)
    path = f"/audiences/{everyone.id}"
    ids = sorted(planted.gold + planted.basic)
    with signed_in(live_server, make_user(runtime, Role.ANALYST)) as client:
        pages = [client.get(f"{path}?page={n}").text for n in (1, 2, 3)]
        assert [_member_ids(p) for p in pages] == [ids[:5], ids[5:10], ids[10:]]
        assert "Page 2 of 3" in pages[1]
        assert _member_ids(client.get(f"{path}?page=99").text) == ids[10:]
        token = csrf_of(pages[1])
        removed = client.post(f"{path}/members/{ids[6]}/remove", data={"csrf_token": token, "page": "2"})
        assert removed.headers["location"] == f"{path}?page=2#members"
        assert _member_ids(client.get(f"{path}?page=2").text) == [*ids[5:6], *ids[7:11]]


def test_refresh_follows_todays_values_and_delete_removes_the_audience(live_server: LiveServer) -> None:
    runtime = live_server.runtime
    planted = _planted(runtime)
    gold = _save(runtime, "Gold club", planted.version, planted.gold_node)
    newcomer = make_customer(runtime, name="Gold newcomer", attributes={"plan": "gold"})
    path = f"/audiences/{gold.id}"
    with signed_in(live_server, make_user(runtime, Role.ANALYST)) as client:
        assert newcomer not in _member_ids(client.get(path).text)
        refreshed = _post(client, f"{path}/refresh", path)
        assert refreshed.status_code == 303 and refreshed.headers["location"] == path
        page = client.get(path).text
        assert "Evaluated Gold club again: 9 customers." in page
        assert newcomer in _member_ids(page) and _figure(page, "size") == "9"
        assert "when saved or refreshed by hand" in page

        assert f'action="{path}/delete"' in page
        deleted = _post(client, f"{path}/delete", path)
        assert deleted.status_code == 303 and deleted.headers["location"] == "/audiences"
        listed = client.get("/audiences").text
        gone = client.get(path)
    assert "Deleted the audience Gold club (9 customers); the segment it came from stays." in unescape(listed)
    assert "No audience yet" in listed
    assert gone.status_code == 404 and f"There is no audience {gold.id}." in gone.text


def _rows(response: httpx.Response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.text, newline="")))


def test_the_downloads_are_the_apis_files_and_are_audited(live_server: LiveServer) -> None:
    runtime = live_server.runtime
    planted = _planted(runtime)
    gold = _save(runtime, "Gold club", planted.version, planted.gold_node)
    analyst = make_user(runtime, Role.ANALYST)
    with signed_in(live_server, analyst) as client:
        explorer = f"/segments/{planted.version}/{planted.gold_node}"
        _post(client, f"/audiences/{gold.id}/members/{planted.gold[0]}/remove", f"/audiences/{gold.id}")
        with client.stream("GET", f"{explorer}/export?format=csv") as response:
            assert response.status_code == 200
            assert response.headers["transfer-encoding"] == "chunked"
            assert response.headers["content-type"] == "text/csv; charset=utf-8"
            assert re.fullmatch(
                rf'attachment; filename="segone-segment-{planted.version}-{planted.gold_node}-customers-'
                r'\d{8}-\d{4}\.csv"',
                response.headers["content-disposition"],
            )
            response.read()
            segment = _rows(response)
        audience = client.get(f"/audiences/{gold.id}/export?format=csv")
        parquet = client.get(f"/audiences/{gold.id}/export?format=parquet")
        segment_parquet = client.get(f"{explorer}/export?format=parquet")
        bad_format = client.get(f"{explorer}/export?format=xlsx")
        unknown = client.get("/audiences/999999/export")
    consent = ["consent:contact", "consent:profiling", "consent:personalisation"]
    assert segment[0] == ["id", "kind", "name", "identities", *consent, "plan"]
    assert segment[1:] == [
        [str(c), "person", f"Gold {i}", f"crm:G{i}", "", "", "", "gold"] for i, c in enumerate(planted.gold)
    ]
    assert audience.status_code == 200 and "audience-" in audience.headers["content-disposition"]
    assert _rows(audience) == [segment[0], *segment[2:]]  # without the one removed by hand
    assert pq.read_table(pa.BufferReader(parquet.content)).column("id").to_pylist() == planted.gold[1:]
    assert pq.read_table(pa.BufferReader(segment_parquet.content)).num_rows == 8
    assert bad_format.status_code == 422
    assert unknown.status_code == 404
    with runtime.session() as db:
        entries = db.scalars(select(AuditEntry).where(AuditEntry.action == "data.exported")).all()
    assert [(e.actor_email, e.details["format"], e.details["rows"]) for e in entries] == [
        (analyst.email, "csv", 8),
        (analyst.email, "csv", 7),
        (analyst.email, "parquet", 7),
        (analyst.email, "parquet", 8),
    ]
    assert entries[0].summary == (
        f"Exported the 8 customers of segment {planted.gold_node} (version {planted.version}) as CSV"
    )
    assert entries[1].summary == "Exported the 7 customers of audience 'Gold club' as CSV"


# ------------------------------------------------------------------------------------------ browser


@pytest.mark.parametrize("width", [768, 1280])
@pytest.mark.browser
@pytest.mark.xdist_group("browser")
def test_an_analyst_saves_a_segment_as_an_audience_and_removes_a_member(
    sqlite_live_server: LiveServer, browser: Browser, width: int
) -> None:
    server = sqlite_live_server
    planted = _planted(server.runtime)
    analyst = make_user(server.runtime, Role.ANALYST)
    context = browser.new_context(
        viewport={"width": width, "height": 900}, locale="en-GB", timezone_id="Europe/London"
    )
    context.set_default_timeout(10_000)
    fits = "document.documentElement.scrollWidth <= window.innerWidth"
    try:
        page = context.new_page()
        page.goto(f"{server.url}/login?next=/segments/{planted.version}/{planted.gold_node}")
        page.get_by_label("E-mail address").fill(analyst.email)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        expect(page.locator("#segment-title")).to_have_text("plan: gold")
        assert page.evaluate(fits)

        page.get_by_label("Audience name").fill("Gold club")
        page.get_by_role("button", name="Save as audience").click()
        page.wait_for_url(re.compile(r".*/audiences/\d+$"))
        expect(page.get_by_role("heading", name="Gold club", level=1)).to_be_visible()
        expect(page.locator("#audience-size")).to_have_text("8")
        assert page.evaluate(fits)
        page.screenshot(path=f"/tmp/segone-audience-{width}.png", full_page=True)

        page.get_by_role("button", name=f"Remove Gold 0 (No. {planted.gold[0]})").click()
        expect(page.locator("#audience-size")).to_have_text("7")
        expect(page.locator("#audience-removed")).to_have_text("1")
        expect(page.locator("#members").get_by_role("link", name="Gold 0", exact=True)).to_have_count(0)
        expect(page.locator("#hand-changes")).to_contain_text("Removed Gold 0")
        assert page.evaluate(fits)

        page.get_by_role("link", name="\u2190 Audiences").click()
        expect(page.locator("#audiences")).to_contain_text("Gold club")
        assert page.evaluate(fits)
    finally:
        context.close()
