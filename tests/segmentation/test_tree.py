"""The segmentation engine on data whose right answer is known: planted segments, identical customers,
missing values, a hand-computed supervised split, determinism, depth limits and assignment."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

from segone.errors import Invalid
from segone.segmentation.binning import MAX_BINS
from segone.segmentation.schemas import Condition, TreeSettings, Unknown, Variable, VariableKind
from segone.segmentation.tree import Tree, assign, build_tree

Columns = dict[str, npt.NDArray[Any]]


def numeric(name: str, unit: str = "") -> Variable:
    return Variable(name, name.replace("_", " "), VariableKind.NUMERIC, "test", unit)


def planted(n: int = 2000, seed: int = 7) -> tuple[Columns, list[Variable], npt.NDArray[np.int64]]:
    """Four groups: two far apart on recency, each halved far apart on spend; three noise variables."""
    rng = np.random.default_rng(seed)
    group = rng.integers(0, 4, n)
    columns: Columns = {
        "recency": np.where(group < 2, 10.0, 200.0) + rng.normal(0, 3, n),
        "spend": np.where(group % 2 == 0, 50.0, 900.0) + rng.normal(0, 10, n),
    }
    for i in range(3):
        columns[f"noise_{i}"] = rng.normal(0, 1, n)
    variables = [numeric("recency", "days"), numeric("spend", "USD")] + [
        numeric(f"noise_{i}") for i in range(3)
    ]
    return columns, variables, group


def partition(tree: Tree) -> set[frozenset[int]]:
    return {frozenset(np.flatnonzero(tree.leaf_of == leaf).tolist()) for leaf in tree.leaves.tolist()}


def test_the_top_splits_recover_planted_segments() -> None:
    columns, variables, group = planted()
    tree = build_tree(columns, variables, TreeSettings(min_size=1))
    root = tree.node(0)
    assert tree.variables[tree.split[0]].name in {"recency", "spend"}
    grandchildren = [g for c in root.children for g in tree.node(c).children]
    assert len(grandchildren) == 4
    found = {frozenset(np.flatnonzero(tree.members(g)).tolist()) for g in grandchildren}
    planted_groups = {frozenset(np.flatnonzero(group == g).tolist()) for g in range(4)}
    assert found == planted_groups
    # Every customer differs from every other on the noise, so each ends in a segment of their own.
    assert tree.segments_of_one == len(group) == tree.leaves.size
    assert tree.identical_leaves == 0


def test_conditions_read_in_words_and_deviations_rank_the_planted_variables_first() -> None:
    columns, variables, group = planted()
    tree = build_tree(columns, variables, TreeSettings(min_size=50, max_depth=2))
    depth_two = np.flatnonzero(tree.depth == 2).tolist()
    low_and_cheap = next(
        n
        for n in depth_two
        if set(np.flatnonzero(tree.members(n)).tolist()) == set(np.flatnonzero(group == 0).tolist())
    )
    words = sorted(tree.describe(low_and_cheap))
    assert words == ["recency: under 100 days", "spend: under 100 USD"]
    deviations = tree.deviations(low_and_cheap)
    assert {d.variable for d in deviations[:2]} == {"recency", "spend"}
    assert all(d.effect < -0.9 for d in deviations[:2])  # about one population standard deviation below
    assert all(abs(d.effect) < 0.2 for d in deviations[2:])  # the noise
    effects = [abs(d.effect) for d in deviations]
    assert effects == sorted(effects, reverse=True)
    sibling = next(n for n in tree.node(int(tree.parent[low_and_cheap])).children if n != low_and_cheap)
    against_sibling = tree.deviations(low_and_cheap, reference=sibling)
    # Against its sibling only the variable that tells the two apart deviates.
    assert against_sibling[0].variable == tree.condition(low_and_cheap).variable
    assert against_sibling[0].effect < -1.5 and abs(against_sibling[1].effect) < 0.2


def test_identical_customers_share_a_leaf_marked_identical() -> None:
    recency = np.array([5.0, 5.0, 5.0, 9.0, 9.0, 1.0, 2.0, 3.0])
    city = np.array(["Oslo", "Oslo", "Oslo", "Rome", "Rome", "Oslo", "Rome", "Oslo"], dtype=object)
    variables = [numeric("recency"), Variable("city", "city", VariableKind.CATEGORICAL, "test")]
    tree = build_tree({"recency": recency, "city": city}, variables, TreeSettings(min_size=1))
    assert tree.segments_of_one == 3
    assert tree.identical_leaves == 2
    assert tree.customers_in_identical_leaves == 5
    shared = {
        frozenset(np.flatnonzero(tree.leaf_of == leaf).tolist()) for leaf in np.flatnonzero(tree.identical)
    }
    assert shared == {frozenset({0, 1, 2}), frozenset({3, 4})}
    assert all(tree.size[leaf] == 1 for leaf in tree.leaves if not tree.identical[leaf])


def test_customers_who_differ_only_within_a_bin_share_a_leaf_marked_alike() -> None:
    # Four times as many distinct numbers as a number has bins: about four neighbours share each bin.
    spend = np.arange(4 * MAX_BINS, dtype=np.float64)
    tree = build_tree({"spend": spend}, [numeric("spend")], TreeSettings(min_size=1))
    assert tree.identical_leaves == 0 and tree.segments_of_one < spend.size
    alike = np.flatnonzero(tree.alike)
    assert tree.alike_leaves == alike.size == tree.leaves.size - tree.segments_of_one > 0
    for leaf in alike.tolist():
        members = spend[tree.leaf_of == leaf]
        # Not identical, but in one bin: no threshold the tree has lies between them.
        assert members.size > 1 and np.unique(members).size == members.size
        assert np.unique(tree.codes[0][tree.leaf_of == leaf]).size == 1
    # Identical customers are identical, not "alike".
    twins = build_tree({"spend": np.array([3.0, 3.0, 7.0])}, [numeric("spend")], TreeSettings(min_size=1))
    assert (twins.identical_leaves, twins.alike_leaves) == (1, 0)


def test_missing_values_take_an_unknown_branch_of_their_own() -> None:
    rng = np.random.default_rng(3)
    n = 600
    recency = np.where(np.arange(n) % 2 == 0, 10.0, 300.0) + rng.normal(0, 2, n)
    recency[::3] = np.nan
    city = np.array(rng.choice(["a", "b", "c", "d"], n), dtype=object)
    city[::5] = None
    variables = [numeric("recency", "days"), Variable("city", "city", VariableKind.CATEGORICAL, "test")]
    tree = build_tree({"recency": recency, "city": city}, variables, TreeSettings(min_size=1))
    assert tree.variables[tree.split[0]].name == "recency"
    children = tree.node(0).children
    assert len(children) == 3
    unknown = children[-1]
    assert tree.condition(unknown) == Condition("recency", missing=True)
    assert tree.describe(unknown) == ["recency: unknown"]
    assert set(np.flatnonzero(tree.members(unknown)).tolist()) == set(range(0, n, 3))
    # Missing is never imputed: every row with a missing city is in a city-unknown node under its parent.
    city_unknown = [
        i for i in range(tree.n_nodes) if i and tree.condition(i) == Condition("city", missing=True)
    ]
    members = np.zeros(n, dtype=bool)
    for node in city_unknown:
        members |= tree.members(node)
    assert set(np.flatnonzero(members).tolist()) <= set(range(0, n, 5))


def test_missing_values_join_the_side_they_resemble_and_the_condition_says_so() -> None:
    """``--unknown side``, supervised on a hand-made target: x below 5 has clv 0, from 5 on clv 10; the
    customers with x missing have clv 10, so they join "5 or more". The same for a category's levels."""
    x = np.array([1.0, 2.0, 3.0, 4.0, 6.0, 7.0, 8.0, 9.0, np.nan, np.nan])
    clv = np.array([0.0, 0.0, 0.0, 0.0, 10.0, 10.0, 10.0, 10.0, 10.0, 10.0])
    variables = [numeric("x"), numeric("clv")]
    settings = TreeSettings(min_size=1, max_depth=1, target="clv", unknown=Unknown.SIDE)
    tree = build_tree({"x": x, "clv": clv}, variables, settings)
    kids = tree.node(0).children
    assert [tree.condition(c) for c in kids] == [
        Condition("x", threshold=5.0, above=False),
        Condition("x", threshold=5.0, above=True, or_unknown=True),
    ]
    assert [tree.describe(c) for c in kids] == [["x: under 5"], ["x: 5 or more, or unknown"]]
    assert set(np.flatnonzero(tree.members(kids[1])).tolist()) == {4, 5, 6, 7, 8, 9}
    # Between-group sum of squares with the missing on the right: 0^2/4 + 60^2/6 - 60^2/10.
    assert tree.gain[0] == pytest.approx(3600 / 6 - 3600 / 10)
    branch = build_tree({"x": x, "clv": clv}, variables, TreeSettings(min_size=1, max_depth=1, target="clv"))
    assert branch.condition(branch.node(0).children[-1]) == Condition("x", missing=True)
    assert len(branch.node(0).children) == 3

    plan = np.array(["a", "a", "b", "b", "c", "c", "d", "d", None, None], dtype=object)
    categorical = [Variable("plan", "plan", VariableKind.CATEGORICAL, "test"), numeric("clv")]
    by_plan = build_tree({"plan": plan, "clv": clv}, categorical, settings)
    conditions = {by_plan.condition(c) for c in by_plan.node(0).children}
    assert conditions == {
        Condition("plan", levels=("a", "b")),
        Condition("plan", levels=("c", "d"), or_unknown=True),
    }
    assert "plan: c, d or unknown" in {line for c in by_plan.node(0).children for line in by_plan.describe(c)}


