"""A purchase model fitted to each group of customers (the segments of a segmentation), compared with one
model for everyone on the same calibration period and holdout.

Each group with at least ``min_customers`` customers who bought in the calibration period, some of them
more than once, gets a fit of its own; a smaller group, or one whose fit fails, keeps the pooled model's
parameters and says so. The comparison is on the customers of the groups only (customers placed in no
group are left out of both sides):

- holdout: the per-customer mean absolute error of repeat purchases, each customer predicted by their
  group's parameters, against the pooled model's on the same customers;
- in-sample: the calibration log-likelihood, and the Bayesian information criterion
  ``BIC = -2 LL + k ln n`` with ``k`` parameters per model fitted (four per group against four), so that
  splitting wins only when it explains more than its extra parameters cost.

Every group is fitted without standard errors (a segment's page shows none), starting from the pooled
optimum (``fitting.maximise``'s ``start``: Newton steps from there, the multi-start search only when they
do not converge): hundreds of groups take seconds (``benchmarks/group_fits.py``).
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
from ibis.expr.types import Table

from segone.accounts.schemas import Actor, Permission
from segone.accounts.service import require
from segone.analytics import backend
from segone.behaviour import metrics
from segone.behaviour.evaluation import MODEL_LABELS, MODELS, _models
from segone.errors import Invalid

MIN_GROUP_CUSTOMERS = 100  # fewer: the estimates of four parameters are noise; the pooled fit is kept
MIN_REPEAT_BUYERS = 10  # no dropout or purchase rate can be told from a group that never bought again
PARAMETERS_PER_MODEL = 4


@dataclass(frozen=True)
class GroupFit:
    """One group's fit (``own`` false: the pooled parameters, for the reason in ``note``) and its holdout."""

    group: int
    customers: int
    repeat_buyers: int
    own: bool
    parameters: dict[str, float]
    log_likelihood: float
    actual: float  # repeat purchases in the holdout, all its customers
    predicted: float
    mean_absolute_error: float
    note: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "group": self.group,
            "customers": self.customers,
            "repeat_buyers": self.repeat_buyers,
            "own_fit": self.own,
            "parameters": self.parameters,
            "log_likelihood": self.log_likelihood,
            "actual": self.actual,
            "predicted": self.predicted,
            "mean_absolute_error": self.mean_absolute_error,
            "note": self.note,
        }


@dataclass(frozen=True)
class GroupFits:
    model: str
    calibration_end: date
    holdout_end: date
    time_unit: str
    customers: int  # in the groups, with a purchase in the calibration period
    left_out: int  # with a purchase, in no group
    pooled: GroupFit  # one fit for all of ``customers``
    groups: list[GroupFit] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def fitted(self) -> int:
        return sum(1 for g in self.groups if g.own)

    @property
    def log_likelihood(self) -> float:
        return sum(g.log_likelihood for g in self.groups)

    @property
    def mean_absolute_error(self) -> float:
        total = sum(g.mean_absolute_error * g.customers for g in self.groups)
        return total / self.customers if self.customers else 0.0

    @property
    def bic(self) -> float:
        return _bic(self.log_likelihood, PARAMETERS_PER_MODEL * max(1, self.fitted), self.customers)

    @property
    def pooled_bic(self) -> float:
        return _bic(self.pooled.log_likelihood, PARAMETERS_PER_MODEL, self.customers)

    @property
    def verdict(self) -> str:
        """Which does better, in words: the measures can disagree, and then it says so."""
        holdout = self.mean_absolute_error < self.pooled.mean_absolute_error
        in_sample = self.bic < self.pooled_bic
        if holdout and in_sample:
            return "A model per segment predicts the holdout better and is worth its extra parameters."
        if not holdout and not in_sample:
            return "One model for everyone does as well: the segments do not buy differently enough."
        if holdout:
            return (
                "A model per segment predicts the holdout better, but its extra parameters cost more than "
                "they explain in the calibration period (BIC): prefer it only with large segments."
            )
        return (
            "A model per segment fits the calibration period better (BIC) but predicts the holdout worse: "
            "the segments' differences did not last."
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "calibration_end": self.calibration_end.isoformat(),
            "holdout_end": self.holdout_end.isoformat(),
            "time_unit": self.time_unit,
            "customers": self.customers,
            "left_out": self.left_out,
            "segments": len(self.groups),
            "fitted": self.fitted,
            "pooled": self.pooled.as_dict() | {"bic": self.pooled_bic},
            "by_segment": {
                "log_likelihood": self.log_likelihood,
                "bic": self.bic,
                "mean_absolute_error": self.mean_absolute_error,
            },
            "verdict": self.verdict,
            "groups": [g.as_dict() for g in self.groups],
            "seconds": self.seconds,
        }


