"""A segment's stored rule, followed from the root, selects exactly the customers the tree put in it: on
numbers with missing values, on categories and on yes/no."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

from segone.segmentation import rules
from segone.segmentation.schemas import Condition, TreeSettings, Unknown, Variable, VariableKind
from segone.segmentation.tree import build_tree


def mixed(n: int = 600, seed: int = 3) -> tuple[dict[str, npt.NDArray[Any]], list[Variable]]:
    rng = np.random.default_rng(seed)
    spend = rng.gamma(2.0, 100.0, n)
    spend[rng.random(n) < 0.1] = np.nan
    plan = rng.choice(np.array(["basic", "plus", "pro", None], dtype=object), n)
    churned = rng.choice(np.array([True, False, None], dtype=object), n)
    columns = {"spend": spend, "plan": plan, "churned": churned}
    variables = [
        Variable("spend", "spend", VariableKind.NUMERIC, "test", "USD"),
        Variable("plan", "plan", VariableKind.CATEGORICAL, "test"),
        Variable("churned", "churned", VariableKind.BOOLEAN, "test"),
    ]
    return columns, variables


@pytest.mark.parametrize("unknown", list(Unknown))
def test_every_nodes_stored_rules_select_its_members(unknown: Unknown) -> None:
    columns, variables = mixed()
    tree = build_tree(columns, variables, TreeSettings(min_size=5, max_depth=6, unknown=unknown))
    assert tree.n_nodes > 20
    for node in range(tree.n_nodes):
        stored = [rules.to_json(c) for c in tree.conditions(node)]
        path = [rules.from_json(r) for r in stored]
        selected = rules.path_matches([c for c in path if c is not None], columns, variables)
        assert np.array_equal(selected, tree.members(node)), node


def test_a_rule_round_trips_and_reads_each_kind() -> None:
    condition = Condition("spend", threshold=150.0, above=True)
    assert rules.from_json(rules.to_json(condition)) == condition
    assert rules.to_json(None) is None
    spend = Variable("spend", "spend", VariableKind.NUMERIC, "test")
    values = np.array([100.0, 150.0, np.nan, 200.0])
    assert rules.matches(condition, values, spend).tolist() == [False, True, False, True]
    assert rules.matches(Condition("spend", missing=True), values, spend).tolist() == [
        False,
        False,
        True,
        False,
    ]
    assert rules.matches(Condition("spend"), values, spend).tolist() == [True, True, False, True]
    flag = Variable("vip", "vip", VariableKind.BOOLEAN, "test")
    answers = np.array(["yes", "false", None], dtype=object)
    assert rules.matches(Condition("vip", levels=("yes",)), answers, flag).tolist() == [True, False, False]
