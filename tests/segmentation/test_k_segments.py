"""``max_segments``: the K segments that explain most, the splits of the full tree that gain most in total,
on planted data whose best splits are known, on a hand-made tree where best-first growth falls short,
against every possible choice on a small tree, and deterministic."""

from __future__ import annotations

import heapq
from dataclasses import replace
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

from segone.errors import Invalid
from segone.segmentation.k_segments import expanded, rounded
from segone.segmentation.schemas import Condition, TreeSettings, Variable, VariableKind
from segone.segmentation.tree import Tree, assign, build_tree

Columns = dict[str, npt.NDArray[Any]]


def numeric(name: str) -> Variable:
    return Variable(name, name, VariableKind.NUMERIC, "test")


def planted(n: int = 3000, seed: int = 3) -> tuple[Columns, list[Variable]]:
    """Recent customers' value follows their spend (50 or 900); lapsed customers are worth about 5,000
    whatever they spend; some recency values are missing."""
    rng = np.random.default_rng(seed)
    recent = rng.random(n) < 0.5
    big = rng.random(n) < 0.5
    recency = np.where(recent, 10.0, 200.0) + rng.normal(0, 3, n)
    spend = np.where(big, 900.0, 50.0) + rng.normal(0, 10, n)
    clv = np.where(recent, np.where(big, 1000.0, 100.0), 5000.0 + np.where(big, 20.0, 0.0)) + rng.normal(
        0, 5, n
    )
    columns: Columns = {"recency": recency, "spend": spend, "noise": rng.normal(0, 1, n), "clv": clv}
    return columns, [numeric("recency"), numeric("spend"), numeric("noise"), numeric("clv")]


def paths(tree: Tree, nodes: list[int]) -> set[tuple[Condition, ...]]:
    return {tuple(tree.conditions(node)) for node in nodes}


def best_first(tree: Tree, max_segments: int) -> list[int]:
    """Plain best-first growth on the full tree: split the segment of largest gain while it fits."""
    kept, leaves = [0], 1
    frontier = [(-rounded(tree.gain[:1])[0], 0)] if tree.split[0] >= 0 else []
    while frontier and leaves < max_segments:
        _, node = heapq.heappop(frontier)
        children = [int(c) for c in tree.children[node] if c >= 0]
        if leaves + len(children) - 1 > max_segments:
            continue
        leaves += len(children) - 1
        kept += children
        for child in children:
            if tree.split[child] >= 0:
                heapq.heappush(frontier, (-rounded(tree.gain[child : child + 1])[0], child))
    return kept


def test_three_segments_keep_the_two_largest_gains_not_the_first_two_levels() -> None:
    columns, variables = planted()
    tree = build_tree(columns, variables, TreeSettings(min_size=20, target="clv", max_segments=3))
    assert tree.leaves.size == 3
    assert tree.variables[tree.split[0]].name == "recency"
    recent = next(c for c in tree.node(0).children if tree.condition(c).above is False)
    lapsed = next(c for c in tree.node(0).children if tree.condition(c).above is True)
    # Splitting the recent customers by spend gains far more than splitting the lapsed ones (a 20 USD
    # difference), so that is the one split kept; a depth limit of 2 would have split both.
    assert tree.variables[tree.split[recent]].name == "spend"
    assert tree.split[lapsed] < 0
    assert (
        build_tree(columns, variables, TreeSettings(min_size=20, target="clv", max_depth=2)).leaves.size == 4
    )


def kept_gain(tree: Tree, split_nodes: list[int] | None = None) -> float:
    nodes = np.flatnonzero(tree.split >= 0) if split_nodes is None else np.array(split_nodes, dtype=np.int64)
    return float(rounded(tree.gain[nodes]).sum()) if nodes.size else 0.0


def greedy_splits(tree: Tree, max_segments: int) -> list[int]:
    kept = set(best_first(tree, max_segments))
    return [node for node in kept if tree.split[node] >= 0 and int(tree.children[node].max()) in kept]


def test_a_small_split_that_opens_the_way_to_large_ones_is_taken() -> None:
    """Root 100; its left child gains only 10, but each of that child's children 50; its right child 30.
    Best first takes the root, the right child, then the left (140 with four segments); the most with
    four is the root, the left child and one of its children (160)."""
    parent = np.array([-1, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4])
    depth = np.array([0, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3])
    children = np.full((11, 3), -1)
    children[[0, 1, 2, 3, 4], :2] = [[1, 2], [3, 4], [5, 6], [7, 8], [9, 10]]
    gain = np.array([100.0, 10.0, 30.0, 50.0, 50.0, 0, 0, 0, 0, 0, 0])
    chosen = {
        k: set(np.flatnonzero(expanded(parent, depth, children, gain, k)).tolist()) for k in range(1, 8)
    }
    assert chosen[1] == set() and chosen[2] == {0} and chosen[3] == {0, 2}
    assert chosen[4] == {0, 1, 3}  # 160, not best first's {0, 1, 2} (140)
    assert chosen[5] == {0, 1, 3, 4} and chosen[6] == chosen[7] == {0, 1, 2, 3, 4}


