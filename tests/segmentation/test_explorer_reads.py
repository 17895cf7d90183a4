"""The explorer's reads: a segment's path from the root, the levels below it and a page of its customers,
each read without loading the whole tree, and each equal to what the whole tree says."""

from __future__ import annotations

import random

import pytest

from segone.accounts.schemas import SYSTEM, Role
from segone.errors import Forbidden, NotFound
from segone.runtime import Runtime
from segone.segmentation import service
from segone.segmentation.schemas import SegmentOut
from tests.factories import make_customer, make_user


def _built(runtime: Runtime, max_segments: int | None = None) -> int:
    """60 customers who differ on a plan (some unknown), a region and a spend: a tree several levels deep,
    with two- and three-way splits."""
    rng = random.Random(9)
    for _ in range(60):
        attributes: dict[str, object] = {
            "region": rng.choice(["north", "south", "east"]),
            "spend": rng.randint(1, 2000),
        }
        if rng.random() < 0.8:
            attributes["plan"] = rng.choice(["basic", "gold", "platinum"])
        make_customer(runtime, attributes=attributes)
    version = service.build(
        runtime.sessions,
        runtime.settings,
        actor=SYSTEM,
        variables=["attribute:plan", "attribute:region", "attribute:spend"],
        max_segments=max_segments,
    )
    return version.id


def _children(nodes: list[SegmentOut]) -> dict[int, list[int]]:
    found: dict[int, list[int]] = {}
    for node in nodes:
        if node.parent_node_id is not None:
            found.setdefault(node.parent_node_id, []).append(node.node_id)
    return found


@pytest.mark.parametrize("max_segments", [None, 12], ids=["whole", "best-first"])
def test_a_page_of_members_the_levels_below_and_the_path_match_the_whole_tree(
    runtime: Runtime, max_segments: int | None
) -> None:
    # A best-first tree is pruned and numbered again: the reads rely on breadth-first ids all the same.
    version_id = _built(runtime, max_segments)
    with runtime.session() as db:
        every = service.segments(db, actor=SYSTEM, version_id=version_id)
        children = _children(every)
        by_id = {node.node_id: node for node in every}
        assert max(node.depth for node in every) >= (4 if max_segments is None else 3)
        assert max_segments is None or sum(node.is_leaf for node in every) <= max_segments
        assert any(len(kids) == 3 for kids in children.values())  # "unknown" plan is a branch of its own
        for node in every:
            members = service.members(db, actor=SYSTEM, version_id=version_id, node_id=node.node_id)
            page = service.member_page(
                db, actor=SYSTEM, version_id=version_id, node_id=node.node_id, limit=1000
            )
            assert [customer for customer, _ in page] == members
            assert len(members) == node.size
            # Each member's leaf is below the segment.
            for _, leaf in page:
                walk: int | None = leaf
                while walk is not None and walk != node.node_id:
                    walk = by_id[walk].parent_node_id
                assert walk == node.node_id

            below = service.subtree(db, actor=SYSTEM, version_id=version_id, node_id=node.node_id, levels=2)
            expected = [node.node_id]
            for child in children.get(node.node_id, []):
                expected += [child, *children.get(child, [])]
            assert [n.node_id for n in below] == sorted(expected)

            path = service.segment_path(db, actor=SYSTEM, version_id=version_id, node_id=node.node_id)
            assert path[-1] == node and path[0].node_id == 0
            assert [s.depth for s in path] == list(range(node.depth + 1))


def test_members_come_a_page_at_a_time_by_customer_number(runtime: Runtime) -> None:
    version_id = _built(runtime)
    with runtime.session() as db:
        everyone = service.members(db, actor=SYSTEM, version_id=version_id, node_id=0)
        pages = [
            service.member_page(db, actor=SYSTEM, version_id=version_id, node_id=0, offset=offset, limit=25)
            for offset in (0, 25, 50)
        ]
    assert [len(page) for page in pages] == [25, 25, 10]
    assert [customer for page in pages for customer, _ in page] == everyone


def test_the_explorer_reads_need_a_managers_role_and_a_segment_that_exists(runtime: Runtime) -> None:
    version_id = _built(runtime)
    frontline = make_user(runtime, Role.FRONTLINE).actor
    with runtime.session() as db:
        for read in (service.segment_path, service.member_page):
            with pytest.raises(Forbidden):
                read(db, actor=frontline, version_id=version_id, node_id=0)
            with pytest.raises(NotFound):
                read(db, actor=SYSTEM, version_id=version_id, node_id=99_999)
        with pytest.raises(Forbidden):
            service.subtree(db, actor=frontline, version_id=version_id, node_id=0, levels=2)
        with pytest.raises(NotFound):
            service.subtree(db, actor=SYSTEM, version_id=version_id + 1, node_id=0, levels=2)
