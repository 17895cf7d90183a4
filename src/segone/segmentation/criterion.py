"""What a split is scored on: per customer, the coordinates whose within-segment dispersion a split reduces
(docs/segmentation.md, "The criterion").

Unsupervised: every variable standardised (numbers to mean 0 and standard deviation 1, missing at 0; a
categorical's level indicators, missing included, scaled so that its total dispersion is 1), summarised by
its first ``COMPONENTS`` principal components; a split on variable j is scored on those components plus j's
own coordinates. Supervised: the target (numbers as they are, yes/no as 0/1), weighted by whether it is
known."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from segone.segmentation.binning import Binning, Codes, Floats

COMPONENTS = 6


@dataclass(frozen=True)
class Coordinates:
    """``weight`` (n,) counts a customer in the dispersion (0 where a supervised target is missing);
    ``shared`` (k, n) the coordinates every split is scored on; ``own[j]`` variable j's standardised values
    (numeric, missing at 0) or None (categorical: its level shares, scaled by ``gini_scale[j]``)."""

    weight: Floats
    shared: npt.NDArray[np.float64]
    own: list[Floats | None]
    gini_scale: list[float]
    explained: float  # share of the standardised variables' total dispersion the components carry
    supervised: bool = False


def supervised(target: Floats, n_variables: int) -> Coordinates:
    known = ~np.isnan(target)
    return Coordinates(
        weight=known.astype(np.float64),
        shared=np.where(known, target, 0.0)[None, :],
        own=[None] * n_variables,
        gini_scale=[0.0] * n_variables,
        explained=1.0,
        supervised=True,
    )


def standardised_numbers(values: Floats) -> Floats:
    known = ~np.isnan(values)
    if not known.any():
        return np.zeros(values.shape[0])
    mean = float(values[known].mean())
    std = float(values[known].std())
    if std == 0.0:
        return np.zeros(values.shape[0])
    return np.where(known, (values - mean) / std, 0.0)


def unsupervised(
    binnings: Sequence[Binning], codes: Sequence[Codes], numbers: Sequence[Floats | None]
) -> Coordinates:
    n = codes[0].shape[0] if codes else 0
    numeric = [j for j, b in enumerate(binnings) if b.numeric]
    categorical = [j for j, b in enumerate(binnings) if not b.numeric]
    z = np.empty((len(numeric), n))
    for row, j in enumerate(numeric):
        values = numbers[j]
        assert values is not None
        z[row] = standardised_numbers(values)
    own: list[Floats | None] = [None] * len(binnings)
    for row, j in enumerate(numeric):
        own[j] = z[row]
    gini_scale = [0.0] * len(binnings)
    for j in categorical:
        shares = np.bincount(codes[j], minlength=binnings[j].n_codes) / max(n, 1)
        gini = float(np.sum(shares * (1.0 - shares)))
        gini_scale[j] = 1.0 / gini if gini > 0 else 0.0
    if n == 0:
        return Coordinates(np.ones(n), np.zeros((0, n)), own, gini_scale, 1.0)
    # The covariance of the standardised variables (numbers, and each categorical's level indicators scaled
    # by 1/sqrt(Gini)) from sums and joint counts, without building the one-hot matrix.
    widths = [binnings[j].n_codes for j in categorical]
    q = len(numeric) + sum(widths)
    offsets = np.cumsum([len(numeric), *widths])[:-1].tolist()
    scale = [np.sqrt(gini_scale[j]) for j in categorical]
    gram = np.zeros((q, q))
    total = np.zeros(q)
    gram[: len(numeric), : len(numeric)] = z @ z.T
    total[: len(numeric)] = z.sum(axis=1)
    for a, (j, first, width) in enumerate(zip(categorical, offsets, widths, strict=True)):
        code = codes[j].astype(np.int64)
        counts = np.bincount(code, minlength=width).astype(np.float64)
        total[first : first + width] = counts * scale[a]
        gram[first : first + width, first : first + width] = np.diag(counts) * scale[a] ** 2
        for row in range(len(numeric)):
            level_sums = np.bincount(code, z[row], width) * scale[a]
            gram[row, first : first + width] = level_sums
            gram[first : first + width, row] = level_sums
        for b in range(a + 1, len(categorical)):
            other, other_first, other_width = categorical[b], offsets[b], widths[b]
            joint = np.bincount(code * other_width + codes[other], minlength=width * other_width)
            block = joint.reshape(width, other_width) * (scale[a] * scale[b])
            gram[first : first + width, other_first : other_first + other_width] = block
            gram[other_first : other_first + other_width, first : first + width] = block.T
    k = min(COMPONENTS, q)
    mean = total / n
    covariance = gram / n - np.outer(mean, mean)
    eigenvalues, eigenvectors = np.linalg.eigh(covariance)
    order = np.argsort(-eigenvalues, kind="stable")[:k]
    vectors = eigenvectors[:, order]
    # An eigenvector's sign is arbitrary; fixing it keeps categorical levels ordered the same way every build.
    signs = np.sign(vectors[np.argmax(np.abs(vectors), axis=0), np.arange(k)])
    vectors = vectors * np.where(signs == 0, 1.0, signs)
    shared = vectors[: len(numeric)].T @ z
    shared -= (mean @ vectors)[:, None]
    for a, (j, first, width) in enumerate(zip(categorical, offsets, widths, strict=True)):
        lookup = vectors[first : first + width].T * scale[a]  # (k, levels)
        shared += lookup[:, codes[j]]
    trace = float(np.trace(covariance))
    explained = float(np.clip(eigenvalues[order], 0, None).sum() / trace) if trace > 0 else 1.0
    return Coordinates(np.ones(n), shared, own, gini_scale, explained)
