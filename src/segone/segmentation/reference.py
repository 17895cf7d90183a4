"""The average customer of a version, kept with it: per variable, how the customers were spread over its
bins or levels at build time (and, for numbers, their mean and standard deviation).

Two questions are answered from it without the build's arrays: how a group of customers differs from the
average customer (``deviations``: the formula of ``Tree.deviations``, so a segment reads the same whether
computed at build time or later), and where one customer stands among all (``standing``: "higher than 97 %
of customers", "only 3 % of customers are").
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from segone.segmentation.binning import Binning, as_numbers
from segone.segmentation.schemas import Deviation, Standing, Variable
from segone.segmentation.tree import UNKNOWN, Tree

Reference = dict[str, dict[str, Any]]


def of_tree(tree: Tree) -> Reference:
    """Every split variable's spread over the tree's customers."""
    found: Reference = {}
    for j, (variable, b) in enumerate(zip(tree.variables, tree.binnings, strict=True)):
        counts = np.bincount(tree.codes[j], minlength=b.n_codes)[: b.n_codes]
        entry: dict[str, Any] = {
            "kind": variable.kind.value,
            "label": variable.label,
            "unit": variable.unit,
            "counts": counts.tolist(),
        }
        numbers = tree.numbers[j]
        if numbers is not None:
            known = numbers[~np.isnan(numbers)]
            entry["edges"] = b.edges.tolist()
            entry["mean"] = float(known.mean()) if known.size else None
            entry["std"] = float(known.std()) if known.size else None
        else:
            entry["levels"] = list(b.levels)
        found[variable.name] = entry
    return found


def _binning(variable: Variable, entry: Mapping[str, Any]) -> Binning:
    return Binning(
        variable, np.asarray(entry.get("edges", []), dtype=np.float64), tuple(entry.get("levels", ()))
    )


def deviations(
    reference: Reference, variables: Sequence[Variable], columns: Mapping[str, npt.NDArray[Any]]
) -> list[Deviation]:
    """How the customers whose values are ``columns`` differ from the version's average customer, largest
    absolute effect first (ties in variable order)."""
    found: list[tuple[float, int, Deviation]] = []
    for j, variable in enumerate(variables):
        entry = reference.get(variable.name)
        if entry is None or variable.name not in columns:
            continue
        b = _binning(variable, entry)
        counts = np.asarray(entry["counts"], dtype=np.float64)
        if b.numeric:
            x = as_numbers(columns[variable.name], variable)
            mine = x[~np.isnan(x)]
            mean, std = entry.get("mean"), entry.get("std")
            if not mine.size or mean is None:
                continue
            value = float(mine.mean())
            effect = (value - mean) / std if std else 0.0
            deviation = Deviation(variable.name, variable.label, effect, value, float(mean))
        else:
            codes = b.encode(columns[variable.name]).astype(np.int64)
            codes = codes[codes < b.n_codes]  # a level the build never saw has no share to compare
            share = np.bincount(codes, minlength=b.n_codes)[: b.n_codes] / max(codes.size, 1)
            ref_share = counts / max(counts.sum(), 1.0)
            diff = share - ref_share
            at = int(np.argmax(np.abs(diff)))
            level = b.levels[at] if at < b.value_codes else UNKNOWN
            deviation = Deviation(
                variable.name, variable.label, float(diff[at]), float(share[at]), float(ref_share[at]), level
            )
        if math.isfinite(deviation.effect):
            found.append((-abs(deviation.effect), j, deviation))
    found.sort(key=lambda item: (item[0], item[1]))
    return [d for _, _, d in found]


# Each variable's coding and the cumulative build-time counts of its known values (0 first), as
# ``binnings_of`` prepares them from a reference: ``standing`` reads a share off in two subtractions, not a
# sum over a thousand bins per variable per customer.
Binnings = Mapping[str, tuple[Binning, list[float]]]


def binnings_of(
    reference: Reference, variables: Sequence[Variable]
) -> dict[str, tuple[Binning, list[float]]]:
    """The coding and cumulative counts of each of ``variables`` the reference describes, for ``standing``
    to reuse."""
    prepared = {}
    for variable in variables:
        entry = reference.get(variable.name)
        if entry is None:
            continue
        b = _binning(variable, entry)
        counts = np.asarray(entry["counts"], dtype=np.float64)[: b.value_codes]
        prepared[variable.name] = (b, np.concatenate(([0.0], np.cumsum(counts))).tolist())
    return prepared


def standing(
    reference: Reference,
    variables: Sequence[Variable],
    row: Mapping[str, Any],
    *,
    binnings: Binnings | None = None,
    limit: int | None = None,
) -> list[Standing]:
    """Where one customer (``row``: variable name to value) stands among the version's customers on each
    variable, the rarest first: for a number the share of customers below (or above) them, for a level the
    share of customers who share it (``Standing``). Missing values say nothing and are left out.
    ``binnings``: ``binnings_of(reference, variables)``, when the caller keeps it; ``limit``: the rarest
    that many only."""
    prepared = binnings_of(reference, variables) if binnings is None else binnings
    # (share, variable's index, code, higher, than): a sheet shows a few of a hundred variables, so only
    # those become ``Standing``s
    found: list[tuple[float, int, int, bool | None, float | None]] = []
    for j, variable in enumerate(variables):
        coded = prepared.get(variable.name)
        if coded is None or variable.name not in row:
            continue
        b, cumulative = coded
        code = b.encode_one(row[variable.name])
        if code >= b.value_codes:
            continue
        total = cumulative[-1]
        if total <= 0:
            continue
        if b.numeric:
            below = cumulative[code] / total
            above = (total - cumulative[code + 1]) / total
            higher = below > above
            than = below if higher else above
            found.append((1.0 - than, j, code, higher, than))
        else:
            found.append(((cumulative[code + 1] - cumulative[code]) / total, j, code, None, None))
    found.sort(key=lambda item: (item[0], item[1]))
    standings = []
    for share, j, code, upper, beyond in found if limit is None else found[:limit]:
        variable = variables[j]
        if upper is None:
            level = prepared[variable.name][0].levels[code]
            standings.append(Standing(variable.name, variable.label, level, share))
        else:
            standings.append(
                Standing(variable.name, variable.label, row[variable.name], share, upper, beyond)
            )
    return standings
