"""One customer's forecasts beyond the stored scores, from the last refresh's fits
(``BehaviourRefresh.models``): intervals on the scores and P(alive) over the customer's past.

The refresh keeps each model's parameters with their covariance (``scores._describe``), so nothing is
refitted here: intervals draw parameter vectors around the estimates (``predictions.customer_intervals``,
one customer, vectorised over the draws) and the history evaluates P(alive) with the estimates at many
past days at once. The customer's ``x, t_x, T`` are the refresh's (weeks between calendar days), rebuilt
from the profile; their mean repeat spend is recovered from the stored expected value per purchase, which
is a weighted mean of it and the population's (``gammagamma.expected_value``), so it is the one the refresh
used even when the timeline no longer holds every purchase.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import numpy as np

from segone.behaviour import scores
from segone.behaviour.btyd import bgnbd, paretonbd, predictions
from segone.behaviour.btyd.bgnbd import BGNBDParams
from segone.behaviour.btyd.fitting import FitResult
from segone.behaviour.btyd.gammagamma import GammaGammaParams
from segone.behaviour.btyd.paretonbd import ParetoNBDParams
from segone.behaviour.schemas import AlivePoint, Interval, ScoreIntervals, TimelinePoint
from segone.errors import Invalid

DRAWS = 500
"""Parameter vectors per interval: the ends of a 90% interval of P(alive) move by 0.2 to 0.3 points from one
seed to another on the CDNOW sample's fit (0.03 on 100,000 customers'), under what the page shows, and one
Pareto/NBD customer's intervals take under 2 ms of CPU (1,000 draws: 3 ms; BG/NBD 24 ms at 500:
docs/benchmarks.md, "Forecast intervals")."""
LEVELS = (0.5, 0.99)
HISTORY_POINTS = 100
DAYS_PER_WEEK = 7.0
_PURCHASE_MODELS: dict[str, type[Any]] = {"pareto_nbd": ParetoNBDParams, "bgnbd": BGNBDParams}


@dataclass(frozen=True)
class Customer:
    """A customer as the refresh's models saw them: ``x`` repeat purchase days, ``t_x`` weeks from the first
    to the last, ``T`` weeks from the first to the profile's day, ``money`` the mean value of the repeat
    purchase days (None when unknown)."""

    x: float
    t_x: float
    T: float
    money: float | None


def checked_level(level: float) -> float:
    """The interval level asked for, refused unless between 0.5 and 0.99."""
    low, high = LEVELS
    if not low <= level <= high:
        raise Invalid.of_field(
            "intervals",
            f"The interval level must be between {low} and {high} (0.9 for 90% intervals), not {level:g}.",
        )
    return level


def customer(
    *,
    first: date,
    last: date,
    as_of: date,
    repeat_purchases: int,
    expected_value: float | None,
    models: dict[str, Any],
) -> Customer:
    """The customer's summary in the refresh's units (see the module)."""
    t_x = (last - first).days / DAYS_PER_WEEK
    age = max((as_of - first).days / DAYS_PER_WEEK, scores.YOUNGEST_WEEKS)
    return Customer(
        float(repeat_purchases), t_x, age, _repeat_spend(models, repeat_purchases, expected_value)
    )


def purchase_fit(models: dict[str, Any], scorer: str | None) -> FitResult[Any] | None:
    """The purchase model the refresh scored with (``scorer``, its key in ``models``: the service's
    ``scoring_model`` decides), as a fit with its covariance; None when intervals are not drawn for it."""
    params = _PURCHASE_MODELS.get(scorer) if scorer is not None else None
    return None if scorer is None or params is None or scorer not in models else _fit(models[scorer], params)


def spend_fit(models: dict[str, Any]) -> FitResult[GammaGammaParams] | None:
    return _fit(models["gamma_gamma"], GammaGammaParams) if "gamma_gamma" in models else None


def intervals(
    who: Customer,
    *,
    models: dict[str, Any],
    scorer: str | None,
    level: float,
    horizon_weeks: int,
    annual_discount_rate: float,
    draws: int = DRAWS,
    seed: int = 0,
) -> ScoreIntervals:
    """Central ``level`` intervals of P(alive), expected purchases over the horizon, expected value per
    purchase and CLV (discounted as the refresh does: ``scores.score_customers``), seeded."""
    level = checked_level(level)
    empty = ScoreIntervals(
        level=level, draws=draws, p_alive=None, expected_purchases=None, expected_value=None, clv=None
    )
    fit = purchase_fit(models, scorer)
    if fit is None:
        return empty.model_copy(
            update={
                "note": "Intervals are drawn for Pareto/NBD and BG/NBD scores; the last refresh fitted "
                "neither."
            }
        )
    if not fit.converged:
        return empty.model_copy(
            update={
                "note": "The purchase model's fit did not converge: its parameters are too uncertain to draw."
            }
        )
    if fit.covariance is None:
        return empty.model_copy(
            update={
                "note": "The last refresh kept no covariance for the purchase model (refreshed before "
                "intervals existed, or the data do not pin down every parameter): run a refresh."
            }
        )
    spend = spend_fit(models)
    money = spend is not None and spend.converged and spend.covariance is not None and who.money is not None
    periods = max(1, round(horizon_weeks / 4))
    length = horizon_weeks / periods
    found = predictions.customer_intervals(
        fit,
        who.x,
        who.t_x,
        who.T,
        horizon=float(horizon_weeks),
        level=level,
        draws=draws,
        spend=spend if money else None,
        monetary_value=who.money if money else None,
        discounting=predictions.Discounting(
            periods=periods, rate=scores.period_rate(annual_discount_rate, length), period_length=length
        ),
        seed=seed,
    )

    def interval(name: str) -> Interval | None:
        if name not in found.lower or not np.isfinite(found.lower[name][0]):
            return None
        return Interval(
            low=round(float(found.lower[name][0]), 6), high=round(float(found.upper[name][0]), 6), level=level
        )

    return ScoreIntervals(
        level=level,
        draws=draws,
        p_alive=interval("p_alive"),
        expected_purchases=interval("expected_purchases"),
        expected_value=interval("expected_value"),
        clv=interval("clv"),
        note=None if money else "No spend model with a covariance: no interval on value or CLV.",
    )


def alive_history(
    *,
    models: dict[str, Any],
    scorer: str | None,
    first: date,
    as_of: date,
    purchases: int,
    timeline: list[TimelinePoint],
) -> list[AlivePoint]:
    """P(alive) with the current parameters at each day of a grid (weekly, or at most ``HISTORY_POINTS``
    evenly spaced days) and at each purchase day, from the first purchase day of ``timeline`` to
    ``as_of``, counting only the purchases made by then; empty without a purchase model.

    ``timeline`` holds the most recent purchase days; when it no longer reaches back to ``first``, the
    ``purchases`` before it still count, and the history starts at its first day.
    """
    fit = purchase_fit(models, scorer)
    if fit is None or not timeline:
        return []
    days = [point.day for point in timeline]
    before = purchases - len(days)  # purchase days older than the timeline
    start = days[0]
    span = (as_of - start).days
    step = max(7, -(-span // (HISTORY_POINTS - 1)))  # ceil: at most HISTORY_POINTS grid days
    grid = sorted({*(start + timedelta(days=d) for d in range(0, span + 1, step)), as_of, *days})
    ordinal = np.array([d.toordinal() for d in grid], dtype=np.int64)
    bought = np.array([d.toordinal() for d in days], dtype=np.int64)
    so_far = np.searchsorted(bought, ordinal, side="right")  # purchase days of the timeline up to each day
    last = bought[so_far - 1]
    x = (before + so_far - 1).astype(np.float64)
    t_x = (last - first.toordinal()) / DAYS_PER_WEEK
    age = np.maximum((ordinal - first.toordinal()) / DAYS_PER_WEEK, scores.YOUNGEST_WEEKS)
    model = paretonbd if isinstance(fit.params, ParetoNBDParams) else bgnbd
    alive = model.p_alive(fit.params, x, np.where(x > 0, t_x, 0.0), age)
    purchase_days = set(days)
    return [
        AlivePoint(day=day, p_alive=round(float(p), 6), purchase=day in purchase_days)
        for day, p in zip(grid, alive, strict=True)
    ]


def _fit(described: dict[str, Any], params: type[Any]) -> FitResult[Any]:
    covariance = described.get("covariance")
    return FitResult(
        params=params(**described["params"]),
        log_likelihood=float(described.get("log_likelihood", 0.0)),
        n_customers=int(described.get("customers", 0)),
        seconds=0.0,
        converged=bool(described.get("converged", True)),
        n_starts=0,
        message="stored",
        covariance=None if covariance is None else np.array(covariance, dtype=np.float64),
    )


def _repeat_spend(models: dict[str, Any], x: int, expected_value: float | None) -> float | None:
    """The mean repeat spend behind ``expected_value = p (gamma + x m) / (p x + q - 1)``: ``m``, solved."""
    params = (models.get("gamma_gamma") or {}).get("params")
    if not params or expected_value is None:
        return None
    if x == 0:
        return 0.0  # the population's mean alone: the customer's own plays no part
    p, q, gamma = params["p"], params["q"], params["gamma"]
    return float((expected_value * (p * x + q - 1.0) / p - gamma) / x)
