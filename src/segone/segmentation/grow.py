"""Growing the tree level by level, every node of a level at once (docs/segmentation.md).

For each split variable, one ``np.bincount`` over ``node * codes + code`` gives every node's histogram of
that variable (counts and the coordinates' sums per code); a node's best cut is found on the prefix sums
of its histogram. When a level has so many nodes that a dense histogram would be larger than the level's
customers, only the (node, code) cells that occur are kept (``_occurring``). The active rows are kept
grouped by node, each node's in their original order. Customers of finished leaves leave the active set."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
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
WORKERS = min(4, os.cpu_count() or 1)


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
    unknown_to: list[Ints] = field(default_factory=list)  # numeric, Unknown.SIDE: LEFT / RIGHT / -1 (own)
    gain: list[Floats] = field(default_factory=list)
    level_node: list[Ints] = field(default_factory=list)  # categorical children: (node, code) pairs
    level_code: list[Ints] = field(default_factory=list)
    leaf_of: Ints = field(default_factory=lambda: np.zeros(0, dtype=np.int64))


Rows = list[Floats]  # a histogram as one 1-D array per row of its _Layout (row-wise numpy is fastest)


@dataclass
class _Cells:
    """The non-empty (node, code) cells of one variable at one level, ordered by node, then by the order
    the cut runs along (numbers by code; levels by their mean on the first coordinate), missing last."""

    node: Ints
    code: Ints
    stats: Rows  # layout.height rows of one value per cell: see _Layout


def grow(
    binnings: Sequence[Binning],
    codes: Sequence[Codes],
    coordinates: Coordinates,
    min_size: int,
    max_depth: int | None,
    progress: Progress = silent,
    *,
    unknown_side: bool = False,
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
    layout = _layout(coordinates)
    active = _Active(_level_stats(coordinates, rows, layout), list(coordinates.own), layout)
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
        if rows.size < keep.size:
            active = active.take(np.flatnonzero(keep))
        m = level_sizes.shape[0]
        best = _best_splits(binnings, codes, coordinates, rows, nid, m, min_size, unknown_side, active)
        splitting = best.var >= 0
        keep = splitting[nid]
        leaf_of[rows[~keep]] = level_first + nid[~keep]
        kept = np.flatnonzero(keep)  # active's columns of the rows that go on
        rows, nid = rows[keep], nid[keep]
        if not rows.size:
            break
        slots = np.empty(rows.size, dtype=np.int64)
        pairs: list[tuple[Ints, Ints, Ints]] = []
        for j in np.unique(best.var[splitting]).tolist():
            here = best.var[nid] == j
            slots[here], pair_node, pair_slot, pair_code = _slots_of(
                binnings[j],
                codes[j][rows[here]],
                nid[here],
                active,
                kept[here],
                best,
                coordinates,
                j,
                m,
                unknown_side,
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
        grown.unknown_to.append(best.unknown_to[split_local])
        grown.gain.append(best.gain[split_local])
        for pair_node, pair_slot, pair_code in pairs:
            grown.level_node.append(child_ids[pair_node * 3 + pair_slot])
            grown.level_code.append(pair_code)
        child = child_ids[nid * 3 + slots]
        level_first, next_id = next_id, next_id + present.size
        # The rows are kept grouped by node, each node's in their original order: a node's histogram cells
        # then sit together (the sums scatter into a small window of memory), and each cell adds its
        # customers in the same order as before, so its sums are the same to the bit.
        order = _stable_order(child - level_first, present.size)
        rows, nid = rows[order], child[order] - level_first
        active = active.take(kept[order])
        level_sizes = counts[present]
        depth += 1
    grown.leaf_of = leaf_of
    return grown


@dataclass
class _Active:
    """What the histograms sum for the active rows, in the rows' current order: ``level`` (see
    ``_level_stats``) and each numeric variable's own values. They move with the rows, so that each level
    gathers them from within each node's few rows rather than from all customers' (random reads of
    megabytes are most of a gather's cost)."""

    level: Floats
    own: list[Floats | None]
    layout: _Layout

    def take(self, index: Ints) -> _Active:
        level = np.empty((self.level.shape[0], index.size))
        for row in range(1, self.layout.height):
            if row != self.layout.own:  # the count and own rows are not read from here
                np.take(self.level[row], index, out=level[row])
        own = [None if values is None else values[index] for values in self.own]
        return _Active(level, own, self.layout)


@dataclass
class _Best:
    gain: Floats
    rank: Floats  # the rounded gain the comparison uses
    var: Ints
    cut: Ints  # numeric: last code on the left; categorical: the cut's position in the node's ordered levels
    unknown_to: Ints  # numeric: the side the missing values join (LEFT / RIGHT), or -1: their own branch


@dataclass(frozen=True)
class _Layout:
    """The rows of a histogram: 0 the count, then the dispersion weight (the count itself unless
    supervised), the k coordinate sums, and the variable's own coordinate (unsupervised)."""

    weight: int
    sums: slice
    own: int | None
    height: int


def _layout(coordinates: Coordinates) -> _Layout:
    k = coordinates.shared.shape[0]
    if coordinates.supervised:
        return _Layout(weight=1, sums=slice(2, 2 + k), own=None, height=2 + k)
    return _Layout(weight=0, sums=slice(1, 1 + k), own=1 + k, height=2 + k)


def _best_splits(
    binnings: Sequence[Binning],
    codes: Sequence[Codes],
    coordinates: Coordinates,
    rows: Ints,
    nid: Ints,
    m: int,
    min_size: int,
    unknown_side: bool,
    active: _Active,
) -> _Best:
    best = _Best(
        np.zeros(m),
        np.full(m, -np.inf),
        np.full(m, -1, dtype=np.int64),
        np.zeros(m, dtype=np.int64),
        np.full(m, -1, dtype=np.int64),
    )
    layout = _layout(coordinates)
    level = active.level
    sizes = np.bincount(nid, minlength=m).astype(np.float64)

    def evaluate(j: int) -> tuple[Floats, Ints, Ints, Ints]:
        b = binnings[j]
        own_rows = active.own[j]
        cells = _cells(b, codes[j][rows], nid, m, level, own_rows, layout, _missing_code(b, unknown_side))
        return _cuts(cells, b, min_size, layout, coordinates.gini_scale[j], unknown_side)

    # numpy releases the GIL in its array loops, so variables are evaluated on several threads; the results
    # are merged in variable order, so the tree does not depend on which thread finished first.
    if WORKERS > 1:
        with ThreadPoolExecutor(max_workers=WORKERS) as pool:
            results = list(pool.map(evaluate, range(len(binnings))))
    else:
        results = [evaluate(j) for j in range(len(binnings))]
    for j, (gain, cut, node, unknown_to) in enumerate(results):
        if not node.size:
            continue
        rank = np.round(gain / sizes[node], _DECIMALS)
        better = rank > best.rank[node]
        node, rank, gain, cut = node[better], rank[better], gain[better], cut[better]
        best.rank[node], best.gain[node], best.var[node], best.cut[node] = rank, gain, j, cut
        best.unknown_to[node] = unknown_to[better]
    return best


def _missing_code(binning: Binning, unknown_side: bool) -> int:
    """The code a cut treats as "unknown" (kept last, outside the cut): with ``Unknown.SIDE`` a category's
    missing values are one more level, ordered and grouped like the others; -1 then (no code)."""
    return -1 if unknown_side and not binning.numeric else binning.missing_code


def _level_stats(coordinates: Coordinates, rows: Ints, layout: _Layout) -> Floats:
    """The per-customer values a histogram sums, one row each (the count row is left empty: counted)."""
    level = np.empty((layout.height, rows.size))
    if coordinates.supervised:
        level[layout.weight] = coordinates.weight[rows]
    level[layout.sums] = coordinates.shared[:, rows]
    return level


def _cells(
    binning: Binning,
    code: Codes,
    nid: Ints,
    m: int,
    level: Floats,
    own: Floats | None,
    layout: _Layout,
    missing_code: int,
) -> _Cells:
    nb = binning.n_codes
    key = nid * nb + code
    size = m * nb
    cells_key: Ints
    if size <= max(4 * key.size, 1 << 16):
        count_all = np.bincount(key, minlength=size)
        cells_key = np.flatnonzero(count_all)
        index = key
        count = count_all[cells_key].astype(np.float64)
    else:
        # Many nodes: only the cells that occur, numbered in (node, code) order.
        cells_key, index = _occurring(key, size)
        size = cells_key.size
        count = np.bincount(index, minlength=size).astype(np.float64)
    dense = size != cells_key.size
    stats: Rows = [count]
    for row in range(1, layout.height):
        if row == layout.own:
            values = own
            if values is None:
                stats.append(count * count)  # level counts squared: the Gini part (docs)
                continue
        else:
            values = level[row]
        summed = np.bincount(index, values, size).astype(np.float64, copy=False)
        stats.append(summed[cells_key] if dense else summed)
    node, cell_code = cells_key // nb, cells_key % nb
    if not binning.numeric and layout.sums.stop > layout.sums.start:
        weight = stats[layout.weight]
        first = stats[layout.sums.start]
        mean = np.full(weight.size, np.inf)
        np.divide(first, weight, out=mean, where=weight > 0)
        # np.lexsort((cell_code, rounded mean, missing, node)) in two passes: the cells come in (node, code)
        # order, so stable sorts keep codes in order on ties; the pass by node is the packed integer sort.
        by_mean = np.argsort(np.round(mean, _DECIMALS), kind="stable")
        grouped = node * 2 + (cell_code == missing_code)
        order = by_mean[_stable_order(grouped[by_mean], 2 * m)]
        node, cell_code, stats = node[order], cell_code[order], [values[order] for values in stats]
    return _Cells(node, cell_code, stats)


def _stable_order(key: Ints, size: int) -> Ints:
    """``np.argsort(key, kind="stable")`` for keys in [0, size), by the packed sort of ``_occurring``."""
    shift = max((key.size - 1).bit_length(), 1)
    if not key.size or (size - 1).bit_length() + shift > 62:
        return np.argsort(key, kind="stable")
    return np.sort((key << shift) | np.arange(key.size)) & ((1 << shift) - 1)


def _occurring(key: Ints, size: int) -> tuple[Ints, Ints]:
    """``np.unique(key, return_inverse=True)`` for keys in [0, size), by sorting each key with its row's
    position packed into its low bits: a plain sort of integers is several times faster than the argsort
    ``np.unique`` needs for the inverse."""
    shift = max((key.size - 1).bit_length(), 1)
    if not key.size or (size - 1).bit_length() + shift > 62:
        cells_key, index = np.unique(key, return_inverse=True)
        return cells_key, index
    packed = np.sort((key << shift) | np.arange(key.size))
    sorted_key = packed >> shift
    starts = np.empty(key.size, dtype=np.bool_)
    starts[0] = True
    np.not_equal(sorted_key[1:], sorted_key[:-1], out=starts[1:])
    index = np.empty(key.size, dtype=np.int64)
    index[packed & ((1 << shift) - 1)] = np.cumsum(starts) - 1
    return sorted_key[starts], index


def _fit(stats: Rows | Floats, layout: _Layout, own_kind: str, gini_scale: float) -> Floats:
    """The between-group part a group contributes: sum over coordinates of S^2 / W, plus the variable's
    own (S^2 / n of its standardised values, or its level counts squared over n, scaled by 1 / its Gini
    dispersion); 0 for an empty group."""
    weight = stats[layout.weight]
    if isinstance(stats, np.ndarray):
        # einsum adds the coordinates in an order that depends on the array's memory layout: a 2-D array
        # (the per-node missing totals, column-major) is summed as it always was, so gains stay bit for bit.
        squares = np.einsum("ij,ij->j", stats[layout.sums], stats[layout.sums])
    else:
        squares = np.zeros(weight.shape[0])
        term = np.empty(weight.shape[0])
        for values in stats[layout.sums]:  # coordinate by coordinate: einsum's order on row-major rows
            np.multiply(values, values, out=term)
            squares += term
    return _fit_of(squares, stats, layout, own_kind, gini_scale)


def _fit_of(
    squares: Floats,
    stats: Mapping[int, Floats] | Rows | Floats,
    layout: _Layout,
    own_kind: str,
    gini_scale: float,
) -> Floats:
    """``_fit`` from the coordinates' summed squares S^2 and the group's count, weight and own rows."""
    weight = stats[layout.weight]
    total = np.zeros(weight.shape[0])
    np.divide(squares, weight, out=total, where=weight > 0)
    if own_kind == "none" or layout.own is None:
        return total
    count = stats[0]
    own = stats[layout.own]
    term = np.empty(count.shape[0])
    if own_kind == "number":
        np.multiply(own, own, out=term)
    else:
        np.multiply(own, gini_scale, out=term)
    np.divide(term, count, out=term, where=count > 0)
    term[count <= 0] = 0.0
    total += term
    return total


def _cuts(
    cells: _Cells, binning: Binning, min_size: int, layout: _Layout, gini_scale: float, unknown_side: bool
) -> tuple[Floats, Ints, Ints, Ints]:
    """Each node's best cut along its ordered cells: its gain, its cut (numeric: the last code on the left;
    categorical: the position of the last level on the left), the node, and the side its missing values
    join (``Unknown.SIDE``, numeric; else -1). A node's missing cell, if any, is its last, so the prefix sums
    before it run over known values only."""
    own_kind = "none" if layout.own is None else ("number" if binning.numeric else "levels")
    empty = np.zeros(0, dtype=np.int64)
    if not cells.node.size:
        return np.zeros(0), empty, empty, empty
    missing_code = _missing_code(binning, unknown_side)
    node = cells.node
    bounds = np.flatnonzero(node[1:] != node[:-1]) + 1
    first, last = np.r_[0, bounds], np.r_[bounds - 1, node.size - 1]
    lengths = last - first + 1
    owner = np.repeat(np.arange(first.size), lengths)  # each cell's node, as a position in first
    has_missing = cells.code[last] == missing_code
    # Row by row (1-D numpy is several times faster than the same on a 2-D array's axis 1): the sums left
    # of each cell within its node are the level's running sums less those before the node.
    at_last = np.empty((layout.height, first.size), order="F")
    for row, values in enumerate(cells.stats):
        at_last[row] = values[last]
    missing_2d = np.where(has_missing, at_last, 0.0)
    missing_total = list(missing_2d)
    # A coordinate's left and right sums are squared and added up as they are made, not kept (unless the
    # missing values' side needs them): the coordinates are most of the rows.
    keep_all = unknown_side and binning.numeric
    squares_left, squares_right = np.zeros(node.size), np.zeros(node.size)
    term = np.empty(node.size)
    left: dict[int, Floats] = {}
    right: dict[int, Floats] = {}
    whole: Rows = []
    for row, (values, node_missing) in enumerate(zip(cells.stats, missing_total, strict=True)):
        prefix = np.cumsum(values)
        base = np.zeros(first.size)
        base[1:] = prefix[first[1:] - 1]
        node_whole = prefix[last] - base
        whole.append(node_whole)
        prefix -= base[owner]
        other = (node_whole - node_missing)[owner]
        other -= prefix
        if layout.sums.start <= row < layout.sums.stop:
            np.multiply(prefix, prefix, out=term)
            squares_left += term
            np.multiply(other, other, out=term)
            squares_right += term
            if not keep_all:
                continue
        left[row], right[row] = prefix, other
    missing_count = missing_total[0][owner]
    # A cut after each known cell but the node's last known one; after the last known one only when there
    # are missing values (the known against the unknown).
    candidate = cells.code != missing_code
    last_known = last - has_missing
    candidate[last_known[~has_missing]] = False
    room = (missing_count == 0) | (missing_count >= min_size)
    valid = candidate & (left[0] >= min_size) & ((right[0] >= min_size) | (right[0] == 0)) & room
    per_node = _fit(missing_2d, layout, own_kind, gini_scale) - _fit(whole, layout, own_kind, gini_scale)
    fit_left = _fit_of(squares_left, left, layout, own_kind, gini_scale)
    fit_right = _fit_of(squares_right, right, layout, own_kind, gini_scale)
    gain = fit_left + fit_right
    gain += per_node[owner]  # the three-way gain: the unknown as their own child
    unknown_to: Ints | None = None
    if unknown_side and binning.numeric:
        fit_whole = _fit(whole, layout, own_kind, gini_scale)[owner]
        gain, valid, unknown_to = _to_a_side(
            gain, valid, candidate, [left[row] for row in range(layout.height)],
            [right[row] for row in range(layout.height)], missing_total, owner, min_size,
            (fit_left, fit_right, fit_whole), (layout, own_kind, gini_scale),
        )  # fmt: skip
    if not valid.any():
        return np.zeros(0), empty, empty, empty
    np.maximum(gain, 0.0, out=gain)
    rank = np.round(gain / whole[0][owner], _DECIMALS)
    rank[~valid] = -1.0
    # The best cut of each node: the largest rounded gain, then the lowest position (no sort needed: the
    # cells are grouped by node).
    top = np.maximum.reduceat(rank, first)
    # Supervised, a split must separate the target; unsupervised, any split of differing customers is taken
    # (its gain is 0 only when they differ where the criterion does not look, e.g. missing vs the mean).
    splittable = top > 0 if layout.own is None else top >= 0
    is_top = np.flatnonzero(rank == top[owner])
    chosen = is_top[np.searchsorted(is_top, first[splittable])]
    if binning.numeric:
        cut = cells.code[chosen]
        # Bins the node has no customers in lie between the chosen cell and the next: any of their edges
        # makes the same split, and the roundest reads best.
        following = cells.code[chosen + 1]
        spans = following != binning.missing_code
        cut[spans] = binning.roundest_edges(cut[spans], following[spans] - 1)
    else:
        cut = chosen - first[splittable]
    sides = np.full(chosen.size, -1, dtype=np.int64) if unknown_to is None else unknown_to[chosen]
    return gain[chosen], cut.astype(np.int64), node[first[splittable]], sides


def _to_a_side(
    gain: Floats,
    valid: npt.NDArray[np.bool_],
    candidate: npt.NDArray[np.bool_],
    left: Rows,
    right: Rows,
    missing_total: Rows,
    owner: Ints,
    min_size: int,
    fits: tuple[Floats, Floats, Floats],
    fitting: tuple[_Layout, str, float],
) -> tuple[Floats, npt.NDArray[np.bool_], Ints]:
    """``Unknown.SIDE`` on a number: a cut inside the known values sends the missing ones to the side whose
    gain is larger (the left on a tie); only the cut after the last known value (the known against the
    unknown) keeps its three-way gain, as a two-way split with an "unknown" child."""
    fit_left, fit_right, fit_whole = fits
    missing = [values[owner] for values in missing_total]
    count = missing[0]
    inside = candidate & (right[0] > 0)
    with_left = _fit([a + b for a, b in zip(left, missing, strict=True)], *fitting) + fit_right - fit_whole
    with_right = fit_left + _fit([a + b for a, b in zip(right, missing, strict=True)], *fitting) - fit_whole
    left_ok = inside & (left[0] + count >= min_size) & (right[0] >= min_size)
    right_ok = inside & (left[0] >= min_size) & (right[0] + count >= min_size)
    to_right = right_ok & (~left_ok | (with_right > with_left))
    unknown_to = np.where(count > 0, np.where(to_right, RIGHT, LEFT), -1).astype(np.int64)
    known_vs_unknown = candidate & (right[0] == 0)
    unknown_to[known_vs_unknown] = -1
    gain = np.where(known_vs_unknown, gain, np.where(to_right, with_right, with_left))
    valid = (known_vs_unknown & valid) | left_ok | right_ok
    return gain, valid, unknown_to


def _slots_of(
    binning: Binning,
    code: Codes,
    nid: Ints,
    active: _Active,
    index: Ints,
    best: _Best,
    coordinates: Coordinates,
    j: int,
    m: int,
    unknown_side: bool,
) -> tuple[Ints, Ints, Ints, Ints]:
    """Which child each row of the nodes split on variable j goes to, and for a categorical variable the
    children's levels as (local node, slot, code) triples (with ``Unknown.SIDE``, the missing code among
    them)."""
    missing = code == binning.missing_code
    none = np.zeros(0, dtype=np.int64)
    if binning.numeric:
        side = np.where(code <= best.cut[nid], LEFT, RIGHT)
        to = best.unknown_to[nid]
        return np.where(missing, np.where(to >= 0, to, MISSING), side), none, none, none
    # The levels' order is recomputed on these nodes' rows alone: the same rows in the same order give the
    # same sums, hence the same order as when the cut was chosen.
    layout = _layout(coordinates)
    here = active.take(index)
    missing_code = _missing_code(binning, unknown_side)
    cells = _cells(binning, code, nid, m, here.level, here.own[j], layout, missing_code)
    start = np.searchsorted(cells.node, cells.node, side="left")
    position = np.arange(cells.node.size) - start
    cell_missing = cells.code == missing_code
    cell_slot = np.where(cell_missing, MISSING, np.where(position <= best.cut[cells.node], LEFT, RIGHT))
    nb = binning.n_codes
    key = cells.node * nb + cells.code
    order = np.argsort(key, kind="stable")
    slots = cell_slot[order][np.searchsorted(key[order], nid * nb + code)]
    known = ~cell_missing
    return slots, cells.node[known], cell_slot[known], cells.code[known]
