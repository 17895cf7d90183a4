"""Recovery, promises and the service strategy over real HTTP: open cases come first on the front-line home
page and on the customer sheet; a case is opened, acted on within the limits and closed with the forms;
promises are made, kept and broken on the sheet; administrators set the strategy the front line reads."""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape

import httpx

from segone.accounts.schemas import SYSTEM, Role
from segone.clock import fixed_at, utcnow
from segone.customer_service.promises import service as promises
from segone.customer_service.promises.schemas import PromiseCreate
from segone.customer_service.recovery import service as recovery
from segone.customer_service.recovery.schemas import CaseClose, CaseOpen, Priority, Verdict
from segone.runtime import Runtime
from tests.conftest import LiveServer
from tests.customer_service.conftest import set_strategy
from tests.factories import MadeUser, make_customer, make_user
from tests.web.conftest import field_error, signed_in, token_of


def _case(
    runtime: Runtime, user: MadeUser, customer: int, summary: str, priority: Priority, hours_ago: int
) -> int:
    with fixed_at(utcnow() - timedelta(hours=hours_ago)), runtime.session() as db:
        return recovery.open_case(
            db, actor=user.actor, data=CaseOpen(customer_id=customer, summary=summary, priority=priority)
        ).id


def _position(html: str, marker: str) -> int:
    found = html.find(marker)
    assert found >= 0, f"{marker!r} is not on the page"
    return found


def test_open_cases_come_first_on_the_home_page_and_the_customer_sheet(
    sqlite_live_server: LiveServer,
) -> None:
    runtime = sqlite_live_server.runtime
    set_strategy(runtime)
    user = make_user(runtime, Role.FRONTLINE)
    customer = make_customer(runtime, name="Hollis Hardware")
    other = make_customer(runtime, name="Ann Archer")
    normal = _case(runtime, user, customer, "Invoice sent twice", Priority.NORMAL, hours_ago=100)
    high = _case(runtime, user, other, "Parcel stolen from the doorstep", Priority.HIGH, hours_ago=2)
    closed = _case(runtime, user, customer, "Strings were the wrong gauge", Priority.HIGH, hours_ago=300)
    with runtime.session() as db:
        recovery.close_case(
            db,
            actor=user.actor,
            case_id=closed,
            data=CaseClose(resolution="Swapped them", verdict=Verdict.SATISFIED),
        )
        promises.make(
            db,
            actor=user.actor,
            data=PromiseCreate(customer_id=customer, text="Ring about the quote", due_on=utcnow().date()),
        )

    with signed_in(sqlite_live_server, user) as client:
        home = unescape(client.get("/").text)
        sheet = unescape(client.get(f"/customers/{customer}").text)
        listed = unescape(client.get("/recovery").text)

    # Home: the open cases before anything else of the page, the high-priority one first.
    assert _position(home, 'id="recovery"') < _position(home, 'class="home-hero"')
    assert _position(home, "Parcel stolen from the doorstep") < _position(home, "Invoice sent twice")
    assert "Strings were the wrong gauge" not in home
    assert "overdue" in home  # the normal case waited 100 hours against a 72-hour target
    assert "Ring about the quote" in home  # the employee's promise due this week
    assert "We make promises and always keep them." in home  # the strategy the front line reads
    assert "Refund: up to $50.00 per case" in home  # what they may grant, at their role's limit
    # The sheet: its open case right under the customer's name, above the easel sheet and the promises.
    assert _position(sheet, "<h1>Hollis Hardware</h1>") < _position(sheet, 'id="recovery"')
    assert _position(sheet, 'id="recovery"') < _position(sheet, 'id="sheet"')
    assert _position(sheet, "Put right first: 1 open recovery case") < _position(sheet, "Invoice sent twice")
    assert _position(sheet, "Invoice sent twice") < _position(sheet, "Recently closed (1)")
    assert _position(sheet, "Recently closed (1)") < _position(sheet, "Strings were the wrong gauge")
    assert "Parcel stolen" not in sheet, "another customer's case"
    assert _position(sheet, 'id="promises"') < _position(sheet, 'id="behaviour"')
    # The backlog: open ones, high priority first.
    assert _position(listed, f'href="/recovery/{high}"') < _position(listed, f'href="/recovery/{normal}"')
    assert f'href="/recovery/{closed}"' not in listed


