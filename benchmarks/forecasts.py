"""What one customer's forecast costs: the refresh's covariance, the intervals, the forecast page.

    .venv/bin/python benchmarks/forecasts.py [--customers 100000] [--seed 20261207] [--repeats 5]

Generates ``--customers`` customers from the Pareto/NBD process (the CDNOW estimates of Fader, Hardie & Lee
2005: r=0.55, alpha=10.58, s=0.61, beta=11.67; ages up to 78 weeks, recorded to the day) with spend from the
Gamma-Gamma model, then measures:

1. the Pareto/NBD fit as the refresh runs it: without standard errors, with the covariance from the last
   Newton step's Hessian (what the refresh does), and with central differences at the optimum (what it
   did before): objective evaluations over all rows (a count, which a busy machine does not change) and
   CPU seconds (the best of ``--repeats``);
2. one customer's 90% intervals with CLV (``predictions.customer_intervals``) for Pareto/NBD and BG/NBD at
   200, 500 and 1,000 draws: CPU per customer, and how much the interval's ends move from seed to seed;
3. the forecast page's computation for a customer with two years of purchases: the intervals as the
   service draws them, P(alive) over time, and the page's layout.

CPU times are process times with one BLAS thread, so that the figures compare on a shared machine.
"""

from __future__ import annotations

import argparse
import os

# Before NumPy loads: one BLAS thread, so that process times are one CPU's and compare on a shared machine.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import time
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import numpy as np
from common import machine

from segone.behaviour import forecasts, scores
from segone.behaviour.btyd import bgnbd, fitting, gammagamma, paretonbd, predictions
from segone.behaviour.schemas import AliveHistory, BehaviourOut, ScoresOut, TimelinePoint
from segone.web import behaviour_panel