def test_with_missing_values_to_a_side_a_segment_may_still_split_its_unknown_off() -> None:
    """Where the unknown differ from every known value, the best split is the known against the unknown:
    a branch of their own even with ``--unknown side``."""
    x = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, np.nan, np.nan, np.nan])
    clv = np.array([1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 50.0, 50.0, 50.0])
    variables = [numeric("x"), numeric("clv")]
    settings = TreeSettings(min_size=1, target="clv", unknown=Unknown.SIDE)
    tree = build_tree({"x": x, "clv": clv}, variables, settings)
    assert [tree.condition(c) for c in tree.node(0).children] == [
        Condition("x"),
        Condition("x", missing=True),
    ]


@pytest.mark.parametrize("unknown", list(Unknown))
def test_same_data_and_settings_give_the_same_tree_and_a_shuffle_the_same_partition(unknown: Unknown) -> None:
    columns, variables, _ = planted(n=800)
    columns["recency"][::9] = np.nan
    columns["city"] = np.array(np.random.default_rng(1).choice(["x", "y", "z", None], 800), dtype=object)
    variables.append(Variable("city", "city", VariableKind.CATEGORICAL, "test"))
    settings = TreeSettings(min_size=3, unknown=unknown)
    first, second = build_tree(columns, variables, settings), build_tree(columns, variables, settings)
    assert first.fingerprint() == second.fingerprint()
    assert first.nodes == second.nodes
    order = np.random.default_rng(5).permutation(800)
    shuffled = build_tree({k: v[order] for k, v in columns.items()}, variables, settings)
    back = {frozenset(order[list(leaf)].tolist()) for leaf in partition(shuffled)}
    assert back == partition(first)
    assert [(n.parent, n.condition, n.size) for n in shuffled.nodes] == [
        (n.parent, n.condition, n.size) for n in first.nodes
    ]


