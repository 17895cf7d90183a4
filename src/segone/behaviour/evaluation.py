"""How well a purchase model predicts a holdout period: totals, error, by frequency, cumulative and weekly
repeat purchases, and the model's P(alive) by frequency and time since the last purchase. Pareto/NBD (the
default scorer of the customers, ``scores``), BG/NBD (which screens for it) and MBG/NBD can be evaluated,
one or all of them on the same split (``compare``: the best first, ``why_best`` says why).

Fit on the calibration summary (``rfm_summary``), predict each customer's repeat purchases in the holdout
(``expected_purchases``) and compare with ``holdout_counts``; the weekly cumulative curve is that of
Fader, Hardie & Lee (2005): predicted = sum over customers of ``E[X(t)]`` from their first purchase.
The engine is read once per split (``_split``), however many models are evaluated on it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any, NamedTuple

import ibis
import numpy as np
from ibis.expr.types import Table

from segone.accounts.schemas import Actor, Permission
from segone.accounts.service import require
from segone.analytics import backend
from segone.behaviour import metrics
from segone.errors import Invalid

TOP_BUCKET = 7
MATRIX_TOP_FREQUENCY = 10  # the P(alive) matrix's rows: 0 to 10 repeat purchases
MATRIX_COLUMNS = 10  # about this many columns of time since the last purchase
YOUNGEST = 0.5  # a customer whose first purchase is on the calibration end is half a day old (as scores)
ALL = "all"


class Model(NamedTuple):
    """What evaluating a purchase model needs of it: its parameters' names, how to fit it, how to predict."""

    parameters: tuple[str, ...]
    fit: Callable[..., Any]
    expected_purchases: Callable[..., Any]
    expected_purchases_new: Callable[..., Any]
    p_alive: Callable[..., Any]