def simulate(n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    rate = rng.gamma(0.55, 1 / 10.58, n)
    death = rng.gamma(0.61, 1 / 11.67, n)
    age = np.round(rng.uniform(1, 78, n) * 7) / 7
    active = np.minimum(rng.exponential(1 / death), age)
    x = rng.poisson(rate * active).astype(float)
    last = np.array([rng.uniform(0, a, int(k)).max() if k else 0.0 for a, k in zip(active, x, strict=True)])
    t_x = np.minimum(np.round(last * 7) / 7, age)
    x = np.where(t_x == 0, 0.0, x)  # a repeat purchase on the first day is the same transaction
    money = np.where(x > 0, rng.gamma(6.25, 1 / (15.44 / 3.74) * 4, n), 0.0)
    return x, t_x, age, money


def cpu(call: Callable[[], Any], repeats: int) -> tuple[float, Any]:
    """The best process time of ``repeats`` calls, and the last result."""
    best, out = float("inf"), None
    for _ in range(repeats):
        started = time.process_time()
        out = call()
        best = min(best, time.process_time() - started)
    return best, out


def fit_cost(x: np.ndarray, t_x: np.ndarray, age: np.ndarray, repeats: int) -> None:
    counted = {"gradients": 0}
    objective = paretonbd._objective
    rows = fitting.aggregate(fitting.customers(x, t_x, age)).x.shape[0]

    def counting(data: Any) -> fitting.Objective:
        inner = objective(data)

        def evaluate(theta: np.ndarray, grad: bool) -> tuple[float, np.ndarray]:
            if grad and data.w.shape[0] == rows:
                counted["gradients"] += 1
            return inner(theta, grad)

        return evaluate

    reused = fitting._reused_covariance
    modes = {
        "no standard errors": (False, reused),
        "last Newton Hessian": (True, reused),
        "central differences": (True, lambda optimum: None),
    }
    print(f"Pareto/NBD fit, {x.shape[0]:,} customers ({rows:,} distinct rows):")
    paretonbd._objective = counting  # type: ignore[assignment]
    try:
        for name, (errors, reuse) in modes.items():
            fitting._reused_covariance = reuse  # type: ignore[assignment]
            counted["gradients"] = 0
            seconds, fit = cpu(
                lambda errors=errors: paretonbd.fit(x, t_x, age, standard_errors=errors), repeats
            )
            per_fit = counted["gradients"] // repeats
            se = fit.standard_errors
            shown = "" if se is None else ", se " + ", ".join(f"{k} {v:.5g}" for k, v in se.items())
            print(f"  {name:<20} {per_fit:3d} gradients over all rows, {seconds:5.2f} s CPU{shown}")
    finally:
        paretonbd._objective = objective  # type: ignore[assignment]
        fitting._reused_covariance = reused  # type: ignore[assignment]


def interval_cost(fits: dict[str, Any], spend: Any, repeats: int) -> None:
    discounting = predictions.Discounting(periods=13, rate=scores.period_rate(0.1, 4.0), period_length=4.0)
    print("One customer's 90% intervals with CLV (x=3, t_x=20, T=30 weeks, $30 a repeat purchase):")
    for name, fit in fits.items():
        for draws in (200, 500, 1000):

            def one(seed: int = 0, fit: Any = fit, draws: int = draws) -> predictions.Intervals:
                return predictions.customer_intervals(
                    fit,
                    3,
                    20.0,
                    30.0,
                    horizon=52.0,
                    draws=draws,
                    spend=spend,
                    monetary_value=30.0,
                    discounting=discounting,
                    seed=seed,
                )

            seconds, _ = cpu(one, repeats * 4)
            ends = np.array([[i.lower["p_alive"][0], i.upper["p_alive"][0]] for i in map(one, range(20))])
            low, high = ends.std(axis=0) * 100
            print(
                f"  {name:<10} {draws:5d} draws: {seconds * 1000:6.1f} ms CPU; the P(alive) interval's ends "
                f"move by {low:.2f} and {high:.2f} points (standard deviation over 20 seeds)"
            )


def page_cost(fit: Any, spend: Any, repeats: int) -> None:
    models = {
        "pareto_nbd": scores._describe(fit, ("r", "alpha", "s", "beta")),
        "gamma_gamma": scores._describe(spend, ("p", "q", "gamma")),
    }
    first, as_of = date(2023, 1, 2), date(2024, 12, 30)
    days = [first + timedelta(days=36 * k) for k in range(20)]
    timeline = [TimelinePoint(day=day, value=30.0, purchases=1) for day in days]
    who = forecasts.customer(
        first=first, last=days[-1], as_of=as_of, repeat_purchases=19, expected_value=30.5, models=models
    )
    n = repeats * 10
    draw, found = cpu(
        lambda: forecasts.intervals(
            who, models=models, scorer="pareto_nbd", level=0.9, horizon_weeks=52, annual_discount_rate=0.1
        ),
        n,
    )
    history_seconds, points = cpu(
        lambda: forecasts.alive_history(
            models=models, scorer="pareto_nbd", first=first, as_of=as_of, purchases=20, timeline=timeline
        ),
        n,
    )
    behaviour = BehaviourOut(
        customer_id=1,
        currency="USD",
        as_of=as_of,
        refreshed_at=None,
        profile=None,
        timeline=timeline,
        reading=None,
        scores=ScoresOut(
            model="Pareto/NBD",
            p_alive=0.8,
            expected_purchases=5.0,
            expected_value=30.5,
            value_population_mean=None,
            value_population_weight=None,
            clv=140.0,
            horizon_weeks=52,
            annual_discount_rate=0.1,
            intervals=found,
        ),
    )
    history = AliveHistory(customer_id=1, model="Pareto/NBD", as_of=as_of, points=points)
    layout, _ = cpu(lambda: behaviour_panel.forecast(behaviour, history), n)
    total = draw + history_seconds + layout
    print(
        f"The forecast page's computation (20 purchase days over two years): intervals "
        f"({forecasts.DRAWS} draws) {draw * 1000:.2f} ms, P(alive) over time ({len(points)} points) "
        f"{history_seconds * 1000:.2f} ms, layout {layout * 1000:.2f} ms: {total * 1000:.2f} ms CPU"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=20261207)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    print(f"machine: {machine()}")
    x, t_x, age, money = simulate(args.customers, args.seed)
    fit_cost(x, t_x, age, args.repeats)
    fits = {"Pareto/NBD": paretonbd.fit(x, t_x, age), "BG/NBD": bgnbd.fit(x, t_x, age)}
    spend = gammagamma.fit(x[x > 0], money[x > 0])
    interval_cost(fits, spend, args.repeats)
    page_cost(fits["Pareto/NBD"], spend, args.repeats)


if __name__ == "__main__":
    main()
