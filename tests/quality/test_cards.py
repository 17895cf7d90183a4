"""Report card templates on SQLite and PostgreSQL: setting them up, who sees and changes them, deliverables
retired rather than deleted, and the audit trail."""

from __future__ import annotations

import pytest
from pydantic import ValidationError
from sqlalchemy import select

from segone.accounts.models import AuditEntry
from segone.accounts.schemas import SYSTEM, Role
from segone.errors import Conflict, Forbidden, Invalid, NotFound
from segone.quality import service as quality
from segone.quality.periods import PeriodLength
from segone.quality.schemas import CardCreate, CardKind, CardUpdate
from segone.runtime import Runtime
from tests.quality.helpers import DELIVERABLES, external_card, internal_card, member


def test_an_internal_card_is_set_up_with_its_deliverables_and_a_default_name(runtime: Runtime) -> None:
    member(runtime, "Marketing")
    member(runtime, "Sales")
    card = internal_card(runtime)
    assert card.name == "Marketing for Sales"
    assert card.kind is CardKind.INTERNAL
    assert (card.supplier, card.customer, card.touch_point) == ("Marketing", "Sales", None)
    assert card.target == 4.0 and card.period_length is PeriodLength.MONTH
    assert [d.name for d in card.deliverables] == DELIVERABLES
    with runtime.session() as db:
        assert quality.resolve(db, actor=SYSTEM, reference="marketing FOR sales") == card
        assert quality.resolve(db, actor=SYSTEM, reference=str(card.id)) == card
        entry = db.scalars(select(AuditEntry).where(AuditEntry.action == "report_card.created")).one()
    assert "Marketing for Sales" in entry.summary and entry.details["card_id"] == card.id


def test_an_external_card_is_per_touch_point_of_a_team_or_the_company(runtime: Runtime) -> None:
    member(runtime, "Store York")
    store = external_card(runtime)
    web = external_card(runtime, supplier=None, touch_point="  Web ")
    assert (store.name, store.kind, store.customer) == (
        "Store York for customers: store",
        CardKind.EXTERNAL,
        "external customers",
    )
    assert (web.name, web.supplier, web.touch_point) == (
        "Our company for customers: web",
        "our company",
        "web",
    )
    with runtime.session() as db, pytest.raises(Conflict, match="is the card of this pair already"):
        quality.create(
            db,
            actor=SYSTEM,
            data=CardCreate(supplier_team="store york", touch_point="store", deliverables=["x"]),
        )


@pytest.mark.parametrize(
    ("fields", "says"),
    [
        ({"deliverables": ["Welcome"]}, "an external card \\(no customer team\\) needs a touch point"),
        ({"customer_team": "Sales", "touch_point": "store", "deliverables": ["x"]}, "has no touch point"),
        ({"customer_team": "Sales", "deliverables": ["x"]}, "an internal card's supplier is a team"),
        ({"supplier_team": "Sales", "customer_team": "sales", "deliverables": ["x"]}, "would rate itself"),
        ({"touch_point": "store", "deliverables": []}, "at least one deliverable"),
        (
            {"touch_point": "store", "deliverables": [f"d{n}" for n in range(21)]},
            "21 deliverables; .* at most 20",
        ),
        ({"touch_point": "store", "deliverables": ["Advice", "advice "]}, "'advice' is named twice"),
        ({"touch_point": "store", "deliverables": ["a=b"]}, "may not hold '='"),
        ({"touch_point": "the store!", "deliverables": ["x"]}, "'the store!' is not a touch point"),
        ({"touch_point": "x" * 41, "deliverables": ["x"]}, "at most 40 characters"),
        ({"touch_point": "web", "deliverables": ["x"], "target": 5.5}, "the target is 5.5"),
        ({"touch_point": "web", "deliverables": ["x"], "target": 3.125}, "more than two decimals"),
    ],
)
def test_a_bad_card_is_refused_saying_why(fields: dict[str, object], says: str) -> None:
    with pytest.raises(ValidationError, match=says):
        CardCreate.model_validate(fields)


def test_an_unknown_team_is_refused_naming_the_teams(runtime: Runtime) -> None:
    member(runtime, "Sales")
    with (
        runtime.session() as db,
        pytest.raises(Invalid, match="There is no team 'Marketting'; the teams are: Sales"),
    ):
        quality.create(
            db,
            actor=SYSTEM,
            data=CardCreate(supplier_team="Marketting", customer_team="Sales", deliverables=["x"]),
        )


