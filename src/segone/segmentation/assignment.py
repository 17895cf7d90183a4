"""A stored version's tree, rebuilt from its segments' rules, and the node each row of variable values
reaches in it: assignment without a rebuild and without the build's arrays (docs/segmentation.md,
"Assignment").

A row starts at the root and goes to the child whose rule it meets (``rules.matches``: "x < t", "t or
more", levels as text, yes/no, "unknown" for missing, "known"); where no child's rule takes it (a level
never seen at that node, a missing value where the node had no "unknown" branch) it stays at the node it
reached, the deepest that describes it. The steps are taken for every row of a level at once (numpy), so a
million rows cost one pass per level of the tree, not one per node.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from segone.errors import Invalid
from segone.segmentation import rules
from segone.segmentation.binning import as_numbers, dictionary
from segone.segmentation.schemas import Condition, Variable, VariableKind

Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]
NONE = -1  # no such child


@dataclass(frozen=True)
class SegmentRule:
    """What assignment needs of a stored segment: its id, its parent's and its own rule (None for the
    root)."""

    node_id: int
    parent_node_id: int | None
    rule: Mapping[str, Any] | None


@dataclass
class _Split:
    """How a node's children divide its rows: on one variable, numeric (below / at or above a threshold,
    "known"), or by levels; and the "unknown" child."""

    variable: str
    below: int = NONE
    above: int = NONE
    threshold: float | None = None
    missing: int = NONE
    levels: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class StoredTree:
    """A version's tree as arrays by node id: ``parent`` (-1 for the root), ``depth``, ``split`` (the index
    in ``variables`` of the variable its children are divided on, -1 for a leaf), for numeric splits the
    ``threshold`` and the ``below``/``above`` child ("known" has both, at an infinite threshold), the
    ``missing`` child, and the categorical and yes/no children by (node, level) in ``level_keys`` (sorted
    ``node * width + level code``) and ``level_children``."""

    variables: tuple[Variable, ...]
    conditions: tuple[Condition | None, ...]
    parent: Ints
    depth: Ints
    split: Ints
    threshold: Floats
    below: Ints
    above: Ints
    missing: Ints
    levels: tuple[tuple[str, ...], ...]
    level_keys: tuple[Ints, ...]
    level_children: tuple[Ints, ...]

    @property
    def n_nodes(self) -> int:
        return int(self.parent.shape[0])

    def path(self, node_id: int) -> list[int]:
        """The node ids from the root down to ``node_id``."""
        path = [node_id]
        while self.parent[path[-1]] >= 0:
            path.append(int(self.parent[path[-1]]))
        return path[::-1]


def stored_tree(segments: Iterable[SegmentRule], kinds: Mapping[str, VariableKind]) -> StoredTree:
    """The tree of a version's segments (every one of them, or the upper part: a segment whose children are
    not given is a leaf here). ``kinds`` gives each split variable's kind as the build read it."""
    rows = sorted(segments, key=lambda s: s.node_id)
    if not rows or rows[0].node_id != 0 or rows[0].parent_node_id is not None:
        raise Invalid("a stored tree needs its root, segment 0")
    n = rows[-1].node_id + 1
    parent = np.full(n, NONE, dtype=np.int64)
    conditions: list[Condition | None] = [None] * n
    splits: dict[int, _Split] = {}
    for row in rows[1:]:
        if row.parent_node_id is None:
            raise Invalid(f"segment {row.node_id} has no parent")
        condition = rules.from_json(row.rule)
        if condition is None:
            raise Invalid(
                f"segment {row.node_id} has no stored rule: the version was built before rules were "
                "stored; build again to assign customers to it"
            )
        parent[row.node_id] = row.parent_node_id
        conditions[row.node_id] = condition
        _add_child(splits, row.parent_node_id, row.node_id, condition, kinds)
    names = sorted({split.variable for split in splits.values()})
    variables = tuple(Variable(name, name, kinds[name], "") for name in names)
    return _assemble(variables, tuple(conditions), parent, splits)


def _add_child(
    splits: dict[int, _Split],
    parent: int,
    child: int,
    condition: Condition,
    kinds: Mapping[str, VariableKind],
) -> None:
    kind = kinds.get(condition.variable)
    if kind is None:
        raise Invalid(f"the kind of {condition.variable} is not known")
    split = splits.setdefault(parent, _Split(condition.variable))
    if split.variable != condition.variable:
        raise Invalid(f"segment {parent} is split on both {split.variable} and {condition.variable}")
    if condition.missing or condition.or_unknown:
        split.missing = child
    if condition.missing:
        return
    if kind is VariableKind.NUMERIC:
        if condition.levels:
            raise Invalid(f"{condition.variable} is numeric but segment {child}'s rule lists levels")
        threshold = np.inf if condition.threshold is None else condition.threshold
        if split.threshold is not None and split.threshold != threshold:
            raise Invalid(f"segment {parent}'s children are cut at two thresholds")
        split.threshold = threshold
        if condition.threshold is None:  # "known": every value that is not missing
            split.below = split.above = child
        elif condition.above:
            split.above = child
        else:
            split.below = child
        return
    if condition.threshold is not None:
        raise Invalid(f"{condition.variable} is {kind.value} but segment {child}'s rule has a threshold")
    for level in condition.levels:
        split.levels[level] = child


