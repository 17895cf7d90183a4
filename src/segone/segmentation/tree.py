"""The segmentation tree: built from every customer's variables, divided segment by segment by the variable
and cut that best separate it, down to ``min_size`` (docs/segmentation.md).

``build_tree(columns, variables, settings)`` takes one numpy array per variable name (numbers with NaN for
missing; categories as text with None for missing; yes/no as bool, 0/1 or text) and returns a ``Tree``:
its nodes in breadth-first order, the leaf of every row, each node's conditions in words, how it deviates
from the average customer, and ``assign`` for new rows. The tree is held as arrays, one entry per node, so
that a million segments of one cost megabytes, not gigabytes; ``Tree.node(i)`` and ``Tree.nodes`` give the
schema's ``Node`` objects.
"""

from __future__ import annotations

import hashlib
import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from functools import cached_property
from typing import Any

import numpy as np
import numpy.typing as npt

from segone.errors import Invalid
from segone.progress import Progress, silent
from segone.segmentation import binning as binning_module
from segone.segmentation import criterion
from segone.segmentation.binning import Binning, Codes, Floats
from segone.segmentation.grow import LEFT, MISSING, RIGHT, Grown, grow
from segone.segmentation.k_segments import expanded, levels
from segone.segmentation.schemas import (
    Condition,
    Deviation,
    Node,
    TreeSettings,
    Unknown,
    Variable,
    VariableKind,
)

Ints = npt.NDArray[np.int64]
UNKNOWN = "unknown"


