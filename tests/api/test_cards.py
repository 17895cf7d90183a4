"""/api/v1/cards over real HTTP: bad ratings are 4xx naming what is wrong with nothing stored, the review's
figures, action plans, rating links, the ratings import and the bonus-plan export."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

import httpx

from segone.accounts.schemas import Role
from segone.quality.periods import of_day
from segone.runtime import Runtime
from tests.api.conftest import ClientFactory
from tests.api.helpers import api_user, error_of, fields_at_fault
from tests.factories import MadeUser, make_customer

THIS = of_day(date.today())
LAST, BEFORE = THIS.previous(), THIS.shifted(-2)


def _setup(runtime: Runtime, api: ClientFactory) -> tuple[httpx.Client, list[MadeUser], int]:
    """A Marketing manager's client, three Sales people, and the card Sales rates Marketing on."""
    manager = api_user(runtime, Role.MANAGER, team="Marketing")
    sellers = [api_user(runtime, Role.FRONTLINE, team="Sales") for _ in range(3)]
    client = api(manager.token)
    made = client.post(
        "/cards",
        json={
            "supplier_team": "Marketing",
            "customer_team": "Sales",
            "deliverables": ["Leads qualified", "Campaign calendar"],
            "target": 4,
        },
    )
    assert made.status_code == 201, made.text
    return client, sellers, made.json()["id"]


def test_bad_ratings_are_refused_naming_what_is_wrong_and_nothing_is_stored(
    runtime: Runtime, api: ClientFactory
) -> None:
    manager, sellers, card = _setup(runtime, api)
    seller = api(sellers[0].token)
    good = {"period": str(THIS), "scores": {"Leads qualified": 4}}
    bad = [
        (
            {**good, "scores": {"Leads qualified": 6}},
            "scores",
            "the score of 'Leads qualified' is 6; a score is 1 to 5",
        ),
        ({**good, "scores": {"Coffee": 3}}, "scores", "the card has no deliverable 'Coffee'"),
        ({**good, "period": str(THIS.shifted(1))}, "period", f"{THIS.shifted(1)} is in the future"),
        ({**good, "period": "2026-13"}, "period", "there is no month 13"),
        ({**good, "period": "last month"}, "period", "'last month' is not a period; write YYYY-MM"),
        ({**good, "nps": 9}, "nps", "an internal card: it asks no NPS question"),
        ({**good, "scores": {}}, "body", "scores no deliverable"),
    ]
    for body, field, says in bad:
        response = seller.post(f"/cards/{card}/ratings", json=body)
        error = error_of(response, 422, "invalid")
        assert field in fields_at_fault(response) or field == "body", (body, error)
        assert says in error["message"], (body, error)
    assert manager.get(f"/cards/{card}/review", params={"period": str(THIS)}).json()["raters"] == 0

    first = seller.post(f"/cards/{card}/ratings", json=good)
    assert first.status_code == 201, first.text
    assert first.json()["scores"] == {"Leads qualified": 4}
    again = error_of(seller.post(f"/cards/{card}/ratings", json=good), 409, "conflict")
    assert "already" in again["message"] and again["details"] == {"rating_id": first.json()["id"]}
    # Marketing does not rate itself: the manager is not in Sales.
    refused = error_of(manager.post(f"/cards/{card}/ratings", json=good), 422, "invalid")
    assert "members of Sales rate 'Marketing for Sales'" in refused["message"]
    review = manager.get(f"/cards/{card}/review", params={"period": str(THIS)}).json()
    assert review["raters"] == 1 and review["deliverables"][0]["count"] == 1


