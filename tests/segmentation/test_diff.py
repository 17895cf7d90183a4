"""Comparing two versions: who moved where, and the segments that appeared, vanished, split or merged."""

from __future__ import annotations

import pytest

from segone.accounts.schemas import SYSTEM, Role
from segone.customers import service as customers
from segone.customers.schemas import CustomerUpdate
from segone.errors import Forbidden, Invalid
from segone.runtime import Runtime
from segone.segmentation import service
from tests.factories import make_customer, make_user


def _build(runtime: Runtime) -> int:
    version = service.build(
        runtime.sessions, runtime.settings, actor=SYSTEM, variables=["attribute:plan"], min_size=1
    )
    return version.id


def test_a_version_compared_with_itself_has_everyone_staying(runtime: Runtime) -> None:
    for plan in ("gold", "gold", "basic", "basic", "basic"):
        make_customer(runtime, attributes={"plan": plan})
    first = _build(runtime)
    with runtime.session() as db:
        found = service.diff(db, actor=SYSTEM, before=first, after=first, depth=1)
    assert found.stayed == 5
    assert found.appeared == found.vanished == found.split == found.merged == []
    assert found.new_customers == found.gone_customers == 0
    assert sum(m.customers for m in found.moves) == 5


def test_customers_who_change_move_and_a_new_level_appears(runtime: Runtime) -> None:
    gold = [make_customer(runtime, attributes={"plan": "gold"}) for _ in range(4)]
    basic = [make_customer(runtime, attributes={"plan": "basic"}) for _ in range(4)]
    first = _build(runtime)
    # Two gold customers move to a new plan, and a new customer joins it.
    with runtime.session() as db:
        for customer_id in gold[:2]:
            customers.update(
                db,
                actor=SYSTEM,
                customer_id=customer_id,
                data=CustomerUpdate(attributes={"plan": "platinum"}),
            )
    make_customer(runtime, attributes={"plan": "platinum"})
    second = _build(runtime)

    with runtime.session() as db:
        found = service.diff(db, actor=SYSTEM, before=first, after=second, depth=2)
    before = {tuple(s.conditions): s for s in found.segments_before}
    after = {tuple(s.conditions): s for s in found.segments_after}
    # Depth 2: the levels below depth 1, and the leaves above it (basic, all alike, stops at depth 1).
    assert {k: s.size for k, s in before.items()} == {("plan: gold",): 4, ("plan: basic",): 4}
    assert {k: s.size for k, s in after.items()} == {
        # Conditions read simplified from the root: "gold or platinum" then "gold" is "plan: gold".
        ("plan: gold",): 2,
        ("plan: platinum",): 3,
        ("plan: basic",): 4,
    }
    old_gold, old_basic = before[("plan: gold",)].node_id, before[("plan: basic",)].node_id
    new_gold = after[("plan: gold",)].node_id
    platinum = after[("plan: platinum",)].node_id
    new_basic = after[("plan: basic",)].node_id
    assert {(m.before, m.after): m.customers for m in found.moves} == {
        (old_basic, new_basic): len(basic),
        (old_gold, new_gold): 2,
        (old_gold, platinum): 2,
    }
    assert found.stayed == len(basic) + 2  # basic, and the gold customers who kept their plan
    assert found.split == [old_gold]  # gold's customers went two ways, half and half
    assert found.merged == []  # platinum takes from gold only (and one new customer)
    assert found.appeared == [platinum]
    assert found.vanished == []
    assert found.new_customers == 1 and found.gone_customers == 0


def test_diff_refuses_what_cannot_be_compared(runtime: Runtime) -> None:
    make_customer(runtime, attributes={"plan": "gold"})
    make_customer(runtime, attributes={"plan": "basic"})
    first = _build(runtime)
    with runtime.session() as db:
        with pytest.raises(Invalid, match="depth"):
            service.diff(db, actor=SYSTEM, before=first, after=first, depth=0)
        frontline = make_user(runtime, Role.FRONTLINE)
        with pytest.raises(Forbidden):
            service.diff(db, actor=frontline.actor, before=first, after=first)
