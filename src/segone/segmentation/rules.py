"""A segment's condition as stored data, and which customers meet it.

Every stored segment keeps its own step from its parent (``Segment.rule``, the schema's ``Condition`` as
JSON), so that a version's tree can be followed again without its build's arrays: to assign new customers,
to emit the tree as an Ibis expression, and to re-evaluate a named audience on today's data. A numeric value
``x`` meets "below t" when ``x < t`` and "t or more" when ``t <= x``; a category meets its levels as text; a
yes/no meets "yes"/"no"; missing meets the "unknown" branch, and a threshold or levels only when they say
"or unknown" (``or_unknown``); "known" meets every value that is not missing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from segone.errors import Invalid
from segone.segmentation.binning import as_numbers, dictionary
from segone.segmentation.schemas import Condition, Variable, VariableKind

Mask = npt.NDArray[np.bool_]


def to_json(condition: Condition | None) -> dict[str, Any] | None:
    if condition is None:
        return None
    return {
        "variable": condition.variable,
        "threshold": condition.threshold,
        "above": condition.above,
        "levels": list(condition.levels),
        "missing": condition.missing,
        "or_unknown": condition.or_unknown,
    }


def from_json(rule: Mapping[str, Any] | None) -> Condition | None:
    if rule is None:
        return None
    return Condition(
        variable=str(rule["variable"]),
        threshold=None if rule.get("threshold") is None else float(rule["threshold"]),
        above=bool(rule.get("above", False)),
        levels=tuple(str(level) for level in rule.get("levels") or ()),
        missing=bool(rule.get("missing", False)),
        or_unknown=bool(rule.get("or_unknown", False)),
    )


def matches(condition: Condition, values: npt.NDArray[Any], variable: Variable) -> Mask:
    """Which of ``values`` (one variable's column, as ``gather`` reads it) meet the condition."""
    if variable.name != condition.variable:
        raise Invalid(f"the condition is on {condition.variable}, the values are {variable.name}")
    if variable.kind is VariableKind.NUMERIC:
        x = as_numbers(values, variable)
        missing = np.isnan(x)
        if condition.missing:
            return missing
        if condition.threshold is None:
            return ~missing
        with np.errstate(invalid="ignore"):
            met: Mask = x >= condition.threshold if condition.above else x < condition.threshold
        return (met & ~missing) | (missing & condition.or_unknown)
    indices, texts = dictionary(values, variable)
    missing = np.asarray(indices == len(texts), dtype=bool)
    if condition.missing:
        return missing
    if not condition.levels:
        return ~missing
    wanted = set(condition.levels)
    table = np.array([t in wanted for t in texts] + [False], dtype=bool)
    selected: Mask = table[indices] | (missing & condition.or_unknown)
    return selected


def path_matches(
    conditions: Sequence[Condition], columns: Mapping[str, npt.NDArray[Any]], variables: Sequence[Variable]
) -> Mask:
    """Which rows meet every condition of a path from the root (the root's empty path: every row)."""
    by_name = {v.name: v for v in variables}
    n = len(next(iter(columns.values()))) if columns else 0
    met = np.ones(n, dtype=bool)
    for condition in conditions:
        variable = by_name.get(condition.variable)
        if variable is None or condition.variable not in columns:
            raise Invalid(f"no values for {condition.variable}")
        met &= matches(condition, columns[condition.variable], variable)
    return met
