"""How well a purchase model predicts a holdout period: totals, error, by frequency, cumulative repeat
purchases. Pareto/NBD (the one that scores the customers, ``scores``), BG/NBD (which screens for it) and
MBG/NBD can be evaluated, one or all of them on the same split (``compare``: the best first).

Fit on the calibration summary (``rfm_summary``), predict each customer's repeat purchases in the holdout
(``expected_purchases``) and compare with ``holdout_counts``; the weekly cumulative curve is that of
Fader, Hardie & Lee (2005): predicted = sum over customers of ``E[X(t)]`` from their first purchase.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, NamedTuple

import numpy as np
from ibis.expr.types import Table

from segone.accounts.schemas import Actor, Permission
from segone.accounts.service import require
from segone.analytics import backend
from segone.behaviour import metrics
from segone.errors import Invalid

TOP_BUCKET = 7


class Model(NamedTuple):
    """What evaluating a purchase model needs of it: its parameters' names, how to fit it, how to predict."""

    parameters: tuple[str, ...]
    fit: Callable[..., Any]
    expected_purchases: Callable[..., Any]
    expected_purchases_new: Callable[..., Any]


def _models() -> dict[str, Model]:
    from segone.behaviour.btyd import bgnbd, mbgnbd, paretonbd

    return {
        "pareto-nbd": Model(
            ("r", "alpha", "s", "beta"),
            paretonbd.fit,
            paretonbd.expected_purchases,
            paretonbd.expected_purchases_new,
        ),
        "bgnbd": Model(
            ("r", "alpha", "a", "b"),
            bgnbd.fit,
            bgnbd.expected_purchases,
            bgnbd.expected_purchases_new,
        ),
        "mbgnbd": Model(
            ("r", "alpha", "a", "b"),
            mbgnbd.fit,
            mbgnbd.expected_purchases,
            mbgnbd.expected_purchases_new,
        ),
    }


MODELS = ("pareto-nbd", "bgnbd", "mbgnbd")
MODEL_LABELS = {"pareto-nbd": "Pareto/NBD", "bgnbd": "BG/NBD", "mbgnbd": "MBG/NBD"}


@dataclass(frozen=True)
class Evaluation:
    model: str
    calibration_end: date
    holdout_end: date
    time_unit: str
    n_customers: int
    parameters: dict[str, float]
    actual_total: float
    predicted_total: float
    mean_absolute_error: float
    root_mean_squared_error: float
    log_likelihood: float  # of the calibration period, at the fitted parameters
    tracking_error: float  # mean |predicted - actual| cumulative repeat purchases over the holdout's weeks
    by_frequency: list[dict[str, Any]] = field(default_factory=list)
    cumulative: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "calibration_end": self.calibration_end.isoformat(),
            "holdout_end": self.holdout_end.isoformat(),
            "time_unit": self.time_unit,
            "n_customers": self.n_customers,
            "parameters": self.parameters,
            "actual_total": self.actual_total,
            "predicted_total": self.predicted_total,
            "mean_absolute_error": self.mean_absolute_error,
            "root_mean_squared_error": self.root_mean_squared_error,
            "log_likelihood": self.log_likelihood,
            "tracking_error": self.tracking_error,
            "by_frequency": self.by_frequency,
            "cumulative": self.cumulative,
        }


