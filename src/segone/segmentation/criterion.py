"""What a split is scored on: per customer, the coordinates whose within-segment dispersion a split reduces
(docs/segmentation.md, "The criterion").

Unsupervised: every variable standardised (numbers to mean 0 and standard deviation 1, missing at 0; a
categorical's level indicators, missing included, scaled so that its total dispersion is 1), summarised by
its first ``COMPONENTS`` principal components; a split on variable j is scored on those components plus j's
own coordinates. Supervised: the target (numbers as they are, yes/no as 0/1), weighted by whether it is
known."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from segone.segmentation.binning import Binning, Codes, Floats

COMPONENTS = int(os.environ.get("SEGONE_K", 8))
_CHUNK = 65_536


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
    own: list[Floats | None] = []
    gini_scale: list[float] = []
    level_shares: list[Floats | None] = []
    for binning, code, values in zip(binnings, codes, numbers, strict=True):
        if binning.numeric:
            assert values is not None
            own.append(standardised_numbers(values))
            gini_scale.append(0.0)
            level_shares.append(None)
            continue
        shares = np.bincount(code, minlength=binning.n_codes) / max(n, 1)
        gini = float(np.sum(shares * (1.0 - shares)))
        own.append(None)
        gini_scale.append(1.0 / gini if gini > 0 else 0.0)
        level_shares.append(shares)
    columns = _column_layout(binnings, own, level_shares)
    q = columns[-1][1] if columns else 0
    gram = np.zeros((q, q))
    total = np.zeros(q)
    for start in range(0, n, _CHUNK):
        block = _block(start, min(n, start + _CHUNK), binnings, codes, own, gini_scale, columns, q)
        gram += block.T @ block
        total += block.sum(axis=0)
    k = min(COMPONENTS, q)
    if n == 0 or q == 0:
        return Coordinates(np.ones(n), np.zeros((0, n)), own, gini_scale, 1.0)
    mean = total / n
    covariance = gram / n - np.outer(mean, mean)
    eigenvalues, eigenvectors = np.linalg.eigh(covariance)
    order = np.argsort(-eigenvalues, kind="stable")[:k]
    vectors = eigenvectors[:, order]
    # An eigenvector's sign is arbitrary; fixing it keeps categorical levels ordered the same way every build.
    signs = np.sign(vectors[np.argmax(np.abs(vectors), axis=0), np.arange(k)])
    vectors = vectors * np.where(signs == 0, 1.0, signs)
    shared = np.empty((k, n))
    for start in range(0, n, _CHUNK):
        stop = min(n, start + _CHUNK)
        block = _block(start, stop, binnings, codes, own, gini_scale, columns, q)
        shared[:, start:stop] = ((block - mean) @ vectors).T
    trace = float(np.trace(covariance))
    explained = float(np.clip(eigenvalues[order], 0, None).sum() / trace) if trace > 0 else 1.0
    return Coordinates(np.ones(n), shared, own, gini_scale, explained)


def _column_layout(
    binnings: Sequence[Binning], own: Sequence[Floats | None], level_shares: Sequence[Floats | None]
) -> list[tuple[int, int]]:
    layout: list[tuple[int, int]] = []
    at = 0
    for binning, values, shares in zip(binnings, own, level_shares, strict=True):
        width = 1 if values is not None else (binning.n_codes if shares is not None else 0)
        layout.append((at, at + width))
        at += width
    return layout


def _block(
    start: int,
    stop: int,
    binnings: Sequence[Binning],
    codes: Sequence[Codes],
    own: Sequence[Floats | None],
    gini_scale: Sequence[float],
    columns: Sequence[tuple[int, int]],
    q: int,
) -> npt.NDArray[np.float64]:
    block = np.zeros((stop - start, q))
    rows = np.arange(stop - start)
    for j, (first, last) in enumerate(columns):
        values = own[j]
        if values is not None:
            block[:, first] = values[start:stop]
        elif last > first and gini_scale[j] > 0:
            # Indicators scaled by 1/sqrt(Gini) carry a total dispersion of 1, like a standardised number.
            block[rows, first + codes[j][start:stop].astype(np.int64)] = np.sqrt(gini_scale[j])
    return block