def _models() -> dict[str, Model]:
    from segone.behaviour.btyd import bgnbd, mbgnbd, paretonbd

    return {
        "pareto-nbd": Model(
            ("r", "alpha", "s", "beta"),
            paretonbd.fit,
            paretonbd.expected_purchases,
            paretonbd.expected_purchases_new,
            paretonbd.p_alive,
        ),
        "bgnbd": Model(
            ("r", "alpha", "a", "b"),
            bgnbd.fit,
            bgnbd.expected_purchases,
            bgnbd.expected_purchases_new,
            bgnbd.p_alive,
        ),
        "mbgnbd": Model(
            ("r", "alpha", "a", "b"),
            mbgnbd.fit,
            mbgnbd.expected_purchases,
            mbgnbd.expected_purchases_new,
            mbgnbd.p_alive,
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
    # Each week's repeat purchases (the cumulative's differences); the last week may be shorter.
    weekly: list[dict[str, Any]] = field(default_factory=list)
    # P(alive) at the calibration end by frequency (rows) and time since the last purchase (columns).
    alive_matrix: dict[str, Any] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return MODEL_LABELS[self.model]

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
            "weekly": self.weekly,
            "alive_matrix": self.alive_matrix,
        }


@dataclass(frozen=True)
class Report:
    """One model evaluated, or all of them compared (``asked`` is ``all``): ``evaluations`` best first."""

    asked: str
    evaluations: list[Evaluation]

    @property
    def compared(self) -> bool:
        return self.asked == ALL

    @property
    def winner(self) -> Evaluation:
        return self.evaluations[0]

    @property
    def reason(self) -> str | None:
        return why_best(self.evaluations) if self.compared else None

    def as_dict(self) -> dict[str, Any]:
        first = self.evaluations[0]
        return {
            "model": self.asked,
            "winner": first.model if self.compared else None,
            "reason": self.reason,
            "calibration_end": first.calibration_end.isoformat(),
            "holdout_end": first.holdout_end.isoformat(),
            "time_unit": first.time_unit,
            "models": [e.as_dict() for e in self.evaluations],
        }


def default_period(
    events: Table, calibration_end: date | None = None, holdout_end: date | None = None
) -> tuple[date, date]:
    """The calibration and holdout ends, those not given taken from the events' span: the holdout ends
    on the last event's day, the calibration halfway from the first (on CDNOW, and on the demo's moved
    CDNOW, that is the published split: 39 weeks of calibration, 39 of holdout)."""
    if calibration_end is not None and holdout_end is not None:
        return calibration_end, holdout_end
    lo, hi = span(events)
    end = holdout_end or hi
    return calibration_end or lo + timedelta(days=(hi - lo).days // 2), end


def span(events: Table) -> tuple[date, date]:
    """The days of the first and the last event (UTC); ``Invalid`` without any."""
    found = backend.to_arrow(events.aggregate(lo=events.ts.min(), hi=events.ts.max())).to_pylist()[0]
    if found["lo"] is None:
        raise Invalid("There are no events to evaluate a model on.")
    return metrics.day_of(found["lo"]), metrics.day_of(found["hi"])


def evaluate(
    events: Table,
    calibration_end: date,
    holdout_end: date,
    time_unit: str = "week",
    *,
    model: str = "pareto-nbd",
    actor: Actor,
    by: str = "customer",
) -> Evaluation:
    """Fit ``model`` (one of ``MODELS``) up to ``calibration_end``; compare its predictions with the
    holdout to ``holdout_end``. ``by`` is the events' customer column."""
    require(actor, Permission.RUN_ANALYTICS)
    if model not in MODELS:
        raise Invalid(f"model must be one of {', '.join(MODELS)}.")
    return _evaluate(_split(events, calibration_end, holdout_end, time_unit, by), model)


def compare(
    events: Table,
    calibration_end: date,
    holdout_end: date,
    time_unit: str = "week",
    *,
    actor: Actor,
    by: str = "customer",
) -> list[Evaluation]:
    """Every model of ``MODELS`` evaluated on the same split, the best first: by the per-customer mean
    absolute error of holdout repeat purchases, then by the root mean squared error (docs/behaviour.md,
    "How a model is chosen")."""
    require(actor, Permission.RUN_ANALYTICS)
    split = _split(events, calibration_end, holdout_end, time_unit, by)
    return rank([_evaluate(split, model) for model in MODELS])


def rank(evaluations: list[Evaluation]) -> list[Evaluation]:
    """The best first: the lowest mean absolute error, then the lowest root mean squared error."""
    return sorted(evaluations, key=lambda e: (e.mean_absolute_error, e.root_mean_squared_error, e.model))


def why_best(ranked: list[Evaluation]) -> str:
    """Why the first of ``ranked`` (``compare``'s order) won, in words with the numbers."""
    if len(ranked) < 2:
        return "the only model evaluated"
    best, second = ranked[0], ranked[1]
    if best.mean_absolute_error < second.mean_absolute_error:
        return (
            f"lowest MAE: {best.mean_absolute_error:.4f} repeat purchases per customer, against "
            f"{second.mean_absolute_error:.4f} for {second.label}"
        )
    return (
        f"lowest RMSE at the same MAE as {second.label} ({best.mean_absolute_error:.4f}): "
        f"{best.root_mean_squared_error:.4f} against {second.root_mean_squared_error:.4f}"
    )


def evaluate_dataset(
    *,
    actor: Actor,
    data_dir: Path,
    analytics_url: str,
    model: str,
    calibration_end: date | None = None,
    holdout_end: date | None = None,
    time_unit: str = "week",
) -> Report:
    """``model`` (or ``all``) evaluated on the events dataset: the split's ends not given come from the
    events' span (``default_period``). No events, a bad split or a model that cannot be fitted is
    ``Invalid``."""
    require(actor, Permission.RUN_ANALYTICS)
    from segone.behaviour import ingest

    if model != ALL and model not in MODELS:
        raise Invalid(f"model must be {ALL} or one of {', '.join(MODELS)}.")
    dataset = ingest.dataset_of(data_dir)
    if not dataset.files():
        raise Invalid(f"There are no events in {dataset.directory} to evaluate a model on.")
    con = backend.connect(analytics_url, data_dir)
    try:
        events = dataset.read(con)
        first, last = span(events)
        start, end = default_period(events, calibration_end, holdout_end)
        if end > last:
            raise Invalid(
                f"The holdout end {end.isoformat()} is after the last event ({last.isoformat()}): the "
                "holdout would count days that have not been recorded."
            )
        if start < first:
            raise Invalid(
                f"The calibration end {start.isoformat()} is before the first event ({first.isoformat()})."
            )
        if model == ALL:
            ranked = compare(events, start, end, time_unit, actor=actor)
        else:
            ranked = [evaluate(events, start, end, time_unit, model=model, actor=actor)]
    finally:
        con.disconnect()
    return Report(model, ranked)


# --- internals ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Split:
    """What every model's evaluation on one split reads from the engine, read once."""

    calibration_end: date
    holdout_end: date
    time_unit: str
    unit: float  # days per time unit
    x: np.ndarray
    t_x: np.ndarray
    T: np.ndarray
    actual: np.ndarray  # holdout repeat purchases, per customer in the summary's order
    ends: list[date]  # the last day of each week from the first purchase to the holdout end
    end_offsets: np.ndarray  # days from the first purchase to each end
    first_offsets: np.ndarray  # distinct days (from the first purchase) of the customers' first purchases
    first_counts: np.ndarray  # customers whose first purchase was on each of those days
    repeats_by_end: np.ndarray  # repeat purchases (transactions) of the calibration customers up to each end


def _split(events: Table, calibration_end: date, holdout_end: date, time_unit: str, by: str) -> _Split:
    if holdout_end <= calibration_end:
        raise Invalid("The holdout end must be after the calibration end.")
    if time_unit not in metrics.TIME_UNITS:
        raise Invalid(f"time_unit must be one of {', '.join(metrics.TIME_UNITS)}.")
    unit = metrics.TIME_UNITS[time_unit]
    summary = backend.to_arrow(metrics.rfm_summary(events, calibration_end, time_unit, by=by)).to_pydict()
    holdout = backend.to_arrow(
        metrics.holdout_counts(events, calibration_end, holdout_end, time_unit=time_unit, by=by)
    ).to_pydict()
    if not summary[by]:
        raise Invalid(f"No customer bought anything up to {calibration_end.isoformat()}.")
    counts = dict(zip(holdout[by], holdout["frequency_holdout"], strict=True))
    # T is 0 for a first purchase on the calibration end: the likelihood needs T > 0 (and T >= recency).
    T = np.maximum(np.asarray(summary["T"], dtype=np.float64), YOUNGEST / unit)

    tx = metrics.transactions(metrics.until(events, holdout_end), by=by)
    tx = tx.mutate(_first=tx.day.min().over(ibis.window(group_by=tx[by])))
    tx = tx.filter(tx._first <= calibration_end)
    firsts = backend.to_arrow(
        tx.filter(tx.day == tx._first).group_by("_first").aggregate(_n=ibis._.count()).order_by("_first")
    ).to_pydict()
    repeats = backend.to_arrow(
        tx.filter(tx.day > tx._first).group_by("day").aggregate(_n=ibis._.count()).order_by("day")
    ).to_pydict()
    start = firsts["_first"][0]
    ends = []
    end = start + timedelta(days=6)
    while end < holdout_end:
        ends.append(end)
        end += timedelta(days=7)
    ends.append(holdout_end)
    end_offsets = np.asarray([(e - start).days for e in ends], dtype=np.int64)
    repeat_offsets = np.asarray([(d - start).days for d in repeats["day"]], dtype=np.int64)
    per_day = np.asarray(repeats["_n"], dtype=np.int64)
    up_to = np.searchsorted(repeat_offsets, end_offsets, side="right")
    cumulative = np.concatenate([[0], np.cumsum(per_day)])[up_to]
    return _Split(
        calibration_end=calibration_end,
        holdout_end=holdout_end,
        time_unit=time_unit,
        unit=unit,
        x=np.asarray(summary["frequency"], dtype=np.float64),
        t_x=np.asarray(summary["recency"], dtype=np.float64),
        T=T,
        actual=np.asarray([float(counts.get(c, 0)) for c in summary[by]], dtype=np.float64),
        ends=ends,
        end_offsets=end_offsets,
        first_offsets=np.asarray([(d - start).days for d in firsts["_first"]], dtype=np.int64),
        first_counts=np.asarray(firsts["_n"], dtype=np.int64),
        repeats_by_end=cumulative,
    )


def _evaluate(split: _Split, model: str) -> Evaluation:
    spec = _models()[model]
    x, t_x, T = split.x, split.t_x, split.T
    try:
        result = spec.fit(x, t_x, T, standard_errors=False)
    except ValueError as exc:
        raise Invalid(f"Cannot fit {model}: {exc}.") from None
    params = result.params
    actual = split.actual
    horizon = (split.holdout_end - split.calibration_end).days / split.unit
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
    cumulative = _cumulative(split, lambda t: spec.expected_purchases_new(params, t))
    tracked = [abs(row["predicted"] - row["actual"]) for row in cumulative if row["holdout"]]
    return Evaluation(
        model=model,
        calibration_end=split.calibration_end,
        holdout_end=split.holdout_end,
        time_unit=split.time_unit,
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
        weekly=weekly(cumulative),
        alive_matrix=alive_matrix(lambda *a: spec.p_alive(params, *a), T, split.time_unit),
    )


def _cumulative(split: _Split, expected_new: Callable[[Any], Any]) -> list[dict[str, Any]]:
    """Weekly cumulative repeat transactions of the calibration customers, actual and predicted: the
    predicted sums ``E[X(t)]`` of each customer from their first purchase to the week's end."""
    elapsed = split.end_offsets[:, None] - split.first_offsets[None, :]  # days, week x first-purchase day
    needed = np.unique(elapsed[elapsed > 0])
    expected = np.zeros(int(elapsed.max(initial=0)) + 1)
    if needed.size:
        expected[needed] = np.asarray(expected_new(needed / split.unit), dtype=np.float64)
    predicted = expected[np.maximum(elapsed, 0)] @ split.first_counts.astype(np.float64)
    return [
        {
            "week": week,
            "end": end.isoformat(),
            "actual": int(split.repeats_by_end[i]),
            "predicted": float(predicted[i]),
            "holdout": end > split.calibration_end,
        }
        for i, (week, end) in enumerate(zip(range(1, len(split.ends) + 1), split.ends, strict=True))
    ]


def weekly(cumulative: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each week's repeat purchases, actual and predicted: the differences of the cumulative curve (the
    first week's are its cumulative values). ``days`` is the week's length (the last may be shorter)."""
    out = []
    before_actual, before_predicted, before_end = 0, 0.0, None
    for row in cumulative:
        end = date.fromisoformat(row["end"])
        out.append(
            {
                "week": row["week"],
                "end": row["end"],
                "days": 7 if before_end is None else (end - before_end).days,
                "actual": row["actual"] - before_actual,
                "predicted": row["predicted"] - before_predicted,
                "holdout": row["holdout"],
            }
        )
        before_actual, before_predicted, before_end = row["actual"], row["predicted"], end
    return out


def alive_matrix(p_alive: Callable[..., Any], ages: np.ndarray, time_unit: str) -> dict[str, Any]:
    """P(alive) at the calibration end of a customer with 0 to ``MATRIX_TOP_FREQUENCY`` repeat purchases
    whose last purchase was a given time ago, ``p_alive(x, t_x, T)`` evaluated in one call.

    The customer is as old as the calibration customers' median age ``T`` (time since the first
    purchase); the columns cut ``[0, T)`` into about ``MATRIX_COLUMNS`` intervals of whole units, each
    evaluated at its middle ``g`` (recency ``t_x = T - g``). A customer without repeat purchases has only
    the first one, so the row of frequency 0 is a customer whose only purchase was ``g`` ago (``T = g``).
    """
    age = float(np.median(ages))
    step = max(1, math.ceil(age / MATRIX_COLUMNS))
    columns = []
    lo = 0
    while lo < age:
        hi = min(lo + step, age)
        columns.append({"start": float(lo), "end": round(hi, 2), "at": (lo + hi) / 2})
        lo += step
    frequencies = list(range(MATRIX_TOP_FREQUENCY + 1))
    gap = np.asarray([c["at"] for c in columns], dtype=np.float64)
    x = np.repeat(np.asarray(frequencies, dtype=np.float64), len(columns))
    g = np.tile(gap, len(frequencies))
    once = x == 0
    t_x = np.where(once, 0.0, age - g)
    T = np.where(once, g, age)
    values = np.asarray(p_alive(x, t_x, T), dtype=np.float64).reshape(len(frequencies), len(columns))
    return {
        "time_unit": time_unit,
        "age": round(age, 4),
        "frequencies": frequencies,
        "since_last_purchase": columns,
        "p_alive": [[float(v) for v in row] for row in values],
    }
