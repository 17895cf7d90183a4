"""Each variable's values as small integer codes, computed once per build: numbers in at most 2,000 quantile
bins, categories and yes/no as their levels sorted as text, and missing as a code of its own. The tree
splits on codes only; the stored edges and levels code new customers the same way (assignment)."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any, cast

import numpy as np
import numpy.typing as npt
import pandas as pd  # type: ignore[import-untyped]

from segone.errors import Invalid
from segone.importing.yes_no import yes_no
from segone.segmentation.schemas import Variable, VariableKind

MAX_BINS = 2000
BOOLEAN_LEVELS = ("no", "yes")

Codes = npt.NDArray[np.uint16]
Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Binning:
    """How one variable is coded. Numeric: value bin ``b`` holds ``edges[b-1] <= x < edges[b]`` (the first
    bin everything below ``edges[0]``, the last everything from ``edges[-1]``). Categorical and boolean: code
    ``i`` is ``levels[i]``. The missing code follows the value codes; a level never seen when the tree was
    built gets the code after it (``unseen_code``), which no split sends anywhere."""

    variable: Variable
    edges: Floats
    levels: tuple[str, ...]

    @cached_property
    def numeric(self) -> bool:
        return self.variable.kind is VariableKind.NUMERIC

    @cached_property
    def value_codes(self) -> int:
        return len(self.edges) + 1 if self.numeric else len(self.levels)

    @property
    def missing_code(self) -> int:
        return self.value_codes

    @property
    def unseen_code(self) -> int:
        return self.value_codes + 1

    @property
    def n_codes(self) -> int:
        """Codes a histogram needs room for: the values and missing (unseen never occurs in a build)."""
        return self.value_codes + 1

    def encode(self, values: npt.NDArray[Any]) -> Codes:
        if self.numeric:
            x = as_numbers(values, self.variable)
            codes = np.searchsorted(self.edges, x, side="right").astype(np.uint16)
            codes[np.isnan(x)] = self.missing_code
            return codes
        indices, texts = dictionary(values, self.variable)
        lookup = {level: code for code, level in enumerate(self.levels)}
        table = np.array(
            [lookup.get(t, self.unseen_code) for t in texts] + [self.missing_code], dtype=np.uint16
        )
        return table[indices]

    def encode_one(self, value: Any) -> int:
        """The code ``encode`` gives one value, without its arrays (one customer's sheet reads a hundred
        variables: ``encode`` per value would take milliseconds)."""
        if self.numeric:
            if value is None:
                return self.missing_code
            try:
                x = float(value)
            except (TypeError, ValueError) as error:
                raise Invalid(
                    f"{self.variable.name} is numeric but has a value that is not a number"
                ) from error
            return self.missing_code if x != x else bisect_right(self._edge_list, x)
        if value is None or (isinstance(value, float | np.floating) and value != value):
            return self.missing_code
        if isinstance(value, bool) and self.variable.kind is VariableKind.BOOLEAN:
            # most of a sheet's variables are traits held or not: no text to make and parse
            return self._codes.get("yes" if value else "no", self.unseen_code)
        text = _text(value)
        if self.variable.kind is VariableKind.BOOLEAN:
            text = _yes_no(text, self.variable)
        if text == "":
            return self.missing_code
        return self._codes.get(text, self.unseen_code)

    @cached_property
    def _edge_list(self) -> list[float]:
        # ``searchsorted(side="right")`` of one value, without numpy's overhead per call
        return cast(list[float], self.edges.tolist())

    @cached_property
    def _codes(self) -> dict[str, int]:
        return {level: code for code, level in enumerate(self.levels)}

    def roundest_edges(self, low: Ints, high: Ints) -> Ints:
        """For each range of edge indices ``low..high`` (inclusive), the index of its roundest edge (the
        lowest of equally round ones). A segment with no customers in bins ``low+1..high`` is cut the same
        way by any of those edges; the roundest reads best ("under 100 days", not "under 18.5 days")."""
        if not low.size:
            return low
        table = self._roundness_table
        span = high - low + 1
        k = np.floor(np.log2(span)).astype(np.int64)
        width = np.left_shift(1, k)
        n = self.edges.size
        best: Ints = np.maximum(table[k, low], table[k, high - width + 1])
        return n - best % (n + 1)

    @cached_property
    def _roundness_table(self) -> npt.NDArray[np.int64]:
        # A sparse table of range maxima over roundness * (n + 1) + (n - index): the maximum is the
        # roundest edge and, among equally round ones, the lowest.
        n = self.edges.size
        key = roundness(self.edges) * (n + 1) + (n - np.arange(n))
        rows = [key]
        width = 1
        while 2 * width <= n:
            previous = rows[-1]
            rows.append(np.r_[np.maximum(previous[:-width], previous[width:]), np.zeros(width, np.int64)])
            width *= 2
        return np.vstack(rows)


def roundness(values: Floats) -> npt.NDArray[np.int64]:
    """How round each number is: 30 for zero, else the largest power p of ten (from -10 to 20) that divides
    it, offset by 10 (so 100 -> 12, 18.5 -> 9, 1/3 -> 0)."""
    result = np.zeros(values.size, dtype=np.int64)
    found = np.zeros(values.size, dtype=bool)
    result[values == 0] = 30
    found |= values == 0
    for power in range(20, -11, -1):
        step = 10.0**power
        multiple = np.round(values / step)
        exact = ~found & (multiple != 0) & (np.abs(multiple * step - values) <= 1e-9 * np.abs(values))
        result[exact] = power + 10
        found |= exact
        if found.all():
            break
    return result


def fit(variable: Variable, values: npt.NDArray[Any]) -> Binning:
    """The coding of ``values``: deterministic, independent of the rows' order."""
    if variable.kind is VariableKind.NUMERIC:
        x = as_numbers(values, variable)
        known = x[~np.isnan(x)]
        return Binning(variable, numeric_edges(known), ())
    if variable.kind is VariableKind.BOOLEAN:
        dictionary(values, variable)  # refuses a value that is not yes/no
        return Binning(variable, np.empty(0), BOOLEAN_LEVELS)
    indices, texts = dictionary(values, variable)
    used = np.unique(indices[indices < len(texts)]) if len(texts) else np.zeros(0, dtype=np.int64)
    levels = tuple(sorted({texts[i] for i in used.tolist()}))
    if len(levels) > 65_000:
        raise Invalid(f"{variable.name} has {len(levels):,} levels; a categorical variable may have 65,000")
    return Binning(variable, np.empty(0), levels)


