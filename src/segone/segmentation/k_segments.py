"""Which splits a tree of at most K segments keeps (``TreeSettings.max_segments``, docs/segmentation.md,
"The K segments that explain most").

A node's best split does not depend on the other nodes, so every tree of at most K segments the engine
could grow is a part of the full tree that holds its root: a choice of splits, each taken only with its
parent's. Of those, the one whose splits gain most in total is kept — the K segments that explain most.
Growing best first (always splitting the segment whose split gains most, as scikit-learn's
``max_leaf_nodes`` does) is one such choice, and often not the best: a split of small gain can open the
way to large ones below it. The best choice is found exactly by dynamic programming from the leaves up:
for each node, the most its subtree can gain with k segments, for every k up to K, is its own split's gain
plus the best division of k among its children (a max-plus convolution of their tables). Gains are
rounded to about 9 significant digits first, so that sums taken in another row order give the same choice;
among equal totals the fewer segments win, then the more given to the earlier children (the lower node ids
are split first, as in the rest of the tree).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import numpy as np
import numpy.typing as npt

Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]
Mask = npt.NDArray[np.bool_]

# Gains are compared to this many bits of their mantissa (about 9 significant digits), so that sums taken
# in another row order cannot reorder two equal gains.
_BITS = 30


def expanded(parent: Ints, depth: Ints, children: Ints, gain: Floats, max_segments: int) -> Mask:
    """Which nodes of a tree (breadth-first arrays, ``children`` (n, 3) with -1 where absent, ``gain`` of
    each split node) stay split when at most ``max_segments`` leaves are kept, the kept splits gaining
    most in total."""
    n = parent.shape[0]
    split = children.max(axis=1) >= 0
    result = np.zeros(n, dtype=bool)
    if max_segments <= 1 or not split[0]:
        return result
    k_max = max_segments
    value = rounded(np.where(split, gain, 0.0))
    # best[v][k]: the most v's subtree gains with k segments (-inf where k cannot be reached; index 0 unused);
    # shares[v]: for each merge of v's children, how many segments went to the part on the left.
    best: dict[int, Floats] = {}
    shares: dict[int, list[Ints]] = {}
    leaf_table = np.array([-np.inf, 0.0])
    for v in range(n - 1, -1, -1):  # children have larger ids than their parent
        if not split[v]:
            best[v] = leaf_table
            continue
        kids = [int(c) for c in children[v] if c >= 0]
        table = best.pop(kids[0])
        steps: list[Ints] = []
        for kid in kids[1:]:
            table, share = _merge(table, best.pop(kid), k_max)
            steps.append(share)
        table = table + value[v]
        table[1] = 0.0  # v itself as one segment
        best[v] = table
        shares[v] = steps
    root = best[0]
    chosen = int(np.argmax(root[: k_max + 1]))  # the first of equal totals: the fewest segments
    stack = [(0, chosen)]
    while stack:
        v, k = stack.pop()
        if k <= 1:
            continue
        result[v] = True
        kids = [int(c) for c in children[v] if c >= 0]
        for kid, share in zip(kids[:0:-1], shares[v][::-1], strict=True):
            left = int(share[k])
            stack.append((kid, k - left))
            k = left
        stack.append((kids[0], k))
    return result


def _merge(left: Floats, right: Floats, k_max: int) -> tuple[Floats, Ints]:
    """The max-plus convolution of two tables (index = segments), capped at ``k_max``, and for each total
    how many segments the left part takes (the most among equal sums)."""
    size = min(left.size + right.size - 1, k_max + 1)
    merged = np.full(size, -np.inf)
    share = np.zeros(size, dtype=np.int64)
    # One pass per entry of the shorter table: the cost of all merges stays near n * K.
    if left.size <= right.size:
        for i in range(1, left.size):
            if left[i] == -np.inf:
                continue
            end = min(i + right.size, size)
            candidate = left[i] + right[: end - i]
            better = candidate >= merged[i:end]  # equal sums: the later i, more on the left
            merged[i:end][better] = candidate[better]
            share[i:end][better] = i
    else:
        for j in range(1, right.size):
            if right[j] == -np.inf:
                continue
            end = min(j + left.size, size)
            candidate = left[: end - j] + right[j]
            better = candidate > merged[j:end]  # equal sums: the earlier j, more on the left
            merged[j:end][better] = candidate[better]
            share[j:end][better] = np.arange(end - j)[better]
    return merged, share


def rounded(gain: Floats) -> Floats:
    mantissa, exponent = np.frexp(gain)
    return np.ldexp(np.round(mantissa * 2.0**_BITS) / 2.0**_BITS, exponent)


def levels(depth: Ints) -> Iterator[tuple[int, int]]:
    """The node ids of each level below the root as (first, end) ranges (ids are breadth-first)."""
    bounds = np.searchsorted(depth, np.arange(1, int(depth.max()) + 2)).tolist()
    return itertools.pairwise(bounds)
