"""Building, storing and reading segmentation versions on a real store (SQLite and PostgreSQL)."""

from __future__ import annotations

from itertools import pairwise

import pytest
from sqlalchemy import func, select

from segone.accounts.schemas import SYSTEM, Role
from segone.errors import Forbidden, Invalid, NotFound
from segone.knowledge.categories.service import in_force
from segone.knowledge.facts import service as facts
from segone.knowledge.facts.schemas import DifferentiatorCreate
from segone.runtime import Runtime
from segone.segmentation import service
from segone.segmentation.models import SegmentationVersion, SegmentMembership
from segone.segmentation.schemas import VariableKind, VersionStatus
from segone.views import merge
from tests.factories import make_customer, make_user


def _planted(runtime: Runtime) -> dict[str, list[int]]:
    """Two planted groups that differ on plan and spend (a big-spending gold group and a small basic one),
    a knowledge fact for some of each, and two basic customers identical on every variable."""
    gold = [
        make_customer(runtime, attributes={"plan": "gold", "spend": 900 + 10 * i, "churned": "no"})
        for i in range(6)
    ]
    basic = [
        make_customer(
            runtime, attributes={"plan": "basic", "spend": 10 + i, "churned": "yes" if i % 2 else "no"}
        )
        for i in range(6)
    ]
    twins = [
        make_customer(runtime, attributes={"plan": "basic", "spend": 3, "churned": "yes"}) for _ in range(2)
    ]
    with runtime.session() as db:
        for customer in (gold[0], basic[0]):
            facts.add(
                db,
                actor=SYSTEM,
                customer_id=customer,
                data=DifferentiatorCreate(text="Has two children", category="family"),
                categories=in_force(runtime.settings),
            )
    return {"gold": gold, "basic": basic + twins, "twins": twins}


def _memberships(runtime: Runtime, version_id: int) -> dict[int, int]:
    with runtime.session() as db:
        rows = db.execute(
            select(SegmentMembership.customer_id, SegmentMembership.node_id).where(
                SegmentMembership.version_id == version_id
            )
        )
        return {customer: node for customer, node in rows}


def test_a_build_is_stored_with_its_counts_and_every_customer_in_one_leaf(runtime: Runtime) -> None:
    groups = _planted(runtime)
    everyone = groups["gold"] + groups["basic"]
    version = service.build(runtime.sessions, runtime.settings, actor=SYSTEM, name="first")

    assert version.status is VersionStatus.DONE and version.name == "first"
    assert version.customers == len(everyone) == 14
    assert version.settings == {
        "variables": "all", "exclude": [], "target": None, "min_size": 1, "max_depth": None,
        "max_segments": None, "unknown": "branch",
    }  # fmt: skip
    assert {"attribute:plan", "attribute:spend", "knows:family"} <= set(version.variables)
    # Only the twins cannot be told apart: every other customer is a segment of one.
    assert version.identical_leaves == 1
    assert version.alike_leaves == 0  # no two differ only within a bin: few customers, every value a bin
    assert version.segments_of_one == 12
    assert version.leaves == 13
    assert version.finished_at is not None and version.seconds is not None
    assert version.fingerprint is not None and len(version.fingerprint) == 64

    members = _memberships(runtime, version.id)
    assert sorted(members) == sorted(everyone)
    with runtime.session() as db:
        assert service.get_version(db, actor=SYSTEM, version_id=version.id) == version
        assert [v.id for v in service.list_versions(db, actor=SYSTEM)] == [version.id]
        leaves = {s.node_id for s in service.segments(db, actor=SYSTEM, version_id=version.id) if s.is_leaf}
    assert set(members.values()) == leaves
    assert members[groups["twins"][0]] == members[groups["twins"][1]]


def test_the_planted_groups_are_the_first_split_and_paths_go_root_to_leaf(runtime: Runtime) -> None:
    groups = _planted(runtime)
    version = service.build(runtime.sessions, runtime.settings, actor=SYSTEM)
    with runtime.session() as db:
        root = service.segment(db, actor=SYSTEM, version_id=version.id, node_id=0)
        first = {
            customer: service.customer_path(db, actor=SYSTEM, customer_id=customer)
            for customer in groups["gold"] + groups["basic"]
        }
        children = service.segments(db, actor=SYSTEM, version_id=version.id, parent=0)
    assert root.size == 14 and root.share == 1.0 and root.conditions == [] and root.deviations is None
    assert root.children == [c.node_id for c in children]
    for path in first.values():
        assert path[0].node_id == 0 and path[-1].is_leaf
        assert [s.depth for s in path] == list(range(len(path)))
        assert all(child.parent_node_id == parent.node_id for parent, child in pairwise(path))
    # The top split separates the two planted groups.
    gold_side = {first[c][1].node_id for c in groups["gold"]}
    basic_side = {first[c][1].node_id for c in groups["basic"]}
    assert len(gold_side) == len(basic_side) == 1 and gold_side != basic_side
    (gold_node,) = [c for c in children if c.node_id in gold_side]
    assert gold_node.size == 6 and gold_node.share == pytest.approx(6 / 14)
    # A segment's words and how it differs from the average customer, stored at build time.
    assert any("spend" in line or "plan" in line for line in gold_node.conditions)
    assert gold_node.deviations and gold_node.deviations[0].variable in {"attribute:spend", "attribute:plan"}
    assert abs(gold_node.deviations[0].effect) > 0.5
    # No behaviour refresh ran: there is no CLV to sum.
    assert gold_node.clv_sum is None and gold_node.clv_mean is None
    # Against its sibling (the basic side), gold differs most on what separates them.
    assert gold_node.sibling_deviations and gold_node.sibling_deviations[0].variable in {
        "attribute:spend", "attribute:plan",
    }  # fmt: skip
    (basic_node,) = [c for c in children if c.node_id in basic_side]
    assert basic_node.sibling_deviations is not None
    assert basic_node.sibling_deviations[0].effect == pytest.approx(-gold_node.sibling_deviations[0].effect)