def numeric_edges(known: Floats) -> Floats:
    """The thresholds between bins: every distinct value its own bin when there are at most 2,000; else about
    equal-count bins, each boundary moved to the widest gap between neighbouring values near its quantile
    (so a bin does not straddle a gap between groups of customers). A threshold is the roundest number
    between the values it separates ("under 100" rather than "under 87.34")."""
    if known.size == 0:
        return np.empty(0)
    distinct, counts = np.unique(known, return_counts=True)
    if distinct.size <= MAX_BINS:
        return round_between(distinct[:-1], distinct[1:])
    cumulative = np.cumsum(counts)
    targets = np.searchsorted(cumulative, known.size * np.arange(1, MAX_BINS) / MAX_BINS, side="left")
    targets = np.unique(np.clip(targets, 0, distinct.size - 2))
    # Boundary i may sit anywhere between the midpoints to its neighbouring targets; it takes the widest gap.
    lows = np.r_[0, (targets[:-1] + targets[1:]) // 2 + 1]
    gaps = np.diff(distinct)
    widest = np.maximum.reduceat(gaps, lows)
    is_widest = gaps == np.repeat(widest, np.diff(np.r_[lows, gaps.size]))
    positions = np.flatnonzero(is_widest)
    best_low = positions[np.searchsorted(positions, lows)]
    return round_between(distinct[best_low], distinct[best_low + 1])


def round_between(below: Floats, above: Floats) -> Floats:
    """For each pair, the roundest number t with below < t <= above (the multiple of the largest power of
    ten that fits), so that "x < t" keeps ``below`` and ``t <= x`` keeps ``above``."""
    result = above.astype(np.float64).copy()
    if not result.size:
        return result
    found = np.zeros(result.size, dtype=bool)
    top = int(np.ceil(np.log10(max(float(np.max(np.abs(np.r_[below, above]))), 1e-12)))) + 1
    for power in range(top, -10, -1):
        step = 10.0**power
        multiple = np.floor(below / step) + 1
        candidate = np.round(multiple * step, max(0, -power))
        # below / step may fall just short of a whole number (4.06 / 0.01 = 405.99…): then one step more.
        candidate = np.where(candidate <= below, np.round((multiple + 1) * step, max(0, -power)), candidate)
        fits = ~found & (candidate > below) & (candidate <= above)
        result[fits] = candidate[fits]
        found |= fits
        if found.all():
            break
    return result


def as_numbers(values: npt.NDArray[Any], variable: Variable) -> Floats:
    """Numbers as float64 with NaN for missing (None, NaN)."""
    array = np.asarray(values)
    if array.dtype.kind in "fiub":
        return array.astype(np.float64)
    try:
        return np.array([np.nan if v is None else float(v) for v in array], dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise Invalid(f"{variable.name} is numeric but has a value that is not a number") from error


def dictionary(values: npt.NDArray[Any], variable: Variable) -> tuple[npt.NDArray[np.int64], list[str]]:
    """Each value's index into a list of distinct texts, ``len(texts)`` where it is missing (None, NaN,
    empty text); hashed once per distinct value (pandas.factorize), not per row. Yes/no variables' texts
    are "no"/"yes" (from bool, 0/1, "true"/"false", "yes"/"no")."""
    array = np.asarray(values)
    indices, distinct = pd.factorize(array, use_na_sentinel=True)
    texts = [_text(v) for v in np.asarray(distinct).tolist()]
    if variable.kind is VariableKind.BOOLEAN:
        texts = [_yes_no(t, variable) for t in texts]
    indices = indices.astype(np.int64)
    missing_index = len(texts)
    blank = [i for i, t in enumerate(texts) if t == ""]
    indices[indices < 0] = missing_index
    if blank:
        indices[np.isin(indices, blank)] = missing_index
    return indices, texts


def _yes_no(text: str, variable: Variable) -> str:
    try:
        said = yes_no(text)
    except ValueError as error:
        raise Invalid(f"{variable.name} is yes/no but has the value {text!r}") from error
    return "" if said is None else "yes" if said else "no"


def _text(value: object) -> str:
    if isinstance(value, bool | np.bool_):
        return "true" if value else "false"
    if isinstance(value, float):
        return "" if value != value else (str(int(value)) if value.is_integer() else repr(value))
    return str(value)


def encode_all(binnings: Sequence[Binning], columns: Sequence[npt.NDArray[Any]]) -> list[Codes]:
    return [b.encode(c) for b, c in zip(binnings, columns, strict=True)]