def test_a_numeric_target_splits_where_the_hand_computed_variance_reduction_is_largest() -> None:
    x = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
    clv = np.array([1.0, 1.0, 1.0, 5.0, 5.0, 6.0])
    variables = [numeric("x"), numeric("clv")]
    tree = build_tree({"x": x, "clv": clv}, variables, TreeSettings(min_size=1, max_depth=1, target="clv"))
    # Between-group sum of squares: cut x < 4 gives 3^2/3 + 16^2/3 - 19^2/6 = 28.1667 (x < 5: 16.33).
    assert tree.gain[0] == pytest.approx(3 + 256 / 3 - 361 / 6)
    assert [tree.condition(c) for c in tree.node(0).children] == [
        Condition("x", threshold=4.0, above=False),
        Condition("x", threshold=4.0, above=True),
    ]
    assert [v.name for v in tree.variables] == ["x"]  # the target is not split on


def test_a_yes_no_target_groups_the_levels_by_their_rate() -> None:
    plan = np.array(["a"] * 10 + ["b"] * 10 + ["c"] * 10 + ["d"] * 10, dtype=object)
    churned = np.array([1] * 9 + [0] + [0] * 9 + [1] + [1] * 8 + [0] * 2 + [0] * 10, dtype=float)
    variables = [
        Variable("plan", "plan", VariableKind.CATEGORICAL, "test"),
        Variable("churned", "churned", VariableKind.BOOLEAN, "test"),
    ]
    tree = build_tree(
        {"plan": plan, "churned": churned}, variables, TreeSettings(max_depth=1, target="churned")
    )
    assert {tree.condition(c).levels for c in tree.node(0).children} == {("b", "d"), ("a", "c")}
    # Rates 17/20 and 1/20: between-group sum of squares of the 0/1 target.
    assert tree.gain[0] == pytest.approx(17**2 / 20 + 1**2 / 20 - 18**2 / 40)