def test_rebuilding_the_same_data_gives_the_same_tree_and_memberships(runtime: Runtime) -> None:
    _planted(runtime)
    settings = {"exclude": ["knows:family"], "min_size": 2, "max_depth": 3}
    first = service.build(runtime.sessions, runtime.settings, actor=SYSTEM, **settings)  # type: ignore[arg-type]
    second = service.build(runtime.sessions, runtime.settings, actor=SYSTEM, **settings)  # type: ignore[arg-type]
    assert first.id != second.id
    assert first.fingerprint == second.fingerprint
    assert _memberships(runtime, first.id) == _memberships(runtime, second.id)
    assert "knows:family" not in first.variables
    with runtime.session() as db:
        # The path follows the latest done version unless one is named.
        customer = next(iter(_memberships(runtime, first.id)))
        latest = service.customer_path(db, actor=SYSTEM, customer_id=customer)
        named = service.customer_path(db, actor=SYSTEM, customer_id=customer, version_id=first.id)
    assert {s.version_id for s in latest} == {second.id}
    assert {s.version_id for s in named} == {first.id}


def test_max_segments_keeps_the_segments_that_explain_most(runtime: Runtime) -> None:
    groups = _planted(runtime)
    version = service.build(
        runtime.sessions,
        runtime.settings,
        actor=SYSTEM,
        variables=["attribute:plan", "attribute:spend"],
        max_segments=3,
    )
    assert version.settings["max_segments"] == 3
    assert version.leaves == 3 and version.customers == 14
    members = _memberships(runtime, version.id)
    assert sorted(members) == sorted(groups["gold"] + groups["basic"])
    with runtime.session() as db:
        stored = service.segments(db, actor=SYSTEM, version_id=version.id)
    assert len(stored) == 5 and {s.size for s in stored if s.depth == 1} == {6, 8}
    assert {node for node in members.values()} == {s.node_id for s in stored if s.is_leaf}


def test_a_target_gives_each_segment_its_rate_and_merged_customers_are_left_out(runtime: Runtime) -> None:
    groups = _planted(runtime)
    survivor, merged = groups["basic"][0], groups["basic"][1]
    with runtime.session() as db:
        merge.merge(db, actor=SYSTEM, survivor_id=survivor, merged_id=merged)
    version = service.build(
        runtime.sessions,
        runtime.settings,
        actor=SYSTEM,
        variables=["attribute:plan", "attribute:spend"],
        target="attribute:churned",
        max_depth=1,
    )
    assert version.variables == ["attribute:plan", "attribute:spend"]
    members = _memberships(runtime, version.id)
    assert merged not in members and len(members) == 13
    with runtime.session() as db:
        root = service.segment(db, actor=SYSTEM, version_id=version.id, node_id=0)
        children = service.segments(db, actor=SYSTEM, version_id=version.id, parent=0)
    # 4 of the 13 churned: basic customers 1, 3, 5 (1 merged away) and both twins.
    assert root.target_mean == pytest.approx(4 / 13)
    # The supervised split isolates the lowest spenders, the twins, who both churned.
    rates = sorted((c.target_mean, c.size) for c in children if c.target_mean is not None)
    assert rates == [(pytest.approx(2 / 11), 11), (1.0, 2)]


def test_bad_settings_are_refused_before_a_version_is_recorded(runtime: Runtime) -> None:
    _planted(runtime)
    with pytest.raises(Invalid, match="minimum segment size must be at least 1"):
        service.build(runtime.sessions, runtime.settings, actor=SYSTEM, min_size=0)
    with pytest.raises(Invalid, match=r"Not a variable: 'attribute:plans' \(did you mean attribute:plan"):
        service.build(runtime.sessions, runtime.settings, actor=SYSTEM, variables=["attribute:plans"])
    with pytest.raises(Invalid, match="must be a number or yes/no"):
        service.build(runtime.sessions, runtime.settings, actor=SYSTEM, target="attribute:plan")
    with pytest.raises(Invalid, match=r"number of segments must be at least 1 \(1 keeps every customer"):
        service.build(runtime.sessions, runtime.settings, actor=SYSTEM, max_segments=0)
    with runtime.session() as db:
        assert db.scalar(select(func.count()).select_from(SegmentationVersion)) == 0
        with pytest.raises(NotFound, match="No segmentation is built yet"):
            service.customer_path(db, actor=SYSTEM, customer_id=1)
        with pytest.raises(NotFound, match="no segmentation version 99"):
            service.get_version(db, actor=SYSTEM, version_id=99)