@pytest.mark.parametrize("target", ["clv", None])
def test_the_kept_splits_gain_at_least_what_best_first_growth_gains(target: str | None) -> None:
    columns, variables = planted(n=1500)
    columns["recency"][::9] = np.nan  # three-way splits: an "unknown" child too
    city = np.random.default_rng(2).choice(["x", "y", "z", None], 1500)
    columns["city"] = np.array(city, dtype=object)
    variables.append(Variable("city", "city", VariableKind.CATEGORICAL, "test"))
    chosen = variables if target else [v for v in variables if v.name != "clv"]
    full = build_tree(columns, chosen, TreeSettings(min_size=5, target=target))
    better = 0
    for k in (1, 2, 3, 4, 7, 20, 101, full.leaves.size - 1):
        tree = build_tree(columns, chosen, TreeSettings(min_size=5, target=target, max_segments=k))
        greedy = kept_gain(full, greedy_splits(full, k))
        assert kept_gain(tree) >= greedy, k
        better += kept_gain(tree) > greedy
        assert tree.leaves.size <= k
        assert np.array_equal(assign(tree, columns), tree.leaf_of)
        assert all(tree.size[leaf] == np.count_nonzero(tree.leaf_of == leaf) for leaf in tree.leaves.tolist())
        assert tree.size[tree.leaves].min() >= 5
        assert np.all(np.diff(tree.depth) >= 0) and np.all(tree.parent[1:] < np.arange(1, tree.n_nodes))
        kept_paths = paths(tree, list(range(tree.n_nodes)))
        assert kept_paths <= paths(full, list(range(full.n_nodes)))  # a part of the full tree
    assert better  # somewhere the best choice is not best first's


def test_on_a_small_tree_the_choice_is_the_best_of_every_possible_one() -> None:
    columns, variables = planted(n=400)
    columns["recency"][::7] = np.nan
    settings = TreeSettings(min_size=10, target="clv", max_depth=4)
    full = build_tree(columns, variables, settings)
    splits = np.flatnonzero(full.split >= 0).tolist()
    assert 6 <= len(splits) <= 16
    gains = rounded(full.gain)
    possible: dict[int, float] = {}
    for mask in range(1 << len(splits)):
        taken = {node for bit, node in enumerate(splits) if mask >> bit & 1}
        if any(node and int(full.parent[node]) not in taken for node in taken):
            continue  # a split without its parent's
        leaves = 1 + sum(int((full.children[node] >= 0).sum()) - 1 for node in taken)
        total = float(sum(gains[node] for node in taken))
        possible[leaves] = max(possible.get(leaves, 0.0), total)
    for k in range(1, full.leaves.size + 1):
        tree = build_tree(columns, variables, replace(settings, max_segments=k))
        most = max(total for leaves, total in possible.items() if leaves <= k)
        assert kept_gain(tree) == pytest.approx(most, rel=1e-12), k


def test_enough_segments_keep_the_whole_tree_and_one_keeps_the_root() -> None:
    columns, variables = planted(n=600)
    full = build_tree(columns, variables, TreeSettings(min_size=10))
    same = build_tree(columns, variables, TreeSettings(min_size=10, max_segments=full.leaves.size))
    assert same.fingerprint() == full.fingerprint()
    one = build_tree(columns, variables, TreeSettings(min_size=10, max_segments=1))
    assert one.n_nodes == 1 and np.all(one.leaf_of == 0)
    shallow = build_tree(columns, variables, TreeSettings(min_size=10, max_depth=1, max_segments=50))
    assert shallow.depth.max() == 1


def test_the_same_data_give_the_same_k_segments_and_a_shuffle_the_same_partition() -> None:
    columns, variables = planted(n=1200)
    settings = TreeSettings(min_size=5, max_segments=40)
    first, second = build_tree(columns, variables, settings), build_tree(columns, variables, settings)
    assert first.fingerprint() == second.fingerprint()
    order = np.random.default_rng(5).permutation(1200)
    shuffled = build_tree({k: v[order] for k, v in columns.items()}, variables, settings)
    leaves = {frozenset(np.flatnonzero(first.leaf_of == leaf).tolist()) for leaf in first.leaves.tolist()}
    moved = {
        frozenset(order[np.flatnonzero(shuffled.leaf_of == leaf)].tolist())
        for leaf in shuffled.leaves.tolist()
    }
    assert moved == leaves


def test_fewer_than_one_segment_is_refused() -> None:
    columns, variables = planted(n=50)
    with pytest.raises(Invalid, match="max_segments must be at least 1"):
        build_tree(columns, variables, TreeSettings(max_segments=0))