def _assemble(
    variables: tuple[Variable, ...],
    conditions: tuple[Condition | None, ...],
    parent: Ints,
    splits: Mapping[int, _Split],
) -> StoredTree:
    n = parent.shape[0]
    index = {v.name: j for j, v in enumerate(variables)}
    split = np.full(n, NONE, dtype=np.int64)
    threshold = np.full(n, np.inf)
    below, above, missing = (np.full(n, NONE, dtype=np.int64) for _ in range(3))
    level_pairs: list[list[tuple[int, str, int]]] = [[] for _ in variables]
    for node, s in splits.items():
        j = index[s.variable]
        split[node] = j
        threshold[node] = np.inf if s.threshold is None else s.threshold
        below[node], above[node], missing[node] = s.below, s.above, s.missing
        level_pairs[j].extend((node, level, child) for level, child in s.levels.items())
    levels = tuple(tuple(sorted({level for _, level, _ in pairs})) for pairs in level_pairs)
    keys: list[Ints] = []
    children: list[Ints] = []
    for j, pairs in enumerate(level_pairs):
        code = {level: c for c, level in enumerate(levels[j])}
        width = len(levels[j]) + 2  # the levels, unseen and missing
        k = np.array([node * width + code[level] for node, level, _ in pairs], dtype=np.int64)
        c = np.array([child for _, _, child in pairs], dtype=np.int64)
        order = np.argsort(k, kind="stable")
        keys.append(k[order])
        children.append(c[order])
    return StoredTree(
        variables=variables,
        conditions=conditions,
        parent=parent,
        depth=_depths(parent),
        split=split,
        threshold=threshold,
        below=below,
        above=above,
        missing=missing,
        levels=levels,
        level_keys=tuple(keys),
        level_children=tuple(children),
    )


def _depths(parent: Ints) -> Ints:
    """Each node's depth (the root's 0): how many steps up its ancestors go, every node at once."""
    depth = np.zeros(parent.shape[0], dtype=np.int64)
    ancestor = parent.copy()
    up = np.flatnonzero(ancestor >= 0)
    while up.size:
        depth[up] += 1
        ancestor[up] = parent[ancestor[up]]
        up = up[ancestor[up] >= 0]
    return depth


def assign(
    tree: StoredTree,
    columns: Mapping[str, npt.NDArray[Any]],
    max_depth: int | None = None,
    rows: int | None = None,
) -> Ints:
    """The node each row reaches: its leaf, or the deepest node whose children none take it, or its node at
    ``max_depth`` (the root is depth 0). ``columns`` has one array per split variable, as ``gather`` reads
    them (numbers with NaN or None for missing, categories as text, yes/no as bool, 0/1 or text); ``rows``
    says how many rows there are when the tree splits on nothing (else it is the columns' length)."""
    absent = [v.name for v in tree.variables if v.name not in columns]
    if absent:
        raise Invalid(f"the rows lack the tree's variables: {', '.join(absent)}")
    lengths = {len(values) for values in columns.values()} | (set() if rows is None else {rows})
    if len(lengths) > 1:
        raise Invalid("the variables do not all have the same number of rows")
    n = lengths.pop() if lengths else 0
    coded = [_coded(tree, j, columns[v.name]) for j, v in enumerate(tree.variables)]
    node = np.zeros(n, dtype=np.int64)
    active = np.arange(n)
    while active.size:
        at = node[active]
        inner = tree.split[at] >= 0
        if max_depth is not None:
            inner &= tree.depth[at] < max_depth
        active, at = active[inner], at[inner]
        nxt = _step(tree, coded, at, active)
        moved = nxt >= 0
        active = active[moved]
        node[active] = nxt[moved]
    return node


def _coded(tree: StoredTree, j: int, values: npt.NDArray[Any]) -> Floats | Ints:
    """A numeric variable's values as floats (NaN missing); the others' as codes into the tree's levels of
    the variable (then ``len(levels)`` for a level no rule names and ``len(levels) + 1`` for missing)."""
    variable = tree.variables[j]
    if variable.kind is VariableKind.NUMERIC:
        return as_numbers(values, variable)
    indices, texts = dictionary(values, variable)
    lookup = {level: code for code, level in enumerate(tree.levels[j])}
    unseen, missing = len(tree.levels[j]), len(tree.levels[j]) + 1
    table = np.array([lookup.get(t, unseen) for t in texts] + [missing], dtype=np.int64)
    coded: Ints = table[indices]
    return coded


def _step(tree: StoredTree, coded: list[Floats | Ints], at: Ints, rows: Ints) -> Ints:
    """The child of node ``at[i]`` that row ``rows[i]`` goes to, or -1 (none takes it)."""
    nxt = np.full(rows.size, NONE, dtype=np.int64)
    variables = tree.split[at]
    for j in np.flatnonzero(np.bincount(variables, minlength=len(tree.variables))).tolist():
        here = np.flatnonzero(variables == j)
        nodes = at[here]
        values = coded[j][rows[here]]
        if tree.variables[j].kind is VariableKind.NUMERIC:
            is_missing = np.isnan(values)
            with np.errstate(invalid="ignore"):
                below = values < tree.threshold[nodes]
            child = np.where(below, tree.below[nodes], tree.above[nodes])
        else:
            codes = values.astype(np.int64, copy=False)
            width = len(tree.levels[j]) + 2
            is_missing = codes == len(tree.levels[j]) + 1
            child = _lookup(tree.level_keys[j], tree.level_children[j], nodes * width + codes)
        nxt[here] = np.where(is_missing, tree.missing[nodes], child)
    return nxt


def _lookup(keys: Ints, targets: Ints, wanted: Ints) -> Ints:
    found = np.searchsorted(keys, wanted)
    inside = found < keys.size
    hit = np.zeros(wanted.size, dtype=bool)
    hit[inside] = keys[found[inside]] == wanted[inside]
    child = np.full(wanted.size, NONE, dtype=np.int64)
    child[hit] = targets[found[hit]]
    return child