def default_period(
    events: Table, calibration_end: date | None = None, holdout_end: date | None = None
) -> tuple[date, date]:
    """The calibration and holdout ends, those not given taken from the events' span: the holdout ends
    on the last event's day, the calibration halfway from the first (on CDNOW, and on the demo's moved
    CDNOW, that is the published split: 39 weeks of calibration, 39 of holdout)."""
    if calibration_end is not None and holdout_end is not None:
        return calibration_end, holdout_end
    span = backend.to_arrow(events.aggregate(lo=events.ts.min(), hi=events.ts.max())).to_pylist()[0]
    if span["lo"] is None:
        raise Invalid("There are no events to evaluate a model on.")
    lo, hi = span["lo"].date(), span["hi"].date()
    end = holdout_end or hi
    return calibration_end or lo + timedelta(days=(hi - lo).days // 2), end


def evaluate(
    events: Table,
    calibration_end: date,
    holdout_end: date,
    time_unit: str = "week",
    *,
    model: str = "pareto-nbd",
    actor: Actor,
) -> Evaluation:
    """Fit ``model`` (one of ``MODELS``) up to ``calibration_end``; compare its predictions with the
    holdout to ``holdout_end``."""
    require(actor, Permission.RUN_ANALYTICS)
    if model not in MODELS:
        raise Invalid(f"model must be one of {', '.join(MODELS)}.")
    spec = _models()[model]
    if holdout_end <= calibration_end:
        raise Invalid("The holdout end must be after the calibration end.")
    if time_unit not in metrics.TIME_UNITS:
        raise Invalid(f"time_unit must be one of {', '.join(metrics.TIME_UNITS)}.")
    unit = metrics.TIME_UNITS[time_unit]
    summary = backend.to_arrow(metrics.rfm_summary(events, calibration_end, time_unit)).to_pydict()
    holdout = backend.to_arrow(
        metrics.holdout_counts(events, calibration_end, holdout_end, time_unit=time_unit)
    ).to_pydict()
    if not summary["customer"]:
        raise Invalid(f"No customer bought anything up to {calibration_end.isoformat()}.")
    x = np.asarray(summary["frequency"], dtype=np.float64)
    t_x = np.asarray(summary["recency"], dtype=np.float64)
    T = np.asarray(summary["T"], dtype=np.float64)
    try:
        result = spec.fit(x, t_x, T, standard_errors=False)
    except ValueError as exc:
        raise Invalid(f"Cannot fit {model}: {exc}.") from None
    params = result.params
    counts = dict(zip(holdout["customer"], holdout["frequency_holdout"], strict=True))
    actual = np.asarray([float(counts.get(c, 0)) for c in summary["customer"]], dtype=np.float64)
    horizon = (holdout_end - calibration_end).days / unit
    predicted = spec.expected_purchases(params, horizon, x, t_x, T)

    buckets = np.minimum(x, TOP_BUCKET).astype(int)
    by_frequency = []
    for bucket in range(TOP_BUCKET + 1):
        chosen = buckets == bucket
        n = int(chosen.sum())
        by_frequency.append(
            {
                "frequency": f"{bucket}+" if bucket == TOP_BUCKET else str(bucket),
                "customers": n,
                "actual": float(actual[chosen].mean()) if n else 0.0,
                "predicted": float(predicted[chosen].mean()) if n else 0.0,
            }
        )
    cumulative = _cumulative(
        events, lambda t: spec.expected_purchases_new(params, t), calibration_end, holdout_end, unit
    )
    tracked = [abs(row["predicted"] - row["actual"]) for row in cumulative if row["holdout"]]
    return Evaluation(
        model=model,
        calibration_end=calibration_end,
        holdout_end=holdout_end,
        time_unit=time_unit,
        n_customers=len(x),
        parameters={name: float(value) for name, value in zip(spec.parameters, params.values(), strict=True)},
        actual_total=float(actual.sum()),
        predicted_total=float(predicted.sum()),
        mean_absolute_error=float(np.abs(actual - predicted).mean()),
        root_mean_squared_error=float(np.sqrt(np.square(actual - predicted).mean())),
        log_likelihood=float(result.log_likelihood),
        tracking_error=float(np.mean(tracked)) if tracked else 0.0,
        by_frequency=by_frequency,
        cumulative=cumulative,
    )


def compare(
    events: Table, calibration_end: date, holdout_end: date, time_unit: str = "week", *, actor: Actor
) -> list[Evaluation]:
    """Every model of ``MODELS`` evaluated on the same split, the best first: by the per-customer mean
    absolute error of holdout repeat purchases, then by the root mean squared error (the measures of
    docs/user-guide.md, "Which model when")."""
    found = [
        evaluate(events, calibration_end, holdout_end, time_unit, model=model, actor=actor)
        for model in MODELS
    ]
    return sorted(found, key=lambda e: (e.mean_absolute_error, e.root_mean_squared_error, e.model))


def _cumulative(
    events: Table,
    expected_new: Callable[[Any], Any],
    calibration_end: date,
    holdout_end: date,
    unit: float,
) -> list[dict[str, Any]]:
    """Weekly cumulative repeat transactions of the calibration customers, actual and predicted."""
    tx = metrics.transactions(metrics.until(events, holdout_end))
    days = backend.to_arrow(tx.select("customer", "day")).to_pydict()
    firsts: dict[str, date] = {}
    for customer, day in zip(days["customer"], days["day"], strict=True):
        if customer not in firsts or day < firsts[customer]:
            firsts[customer] = day
    firsts = {c: d for c, d in firsts.items() if d <= calibration_end}
    if not firsts:
        return []
    start = min(firsts.values())
    repeats = sorted(
        day
        for customer, day in zip(days["customer"], days["day"], strict=True)
        if customer in firsts and day > firsts[customer]
    )
    first_offsets = np.asarray([(d - start).days for d in firsts.values()], dtype=np.int64)
    ends = []
    end = start + timedelta(days=6)
    while end < holdout_end:
        ends.append(end)
        end += timedelta(days=7)
    ends.append(holdout_end)
    needed = sorted({(e - start).days - int(o) for e in ends for o in set(first_offsets.tolist())})
    needed = [n for n in needed if n > 0]
    expected = dict(zip(needed, expected_new(np.asarray(needed) / unit), strict=True))
    out = []
    position = 0
    for week, end in enumerate(ends, start=1):
        while position < len(repeats) and repeats[position] <= end:
            position += 1
        elapsed = (end - start).days - first_offsets
        predicted = sum(float(expected[int(e)]) for e in elapsed if e > 0)
        out.append(
            {
                "week": week,
                "end": end.isoformat(),
                "actual": position,
                "predicted": predicted,
                "holdout": end > calibration_end,
            }
        )
    return out