def test_a_build_that_fails_is_recorded_as_failed_and_writes_nothing_else(runtime: Runtime) -> None:
    _planted(runtime)

    def interrupted(stage: str, done: int, total: int | None) -> None:
        if stage == "Writing the memberships":
            raise RuntimeError("the disk is full")

    with pytest.raises(RuntimeError):
        service.build(runtime.sessions, runtime.settings, actor=SYSTEM, progress=interrupted)
    with runtime.session() as db:
        (failed,) = service.list_versions(db, actor=SYSTEM)
        assert failed.status is VersionStatus.FAILED
        assert failed.message == "RuntimeError: the disk is full"
        assert failed.fingerprint is None and failed.finished_at is not None
        assert service.segments(db, actor=SYSTEM, version_id=failed.id) == []
    assert _memberships(runtime, failed.id) == {}


def test_frontline_sees_a_path_but_cannot_build_or_browse(runtime: Runtime) -> None:
    groups = _planted(runtime)
    frontline, manager = make_user(runtime, Role.FRONTLINE), make_user(runtime, Role.MANAGER)
    for who in (frontline, manager):
        with pytest.raises(Forbidden):
            service.build(runtime.sessions, runtime.settings, actor=who.actor)
    analyst = make_user(runtime, Role.ANALYST)
    version = service.build(runtime.sessions, runtime.settings, actor=analyst.actor)
    assert version.created_by_id == analyst.id
    customer = groups["gold"][0]
    with runtime.session() as db:
        assert service.customer_path(db, actor=frontline.actor, customer_id=customer)[0].node_id == 0
        with pytest.raises(Forbidden):
            service.list_versions(db, actor=frontline.actor)
        with pytest.raises(Forbidden):
            service.segment(db, actor=frontline.actor, version_id=version.id, node_id=0)
        assert service.segments(db, actor=manager.actor, version_id=version.id, max_depth=0)[0].size == 14


def test_deviations_below_the_stored_levels_are_worked_out_when_asked(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    _planted(runtime)
    stored = service.build(runtime.sessions, runtime.settings, actor=SYSTEM)
    monkeypatch.setattr(service, "DEVIATION_DEPTH", 0)
    bare = service.build(runtime.sessions, runtime.settings, actor=SYSTEM)
    with runtime.session() as db:
        upper = service.segments(db, actor=SYSTEM, version_id=stored.id, max_depth=2)
        assert all(s.deviations is None for s in service.segments(db, actor=SYSTEM, version_id=bare.id))
        for kept in upper[1:]:
            # The same tree, the same values: worked out now, they equal what the first build stored.
            live = service.segment(db, actor=SYSTEM, version_id=bare.id, node_id=kept.node_id).deviations
            assert live is not None and kept.deviations is not None
            assert [d.variable for d in live] == [d.variable for d in kept.deviations]
            assert [d.effect for d in live] == pytest.approx([d.effect for d in kept.deviations])
        assert service.segment(db, actor=SYSTEM, version_id=bare.id, node_id=0).deviations is None
        monkeypatch.setattr(service, "LIVE_DEVIATIONS", 1)
        assert (
            service.segment_deviations(db, actor=SYSTEM, version_id=bare.id, node_id=upper[1].node_id) is None
        )


def test_an_earlier_runs_segments_are_a_variable_when_named(runtime: Runtime) -> None:
    groups = _planted(runtime)
    first = service.build(runtime.sessions, runtime.settings, actor=SYSTEM, variables=["attribute:plan"])
    with runtime.session() as db:
        infos = {i.name: i for i in service.describe_variables(db, actor=SYSTEM, settings=runtime.settings)}
    earlier = infos[f"segment:{first.id}"]
    assert (earlier.kind, earlier.distinct, earlier.missing_share) == (VariableKind.CATEGORICAL, 2, 0.0)
    assert set(earlier.examples) == {"plan: gold", "plan: basic"}
    # Not in "all": a new build does not split on the old one unless asked to.
    again = service.build(runtime.sessions, runtime.settings, actor=SYSTEM)
    assert not any(name.startswith("segment:") for name in again.variables)
    on_it = service.build(
        runtime.sessions, runtime.settings, actor=SYSTEM, variables=[f"segment:{first.id}"], max_depth=1
    )
    with runtime.session() as db:
        top = service.segments(db, actor=SYSTEM, version_id=on_it.id, parent=0)
        path = service.customer_path(db, actor=SYSTEM, customer_id=groups["gold"][0], version_id=on_it.id)
    assert sorted(s.size for s in top) == [6, 8]
    assert path[-1].conditions == [f"segment in version {first.id}: plan: gold"]