def test_a_team_sees_its_own_cards_managers_change_them_and_admins_see_all(runtime: Runtime) -> None:
    seller = member(runtime, "Sales")
    marketer = member(runtime, "Marketing")
    warehouse_manager = member(runtime, "Warehouse", Role.MANAGER)
    sales_manager = member(runtime, "Sales", Role.MANAGER)
    nobody = member(runtime, None)
    analyst = member(runtime, "Head office", Role.ANALYST)
    card = internal_card(runtime)
    repairs = internal_card(runtime, supplier="Warehouse", customer="Marketing")
    with runtime.session() as db:
        assert [c.id for c in quality.list_cards(db, actor=seller.actor).items] == [card.id]
        assert [c.id for c in quality.list_cards(db, actor=marketer.actor).items] == [card.id, repairs.id]
        assert quality.list_cards(db, actor=nobody.actor).items == []
        everything = quality.list_cards(db, actor=analyst.actor)
        assert everything.sees_all and [c.id for c in everything.items] == [card.id, repairs.id]
        assert [c.id for c in quality.list_cards(db, actor=analyst.actor, team="warehouse").items] == [
            repairs.id
        ]
        with pytest.raises(NotFound, match=f"no report card {card.id}"):
            quality.get(db, actor=warehouse_manager.actor, card_id=card.id)
        with pytest.raises(Forbidden, match="manage report cards"):
            quality.update(db, actor=seller.actor, card_id=card.id, data=CardUpdate(target=3.5))
        with pytest.raises(Forbidden, match="own team only"):
            quality.update(db, actor=analyst.actor, card_id=card.id, data=CardUpdate(target=3.5))
        with pytest.raises(Forbidden, match="their own team"):
            quality.create(
                db,
                actor=warehouse_manager.actor,
                data=CardCreate(supplier_team="Marketing", customer_team="Sales", deliverables=["x"]),
            )
        changed = quality.update(db, actor=sales_manager.actor, card_id=card.id, data=CardUpdate(target=3.5))
    assert changed.target == 3.5


def test_deliverables_left_out_are_retired_and_come_back(runtime: Runtime) -> None:
    member(runtime, "Marketing")
    member(runtime, "Sales")
    card = internal_card(runtime)
    with runtime.session() as db:
        changed = quality.update(
            db,
            actor=SYSTEM,
            card_id=card.id,
            data=CardUpdate(deliverables=["Sales materials", "Leads qualified", "Trade show support"]),
        )
    assert [(d.name, d.active) for d in changed.deliverables] == [
        ("Sales materials", True),
        ("Leads qualified", True),
        ("Trade show support", True),
        ("Campaign calendar", False),
    ]
    with runtime.session() as db:
        back = quality.update(
            db,
            actor=SYSTEM,
            card_id=card.id,
            data=CardUpdate(deliverables=["campaign calendar", "Leads qualified"]),
        )
        entries = db.scalars(select(AuditEntry).where(AuditEntry.action == "report_card.updated")).all()
    assert [(d.name, d.active) for d in back.current_deliverables] == [
        ("campaign calendar", True),
        ("Leads qualified", True),
    ]
    assert len(entries) == 2 and entries[0].details["deliverables"]["from"] == DELIVERABLES


def test_a_name_is_unique_and_a_deactivated_card_leaves_the_list(runtime: Runtime) -> None:
    member(runtime, "Marketing")
    member(runtime, "Sales")
    card = internal_card(runtime)
    other = internal_card(runtime, supplier="Sales", customer="Marketing")
    with runtime.session() as db, pytest.raises(Conflict, match="named 'Marketing for Sales' already"):
        quality.update(db, actor=SYSTEM, card_id=other.id, data=CardUpdate(name="marketing for sales"))
    with runtime.session() as db:
        quality.deactivate(db, actor=SYSTEM, card_id=card.id)
        assert [c.id for c in quality.list_cards(db, actor=SYSTEM).items] == [other.id]
        assert len(quality.list_cards(db, actor=SYSTEM, include_inactive=True).items) == 2