def fit_by_group(
    events: Table,
    groups: Mapping[int, int],
    calibration_end: date,
    holdout_end: date,
    time_unit: str = "week",
    *,
    model: str = "bgnbd",
    min_customers: int = MIN_GROUP_CUSTOMERS,
    actor: Actor,
) -> GroupFits:
    """``model`` (one of ``evaluation.MODELS``) fitted to each group of ``groups`` (customer id -> group)
    up to ``calibration_end`` and compared, on the holdout to ``holdout_end``, with one fit for all."""
    require(actor, Permission.RUN_ANALYTICS)
    if model not in MODELS:
        raise Invalid(f"model must be one of {', '.join(MODELS)}.")
    if holdout_end <= calibration_end:
        raise Invalid("The holdout end must be after the calibration end.")
    if time_unit not in metrics.TIME_UNITS:
        raise Invalid(f"time_unit must be one of {', '.join(metrics.TIME_UNITS)}.")
    if min_customers < 1:
        raise Invalid("min_customers must be 1 or more.")
    started = time.perf_counter()
    spec = _models()[model]
    log_likelihood = _log_likelihood_of(model)
    # In customer order: an engine returns rows in any order, and sums in another order move a fit a little.
    summary = backend.to_arrow(
        metrics.rfm_summary(events, calibration_end, time_unit, by="customer_id")
    ).sort_by("customer_id")
    holdout = backend.to_arrow(
        metrics.holdout_counts(events, calibration_end, holdout_end, time_unit=time_unit, by="customer_id")
    )
    ids = summary.column("customer_id").to_numpy()
    group_of = np.fromiter((groups.get(int(c), -1) for c in ids), dtype=np.int64, count=len(ids))
    placed = group_of >= 0
    if not placed.any():
        raise Invalid(
            f"None of the customers who bought up to {calibration_end.isoformat()} is in a segment."
        )
    counts = dict(
        zip(
            holdout.column("customer_id").to_pylist(),
            holdout.column("frequency_holdout").to_pylist(),
            strict=True,
        )
    )
    x = summary.column("frequency").to_numpy().astype(np.float64)[placed]
    t_x = summary.column("recency").to_numpy().astype(np.float64)[placed]
    T = summary.column("T").to_numpy().astype(np.float64)[placed]
    actual = np.fromiter((float(counts.get(int(c), 0)) for c in ids[placed]), dtype=np.float64)
    group_of = group_of[placed]
    horizon = (holdout_end - calibration_end).days / metrics.TIME_UNITS[time_unit]

    def fitted(rows: np.ndarray, start: Any = None) -> Any:
        try:
            return spec.fit(x[rows], t_x[rows], T[rows], standard_errors=False, start=start).params
        except ValueError as exc:
            raise Invalid(f"Cannot fit {MODEL_LABELS[model]}: {exc}.") from None

    everyone = np.ones(len(x), dtype=bool)
    pooled_params = fitted(everyone)

    def measured(group: int, rows: np.ndarray, params: Any, own: bool, note: str | None) -> GroupFit:
        predicted = spec.expected_purchases(params, horizon, x[rows], t_x[rows], T[rows])
        return GroupFit(
            group=group,
            customers=int(rows.sum()),
            repeat_buyers=int((x[rows] > 0).sum()),
            own=own,
            parameters={
                name: float(value) for name, value in zip(spec.parameters, params.values(), strict=True)
            },
            log_likelihood=float(log_likelihood(params, x[rows], t_x[rows], T[rows]).sum()),
            actual=float(actual[rows].sum()),
            predicted=float(predicted.sum()),
            mean_absolute_error=float(np.abs(actual[rows] - predicted).mean()),
            note=note,
        )

    pooled = measured(-1, everyone, pooled_params, True, None)
    found = []
    for group in np.unique(group_of).tolist():
        rows = group_of == group
        n, repeat = int(rows.sum()), int((x[rows] > 0).sum())
        if n < min_customers:
            found.append(
                measured(group, rows, pooled_params, False, f"{n} customers: fewer than {min_customers}")
            )
            continue
        if repeat < MIN_REPEAT_BUYERS:
            note = f"{repeat} bought more than once: fewer than {MIN_REPEAT_BUYERS}"
            found.append(measured(group, rows, pooled_params, False, note))
            continue
        try:
            # From everyone's optimum, a few Newton steps away: the 32-start search only if that fails.
            own = fitted(rows, pooled_params)
        except Invalid as exc:
            found.append(measured(group, rows, pooled_params, False, exc.message))
            continue
        found.append(measured(group, rows, own, True, None))
    return GroupFits(
        model=model,
        calibration_end=calibration_end,
        holdout_end=holdout_end,
        time_unit=time_unit,
        customers=len(x),
        left_out=int((~placed).sum()),
        pooled=pooled,
        groups=found,
        seconds=time.perf_counter() - started,
    )


def _bic(log_likelihood: float, parameters: int, n: int) -> float:
    return -2.0 * log_likelihood + parameters * math.log(max(n, 1))


def _log_likelihood_of(model: str) -> Any:
    from segone.behaviour.btyd import bgnbd, mbgnbd, paretonbd

    return {"pareto-nbd": paretonbd, "bgnbd": bgnbd, "mbgnbd": mbgnbd}[model].log_likelihood
