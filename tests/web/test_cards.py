"""Report cards in the browser's pages over real HTTP: setting a card up, the rater's form (bad ratings are
refused on the page, nothing stored), the review with its plots and figures, action plans, the rating
link's public form, and the bonus-plan download."""

from __future__ import annotations

import csv
import io
import re
from datetime import date, timedelta
from html import unescape

from segone.accounts.schemas import SYSTEM, Role
from segone.quality import service as quality
from segone.quality.periods import of_day
from segone.quality.schemas import CardCreate, RatingCreate
from tests.conftest import LiveServer
from tests.factories import make_customer, make_user
from tests.web.conftest import client_for, csrf_of, field_error, signed_in, token_of

THIS = of_day(date.today())
MARKETING_FOR_SALES = CardCreate(
    supplier_team="Marketing", customer_team="Sales", deliverables=["Leads qualified"]
)
STORE = CardCreate(supplier_team="Store York", touch_point="store", deliverables=["Welcome", "Advice"])
LAST = THIS.previous()


def _text(html: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def test_a_manager_sets_up_a_card_and_a_member_of_the_customer_team_rates_it(live_server: LiveServer) -> None:
    runtime = live_server.runtime
    manager = make_user(runtime, Role.MANAGER, team="Marketing")
    seller = make_user(runtime, Role.FRONTLINE, team="Sales")
    with signed_in(live_server, manager) as client:
        assert 'href="/cards"' in client.get("/dashboards/knowledge").text  # where managers go already
        token = token_of(client, "/cards")
        refused = client.post(
            "/cards",
            data={"csrf_token": token, "supplier": "Marketing", "customer": "Sales", "deliverables": ""},
        )
        assert refused.status_code == 422
        assert "A report card needs at least one deliverable (about six is usual)" in field_error(
            refused.text
        )
        made = client.post(
            "/cards",
            data={
                "csrf_token": token,
                "supplier": "Marketing",
                "customer": "Sales",
                "deliverables": "Leads qualified\nCampaign calendar",
                "target": "4",
                "periods": "month",
            },
        )
        assert made.status_code == 303, made.text
        card_id = int(made.headers["location"].split("/")[2])
    with signed_in(live_server, seller) as client:
        home = client.get("/").text
        assert 'href="/cards"' in home
        listed = _text(client.get("/cards").text)
        assert "Sales rates" in listed and "Marketing for Sales" in listed
        page = client.get(f"/cards/{card_id}/rate")
        assert page.status_code == 200
        deliverables = dict(
            re.findall(r'name="(score-\d+)" value="5"[^>]*aria-label="([^":]+): 5"', page.text)
        )
        by_name = {name: field for field, name in deliverables.items()}
        token = csrf_of(page.text)
        # A score out of range and a future period are refused on the page; nothing is stored.
        bad = client.post(
            f"/cards/{card_id}/rate",
            data={"csrf_token": token, "period": str(THIS), by_name["Leads qualified"]: "9"},
        )
        assert bad.status_code == 422 and "The score of 'Leads qualified' is 9; a score is 1 to 5" in _text(
            bad.text
        )
        future = client.post(
            f"/cards/{card_id}/rate",
            data={"csrf_token": token, "period": str(THIS.shifted(1)), by_name["Leads qualified"]: "4"},
        )
        assert future.status_code == 422 and "is in the future" in _text(future.text)
        with runtime.session() as db:
            assert quality.review(db, actor=SYSTEM, card_id=card_id).raters == 0
        done = client.post(
            f"/cards/{card_id}/rate",
            data={
                "csrf_token": token,
                "period": str(THIS),
                by_name["Leads qualified"]: "4",
                by_name["Campaign calendar"]: "",
                "comment": "Good leads",
            },
        )
        assert (
            done.status_code == 303 and done.headers["location"] == f"/cards/{card_id}/review?period={THIS}"
        )
        review = _text(client.get(done.headers["location"]).text)
        assert f"Thank you: your rating of Marketing for Sales for {THIS} is in." in review
        assert "1 rating · card mean 4.00 of 1 score · target 4.00 · no shortfall" in review
        assert "“Good leads”" in review
        again = client.post(
            f"/cards/{card_id}/rate",
            data={"csrf_token": token, "period": str(THIS), by_name["Leads qualified"]: "2"},
        )
        assert again.status_code == 409 and "already" in _text(again.text)
        assert "Your rating" not in review and "You rated" in _text(client.get(f"/cards/{card_id}/rate").text)


def test_the_review_shows_the_plots_the_shortfalls_and_the_plans(sqlite_live_server: LiveServer) -> None:
    runtime = sqlite_live_server.runtime
    manager = make_user(runtime, Role.MANAGER, team="Marketing")
    sellers = [make_user(runtime, Role.FRONTLINE, team="Sales") for _ in range(2)]
    with runtime.session() as db:
        card = quality.create(db, actor=SYSTEM, data=MARKETING_FOR_SALES)
        for period, scores in ((LAST, (5, 4)), (THIS, (3, 4))):
            for seller, score in zip(sellers, scores, strict=True):
                quality.rate(
                    db, actor=seller.actor, card_id=card.id,
                    data=RatingCreate(period=str(period), scores={"Leads qualified": score}),
                )  # fmt: skip
    with signed_in(sqlite_live_server, manager) as client:
        page = client.get(f"/cards/{card.id}/review")
        assert page.status_code == 200
        html = page.text
        text = _text(html)
        # This month: 3 and 4 -> 3.50 below 4; last month 4.50.
        assert "2 ratings · card mean 3.50 of 2 scores · target 4.00 · 1 shortfall" in text
        assert "3.50 is below the target of 4.00" in text
        assert html.count('<svg class="chart-svg') >= 2  # a trend per deliverable, and the distribution
        assert 'aria-label="Leads qualified: mean score by period, with the target"' in html
        assert 'class="chart-level"' in html and "target 4.00" in html  # the target's dashed line
        token = csrf_of(html)
        refused = client.post(
            f"/cards/{card.id}/plans",
            data={
                "csrf_token": token,
                "period": str(THIS),
                "deliverable": "Leads qualified",
                "owner": "nobody@example.com",
                "due": (date.today() + timedelta(days=7)).isoformat(),
            },
        )
        assert (
            refused.status_code == 422
            and "There is no user with the e-mail address 'nobody@example.com'." in _text(refused.text)
        )
        added = client.post(
            f"/cards/{card.id}/plans",
            data={
                "csrf_token": token,
                "period": str(THIS),
                "deliverable": "Leads qualified",
                "owner": sellers[0].email,
                "due": (date.today() + timedelta(days=7)).isoformat(),
                "notes": "Call back within a day",
            },
        )
        assert added.status_code == 303, added.text
        review = _text(client.get(added.headers["location"].split("#")[0]).text)
        assert "Call back within a day" in review and "open" in review
    with signed_in(sqlite_live_server, sellers[0]) as client:
        page = client.get(f"/cards/{card.id}/review").text
        plan_id = re.search(r'action="/cards/\d+/plans/(\d+)"', page)
        assert plan_id, "the owner may change their plan's status"
        changed = client.post(
            f"/cards/{card.id}/plans/{plan_id.group(1)}", data={"csrf_token": csrf_of(page), "status": "done"}
        )
        assert changed.status_code == 303
        assert "Action plan for Leads qualified: done." in _text(client.get(changed.headers["location"]).text)


def test_a_customer_rates_through_the_link_without_signing_in(sqlite_live_server: LiveServer) -> None:
    runtime = sqlite_live_server.runtime
    manager = make_user(runtime, Role.MANAGER, team="Store York")
    ann = make_customer(runtime, name="Ann Patel", identities=["email:ann@example.com"])
    with runtime.session() as db:
        card = quality.create(db, actor=SYSTEM, data=STORE)
    with signed_in(sqlite_live_server, manager) as client:
        page = client.get(f"/cards/{card.id}/rate")
        assert "Customers rate this card" in _text(page.text)
        made = client.post(
            f"/cards/{card.id}/links",
            data={"csrf_token": csrf_of(page.text), "customer": "email:ann@example.com", "period": str(THIS)},
        )
        assert made.status_code == 200
        path = re.search(r'href="(/r/[^"]+)" class="rating-link"', made.text)
        assert path
    with client_for(sqlite_live_server) as anonymous:
        form = anonymous.get(path.group(1))
        assert form.status_code == 200 and "How did we do, Ann Patel?" in _text(form.text)
        assert 'class="topbar"' not in form.text  # no menu for a customer
        token = csrf_of(form.text)
        bad = anonymous.post(path.group(1), data={"csrf_token": token, "score-0": "5", "nps": "12"})
        assert bad.status_code == 422 and "The NPS answer is 12; it is 0 to 10" in _text(bad.text)
        sent = anonymous.post(
            path.group(1),
            data={
                "csrf_token": token,
                "score-0": "5",
                "score-1": "4",
                "nps": "9",
                "csat": "5",
                "comment": "Lovely",
            },
        )
        assert sent.status_code == 303
        assert "Thank you: your answers" in _text(anonymous.get(path.group(1)).text)
        assert anonymous.get(path.group(1)[:-3] + "abc").status_code == 404
    with runtime.session() as db:
        found = quality.review(db, actor=SYSTEM, card_id=card.id, period=str(THIS))
    assert found.raters == 1 and found.nps is not None and found.nps.score == 100.0
    assert found.comments[0].rater == "Ann Patel" and ann


def test_the_bonus_plan_download(sqlite_live_server: LiveServer) -> None:
    runtime = sqlite_live_server.runtime
    analyst = make_user(runtime, Role.ANALYST, team="Head office")
    seller = make_user(runtime, Role.FRONTLINE, team="Sales")
    make_user(runtime, Role.FRONTLINE, team="Marketing")
    with runtime.session() as db:
        card = quality.create(db, actor=SYSTEM, data=MARKETING_FOR_SALES)
        quality.rate(
            db,
            actor=seller.actor,
            card_id=card.id,
            data=RatingCreate(period=str(THIS), scores={"Leads qualified": 2}),
        )
    with signed_in(sqlite_live_server, analyst) as client:
        assert 'id="bonus-export"' in client.get("/cards").text
        download = client.get("/cards/export", params={"period": str(THIS), "format": "csv"})
        assert download.status_code == 200
        assert download.headers["content-disposition"].startswith(
            'attachment; filename="segone-report-card-scores-'
        )
        rows = list(csv.DictReader(io.StringIO(download.text, newline="")))
        assert [(r["team"], r["deliverable"], r["mean"], r["meets_target"]) for r in rows] == [
            ("Marketing", "Leads qualified", "2.0", "false")
        ]