def _form(client: httpx.Client, path: str, **fields: str) -> dict[str, str]:
    return {"csrf_token": token_of(client, path), **fields}


def test_a_case_is_opened_acted_on_within_the_limits_and_closed_with_the_forms(
    sqlite_live_server: LiveServer,
) -> None:
    runtime = sqlite_live_server.runtime
    set_strategy(runtime)
    user = make_user(runtime, Role.FRONTLINE)
    customer = make_customer(runtime, name="Hollis Hardware")
    with signed_in(sqlite_live_server, user) as client:
        sheet = f"/customers/{customer}"
        empty = client.post(f"{sheet}/recovery", data=_form(client, sheet, summary="", priority="high"))
        assert empty.status_code == 303 and empty.headers["location"] == f"{sheet}#recovery"
        assert "The recovery case was not opened" in unescape(client.get(sheet).text)

        opened = client.post(
            f"{sheet}/recovery",
            data=_form(client, sheet, summary="Parcel stolen from the doorstep", priority="high"),
        )
        assert opened.status_code == 303
        case_path = opened.headers["location"]
        case_id = int(case_path.rsplit("/", 1)[1])
        page = unescape(client.get(case_path).text)
        assert "is open and yours" in page and "high priority" in page

        over = client.post(
            f"{case_path}/actions",
            data=_form(client, case_path, text="Refunded the parcel", exception="refund", cost="80"),
        )
        assert over.status_code == 403
        assert field_error(over.text) == [
            "A refund of $80.00 is over the frontline limit of $50.00 per case for refund in the service "
            "strategy (version 1). Ask someone whose limit covers it (manager: $500.00)."
        ]
        assert 'value="80"' in over.text, "what was typed is kept"
        bad = client.post(
            f"{case_path}/actions",
            data=_form(client, case_path, text="Refund", exception="refund", cost="lots"),
        )
        assert bad.status_code == 422 and field_error(bad.text) == ["'lots' is not an amount."]
        done = client.post(
            f"{case_path}/actions",
            data=_form(
                client, case_path, text="Sent a replacement by courier", exception="free-delivery", cost="12"
            ),
        )
        assert done.status_code == 303
        page = unescape(client.get(case_path).text)
        assert "Sent a replacement by courier" in page and "Free delivery: $12.00" in page

        no_verdict = client.post(f"{case_path}/close", data=_form(client, case_path, resolution="Replaced"))
        assert no_verdict.status_code == 422
        assert field_error(no_verdict.text) == [
            "Ask the customer: are they satisfied with how it was put right?"
        ]
        closed = client.post(
            f"{case_path}/close", data=_form(client, case_path, resolution="Replaced", verdict="satisfied")
        )
        assert closed.status_code == 303
        page = unescape(client.get(case_path).text)
        assert "closed · the customer satisfied" in page and "Close the case" not in page
    with runtime.session() as db:
        detail = recovery.get_case(db, actor=SYSTEM, case_id=case_id)
    assert (detail.status, detail.verdict, detail.exceptions_cost) == ("closed", "satisfied", 12.0)
    assert [a.text for a in detail.actions] == ["Sent a replacement by courier"], (
        "refused actions left nothing"
    )


def test_promises_are_made_kept_and_broken_on_the_sheet(sqlite_live_server: LiveServer) -> None:
    runtime = sqlite_live_server.runtime
    user = make_user(runtime, Role.FRONTLINE)
    customer = make_customer(runtime, name="Ann Archer")
    sheet = f"/customers/{customer}"
    today = utcnow().date()
    with signed_in(sqlite_live_server, user) as client:
        for text in ("Call back about the quote", "Post the catalogue"):
            made = client.post(
                f"{sheet}/promises", data=_form(client, sheet, text=text, due_on=today.isoformat())
            )
            assert made.status_code == 303 and made.headers["location"] == f"{sheet}#promises"
        past = client.post(
            f"{sheet}/promises",
            data=_form(client, sheet, text="Too late", due_on=(today - timedelta(days=1)).isoformat()),
        )
        assert past.status_code == 303
        page = unescape(client.get(sheet).text)
        assert "The promise was not recorded: A promise is due today or later" in page
        ids = [int(n) for n in re.findall(r'action="/promises/(\d+)/keep"', page)]
        assert len(ids) == 2
        assert client.post(f"/promises/{ids[0]}/keep", data=_form(client, sheet)).status_code == 303
        assert re.search(
            r"Promise kept: (Call back about the quote|Post the catalogue)", client.get(sheet).text
        )
        broken = client.post(f"/promises/{ids[1]}/break", data=_form(client, sheet, note="Forgot"))
        assert broken.status_code == 303 and "Promise broken: " in client.get(sheet).text
        again = client.post(f"/promises/{ids[0]}/break", data=_form(client, sheet))
        assert again.status_code == 303
        assert f"Promise {ids[0]} was marked kept" in unescape(client.get(sheet).text)
    with runtime.session() as db:
        states = {p.id: p.state.value for p in promises.for_customer(db, actor=SYSTEM, customer_id=customer)}
    assert states == {ids[0]: "kept", ids[1]: "broken"}


