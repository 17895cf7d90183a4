"""The customer sheet: everything the customer page shows, read once, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from segone.accounts.schemas import SYSTEM
from segone.channels import Channel
from segone.customers import service as customers
from segone.customers.schemas import CustomerKind, CustomerUpdate
from segone.encounters import service as encounters
from segone.encounters.schemas import EncounterCreate
from segone.errors import NotFound
from segone.knowledge.categories.service import in_force as categories_in_force
from segone.knowledge.distinguishability import refresh
from segone.knowledge.facts import service as knowledge
from segone.knowledge.facts.schemas import AcknowledgeRequest, DifferentiatorCreate, OutdateRequest
from segone.runtime import Runtime
from segone.segmentation import service as segmentation
from segone.views import merge
from segone.views.customer_sheet import customer_sheet
from segone.views.schemas import CustomerSheet
from tests.conftest import empty_all_tables
from tests.factories import make_customer, make_user


def _sheet(runtime: Runtime, customer_id: int) -> CustomerSheet:
    with runtime.session() as db:
        return customer_sheet(
            db,
            actor=SYSTEM,
            customer_id=customer_id,
            categories=categories_in_force(runtime.settings),
            freshness_months=runtime.settings.freshness_months,
            currency=runtime.settings.currency,
        )


def _add(runtime: Runtime, customer_id: int, text: str, category: str, *, acknowledged: bool = False) -> int:
    with runtime.session() as db:
        fact = knowledge.add(
            db,
            actor=SYSTEM,
            customer_id=customer_id,
            data=DifferentiatorCreate(text=text, category=category),
            categories=categories_in_force(runtime.settings),
        )
        if acknowledged:
            knowledge.acknowledge(db, actor=SYSTEM, differentiator_id=fact.id, data=AcknowledgeRequest())
        return fact.id


def test_a_blank_sheet_lists_what_to_learn_for_its_kind(runtime: Runtime) -> None:
    acme = make_customer(runtime, name="Acme Ltd", kind=CustomerKind.BUSINESS, attributes={"city": "Leeds"})
    sheet = _sheet(runtime, acme)
    assert (sheet.customer.name, sheet.customer.attributes) == ("Acme Ltd", {"city": "Leeds"})
    assert sheet.groups == [] and sheet.outdated == [] and sheet.encounters == []
    names = [c.name for c in sheet.categories]
    assert "growth_plans" in names and "family" not in names
    assert sheet.gaps == sheet.categories
    assert (sheet.recognition.current, sheet.recognition.ratio) == (0, None)
    assert sheet.knowledge.distinguishability is None and sheet.knowledge.look_alikes == []
    assert sheet.behaviour.profile is None and sheet.merged_from == []
    assert sheet.more_encounters is False


def test_the_sheet_holds_facts_by_category_encounters_and_merged_records(runtime: Runtime) -> None:
    employee = make_user(runtime)
    ann = make_customer(runtime, name="Ann Archer", identities=["email:ann@example.com"])
    twin = make_customer(runtime, name="Ann Archer", identities=["crm:A1"])
    bees = _add(runtime, ann, "Keeps bees on the roof", "free_time", acknowledged=True)
    kids = _add(runtime, ann, "Has two children", "family")
    old = _add(runtime, ann, "Lives in Leeds", "lifestyle")
    choir = _add(runtime, twin, "Sings in a choir", "free_time")
    with runtime.session() as db:
        knowledge.outdate(db, actor=SYSTEM, differentiator_id=old, data=OutdateRequest())
        for _ in range(6):
            encounters.record(
                db,
                actor=employee.actor,
                customer_id=ann,
                data=EncounterCreate(channel=Channel.CALL, notes="Called"),
                categories=categories_in_force(runtime.settings),
            )
        merge.merge(db, actor=SYSTEM, survivor_id=ann, merged_id=twin)

    sheet = _sheet(runtime, twin)  # a merged record's id gives the survivor's sheet
    assert sheet.customer.id == ann
    assert sheet.customer.identities == ["email:ann@example.com", "crm:A1"]
    order = [c.name for c in sheet.categories]
    assert [g.category.name for g in sheet.groups] == sorted(["free_time", "family"], key=order.index)
    by_category = {g.category.name: [f.id for f in g.facts] for g in sheet.groups}
    assert by_category == {"free_time": [choir, bees], "family": [kids]}
    assert {c.name for c in sheet.gaps} == set(order) - {"free_time", "family"}
    assert [f.id for f in sheet.outdated] == [old]
    assert [f.id for f in sheet.facts()] == [choir, kids, bees]
    assert (sheet.recognition.current, sheet.recognition.acknowledged) == (3, 1)
    assert [f.acknowledgement is not None for f in sheet.facts()] == [False, False, True]
    assert len(sheet.encounters) == 5 and sheet.more_encounters is True
    assert all(e.customer_id == ann and e.employee == employee.email for e in sheet.encounters)
    assert [(m.id, m.name, m.identities) for m in sheet.merged_from] == [(twin, "Ann Archer", ["crm:A1"])]
    assert all(f.holders is None and not f.rare for f in sheet.facts())  # not measured yet

    with pytest.raises(NotFound):
        _sheet(runtime, 987654)


def test_rarity_and_look_alikes_come_from_the_last_knowledge_refresh(runtime: Runtime) -> None:
    ann, bo = make_customer(runtime, name="Ann Archer"), make_customer(runtime, name="Bo Bright")
    bees = _add(runtime, ann, "Keeps bees on the roof", "free_time")
    _add(runtime, ann, "Has two children", "family")
    _add(runtime, bo, "Has two children", "family")
    refresh.refresh(runtime.sessions, runtime.settings, actor=SYSTEM)

    ann_sheet, bo_sheet = _sheet(runtime, ann), _sheet(runtime, bo)
    assert ann_sheet.knowledge.distinguishability == 1 and ann_sheet.knowledge.refreshed_at is not None
    only_them = next(f for f in ann_sheet.facts() if f.id == bees)
    assert (only_them.holders, only_them.rare) == (1, True)
    assert bees in ann_sheet.knowledge.show_them_you_know
    assert bo_sheet.knowledge.distinguishability == 2
    assert [(a.id, a.name) for a in bo_sheet.knowledge.look_alikes] == [(ann, "Ann Archer")]
    assert bo_sheet.facts()[0].holders == 2


def test_the_sheet_shows_the_customer_segment_in_the_latest_segmentation(runtime: Runtime) -> None:
    gold = make_customer(runtime, attributes={"plan": "gold"})
    basics = [make_customer(runtime, attributes={"plan": "basic"}) for _ in range(3)]
    assert _sheet(runtime, gold).segment_path == []  # before the first build: nothing to show, no error

    segmentation.build(runtime.sessions, runtime.settings, actor=SYSTEM, variables=["attribute:plan"])
    path = _sheet(runtime, gold).segment_path
    assert [segment.depth for segment in path] == [0, 1]
    assert path[-1].conditions == ["plan: gold"] and path[-1].size == 1
    assert _sheet(runtime, basics[0]).segment_path[-1].size == 3

    newcomer = make_customer(runtime, attributes={"plan": "gold"})
    assert _sheet(runtime, newcomer).segment_path == []  # placed by the next build


def test_the_sheet_says_how_the_customer_differs_from_the_average_customer(runtime: Runtime) -> None:
    spends = [10, 20, 20, 30, 40, 50, 60, 70, 80, 990]
    plans = ["basic"] * 9 + ["gold"]
    ids = [
        make_customer(runtime, attributes={"plan": p, "spend": s}) for p, s in zip(plans, spends, strict=True)
    ]
    assert _sheet(runtime, ids[-1]).standing == []  # before the first build
    segmentation.build(
        runtime.sessions, runtime.settings, actor=SYSTEM, variables=["attribute:plan", "attribute:spend"]
    )
    standing = {s.variable: s for s in _sheet(runtime, ids[-1]).standing}
    # The big spender: higher than the other nine; gold, like one customer in ten (themselves).
    top, rare = standing["attribute:spend"], standing["attribute:plan"]
    assert (top.higher, top.than, top.share) == (True, 0.9, pytest.approx(0.1))
    assert top.words == "spend: 990, higher than 90 % of customers"
    assert (rare.higher, rare.than, rare.share) == (None, None, 0.1)
    assert rare.words == "plan: gold, like 10 % of customers"
    # A customer in the crowd: basic like most, their spend near the middle (20, as two customers spend).
    crowd = _sheet(runtime, ids[1]).standing
    assert [s.variable for s in crowd] == ["attribute:spend", "attribute:plan"]
    assert crowd[0].words == "spend: 20, lower than 70 % of customers" and crowd[0].share == pytest.approx(
        0.3
    )
    # Their values now, against the build's average customer: a new spend reads at once, before any rebuild
    # (in the build's bins: 5 is with the lowest spender, 10, both under the first threshold, 20).
    with runtime.session() as db:
        customers.update(db, actor=SYSTEM, customer_id=ids[1], data=CustomerUpdate(attributes={"spend": 5}))
    assert _sheet(runtime, ids[1]).standing[0].words == "spend: 5, lower than 90 % of customers"


def test_the_standing_is_the_latest_builds_even_in_a_store_built_again(runtime: Runtime) -> None:
    """A version's reference is kept once read; a store emptied and built again, whose first version has
    the same id, is read afresh."""
    plans = [make_customer(runtime, attributes={"plan": plan}) for plan in ("basic", "basic", "gold")]
    first = segmentation.build(runtime.sessions, runtime.settings, actor=SYSTEM, variables=["attribute:plan"])
    assert [s.variable for s in _sheet(runtime, plans[-1]).standing] == ["attribute:plan"]
    assert [s.variable for s in _sheet(runtime, plans[0]).standing] == ["attribute:plan"]  # kept, and read
    empty_all_tables(runtime.engine)
    spends = [make_customer(runtime, attributes={"spend": spend}) for spend in (1, 2, 3, 400)]
    again = segmentation.build(
        runtime.sessions, runtime.settings, actor=SYSTEM, variables=["attribute:spend"]
    )
    assert again.id == first.id
    standing = _sheet(runtime, spends[-1]).standing
    assert [(s.variable, s.words) for s in standing] == [
        ("attribute:spend", "spend: 400, higher than 75 % of customers")
    ]
