"""Growing the tree level by level, every node of a level at once (docs/segmentation.md).

For each split variable, one ``np.bincount`` over ``node * codes + code`` gives every node's histogram of
that variable (counts and the coordinates' sums per code); a node's best cut is found on the prefix sums
of its histogram. When a level has so many nodes that a dense histogram would be larger than the level's
customers, only the (node, code) cells that occur are kept (``np.unique``). Customers of finished leaves
leave the active set."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from segone.progress import Progress, silent
from segone.segmentation.binning import Binning, Codes
from segone.segmentation.criterion import Coordinates

Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]

# Gains are compared after rounding to this many decimals of the gain per customer, so that sums taken in
# another row order (a shuffled input) cannot turn a tie into a win.
_DECIMALS = 9
LEFT, RIGHT, MISSING = 0, 1, 2


@dataclass
class Grown:
    """The tree as arrays, one entry per node in breadth-first order (see ``tree.Tree``)."""

    parent: list[Ints] = field(default_factory=list)
    depth: list[Ints] = field(default_factory=list)
    size: list[Ints] = field(default_factory=list)
    slot: list[Ints] = field(default_factory=list)  # LEFT / RIGHT / MISSING: which side of its parent's split
    split_var: list[Ints] = field(default_factory=list)  # per splitting parent: its split variable
    split_node: list[Ints] = field(default_factory=list)
    cut: list[Ints] = field(default_factory=list)  # numeric: the last code on the left
    gain: list[Floats] = field(default_factory=list)
    level_node: list[Ints] = field(default_factory=list)  # categorical children: (node, code) pairs
    level_code: list[Ints] = field(default_factory=list)
    leaf_of: Ints = field(default_factory=lambda: np.zeros(0, dtype=np.int64))


@dataclass
class _Cells:
    """The non-empty (node, code) cells of one variable at one level, ordered by node, then by the order
    the cut runs along (numbers by code; levels by their mean on the first coordinate), missing last."""

    node: Ints
    code: Ints
    count: Floats
    weight: Floats
    sums: Floats  # (cells, k)
    own: Floats  # (cells,): the variable's own coordinate's sums, or its level counts squared


def grow(
    binnings: Sequence[Binning],
    codes: Sequence[Codes],
    coordinates: Coordinates,
    min_size: int,
    max_depth: int | None,
    progress: Progress = silent,
) -> Grown:
    n = codes[0].shape[0] if codes else coordinates.weight.shape[0]
    grown = Grown()
    grown.parent.append(np.array([-1]))
    grown.depth.append(np.array([0]))
    grown.size.append(np.array([n]))
    grown.slot.append(np.array([-1]))
    leaf_of = np.zeros(n, dtype=np.int64)
    rows = np.arange(n, dtype=np.int64)
    nid = np.zeros(n, dtype=np.int64)  # the row's node, numbered from the level's first node
    level_first, level_sizes, depth, next_id = 0, np.array([n]), 0, 1
    while rows.size:
        progress("Growing the segments", int(depth), None)
        eligible = level_sizes >= 2 * min_size
        if max_depth is not None and depth >= max_depth:
            eligible[:] = False
        keep = eligible[nid]
        leaf_of[rows[~keep]] = level_first + nid[~keep]
        rows, nid = rows[keep], nid[keep]
        if not rows.size:
            break
        m = level_sizes.shape[0]
        best = _best_splits(binnings, codes, coordinates, rows, nid, m, min_size)
        splitting = best.var >= 0
        keep = splitting[nid]
        leaf_of[rows[~keep]] = level_first + nid[~keep]
        rows, nid = rows[keep], nid[keep]
        if not rows.size:
            break
        slots = np.empty(rows.size, dtype=np.int64)
        pairs: list[tuple[Ints, Ints, Ints]] = []
        for j in np.unique(best.var[splitting]).tolist():
            here = best.var[nid] == j
            slots[here], pair_node, pair_slot, pair_code = _slots_of(
                binnings[j], codes[j][rows[here]], nid[here], rows[here], best.cut, coordinates, j, m
            )
            pairs.append((pair_node, pair_slot, pair_code))
        counts = np.bincount(nid * 3 + slots, minlength=m * 3)
        present = np.flatnonzero(counts)
        child_ids = np.full(m * 3, -1, dtype=np.int64)
        child_ids[present] = next_id + np.arange(present.size)
        parents_local = present // 3
        grown.parent.append(level_first + parents_local)
        grown.depth.append(np.full(present.size, depth + 1))
        grown.size.append(counts[present])
        grown.slot.append(present % 3)
        split_local = np.flatnonzero(splitting)
        grown.split_node.append(level_first + split_local)
        grown.split_var.append(best.var[split_local])
        grown.cut.append(best.cut[split_local])
        grown.gain.append(best.gain[split_local])
        for pair_node, pair_slot, pair_code in pairs:
            grown.level_node.append(child_ids[pair_node * 3 + pair_slot])
            grown.level_code.append(pair_code)
        child = child_ids[nid * 3 + slots]
        level_first, next_id = next_id, next_id + present.size
        nid = child - level_first
        level_sizes = counts[present]
        depth += 1
    grown.leaf_of = leaf_of
    return grown


@dataclass
class _Best:
    gain: Floats
    rank: Floats  # the rounded gain the comparison uses
    var: Ints
    cut: Ints  # numeric: last code on the left; categorical: the cut's position in the node's ordered levels


def _best_splits(
    binnings: Sequence[Binning],
    codes: Sequence[Codes],
    coordinates: Coordinates,
    rows: Ints,
    nid: Ints,
    m: int,
    min_size: int,
) -> _Best:
    best = _Best(
        np.zeros(m), np.full(m, -np.inf), np.full(m, -1, dtype=np.int64), np.zeros(m, dtype=np.int64)
    )
    weight = coordinates.weight[rows]
    shared = coordinates.shared[rows]
    sizes = np.bincount(nid, minlength=m).astype(np.float64)
    for j, binning in enumerate(binnings):
        cells = _cells(binning, codes[j][rows], nid, m, weight, shared, coordinates, j, rows)
        gain, cut, node = _cuts(
            cells, binning, min_size, _own_kind(coordinates, j), coordinates.gini_scale[j]
        )
        if not node.size:
            continue
        rank = np.round(gain / sizes[node], _DECIMALS)
        better = rank > best.rank[node]
        node, rank, gain, cut = node[better], rank[better], gain[better], cut[better]
        best.rank[node], best.gain[node], best.var[node], best.cut[node] = rank, gain, j, cut
    return best


def _cells(
    binning: Binning,
    code: Codes,
    nid: Ints,
    m: int,
    weight: Floats,
    shared: Floats,
    coordinates: Coordinates,
    j: int,
    rows: Ints,
) -> _Cells:
    nb = binning.n_codes
    key = nid * nb + code
    own_values = coordinates.own[j]
    k = shared.shape[1]
    if m * nb <= max(4 * key.size, 1 << 16):
        count_all = np.bincount(key, minlength=m * nb)
        occupied = np.flatnonzero(count_all)
        index, size, cells_key = key, m * nb, occupied
        count = count_all[occupied].astype(np.float64)
    else:
        cells_key, index = np.unique(key, return_inverse=True)
        size, occupied = cells_key.size, slice(None)
        count = np.bincount(index, minlength=size).astype(np.float64)
    cell_weight = np.bincount(index, weight, size)[occupied] if coordinates.supervised else count
    sums = np.empty((count.size, k))
    for t in range(k):
        sums[:, t] = np.bincount(index, shared[:, t], size)[occupied]
    if own_values is not None:
        own = np.bincount(index, own_values[rows], size)[occupied]
    else:
        own = count * count
    node, cell_code = cells_key // nb, cells_key % nb
    if not binning.numeric and k:
        mean = np.where(cell_weight > 0, sums[:, 0] / np.where(cell_weight > 0, cell_weight, 1.0), np.inf)
        order = np.lexsort((cell_code, np.round(mean, _DECIMALS), cell_code == binning.missing_code, node))
        node, cell_code, count, cell_weight = node[order], cell_code[order], count[order], cell_weight[order]
        sums, own = sums[order], own[order]
    return _Cells(node, cell_code, count, cell_weight, sums, own)


def _fit(weight: Floats, sums: Floats) -> Floats:
    """sum over coordinates of S^2 / W: the between-group part a group contributes (0 for an empty group)."""
    safe = np.where(weight > 0, weight, 1.0)
    return np.where(weight > 0, np.einsum("ij,ij->i", sums, sums) / safe, 0.0)


def _own_kind(coordinates: Coordinates, j: int) -> str:
    if coordinates.supervised:
        return "none"
    return "number" if coordinates.own[j] is not None else "levels"


def _own_fit(count: Floats, own: Floats, kind: str, gini_scale: float) -> Floats:
    """The variable's own between-group part: S^2 / n of its standardised values, or (levels) the sum of its
    level counts squared over n, scaled by 1 / its Gini dispersion (an indicator per level, docs)."""
    if kind == "none":
        return np.zeros(count.shape[0])
    safe = np.where(count > 0, count, 1.0)
    if kind == "number":
        return np.where(count > 0, own * own / safe, 0.0)
    return np.where(count > 0, gini_scale * own / safe, 0.0)


def _cuts(
    cells: _Cells, binning: Binning, min_size: int, own_kind: str, gini_scale: float
) -> tuple[Floats, Ints, Ints]:
    """Each node's best cut along its ordered known cells: its gain, its cut (numeric: the last code on the
    left; categorical: the position of the last level on the left), the node."""
    missing = cells.code == binning.missing_code
    known = ~missing
    m_nodes = int(cells.node.max()) + 1 if cells.node.size else 0
    k = cells.sums.shape[1]

    def per_node(values: Floats, mask: npt.NDArray[np.bool_]) -> Floats:
        return np.bincount(cells.node[mask], values[mask], minlength=m_nodes)

    miss_count, miss_weight = per_node(cells.count, missing), per_node(cells.weight, missing)
    miss_own = per_node(cells.own, missing)
    miss_sums = np.zeros((m_nodes, k))
    for t in range(k):
        miss_sums[:, t] = per_node(cells.sums[:, t], missing)
    idx = np.flatnonzero(known)
    node = cells.node[idx]
    if not idx.size:
        empty = np.zeros(0, dtype=np.int64)
        return np.zeros(0), empty, empty
    start = np.searchsorted(node, node, side="left")
    last = np.r_[node[1:] != node[:-1], True]

    def prefix(values: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        running = np.cumsum(values, axis=0)
        before = np.concatenate([np.zeros((1,) + values.shape[1:]), running])[start]
        return running - before

    left_count, left_weight = prefix(cells.count[idx]), prefix(cells.weight[idx])
    left_sums, left_own = prefix(cells.sums[idx]), prefix(cells.own[idx])
    end = np.flatnonzero(last)
    node_end = np.empty(idx.size, dtype=np.int64)
    node_end[:] = np.repeat(end, np.diff(np.r_[0, end + 1]))
    right_count = left_count[node_end] - left_count
    right_weight = left_weight[node_end] - left_weight
    right_sums = left_sums[node_end] - left_sums
    right_own = left_own[node_end] - left_own
    has_missing = miss_count[node] > 0
    candidate = (~last) | has_missing
    mc = miss_count[node]
    valid = (
        candidate
        & (left_count >= min_size)
        & ((right_count >= min_size) | (right_count == 0))
        & ((mc == 0) | (mc >= min_size))
    )
    at = np.flatnonzero(valid)
    if not at.size:
        empty = np.zeros(0, dtype=np.int64)
        return np.zeros(0), empty, empty
    n_at = node[at]
    total_weight = left_weight[node_end[at]] + miss_weight[n_at]
    total_sums = left_sums[node_end[at]] + miss_sums[n_at]
    total_count = left_count[node_end[at]] + mc[at]
    total_own = left_own[node_end[at]] + miss_own[n_at]
    gain = (
        _fit(left_weight[at], left_sums[at])
        + _fit(right_weight[at], right_sums[at])
        + _fit(miss_weight[n_at], miss_sums[n_at])
        - _fit(total_weight, total_sums)
    )
    own_gain = (
        _own_fit(left_count[at], left_own[at], own_kind, gini_scale)
        + _own_fit(right_count[at], right_own[at], own_kind, gini_scale)
        + _own_fit(mc[at], miss_own[n_at], own_kind, gini_scale)
        - _own_fit(total_count, total_own, own_kind, gini_scale)
    )
    gain = np.maximum(gain + own_gain, 0.0)
    position = at - start[at]
    code = cells.code[idx][at]
    sizes = total_count
    rank = np.round(gain / sizes, _DECIMALS)
    order = np.lexsort((position, -rank, n_at))
    first = np.r_[True, n_at[order][1:] != n_at[order][:-1]]
    chosen = order[first]
    cut = code[chosen] if binning.numeric else position[chosen]
    return gain[chosen], cut, n_at[chosen]


def _slots_of(
    binning: Binning,
    code: Codes,
    nid: Ints,
    rows: Ints,
    cut: Ints,
    coordinates: Coordinates,
    j: int,
    m: int,
) -> tuple[Ints, Ints, Ints, Ints]:
    """Which child each row of the nodes split on variable j goes to, and for a categorical variable the
    children's levels as (local node, slot, code) triples."""
    missing = code == binning.missing_code
    none = np.zeros(0, dtype=np.int64)
    if binning.numeric:
        side = np.where(code <= cut[nid], LEFT, RIGHT)
        return np.where(missing, MISSING, side), none, none, none
    # The levels' order is recomputed on these nodes' rows alone: the same rows in the same order give the
    # same sums, hence the same order as when the cut was chosen.
    weight = coordinates.weight[rows]
    shared = coordinates.shared[rows]
    cells = _cells(binning, code, nid, m, weight, shared, coordinates, j, rows)
    start = np.searchsorted(cells.node, cells.node, side="left")
    position = np.arange(cells.node.size) - start
    cell_missing = cells.code == binning.missing_code
    cell_slot = np.where(cell_missing, MISSING, np.where(position <= cut[cells.node], LEFT, RIGHT))
    nb = binning.n_codes
    key = cells.node * nb + cells.code
    order = np.argsort(key, kind="stable")
    slots = cell_slot[order][np.searchsorted(key[order], nid * nb + code)]
    known = ~cell_missing
    return slots, cells.node[known], cell_slot[known], cells.code[known]
