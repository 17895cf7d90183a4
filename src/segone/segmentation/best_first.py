"""Which splits a tree of at most K segments keeps (``TreeSettings.max_segments``, docs/segmentation.md,
"The K segments that explain most").

A node's best split does not depend on the other nodes, so growing best-first (always splitting the
segment whose split gains most, as scikit-learn's ``max_leaf_nodes`` does) splits the same nodes the same
way as the full level-by-level tree; best-first growth to K leaves is therefore a choice among the full
tree's splits. A split can be taken only after its parent's, so best-first takes them in the order of the
smallest gain on their path from the root (the largest first; ties by node id, breadth-first), as long as
the leaves stay at most K.
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
    each split node) stay split when at most ``max_segments`` leaves are kept."""
    n = parent.shape[0]
    split = children.max(axis=1) >= 0
    result = np.zeros(n, dtype=bool)
    if max_segments <= 1 or not split[0]:
        return result
    priority = _path_minimum(parent, depth, np.where(split, rounded(gain), -np.inf))
    candidates = np.flatnonzero(split)
    order = candidates[np.lexsort((candidates, -priority[candidates]))]
    added = (children[order] >= 0).sum(axis=1) - 1  # a split adds one leaf, or two with an "unknown" child
    budget = max_segments - 1
    taken = int(np.searchsorted(np.cumsum(added), budget, side="right"))
    result[order[:taken]] = True
    left = budget - int(added[:taken].sum())
    if left and taken < order.size:
        # The next split would add two leaves to a tree with room for one: the best two-way split whose
        # parent is split takes that room.
        rest = order[taken:]
        fits = rest[(added[taken:] <= left) & result[parent[rest].clip(0)]]
        result[fits[:1]] = True
    return result


def rounded(gain: Floats) -> Floats:
    mantissa, exponent = np.frexp(gain)
    return np.ldexp(np.round(mantissa * 2.0**_BITS) / 2.0**_BITS, exponent)


def _path_minimum(parent: Ints, depth: Ints, value: Floats) -> Floats:
    """Each node's smallest value on its path from the root (node ids breadth-first: by depth)."""
    result = value.copy()
    for first, last in levels(depth):
        result[first:last] = np.minimum(value[first:last], result[parent[first:last]])
    return result


def levels(depth: Ints) -> Iterator[tuple[int, int]]:
    """The node ids of each level below the root as (first, end) ranges (ids are breadth-first)."""
    bounds = np.searchsorted(depth, np.arange(1, int(depth.max()) + 2)).tolist()
    return itertools.pairwise(bounds)