@dataclass(eq=False)
class Tree:
    """Per node (index = node id, breadth-first): ``parent`` (-1 for the root), ``depth``, ``size``,
    ``variable`` (index of the variable of the condition leading to it, -1 for the root), ``slot`` (LEFT,
    RIGHT or MISSING side of its parent's split), ``split`` (the variable it is split on, -1 for a leaf),
    ``cut`` (numeric splits: the last bin code on the left), ``unknown_to`` (numeric splits with
    ``Unknown.SIDE``: the slot the missing values join, else -1), ``gain``, ``identical``; ``children`` (n, 3)
    the child id per slot or -1; ``level_offsets``/``level_codes`` the levels of categorical children
    (CSR). ``leaf_of`` is every training row's leaf."""

    variables: tuple[Variable, ...]
    settings: TreeSettings
    binnings: tuple[Binning, ...]
    parent: Ints
    depth: Ints
    size: Ints
    variable: Ints
    slot: Ints
    split: Ints
    cut: Ints
    unknown_to: Ints
    gain: Floats
    identical: npt.NDArray[np.bool_]
    children: Ints
    level_offsets: Ints
    level_codes: Ints
    leaf_of: Ints
    codes: list[Codes]
    numbers: list[Floats | None]
    explained: float

    @property
    def n_nodes(self) -> int:
        return int(self.parent.shape[0])

    @property
    def leaves(self) -> Ints:
        return np.flatnonzero(self.split < 0)

    @property
    def segments_of_one(self) -> int:
        """Leaves holding a single customer."""
        return int(np.count_nonzero((self.split < 0) & (self.size == 1)))

    @property
    def identical_leaves(self) -> int:
        return int(np.count_nonzero(self.identical))

    @cached_property
    def alike(self) -> npt.NDArray[np.bool_]:
        """Leaves of two or more customers who are not identical but fall in the same bin of every number
        and the same level of every category: they differ only by less than a bin (a 2,000th of the
        customers), finer than the tree cuts, so they too share their segment."""
        found: npt.NDArray[np.bool_] = _uniform_leaves(self, exact=False) & ~self.identical
        return found

    @property
    def alike_leaves(self) -> int:
        return int(np.count_nonzero(self.alike))

    @property
    def customers_in_identical_leaves(self) -> int:
        """Customers who share their leaf because they are identical on every variable."""
        return int(self.size[self.identical].sum())

    def node(self, node_id: int) -> Node:
        condition = None if node_id == 0 else self.condition(node_id)
        kids = [int(c) for c in self.children[node_id] if c >= 0]
        parent = int(self.parent[node_id])
        return Node(
            id=node_id,
            parent=None if parent < 0 else parent,
            depth=int(self.depth[node_id]),
            condition=condition,
            size=int(self.size[node_id]),
            children=kids,
            gain=float(self.gain[node_id]),
            identical=bool(self.identical[node_id]),
        )

    @cached_property
    def nodes(self) -> list[Node]:
        """Every node as the schema's ``Node`` (a Python object each: for display, not for a million)."""
        return [self.node(i) for i in range(self.n_nodes)]

    def condition(self, node_id: int) -> Condition:
        j = int(self.variable[node_id])
        if j < 0:
            raise Invalid("the root has no condition")
        b = self.binnings[j]
        name = self.variables[j].name
        slot = int(self.slot[node_id])
        if slot == MISSING:
            return Condition(name, missing=True)
        if not b.numeric:
            first, last = self.level_offsets[node_id], self.level_offsets[node_id + 1]
            codes = self.level_codes[first:last].tolist()
            levels = tuple(b.levels[c] for c in codes if c != b.missing_code)
            if not levels:
                return Condition(name, missing=True)
            return Condition(name, levels=levels, or_unknown=b.missing_code in codes)
        parent = int(self.parent[node_id])
        cut = int(self.cut[parent])
        if cut >= b.value_codes - 1:
            return Condition(name)  # the known values, beside an "unknown" branch
        or_unknown = int(self.unknown_to[parent]) == slot
        return Condition(name, threshold=float(b.edges[cut]), above=slot == RIGHT, or_unknown=or_unknown)

    def conditions(self, node_id: int) -> list[Condition]:
        """The conditions from the root down to this node."""
        path = self.path(node_id)
        return [self.condition(n) for n in path[1:]]

    def path(self, node_id: int) -> list[int]:
        if not 0 <= node_id < self.n_nodes:
            raise Invalid(f"the tree has no node {node_id}")
        path = [node_id]
        while path[-1] != 0:
            path.append(int(self.parent[path[-1]]))
        return path[::-1]

    def sibling(self, node_id: int) -> int | None:
        """The node on the other side of its parent's cut; for the "unknown" branch, the larger known side."""
        parent = int(self.parent[node_id])
        if parent < 0:
            return None
        kids = self.children[parent]
        slot = int(self.slot[node_id])
        if slot != MISSING:
            other = int(kids[RIGHT if slot == LEFT else LEFT])
            return other if other >= 0 else None
        known = [int(k) for k in kids[[LEFT, RIGHT]] if k >= 0]
        return max(known, key=lambda k: (int(self.size[k]), -k)) if known else None

    def describe(self, node_id: int) -> list[str]:
        """The node's conditions in words, one per variable, in the order they were split on: "recency: 20
        to under 45 days", "contract: month-to-month or one year", "growth plans: unknown"."""
        return describe(self.variables, self.conditions(node_id))

    def members(self, node_id: int) -> npt.NDArray[np.bool_]:
        """Which training rows are in the node."""
        mask = np.zeros(self.leaf_of.shape[0], dtype=bool)
        rows = np.arange(self.leaf_of.shape[0])
        path = self.path(node_id)
        for parent, child in itertools.pairwise(path):
            nxt = _step(self, self.codes, np.full(rows.size, parent), rows)
            rows = rows[nxt == child]
        mask[rows] = True
        return mask

    def deviations(self, node_id: int, reference: int | None = None) -> list[Deviation]:
        """How the node differs from the average customer (``reference`` None) or from another node (its
        sibling): every variable, largest absolute effect first (ties in variable order)."""
        inside = self.members(node_id)
        against = np.ones_like(inside) if reference is None else self.members(reference)
        found: list[tuple[float, int, Deviation]] = []
        for j, (variable, b) in enumerate(zip(self.variables, self.binnings, strict=True)):
            numbers = self.numbers[j]
            if numbers is not None:
                known = ~np.isnan(numbers)
                mine, theirs = numbers[inside & known], numbers[against & known]
                if not mine.size or not theirs.size:
                    continue
                std = float(numbers[known].std())
                mean, ref = float(mine.mean()), float(theirs.mean())
                effect = (mean - ref) / std if std > 0 else 0.0
                deviation = Deviation(variable.name, variable.label, effect, mean, ref)
            else:
                code = self.codes[j]
                share = np.bincount(code[inside], minlength=b.n_codes) / max(int(inside.sum()), 1)
                ref_share = np.bincount(code[against], minlength=b.n_codes) / max(int(against.sum()), 1)
                diff = share - ref_share
                at = int(np.argmax(np.abs(diff)))
                level = b.levels[at] if at < b.value_codes else UNKNOWN
                deviation = Deviation(
                    variable.name,
                    variable.label,
                    float(diff[at]),
                    float(share[at]),
                    float(ref_share[at]),
                    level,
                )
            found.append((-abs(deviation.effect), j, deviation))
        found.sort(key=lambda item: (item[0], item[1]))
        return [d for _, _, d in found]

    def fingerprint(self) -> str:
        """A hash of everything the tree says (structure, conditions, memberships): equal for equal trees."""
        digest = hashlib.sha256()
        for array in (
            self.parent, self.depth, self.size, self.variable, self.slot, self.split, self.cut,
            self.gain, self.identical, self.children, self.level_offsets, self.level_codes, self.leaf_of,
        ):  # fmt: skip
            digest.update(np.ascontiguousarray(array).tobytes())
        if self.settings.unknown is Unknown.SIDE:  # so that a tree built before the setting keeps its hash
            digest.update(np.ascontiguousarray(self.unknown_to).tobytes())
        for b in self.binnings:
            digest.update(b.edges.tobytes())
            digest.update("\x1f".join(b.levels).encode())
        return digest.hexdigest()


