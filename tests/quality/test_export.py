"""The export for the bonus plan: the scores each team received in a period, card by card and deliverable
by deliverable, as CSV through the export kit, recorded in the audit trail."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from segone.accounts.models import AuditEntry
from segone.accounts.schemas import SYSTEM, Actor, Role
from segone.errors import Forbidden, Invalid
from segone.exporting import Format, stream
from segone.quality import service as quality
from segone.quality.schemas import RatingCreate
from segone.runtime import Runtime
from segone.views import exports
from tests.factories import make_customer
from tests.quality.helpers import external_card, internal_card, member, rate, three_months, today


@pytest.fixture(autouse=True)
def _november() -> Iterator[None]:
    with today():
        yield


def _csv(
    runtime: Runtime, period: str, team: str | None = None, actor: Actor = SYSTEM
) -> list[dict[str, str]]:
    with runtime.session() as db:
        started = exports.start_card_scores(db, actor=actor, period=period, team=team, fmt=Format.CSV)
    text = b"".join(stream(started, Format.CSV, runtime.session)).decode()
    return list(csv.DictReader(io.StringIO(text, newline="")))


def test_the_scores_each_team_received_with_the_figures_of_the_review(runtime: Runtime) -> None:
    card, _raters = three_months(runtime)
    member(runtime, "Store York")
    store = external_card(runtime)
    ann, bob = make_customer(runtime, name="Ann"), make_customer(runtime, name="Bob")
    with runtime.session() as db:
        for customer, (welcome, nps, csat) in ((ann, (5, 10, 5)), (bob, (3, 5, 3))):
            quality.rate(
                db,
                actor=SYSTEM,
                card_id=store.id,
                data=RatingCreate(
                    period="2026-11", scores={"Welcome": welcome}, nps=nps, csat=csat, customer=str(customer)
                ),
            )
    rows = _csv(runtime, "2026-11")
    assert [(r["team"], r["card"], r["deliverable"]) for r in rows] == [
        ("Marketing", "Marketing for Sales", "Leads qualified"),
        ("Marketing", "Marketing for Sales", "Campaign calendar"),
        ("Marketing", "Marketing for Sales", "Sales materials"),
        ("Store York", "Store York for customers: store", "Welcome"),
        ("Store York", "Store York for customers: store", "Advice"),
    ]
    leads, calendar, materials, welcome, advice = rows
    assert leads | {} == {
        "period": "2026-11",
        "team": "Marketing",
        "customer": "Sales",
        "touch_point": "",
        "card_id": str(card.id),
        "card": "Marketing for Sales",
        "deliverable": "Leads qualified",
        "ratings": "3",
        "mean": "4.0",
        "target": "4.0",
        "meets_target": "true",
        "shortfall": "fell two periods in a row: 4.67 (2026-09), 4.33 (2026-10), 4.00 now",
        "card_mean": leads["card_mean"],
        "nps": "",
        "csat": "",
    }
    assert float(leads["card_mean"]) == pytest.approx(37 / 9)  # every score of the card in November
    assert (calendar["meets_target"], calendar["shortfall"]) == ("false", "3.67 is below the target of 4.00")
    assert float(calendar["mean"]) == pytest.approx(11 / 3)
    assert (materials["ratings"], materials["shortfall"]) == ("3", "")
    # Welcome: 5 and 3 -> 4.00; NPS: one promoter, one detractor of two -> 0; CSAT (5 + 3) / 2 = 4.
    assert (welcome["mean"], welcome["nps"], welcome["csat"], welcome["customer"]) == (
        "4.0",
        "0.0",
        "4.0",
        "external customers",
    )
    assert (advice["ratings"], advice["mean"], advice["meets_target"]) == ("0", "", "")


def test_one_team_and_the_audit_entry(runtime: Runtime) -> None:
    three_months(runtime)
    member(runtime, "Store York")
    external_card(runtime)
    rows = _csv(runtime, "2026-10", team="marketing")
    assert {r["team"] for r in rows} == {"Marketing"} and len(rows) == 3
    assert [r["ratings"] for r in rows] == ["3", "3", "1"]
    with runtime.session() as db:
        entry = db.scalars(select(AuditEntry).where(AuditEntry.action == "data.exported")).one()
    assert entry.summary == "Exported the report card scores of 2026-10 for marketing (3 rows) as CSV"
    assert entry.details["export"] == "report-card-scores-2026-10-marketing"


def test_the_export_needs_the_export_permission_and_a_good_period(runtime: Runtime) -> None:
    manager = member(runtime, "Sales", Role.MANAGER)
    with runtime.session() as db:
        with pytest.raises(Forbidden, match="export data"):
            quality.export_scores(db, actor=manager.actor, period="2026-11")
        for period, says in (
            ("2026-12", "in the future"),
            ("2026-13", "no month 13"),
            ("11/2026", "not a period"),
        ):
            with pytest.raises(Invalid, match=says):
                quality.export_scores(db, actor=SYSTEM, period=period)
        with pytest.raises(Invalid, match="There is no team 'Nowhere'"):
            quality.export_scores(db, actor=SYSTEM, period="2026-11", team="Nowhere")


def test_a_month_exports_monthly_cards_only(runtime: Runtime) -> None:
    member(runtime, "Marketing")
    seller = member(runtime, "Sales")
    card = internal_card(runtime)
    rate(runtime, card, seller, "2026-11", {"Leads qualified": 5})
    assert len(_csv(runtime, "2026-11")) == 3
    assert _csv(runtime, "2026-Q4") == []
