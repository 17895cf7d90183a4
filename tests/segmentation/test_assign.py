"""Assignment without a rebuild: a stored version's rules place customers where the build put them, new and
changed customers are stored, and the analytics engine's nested CASE agrees on DuckDB and Spark."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import ibis
import numpy as np
import pyarrow as pa
import pytest
from ibis import BaseBackend
from sqlalchemy import select, update

import segone
from segone.accounts.schemas import SYSTEM, Role
from segone.analytics.backend import from_arrow, to_arrow
from segone.customers import service as customers
from segone.customers.schemas import CustomerUpdate
from segone.errors import Forbidden, Invalid, NotFound
from segone.knowledge.categories.service import in_force
from segone.knowledge.facts import service as facts
from segone.knowledge.facts.schemas import DifferentiatorCreate
from segone.runtime import Runtime
from segone.segmentation import assignment, expression, rules, service
from segone.segmentation.models import SegmentationVersion, SegmentMembership
from segone.segmentation.schemas import AssignmentStatus, TreeSettings, Unknown, VariableKind
from segone.segmentation.tree import assign as tree_assign
from segone.segmentation.tree import build_tree
from tests.behaviour.conftest import DUCKDB_WARNING, SPARK_MARKS
from tests.behaviour.conftest import spark as spark
from tests.factories import make_customer, make_user
from tests.segmentation.test_rules import mixed

PANDAS_WARNING = r"ignore:The 'future.infer_string' option is deprecated"
ENGINES = [pytest.param("duckdb", id="duckdb"), pytest.param("spark", id="pyspark", marks=SPARK_MARKS)]


def _customers(runtime: Runtime, n: int = 40, seed: int = 5) -> list[int]:
    """Customers with a number, a category and a yes/no attribute, each missing for some, and a fact in
    one category for every fifth: every kind of branch, "unknown" included."""
    rng = np.random.default_rng(seed)
    made = []
    for i in range(n):
        attributes: dict[str, Any] = {}
        if rng.random() > 0.15:
            attributes["spend"] = round(float(rng.gamma(2.0, 100.0)), 1)
        if rng.random() > 0.15:
            attributes["plan"] = str(rng.choice(["basic", "plus", "pro"]))
        if rng.random() > 0.15:
            attributes["churned"] = str(rng.choice(["yes", "no"]))
        made.append(make_customer(runtime, attributes=attributes))
        if i % 5 == 0:
            with runtime.session() as db:
                facts.add(
                    db,
                    actor=SYSTEM,
                    customer_id=made[-1],
                    data=DifferentiatorCreate(text="Has two children", category="family"),
                    categories=in_force(runtime.settings),
                )
    return made


def _memberships(runtime: Runtime, version_id: int) -> dict[int, tuple[int, Any]]:
    with runtime.session() as db:
        rows = db.execute(
            select(
                SegmentMembership.customer_id, SegmentMembership.node_id, SegmentMembership.assigned_at
            ).where(SegmentMembership.version_id == version_id)
        )
        return {customer: (node, assigned_at) for customer, node, assigned_at in rows}


def _set(runtime: Runtime, customer_id: int, **attributes: Any) -> None:
    with runtime.session() as db:
        customers.update(
            db, actor=SYSTEM, customer_id=customer_id, data=CustomerUpdate(attributes=attributes)
        )


# --- numpy, on the rules alone -----------------------------------------------------------------------------


def _stored(tree: Any) -> list[assignment.SegmentRule]:
    return [
        assignment.SegmentRule(
            node,
            None if node == 0 else int(tree.parent[node]),
            None if node == 0 else rules.to_json(tree.condition(node)),
        )
        for node in range(tree.n_nodes)
    ]


@pytest.mark.parametrize("unknown", list(Unknown))
def test_the_rules_alone_place_rows_as_the_tree_does(unknown: Unknown) -> None:
    columns, variables = mixed(800)
    tree = build_tree(columns, variables, TreeSettings(min_size=2, unknown=unknown))
    stored = assignment.stored_tree(_stored(tree), {v.name: v.kind for v in variables})
    assert np.array_equal(assignment.assign(stored, columns), tree.leaf_of)

    new, _ = mixed(300, seed=9)
    new["plan"] = new["plan"].copy()
    new["plan"][:20] = "enterprise"  # a level the tree never saw: those rows stay above the plan split
    placed = assignment.assign(stored, new)
    assert np.array_equal(placed, tree_assign(tree, new))
    assert (stored.split[placed[:20]] >= 0).any()

    shallow = assignment.assign(stored, columns, max_depth=2)
    assert np.array_equal(shallow, [stored.path(int(leaf))[:3][-1] for leaf in tree.leaf_of])


def test_a_tree_whose_rules_disagree_is_refused() -> None:
    kinds = {"spend": VariableKind.NUMERIC, "plan": VariableKind.CATEGORICAL}
    two = [
        assignment.SegmentRule(0, None, None),
        assignment.SegmentRule(1, 0, {"variable": "spend", "threshold": 10.0}),
        assignment.SegmentRule(2, 0, {"variable": "plan", "levels": ["gold"]}),
    ]
    with pytest.raises(Invalid, match="split on both spend and plan"):
        assignment.stored_tree(two, kinds)
    with pytest.raises(Invalid, match="build again"):
        assignment.stored_tree(
            [assignment.SegmentRule(0, None, None), assignment.SegmentRule(1, 0, None)], kinds
        )


# --- the service, on a real store --------------------------------------------------------------------------


@pytest.mark.parametrize("few", [True, False], ids=["from the root down", "whole tree"])
def test_the_builds_own_customers_are_placed_in_their_memberships(
    runtime: Runtime, few: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    made = _customers(runtime)
    version = service.build(runtime.sessions, runtime.settings, actor=SYSTEM)
    stored = _memberships(runtime, version.id)
    assert version.segments_of_one and version.segments_of_one < len(made)
    if not few:
        monkeypatch.setattr(service, "FEW_CUSTOMERS", 0)
    with runtime.session() as db:
        placed = service.place(db, runtime.settings, actor=SYSTEM, customer_ids=made)
    assert {p.customer_id: p.node_id for p in placed} == {c: node for c, (node, _) in stored.items()}
    assert all(p.status is AssignmentStatus.UNCHANGED and p.is_leaf for p in placed)
    with runtime.session() as db:
        sheet = service.customer_path(db, actor=SYSTEM, customer_id=made[0])
    assert placed[0].path == sheet


def test_new_and_changed_customers_are_stored_without_a_rebuild(runtime: Runtime) -> None:
    made = _customers(runtime, n=12)
    version = service.build(
        runtime.sessions, runtime.settings, actor=SYSTEM, variables=["attribute:plan", "attribute:spend"]
    )
    before = _memberships(runtime, version.id)
    gold = make_customer(runtime, attributes={"plan": "pro", "spend": 80.0})
    with runtime.session() as db:
        with pytest.raises(NotFound, match=f"Customer {gold} is in no segment"):
            service.customer_path(db, actor=SYSTEM, customer_id=gold)
        (first,) = service.assign(db, runtime.settings, actor=SYSTEM, customer_id=gold)
    assert first.status is AssignmentStatus.NEW and first.previous_node_id is None
    assert first.path[0].node_id == 0 and first.path[-1].node_id == first.node_id
    with runtime.session() as db:
        assert service.customer_path(db, actor=SYSTEM, customer_id=gold) == first.path
    node, assigned_at = _memberships(runtime, version.id)[gold]
    assert node == first.node_id and assigned_at is not None
    assert all(at is None for _, at in before.values())  # the build's own

    # A customer whose values change is moved; assigning again changes nothing.
    mover = next(c for c in made if before[c][0] != first.node_id)
    _set(runtime, mover, plan="pro", spend=80.0)
    with runtime.session() as db:
        (moved,) = service.assign(db, runtime.settings, actor=SYSTEM, customer_ids=[mover])
        (same,) = service.assign(db, runtime.settings, actor=SYSTEM, customer_ids=[mover])
    assert moved.status is AssignmentStatus.MOVED and moved.previous_node_id == before[mover][0]
    assert moved.node_id == first.node_id
    assert same.status is AssignmentStatus.UNCHANGED and same.node_id == moved.node_id

    # A plan the tree never saw takes no branch of the plan split: the customer stays above it.
    other = make_customer(runtime, attributes={"plan": "enterprise", "spend": 80.0})
    with runtime.session() as db:
        (unseen,) = service.assign(db, runtime.settings, actor=SYSTEM, customer_ids=[other])
    assert not unseen.is_leaf and not any("enterprise" in line for line in unseen.path[-1].conditions)
    with runtime.session() as db:
        table = service.membership_table(db, actor=SYSTEM, version_id=version.id).to_pylist()
    words = {row["customer_id"]: row["segment"] for row in table}
    assert words[other] == " AND ".join(unseen.path[-1].conditions)
    assert len(table) == len(made) + 2


def test_every_customer_new_since_the_build_is_assigned_at_once(runtime: Runtime) -> None:
    made = _customers(runtime, n=10)
    version = service.build(runtime.sessions, runtime.settings, actor=SYSTEM)
    new = [make_customer(runtime, attributes={"plan": "basic", "spend": 5.0 * i}) for i in range(3)]
    seen: list[tuple[str, int, int | None]] = []
    with runtime.session() as db:
        done = service.assign_new(
            db, runtime.settings, actor=SYSTEM, progress=lambda *step: seen.append(step)
        )
    assert done.version_id == version.id and done.assigned == 3
    assert sorted(c.customer_id for c in done.customers) == new
    assert seen[-1] == ("Assigning the new customers", 3, 3)
    assert set(_memberships(runtime, version.id)) == {*made, *new}
    with runtime.session() as db:
        assert service.assign_new(db, runtime.settings, actor=SYSTEM).assigned == 0


def test_assignment_refuses_what_it_cannot_place_and_who_may_not_store(runtime: Runtime) -> None:
    made = _customers(runtime, n=8)
    frontline = make_user(runtime, Role.FRONTLINE).actor
    with runtime.session() as db, pytest.raises(NotFound, match="No segmentation is built yet"):
        service.place(db, runtime.settings, actor=SYSTEM, customer_ids=made)
    version = service.build(runtime.sessions, runtime.settings, actor=SYSTEM)
    with runtime.session() as db:
        with pytest.raises(NotFound, match="There is no customer 999999"):
            service.place(db, runtime.settings, actor=SYSTEM, customer_ids=[made[0], 999999])
        with pytest.raises(NotFound, match="There is no segmentation version 77"):
            service.assign(db, runtime.settings, actor=SYSTEM, customer_id=made[0], version_id=77)
        with pytest.raises(Invalid, match="Name at least one customer"):
            service.assign(db, runtime.settings, actor=SYSTEM)
        # Front-line staff may see where a customer's values lead, not store it.
        (seen,) = service.place(db, runtime.settings, actor=frontline, customer_ids=[made[0]])
        assert seen.status is AssignmentStatus.UNCHANGED
        with pytest.raises(Forbidden):
            service.assign(db, runtime.settings, actor=frontline, customer_id=made[0])
        with pytest.raises(Forbidden):
            service.assign_new(db, runtime.settings, actor=frontline)
        db.execute(update(SegmentationVersion).values(status="running"))
        with pytest.raises(Invalid, match=f"Version {version.id} is not a finished build"):
            service.assign(db, runtime.settings, actor=SYSTEM, customer_id=made[0], version_id=version.id)


def test_a_version_built_before_kinds_were_stored_reads_them_off_its_rules(runtime: Runtime) -> None:
    made = _customers(runtime, n=24)
    version = service.build(runtime.sessions, runtime.settings, actor=SYSTEM)
    stored = _memberships(runtime, version.id)
    with runtime.session() as db:
        db.execute(update(SegmentationVersion).values(variable_kinds=None))
    with runtime.session() as db:
        placed = service.place(db, runtime.settings, actor=SYSTEM, customer_ids=made)
    assert {p.customer_id: p.node_id for p in placed} == {c: node for c, (node, _) in stored.items()}


# --- the analytics engine: one nested CASE -----------------------------------------------------------------


@pytest.fixture
def engine(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[BaseBackend]:
    if request.param == "spark":
        yield request.getfixturevalue("spark")
    else:
        con = ibis.duckdb.connect()
        yield con
        con.disconnect()


@pytest.mark.filterwarnings(DUCKDB_WARNING, PANDAS_WARNING)
@pytest.mark.parametrize("unknown", list(Unknown))
@pytest.mark.parametrize("engine", ENGINES, indirect=True)
def test_the_engine_places_rows_as_the_rules_do(
    engine: BaseBackend, sqlite_runtime: Runtime, unknown: Unknown
) -> None:
    runtime = sqlite_runtime
    made = _customers(runtime)
    version = service.build(runtime.sessions, runtime.settings, actor=SYSTEM, unknown=unknown)
    assert version.settings["unknown"] == unknown.value
    stored = {c: node for c, (node, _) in _memberships(runtime, version.id).items()}
    with runtime.session() as db:
        tree = service.stored_tree(db, actor=SYSTEM)
        values = service.tree_values(db, runtime.settings, actor=SYSTEM, tree=tree)
    names = expression.column_names([v.name for v in tree.variables])
    assert names.get("attribute:plan") == "attribute__plan"
    table = from_arrow(
        engine, "customers_now", values.rename_columns([names.get(n, n) for n in values.column_names])
    )

    for max_depth in (None, 1):
        found = expression.assign_table(tree, table, max_depth=max_depth)
        node = to_arrow(found.select("customer_id", "segment_id")).to_pylist()
        by_engine = {row["customer_id"]: row["segment_id"] for row in node}
        raw = to_arrow(table.mutate(n=expression.node_expression(tree, table, max_depth=max_depth)))
        columns = {v.name: values.column(v.name).to_numpy(zero_copy_only=False) for v in tree.variables}
        ids = values.column("customer_id").to_pylist()
        by_rules = dict(zip(ids, assignment.assign(tree, columns, max_depth=max_depth).tolist(), strict=True))
        assert (
            by_engine
            == by_rules
            == dict(zip(raw["customer_id"].to_pylist(), raw["n"].to_pylist(), strict=True))
        )
        if max_depth is None:
            assert by_engine == stored and sorted(by_engine) == sorted(made)
        else:
            assert set(by_engine.values()) <= {0, *(n for n in range(tree.n_nodes) if tree.depth[n] == 1)}


@pytest.mark.filterwarnings(DUCKDB_WARNING, PANDAS_WARNING)
@pytest.mark.parametrize("engine", ENGINES, indirect=True)
def test_the_engine_reads_nan_empty_text_yes_no_text_and_unseen_levels(engine: BaseBackend) -> None:
    columns, variables = mixed(600)
    tree = build_tree(columns, variables, TreeSettings(min_size=3))
    stored = assignment.stored_tree(_stored(tree), {v.name: v.kind for v in variables})
    new, _ = mixed(400, seed=4)
    plan = new["plan"].copy()
    plan[:15] = "enterprise"
    plan[15:30] = ""  # empty text is missing
    churned = np.array([None if v is None else ("Yes " if v else "no") for v in new["churned"]], dtype=object)
    rows = pa.table(
        {
            "row": np.arange(400),
            "spend": pa.array(new["spend"]),  # NaN, not null: missing all the same
            "plan": pa.array(plan.tolist(), pa.string()),
            "churned": pa.array(churned.tolist(), pa.string()),
        }
    )
    expected = assignment.assign(stored, {"spend": new["spend"], "plan": plan, "churned": churned})
    table = from_arrow(engine, "new_rows", rows)
    names = {"spend": "spend", "plan": "plan", "churned": "churned"}
    found = to_arrow(expression.assign_table(stored, table, columns=names).order_by("row"))
    assert found["segment_id"].to_pylist() == expected.tolist()
    raw = table.mutate(n=expression.node_expression(stored, table, columns=names)).order_by("row")
    assert to_arrow(raw)["n"].to_pylist() == expected.tolist()


def test_column_names_are_plain_and_refused_when_they_clash() -> None:
    assert expression.column_name("knows:growth plans") == "knows__growth_plans"
    assert expression.column_name("behaviour:recency_days") == "behaviour__recency_days"
    assert expression.column_name("trait:17") == "trait__17"
    with pytest.raises(Invalid, match="would both be read from the column attribute__A_B"):
        expression.column_names(["attribute:a b", "attribute:A-B"])
    assert expression.column_names(["attribute:a b", "attribute:A-B"], {"attribute:A-B": "ab2"}) == {
        "attribute:a b": "attribute__a_b",
        "attribute:A-B": "ab2",
    }


@pytest.mark.filterwarnings(DUCKDB_WARNING, PANDAS_WARNING)
def test_analysts_assign_in_the_analytics_engine(runtime: Runtime) -> None:
    made = _customers(runtime, n=16)
    seg = segone.connect(runtime.settings.model_copy(update={"analytics_url": "duckdb://:memory:"}))
    try:
        version = service.build(runtime.sessions, runtime.settings, actor=SYSTEM)
        new = make_customer(runtime, attributes={"plan": "basic", "spend": 12.5})
        found = seg.assign(seg.segment_values()).to_pyarrow().to_pylist()
        by_engine = {row["customer_id"]: row["segment_id"] for row in found}
        stored = {c: node for c, (node, _) in _memberships(runtime, version.id).items()}
        assert {c: by_engine[c] for c in made} == stored
        with runtime.session() as db:
            (placed,) = service.place(db, runtime.settings, actor=SYSTEM, customer_ids=[new])
        assert by_engine[new] == placed.node_id
        top = seg.assign(seg.segment_values(version.id), version=version.id, max_depth=0).to_pyarrow()
        assert set(top["segment_id"].to_pylist()) == {0}
    finally:
        seg.close()