def build_tree(
    columns: Mapping[str, npt.NDArray[Any]],
    variables: Sequence[Variable],
    settings: TreeSettings,
    progress: Progress = silent,
) -> Tree:
    """The tree of the rows of ``columns`` (one array per variable name, all the same length)."""
    _check(columns, variables, settings)
    split_variables = tuple(v for v in variables if v.name != settings.target)
    progress("Coding the variables", 0, len(split_variables))
    binnings: list[Binning] = []
    codes: list[Codes] = []
    numbers: list[Floats | None] = []
    for i, variable in enumerate(split_variables):
        values = columns[variable.name]
        b = binning_module.fit(variable, values)
        binnings.append(b)
        codes.append(b.encode(values))
        numbers.append(binning_module.as_numbers(values, variable) if b.numeric else None)
        progress("Coding the variables", i + 1, len(split_variables))
    if settings.target is not None:
        target_variable = next(v for v in variables if v.name == settings.target)
        coordinates = criterion.supervised(_target(columns[settings.target], target_variable), len(binnings))
    else:
        progress("Standardising", 0, None)
        coordinates = criterion.unsupervised(binnings, codes, numbers)
    grown = grow(
        binnings,
        codes,
        coordinates,
        settings.min_size,
        _growth_depth(settings),
        progress,
        unknown_side=settings.unknown is Unknown.SIDE,
    )
    tree = _assemble(grown, split_variables, settings, binnings, codes, numbers, coordinates.explained)
    if settings.max_segments is not None:
        tree = _keep_splits(
            tree, expanded(tree.parent, tree.depth, tree.children, tree.gain, settings.max_segments)
        )
    return tree


def _growth_depth(settings: TreeSettings) -> int | None:
    """How deep the full tree is grown: K segments need no split deeper than K - 1."""
    if settings.max_segments is None:
        return settings.max_depth
    deepest = settings.max_segments - 1
    return deepest if settings.max_depth is None else min(settings.max_depth, deepest)


def assign(tree: Tree, columns: Mapping[str, npt.NDArray[Any]]) -> Ints:
    """The node of each new row: its leaf, coded with the tree's stored bin edges and levels, following the
    tree's conditions. A row whose value no branch takes (a level the tree never saw at that node) stays at
    the deepest node it reached."""
    missing = [v.name for v in tree.variables if v.name not in columns]
    if missing:
        raise Invalid(f"the rows lack the tree's variables: {', '.join(missing)}")
    codes = [b.encode(columns[v.name]) for v, b in zip(tree.variables, tree.binnings, strict=True)]
    n = codes[0].shape[0] if codes else 0
    node = np.zeros(n, dtype=np.int64)
    rows = np.arange(n)
    while rows.size:
        at = node[rows]
        inner = tree.split[at] >= 0
        rows, at = rows[inner], at[inner]
        nxt = _step(tree, codes, at, rows)
        moved = nxt >= 0
        rows, nxt = rows[moved], nxt[moved]
        node[rows] = nxt
    return node


