"""A segment's customers by name, a page at a time: the segmentation's memberships with the customers'
names and kinds."""

from __future__ import annotations

import pytest

from segone.accounts.schemas import SYSTEM, Role
from segone.customers.schemas import CustomerKind
from segone.errors import Forbidden
from segone.runtime import Runtime
from segone.segmentation import service as segmentation
from segone.views.members import audience_edits, segment_members
from tests.factories import make_customer, make_user


def test_a_segments_customers_are_named_with_their_leaf_a_page_at_a_time(runtime: Runtime) -> None:
    names = {
        make_customer(runtime, name=f"Gold {i}", attributes={"plan": "gold", "spend": 10 * i}): f"Gold {i}"
        for i in range(5)
    }
    shop = make_customer(
        runtime, name="Hollis Hardware", kind=CustomerKind.BUSINESS, attributes={"plan": "basic", "spend": 5}
    )
    version = segmentation.build(
        runtime.sessions, runtime.settings, actor=SYSTEM, variables=["attribute:plan", "attribute:spend"]
    )
    with runtime.session() as db:
        top = segmentation.segments(db, actor=SYSTEM, version_id=version.id, parent=0)
        node = max(top, key=lambda s: s.size)
        expected = segmentation.members(db, actor=SYSTEM, version_id=version.id, node_id=node.node_id)
        first = segment_members(db, actor=SYSTEM, version_id=version.id, node_id=node.node_id, limit=2)
        rest = segment_members(
            db, actor=SYSTEM, version_id=version.id, node_id=node.node_id, offset=2, limit=100
        )
        everyone = segment_members(db, actor=SYSTEM, version_id=version.id, node_id=0)
        frontline = make_user(runtime, Role.FRONTLINE).actor
        with pytest.raises(Forbidden):
            segment_members(db, actor=frontline, version_id=version.id, node_id=0)
    assert node.size >= 3 and not node.is_leaf
    assert [m.customer_id for m in first.items + rest.items] == expected
    assert [m.name for m in first.items] == [names.get(c, "Hollis Hardware") for c in expected[:2]]
    assert first.total == rest.total == node.size and (rest.offset, rest.limit) == (2, 100)
    # Every customer differs: each is alone in a leaf below the segment.
    leaves = [m.leaf for m in first.items + rest.items]
    assert len(set(leaves)) == len(leaves) and node.node_id not in leaves
    assert [m.customer_id for m in everyone.items] == [*names, shop]
    assert everyone.items[-1].name == "Hollis Hardware"


def test_an_audiences_hand_changes_are_named_the_latest_first(runtime: Runtime) -> None:
    gold = make_customer(runtime, name="Gold Ann", attributes={"plan": "gold"})
    basic = make_customer(runtime, name="Basic Bob", attributes={"plan": "basic"})
    version = segmentation.build(
        runtime.sessions, runtime.settings, actor=SYSTEM, variables=["attribute:plan"]
    )
    analyst, frontline = make_user(runtime, Role.ANALYST), make_user(runtime, Role.FRONTLINE)
    with runtime.session() as db:
        node = next(
            s.node_id
            for s in segmentation.segments(db, actor=SYSTEM, version_id=version.id)
            if s.conditions == ["plan: gold"]
        )
        audience = segmentation.save_audience(
            db, runtime.settings, actor=SYSTEM, name="gold", version_id=version.id, node_id=node
        )
        segmentation.add_to_audience(db, actor=analyst.actor, audience_id=audience.id, customer_id=basic)
        segmentation.remove_from_audience(db, actor=SYSTEM, audience_id=audience.id, customer_id=gold)
        edits = audience_edits(db, actor=SYSTEM, audience_id=audience.id)
        with pytest.raises(Forbidden):
            audience_edits(db, actor=frontline.actor, audience_id=audience.id)
    assert [(e.name, e.customer_id, e.added, e.by) for e in edits] == [
        ("Gold Ann", gold, False, None),
        ("Basic Bob", basic, True, analyst.email),
    ]