def test_the_review_action_plans_and_who_sees_the_card(
    sqlite_runtime: Runtime, sqlite_api: ClientFactory
) -> None:
    manager, sellers, card = _setup(sqlite_runtime, sqlite_api)
    scores = {
        BEFORE: [(5, 3), (4, 4), (5, 2)],  # leads 14/3, calendar 3
        LAST: [(4, 2), (4, 3), (5, 4)],  # leads 13/3, calendar 3
        THIS: [(4, 5), (4, 5), (4, 5)],  # leads 4: fell twice; calendar 5
    }
    for period, given in scores.items():
        for seller, (leads, calendar) in zip(sellers, given, strict=True):
            response = sqlite_api(seller.token).post(
                f"/cards/{card}/ratings",
                json={
                    "period": str(period),
                    "scores": {"Leads qualified": leads, "Campaign calendar": calendar},
                },
            )
            assert response.status_code == 201, response.text
    review = manager.get(f"/cards/{card}/review").json()
    assert review["period"] == str(THIS) and review["raters"] == 3
    leads, calendar = review["deliverables"]
    assert leads["trend"][-3:] == [14 / 3, 13 / 3, 4.0]
    assert leads["shortfall"]["reasons"] == ["falling"]
    assert (calendar["mean"], calendar["shortfall"]) == (5.0, None)
    assert review["mean"] == 4.5  # (12 + 15) / 6
    plan = manager.post(
        f"/cards/{card}/plans",
        json={
            "deliverable": "Leads qualified",
            "period": str(THIS),
            "owner": sellers[0].email,
            "due": (date.today() + timedelta(days=14)).isoformat(),
            "notes": "Call back within a day",
        },
    )
    assert plan.status_code == 201, plan.text
    done = sqlite_api(sellers[0].token).patch(
        f"/cards/{card}/plans/{plan.json()['id']}", json={"status": "done"}
    )
    assert done.status_code == 200 and done.json()["status"] == "done"
    assert manager.get(f"/cards/{card}/review").json()["deliverables"][0]["plans"][0]["status"] == "done"
    outsider = api_user(sqlite_runtime, Role.MANAGER, team="Warehouse")
    error_of(sqlite_api(outsider.token).get(f"/cards/{card}"), 404, "not_found")
    assert sqlite_api(outsider.token).get("/cards").json()["items"] == []
    assert [c["id"] for c in sqlite_api(sellers[1].token).get("/cards").json()["items"]] == [card]
    changed = manager.patch(f"/cards/{card}", json={"target": 4.5, "deliverables": ["Leads qualified"]})
    assert changed.status_code == 200, changed.text
    assert [(d["name"], d["active"]) for d in changed.json()["deliverables"]] == [
        ("Leads qualified", True),
        ("Campaign calendar", False),
    ]


def test_a_rating_link_export_and_import(sqlite_runtime: Runtime, sqlite_api: ClientFactory) -> None:
    runtime = sqlite_runtime
    store_manager = api_user(runtime, Role.MANAGER, team="Store York")
    analyst = sqlite_api(api_user(runtime, Role.ANALYST, team="Head office").token)
    client = sqlite_api(store_manager.token)
    card = client.post(
        "/cards", json={"supplier_team": "Store York", "touch_point": "store", "deliverables": ["Welcome"]}
    ).json()
    ann = make_customer(runtime, name="Ann", identities=["email:ann@example.com"])
    link = client.post(
        f"/cards/{card['id']}/links", json={"customer": "email:ann@example.com", "period": str(THIS)}
    )
    assert link.status_code == 201, link.text
    assert link.json()["path"].startswith("/r/") and link.json()["customer_id"] == ann
    text = f"card,period,rater,Welcome,nps,csat\n{card['id']},{LAST},ann@example.com,4,10,5\n"
    imported = analyst.post("/cards/import", content=text.encode(), headers={"content-type": "text/csv"})
    assert imported.status_code == 200, imported.text
    assert imported.json()["created"] == 1
    again = analyst.post("/cards/import", content=text.encode(), headers={"content-type": "text/csv"})
    details = error_of(again, 422, "invalid")["details"]
    assert details["errors"][0]["row"] == 2 and "already" in details["errors"][0]["problem"]
    exported = analyst.get("/cards/export", params={"period": str(LAST), "team": "Store York"})
    assert exported.status_code == 200, exported.text
    assert exported.headers["content-disposition"].startswith(
        'attachment; filename="segone-report-card-scores-'
    )
    rows = list(csv.DictReader(io.StringIO(exported.text, newline="")))
    assert [(r["deliverable"], r["mean"], r["nps"], r["csat"]) for r in rows] == [
        ("Welcome", "4.0", "100.0", "5.0")
    ]
    assert (
        "export data"
        in error_of(client.get("/cards/export", params={"period": str(LAST)}), 403, "forbidden")["message"]
    )