def describe(variables: Sequence[Variable], conditions: Sequence[Condition]) -> list[str]:
    by_name = {v.name: v for v in variables}
    order: list[str] = []
    lower: dict[str, float] = {}
    upper: dict[str, float] = {}
    words: dict[str, list[str]] = {}
    or_unknown: dict[str, bool] = {}  # every condition on the variable also takes its missing values
    for c in conditions:
        if c.variable not in order:
            order.append(c.variable)
        or_unknown[c.variable] = or_unknown.get(c.variable, True) and c.or_unknown
        if c.missing:
            words[c.variable] = [UNKNOWN]
        elif c.levels:
            words[c.variable] = list(c.levels)
        elif c.threshold is None:
            words.setdefault(c.variable, ["known"])
        elif c.above:
            lower[c.variable] = max(lower.get(c.variable, -math.inf), c.threshold)
        else:
            upper[c.variable] = min(upper.get(c.variable, math.inf), c.threshold)
    lines = []
    for name in order:
        variable = by_name[name]
        unit = f" {variable.unit}" if variable.unit else ""
        if words.get(name) == [UNKNOWN] or (name not in lower and name not in upper):
            said = words[name]
        elif name in lower and name in upper:
            said = [f"{number(lower[name])} to under {number(upper[name])}{unit}"]
        elif name in lower:
            said = [f"{number(lower[name])}{unit} or more"]
        else:
            said = [f"under {number(upper[name])}{unit}"]
        text = _or(said)
        if or_unknown[name]:
            # "5 or more or unknown" would read as one range; the comma keeps "or unknown" apart.
            text = f"{text}, or {UNKNOWN}" if text.endswith("or more") else _or([*said, UNKNOWN])
        lines.append(f"{variable.label}: {text}")
    return lines


def number(value: float) -> str:
    """A threshold as people read it: whole numbers with separators, else three significant digits."""
    if float(value).is_integer():
        return f"{int(value):,}"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.3g}"


def _or(levels: list[str]) -> str:
    return levels[0] if len(levels) == 1 else f"{', '.join(levels[:-1])} or {levels[-1]}"


def _step(tree: Tree, codes: Sequence[Codes], at: Ints, rows: Ints) -> Ints:
    """The child of node ``at[i]`` that row ``rows[i]`` goes to, or -1."""
    nxt = np.full(rows.size, -1, dtype=np.int64)
    variables = tree.split[at]
    for j in np.unique(variables[variables >= 0]).tolist():
        here = np.flatnonzero(variables == j)
        b = tree.binnings[j]
        code = codes[j][rows[here]].astype(np.int64)
        nodes = at[here]
        if b.numeric:
            to = tree.unknown_to[nodes]
            missing_slot = np.where(to >= 0, to, MISSING)
            slot = np.where(
                code == b.missing_code, missing_slot, np.where(code <= tree.cut[nodes], LEFT, RIGHT)
            )
            nxt[here] = tree.children[nodes, slot]
            continue
        keys, targets = _level_lookup(tree, j)
        width = b.unseen_code + 1
        wanted = nodes * width + code
        found = np.searchsorted(keys, wanted)
        found_ok = found < keys.size
        hit = np.zeros(here.size, dtype=bool)
        hit[found_ok] = keys[found[found_ok]] == wanted[found_ok]
        child = np.full(here.size, -1, dtype=np.int64)
        child[hit] = targets[found[hit]]
        # An "unknown" child of their own, or (``Unknown.SIDE``) the child whose levels include missing.
        own_branch = (code == b.missing_code) & (tree.children[nodes, MISSING] >= 0)
        child[own_branch] = tree.children[nodes[own_branch], MISSING]
        nxt[here] = child
    return nxt