def test_administrators_set_the_strategy_with_the_form(live_server: LiveServer) -> None:
    runtime = live_server.runtime
    admin = make_user(runtime, Role.ADMIN)
    frontline = make_user(runtime, Role.FRONTLINE)
    page = "/admin/strategy"
    with signed_in(live_server, admin) as client:
        assert 'href="/admin/strategy"' in client.get("/admin/users").text
        fields = {
            "core_service": "We provide and support quality solutions.\n\nWe make promises and always keep "
            "them.",
            "service_experience": "We care.",
            "target_hours_high": "8",
            "target_hours_normal": "48",
            "note": "First",
            "exception-0-key": "refund",
            "exception-0-label": "Refund",
            "exception-0-frontline": "50",
            "exception-0-manager": "500",
            "exception-0-analyst": "",
            "exception-0-admin": "",
            "exception-1-key": "",
            "exception-1-label": "",
        }
        wrong = client.post(page, data=_form(client, page, **{**fields, "target_hours_high": "100"}))
        assert wrong.status_code == 422
        assert "High priority may not wait longer than normal (100 hours against 48)" in unescape(wrong.text)
        bad_limit = client.post(page, data=_form(client, page, **{**fields, "exception-0-manager": "-5"}))
        assert bad_limit.status_code == 422 and "Exception 1" in unescape(bad_limit.text)
        saved = client.post(page, data=_form(client, page, **fields))
        assert saved.status_code == 303
        shown = unescape(client.get(page).text)
        assert "Version 1 of the service strategy is in force." in shown
        assert "Version 1</strong>" in shown and "core service, service experience, exceptions" in shown
        same = client.post(page, data=_form(client, page, **{**fields, "note": ""}))
        assert same.status_code == 303
        assert "Nothing changed" in unescape(client.get(page).text)
    with signed_in(live_server, frontline) as client:
        assert client.get(page).status_code == 403
        home = unescape(client.get("/").text)
    assert "We make promises and always keep them." in home and "Refund: up to $50.00 per case" in home
    with runtime.session() as db:
        from segone.customer_service.strategy import service as strategies

        current = strategies.current(db, actor=SYSTEM)
    assert (current.version, current.target_hours_high, current.core_service[1]) == (
        1,
        8,
        "We make promises and always keep them.",
    )


def test_the_briefing_lists_open_cases_and_promises_and_the_strategy(sqlite_live_server: LiveServer) -> None:
    runtime = sqlite_live_server.runtime
    set_strategy(runtime)
    user = make_user(runtime, Role.FRONTLINE)
    customer = make_customer(runtime, name="Hollis Hardware")
    case_id = _case(runtime, user, customer, "Invoice sent twice", Priority.HIGH, hours_ago=30)
    with runtime.session() as db:
        promises.make(
            db,
            actor=user.actor,
            data=PromiseCreate(customer_id=customer, text="Ring about the quote", due_on=utcnow().date()),
        )
    with signed_in(sqlite_live_server, user) as client:
        page = unescape(client.get(f"/customers/{customer}/briefing").text)
    section = page[_position(page, 'id="brief-service"') :]
    section = section[: section.index("</section>")]
    assert f"Recovery case {case_id}, high priority, overdue since" in section
    assert "Invoice sent twice (owner: Frontline" in section
    assert _position(section, "Recovery case") < _position(section, "Promise due")
    assert "Ring about the quote (made by Frontline" in section
    assert _position(page, 'id="brief-strategy"') > _position(page, 'id="brief-service"')
    assert "Recovery is our #1 priority." in page
