"""The average customer kept with a version: deviations computed later from it equal the build's own, and
one customer's standing among all reads from it."""

from __future__ import annotations

import numpy as np
import pytest

from segone.segmentation import reference
from segone.segmentation.schemas import TreeSettings, Variable, VariableKind
from segone.segmentation.tree import build_tree
from tests.segmentation.test_rules import mixed


def test_deviations_from_the_reference_equal_the_trees_own() -> None:
    columns, variables = mixed()
    tree = build_tree(columns, variables, TreeSettings(min_size=5, max_depth=4))
    kept = reference.of_tree(tree)
    for node in range(1, tree.n_nodes):
        inside = tree.members(node)
        later = reference.deviations(kept, variables, {k: v[inside] for k, v in columns.items()})
        built = [d for d in tree.deviations(node) if np.isfinite(d.effect)]
        assert [d.variable for d in later] == [d.variable for d in built], node
        for a, b in zip(later, built, strict=True):
            assert a.level == b.level
            assert (a.effect, a.value, a.reference) == pytest.approx((b.effect, b.value, b.reference))


def test_one_customers_standing_is_the_share_beyond_them_or_beside_them() -> None:
    n = 100
    columns = {
        "spend": np.arange(1, n + 1, dtype=np.float64),
        "plan": np.array(["basic"] * 90 + ["pro"] * 7 + ["gold"] * 3, dtype=object),
    }
    variables = [
        Variable("spend", "spend", VariableKind.NUMERIC, "test", "USD"),
        Variable("plan", "plan", VariableKind.CATEGORICAL, "test"),
    ]
    kept = reference.of_tree(build_tree(columns, variables, TreeSettings(min_size=1)))
    top, common = reference.standing(kept, variables, {"spend": 98.0, "plan": "basic"})
    assert (top.variable, top.higher, top.than, top.share) == ("spend", True, 0.97, pytest.approx(0.03))
    assert (common.variable, common.value, common.share) == ("plan", "basic", pytest.approx(0.9))
    rare, low = reference.standing(kept, variables, {"spend": 5.0, "plan": "gold"})
    assert (rare.variable, rare.value, rare.share) == ("plan", "gold", pytest.approx(0.03))
    assert (low.variable, low.higher, low.than, low.share) == ("spend", False, 0.95, pytest.approx(0.05))
    # Many customers alike at the bottom: lower than the rest, and not rare at all.
    ties = {
        "spend": np.r_[np.zeros(60), np.arange(1.0, 41.0)],
        "plan": np.array(["basic"] * 100, dtype=object),
    }
    floor = reference.of_tree(build_tree(ties, variables, TreeSettings(min_size=1)))
    (bottom, everyone) = reference.standing(floor, variables, {"spend": 0.0, "plan": "basic"})
    assert (bottom.higher, bottom.than, bottom.share) == (False, 0.4, pytest.approx(0.6))
    assert (everyone.value, everyone.share) == ("basic", 1.0)
    # Missing says nothing; a level no customer had at build time has no share to compare with.
    assert reference.standing(kept, variables, {"spend": None, "plan": "platinum"}) == []


def test_a_nodes_sibling_is_the_other_side_of_the_cut() -> None:
    columns, variables = mixed()
    tree = build_tree(columns, variables, TreeSettings(min_size=5, max_depth=3))
    assert tree.sibling(0) is None
    unknowns = 0
    for parent in range(tree.n_nodes):
        left, right, missing = (int(k) for k in tree.children[parent])
        if left >= 0 and right >= 0:
            assert (tree.sibling(left), tree.sibling(right)) == (right, left)
        if missing >= 0:
            unknowns += 1
            assert tree.sibling(missing) == max({left, right} - {-1}, key=lambda k: (tree.size[k], -k))
    assert unknowns > 0