def _level_lookup(tree: Tree, j: int) -> tuple[Ints, Ints]:
    """Sorted (parent * width + level code) keys of variable j's categorical children, and the child each
    key leads to."""
    cache: dict[int, tuple[Ints, Ints]] = tree.__dict__.setdefault("_lookups", {})
    if j not in cache:
        width = tree.binnings[j].unseen_code + 1
        child_ids = np.flatnonzero((tree.variable == j) & (tree.slot != MISSING))
        counts = tree.level_offsets[child_ids + 1] - tree.level_offsets[child_ids]
        owners = np.repeat(child_ids, counts)
        level_codes = np.concatenate(
            [tree.level_codes[tree.level_offsets[c] : tree.level_offsets[c + 1]] for c in child_ids.tolist()]
            or [np.zeros(0, dtype=np.int64)]
        )
        keys = tree.parent[owners] * width + level_codes
        order = np.argsort(keys, kind="stable")
        cache[j] = (keys[order], owners[order])
    return cache[j]


def _check(
    columns: Mapping[str, npt.NDArray[Any]], variables: Sequence[Variable], settings: TreeSettings
) -> None:
    if settings.min_size < 1:
        raise Invalid("min_size must be at least 1")
    if settings.max_depth is not None and settings.max_depth < 0:
        raise Invalid("max_depth must be 0 or more")
    if settings.max_segments is not None and settings.max_segments < 1:
        raise Invalid("max_segments must be at least 1")
    names = [v.name for v in variables]
    if len(set(names)) != len(names):
        raise Invalid("a variable is named twice")
    absent = [name for name in names if name not in columns]
    if absent:
        raise Invalid(f"no values for the variables: {', '.join(absent)}")
    if settings.target is not None and settings.target not in names:
        raise Invalid(f"the target {settings.target} is not one of the variables")
    if not [name for name in names if name != settings.target]:
        raise Invalid("a tree needs at least one variable to split on")
    lengths = {len(columns[name]) for name in names}
    if len(lengths) > 1:
        raise Invalid("the variables do not all have the same number of rows")


def _target(values: npt.NDArray[Any], variable: Variable) -> Floats:
    if variable.kind is VariableKind.NUMERIC:
        return binning_module.as_numbers(values, variable)
    if variable.kind is VariableKind.BOOLEAN:
        indices, texts = binning_module.dictionary(values, variable)
        rate = np.array([1.0 if t == "yes" else 0.0 for t in texts] + [np.nan])
        return rate[indices]
    raise Invalid(f"the target {variable.name} must be a number or yes/no, not categorical")


def _assemble(
    grown: Grown,
    variables: tuple[Variable, ...],
    settings: TreeSettings,
    binnings: list[Binning],
    codes: list[Codes],
    numbers: list[Floats | None],
    explained: float,
) -> Tree:
    parent = np.concatenate(grown.parent).astype(np.int64)
    n_nodes = parent.size
    split_node = _cat(grown.split_node)
    split = np.full(n_nodes, -1, dtype=np.int64)
    split[split_node] = _cat(grown.split_var)
    cut = np.zeros(n_nodes, dtype=np.int64)
    cut[split_node] = _cat(grown.cut)
    unknown_to = np.full(n_nodes, -1, dtype=np.int64)
    unknown_to[split_node] = _cat(grown.unknown_to)
    gain = np.zeros(n_nodes)
    gain[split_node] = np.concatenate(grown.gain) if grown.gain else np.zeros(0)
    slot = np.concatenate(grown.slot).astype(np.int64)
    children = np.full((n_nodes, 3), -1, dtype=np.int64)
    children[parent[1:], slot[1:]] = np.arange(1, n_nodes)
    variable = np.full(n_nodes, -1, dtype=np.int64)
    variable[1:] = split[parent[1:]]
    # A numeric split with no right child separates the known values from the unknown: its cut takes every
    # known code, so a new customer with any known value follows the known branch.
    for j, b in enumerate(binnings):
        if b.numeric:
            known_only = (split == j) & (children[:, RIGHT] < 0)
            cut[known_only] = b.value_codes - 1
    level_node, level_code = _cat(grown.level_node), _cat(grown.level_code)
    order = np.lexsort((level_code, level_node))
    level_node, level_code = level_node[order], level_code[order]
    level_offsets = np.searchsorted(level_node, np.arange(n_nodes + 1)).astype(np.int64)
    size = np.concatenate(grown.size).astype(np.int64)
    tree = Tree(
        variables=variables,
        settings=settings,
        binnings=tuple(binnings),
        parent=parent,
        depth=np.concatenate(grown.depth).astype(np.int64),
        size=size,
        variable=variable,
        slot=slot,
        split=split,
        cut=cut,
        unknown_to=unknown_to,
        gain=gain,
        identical=np.zeros(n_nodes, dtype=bool),
        children=children,
        level_offsets=level_offsets,
        level_codes=level_code,
        leaf_of=grown.leaf_of,
        codes=codes,
        numbers=numbers,
        explained=explained,
    )
    tree.identical[:] = _identical_leaves(tree)
    return tree