def test_min_size_and_max_depth_are_respected() -> None:
    columns, variables, _ = planted(n=1000)
    tree = build_tree(columns, variables, TreeSettings(min_size=25))
    assert tree.size[tree.leaves].min() >= 25
    assert tree.segments_of_one == 0
    shallow = build_tree(columns, variables, TreeSettings(min_size=1, max_depth=3))
    assert shallow.depth.max() == 3
    assert build_tree(columns, variables, TreeSettings(max_depth=0)).n_nodes == 1


@pytest.mark.parametrize("unknown", list(Unknown))
def test_assignment_of_the_training_rows_reproduces_their_leaves(unknown: Unknown) -> None:
    columns, variables, _ = planted(n=1500)
    columns["recency"][::7] = np.nan
    city = np.array(np.random.default_rng(2).choice(["x", "y", "z", None], 1500), dtype=object)
    columns["city"] = city
    variables.append(Variable("city", "city", VariableKind.CATEGORICAL, "test"))
    columns["member"] = np.random.default_rng(4).random(1500) < 0.5
    variables.append(Variable("member", "member", VariableKind.BOOLEAN, "test"))
    for settings in (TreeSettings(min_size=1), TreeSettings(min_size=20, max_depth=5)):
        tree = build_tree(columns, variables, replace(settings, unknown=unknown))
        assert np.array_equal(assign(tree, columns), tree.leaf_of)


def test_a_new_level_stops_at_the_node_that_cannot_place_it() -> None:
    plan = np.array(["a", "a", "b", "b"], dtype=object)
    variables = [Variable("plan", "plan", VariableKind.CATEGORICAL, "test")]
    tree = build_tree({"plan": plan}, variables, TreeSettings())
    new = assign(tree, {"plan": np.array(["b", "zz", None], dtype=object)})
    assert new[0] == tree.leaf_of[2]
    assert new[1] == 0 and new[2] == 0


def test_bad_settings_are_refused() -> None:
    columns, variables, _ = planted(n=50)
    with pytest.raises(Invalid, match="min_size"):
        build_tree(columns, variables, TreeSettings(min_size=0))
    with pytest.raises(Invalid, match="target"):
        build_tree(columns, variables, TreeSettings(target="nope"))
    with pytest.raises(Invalid, match="no values"):
        build_tree({}, variables, TreeSettings())


def test_a_supervised_tree_stops_where_the_target_no_longer_differs() -> None:
    x = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
    churned = np.array([0.0, 0.0, 0.0, 1.0, 1.0, 1.0])
    variables = [numeric("x"), Variable("churned", "churned", VariableKind.BOOLEAN, "test")]
    tree = build_tree({"x": x, "churned": churned}, variables, TreeSettings(min_size=1, target="churned"))
    assert tree.n_nodes == 3  # both children are pure: no split of them has a positive gain
    assert tree.condition(1) == Condition("x", threshold=4.0, above=False)
    unsupervised = build_tree({"x": x}, variables[:1], TreeSettings(min_size=1))
    assert unsupervised.segments_of_one == 6