def _cat(parts: list[Ints]) -> Ints:
    return np.concatenate(parts).astype(np.int64) if parts else np.zeros(0, dtype=np.int64)


def _identical_leaves(tree: Tree) -> npt.NDArray[np.bool_]:
    """Leaves of two or more customers who are equal on every variable (the same level, the same number,
    or both missing): no split can separate them, which is why they share their segment."""
    return _uniform_leaves(tree, exact=True)


def _uniform_leaves(tree: Tree, *, exact: bool) -> npt.NDArray[np.bool_]:
    """Leaves of two or more customers with the same code on every variable (``exact``: the same numbers
    too)."""
    result = np.zeros(tree.n_nodes, dtype=bool)
    shared = (tree.split < 0) & (tree.size > 1)
    if not shared.any():
        return result
    rows = np.flatnonzero(shared[tree.leaf_of])
    rows = rows[np.argsort(tree.leaf_of[rows], kind="stable")]
    leaf = tree.leaf_of[rows]
    starts = np.flatnonzero(np.r_[True, leaf[1:] != leaf[:-1]])
    same = np.ones(starts.size, dtype=bool)
    for code, numbers in zip(tree.codes, tree.numbers, strict=True):
        values = code[rows].astype(np.float64)
        same &= np.minimum.reduceat(values, starts) == np.maximum.reduceat(values, starts)
        if exact and numbers is not None:
            raw = np.nan_to_num(numbers[rows], nan=-np.inf)
            same &= np.minimum.reduceat(raw, starts) == np.maximum.reduceat(raw, starts)
    result[leaf[starts[same]]] = True
    return result


def _keep_splits(tree: Tree, split: npt.NDArray[np.bool_]) -> Tree:
    """The tree with only the splits of the nodes where ``split`` is True (a connected part from the root):
    the other nodes' children go, their customers stay in the deepest node kept; ids stay breadth-first."""
    kept = np.ones(tree.n_nodes, dtype=bool)
    kept[1:] = split[tree.parent[1:]]
    old = np.flatnonzero(kept)
    new_id = np.full(tree.n_nodes + 1, -1, dtype=np.int64)  # the extra last entry maps a parent -1 to -1
    new_id[old] = np.arange(old.size)
    home = np.arange(tree.n_nodes)
    for first, last in levels(tree.depth):
        gone = np.flatnonzero(~kept[first:last]) + first
        home[gone] = home[tree.parent[gone]]
    splits = split[old]
    children = np.where(splits[:, None] & (tree.children[old] >= 0), new_id[tree.children[old]], -1)
    level_counts = np.diff(tree.level_offsets)
    level_owner = np.repeat(np.arange(tree.n_nodes), level_counts)
    pruned = replace(
        tree,
        parent=new_id[tree.parent[old]],
        depth=tree.depth[old],
        size=tree.size[old],
        variable=tree.variable[old],
        slot=tree.slot[old],
        split=np.where(splits, tree.split[old], -1),
        cut=np.where(splits, tree.cut[old], 0),
        unknown_to=np.where(splits, tree.unknown_to[old], -1),
        gain=np.where(splits, tree.gain[old], 0.0),
        identical=np.zeros(old.size, dtype=bool),
        children=children,
        level_offsets=np.r_[0, np.cumsum(level_counts[old])].astype(np.int64),
        level_codes=tree.level_codes[kept[level_owner]],
        leaf_of=new_id[home[tree.leaf_of]],
    )
    pruned.identical[:] = _identical_leaves(pruned)
    return pruned
