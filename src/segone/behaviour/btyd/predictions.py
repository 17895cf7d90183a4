"""Per-customer predictions of a fitted purchase model, and intervals on them from parameter uncertainty.

``predict`` gives, for each customer of a BG/NBD or Pareto/NBD fit: the probability of being alive, the
expected repeat purchases over a horizon, the probability of none in it and, with an expected value per
purchase (Gamma-Gamma), the discounted customer lifetime value over the horizon
(``clv.discounted_purchases``).

The probability of no purchase in ``(T, T+t]`` needs no model-specific formula: having made the same ``x``
purchases, the last at ``t_x``, and none since when observed up to ``T+t`` is the likelihood of
``(x, t_x, T+t)``, so ``P(X(T, T+t) = 0 | x, t_x, T) = L(x, t_x, T+t) / L(x, t_x, T)``.

``intervals`` is a parametric bootstrap: ``draws`` parameter vectors from the asymptotic normal distribution
of the log-parameters (mean the estimate, covariance the inverse observed information, ``FitResult``), which
keeps every draw positive; the predictions of every draw for every customer; their quantiles. The intervals
show how uncertain the predictions are because the parameters are estimated from a finite sample -- not the
customer's own randomness (a customer expected to buy 2.0 times will buy 0, 1, 2, 5 ... times).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from segone.behaviour.btyd import bgnbd, fitting, gammagamma, paretonbd
from segone.behaviour.btyd._special import FloatArray
from segone.behaviour.btyd.bgnbd import BGNBDParams
from segone.behaviour.btyd.clv import discounted_purchases
from segone.behaviour.btyd.fitting import FitResult
from segone.behaviour.btyd.gammagamma import GammaGammaParams
from segone.behaviour.btyd.paretonbd import ParetoNBDParams

PurchaseParams = BGNBDParams | ParetoNBDParams
COLUMNS = ("p_alive", "expected_purchases", "p_no_purchases", "expected_value", "clv")
CHUNK_CELLS = 2_000_000  # draws x customers held at once


@dataclass(frozen=True)
class Discounting:
    """CLV over the horizon in ``periods`` periods of ``period_length`` time units, ``rate`` per period."""

    periods: int
    rate: float
    period_length: float


@dataclass(frozen=True)
class Intervals:
    """``lower`` and ``upper`` per column of ``COLUMNS`` predicted: the central ``level`` interval."""

    level: float
    draws: int
    lower: dict[str, FloatArray] = field(default_factory=dict)
    upper: dict[str, FloatArray] = field(default_factory=dict)


def predict(
    params: PurchaseParams,
    x: ArrayLike,
    t_x: ArrayLike,
    T: ArrayLike,
    *,
    horizon: float,
    value: ArrayLike | None = None,
    discounting: Discounting | None = None,
) -> dict[str, FloatArray]:
    """``p_alive``, ``expected_purchases`` and ``p_no_purchases`` over ``horizon`` for each customer; with
    ``value`` (expected value per purchase) and ``discounting`` also ``expected_value`` and ``clv``."""
    if horizon <= 0:
        raise ValueError("the horizon must be positive")
    data = fitting.customers(x, t_x, T)
    model = _model(params)
    alive = model.p_alive(params, data.x, data.t_x, data.T)
    (ux, uT), _, inverse = fitting.group_rows([data.x, data.T], np.ones(data.x.shape[0]))

    def expected(t: float) -> FloatArray:
        return np.asarray(alive * model.purchases_if_alive(params, t, ux, uT)[inverse], dtype=np.float64)

    out = {"p_alive": alive, "expected_purchases": expected(horizon)}
    with np.errstate(divide="ignore"):
        later = model.log_likelihood(params, data.x, data.t_x, data.T + horizon)
        out["p_no_purchases"] = np.exp(later - model.log_likelihood(params, data.x, data.t_x, data.T))
    if value is not None and discounting is not None:
        values = fitting.float_array(value, "value")
        out["expected_value"] = values
        out["clv"] = values * discounted_purchases(
            expected,
            periods=discounting.periods,
            discount_rate=discounting.rate,
            period_length=discounting.period_length,
        )
    return out


def intervals(
    fit: FitResult[Any],
    x: ArrayLike,
    t_x: ArrayLike,
    T: ArrayLike,
    *,
    horizon: float,
    level: float = 0.9,
    draws: int = 200,
    spend: FitResult[GammaGammaParams] | None = None,
    monetary_value: ArrayLike | None = None,
    discounting: Discounting | None = None,
    seed: int = 0,
) -> Intervals:
    """Central ``level`` intervals of ``predict``'s columns by parametric bootstrap (see the module).

    ``spend`` (a Gamma-Gamma fit) with ``monetary_value`` and ``discounting`` adds ``expected_value`` and
    ``clv``, both parameter vectors drawn independently (the models are fitted separately). Customers with
    the same history (and spend) are computed once; the distinct ones are taken in chunks so that at most
    ``CHUNK_CELLS`` draws x customers are held per column, and each draw's predictions for a chunk are one
    vectorised evaluation. The draws are seeded: the same call gives the same intervals.
    """
    if not 0.0 < level < 1.0:
        raise ValueError("the interval level must lie between 0 and 1")
    if draws < 2:
        raise ValueError("at least 2 draws are needed")
    data = fitting.customers(x, t_x, T)
    money = spend is not None and monetary_value is not None and discounting is not None
    rng = np.random.default_rng(seed)
    purchase_draws = [type(fit.params)(*row) for row in _draw(fit, draws, rng)]
    spend_draws = (
        [GammaGammaParams(*row) for row in _draw(spend, draws, rng)] if money and spend is not None else []
    )
    key = [data.x, data.t_x, data.T]
    if money and monetary_value is not None:
        key.append(fitting.float_array(monetary_value, "monetary_value"))
        if key[-1].shape != data.x.shape:
            raise ValueError("monetary_value must have one value per customer")
    # Customers with the same history get the same predictions: work on the distinct ones.
    distinct, _, inverse = fitting.group_rows(key, np.ones(data.x.shape[0]))
    ux, ut, uT = distinct[:3]
    money_values = distinct[3] if len(distinct) > 3 else None
    quantiles = ((1.0 - level) / 2.0, (1.0 + level) / 2.0)
    n = ux.shape[0]
    columns = COLUMNS if money else COLUMNS[:3]
    lower = {name: np.empty(n) for name in columns}
    upper = {name: np.empty(n) for name in columns}
    step = max(1, CHUNK_CELLS // draws)
    for start in range(0, n, step):
        rows = slice(start, min(n, start + step))
        stacked = {name: np.empty((draws, rows.stop - rows.start)) for name in columns}
        for i, params in enumerate(purchase_draws):
            value = None
            if money_values is not None:
                value = gammagamma.expected_value(spend_draws[i], ux[rows], money_values[rows])
            predicted = predict(
                params,
                ux[rows],
                ut[rows],
                uT[rows],
                horizon=horizon,
                value=value,
                discounting=discounting,
            )
            for name in columns:
                stacked[name][i] = predicted[name]
        for name in columns:
            low, high = np.quantile(stacked[name], quantiles, axis=0)
            lower[name][rows], upper[name][rows] = low, high
    return Intervals(
        level=level,
        draws=draws,
        lower={name: values[inverse] for name, values in lower.items()},
        upper={name: values[inverse] for name, values in upper.items()},
    )


def customer_intervals(
    fit: FitResult[Any],
    x: float,
    t_x: float,
    T: float,
    *,
    horizon: float,
    level: float = 0.9,
    draws: int = 1000,
    spend: FitResult[GammaGammaParams] | None = None,
    monetary_value: float | None = None,
    discounting: Discounting | None = None,
    seed: int = 0,
) -> Intervals:
    """``intervals`` for one customer, vectorised over the draws instead of the customers (a page asks for
    one customer: ``intervals`` would evaluate the model once per draw). The columns are those of
    ``intervals`` but ``p_no_purchases``; the same draws (same ``seed``) give the same intervals."""
    if not 0.0 < level < 1.0:
        raise ValueError("the interval level must lie between 0 and 1")
    if draws < 2:
        raise ValueError("at least 2 draws are needed")
    fitting.customers([x], [t_x], [T])  # the same checks as for many customers
    rng = np.random.default_rng(seed)
    parameters = _draw(fit, draws, rng)
    if isinstance(fit.params, BGNBDParams):
        p_alive_draws, if_alive_draws = bgnbd.p_alive_draws, bgnbd.purchases_if_alive_draws
    elif isinstance(fit.params, ParetoNBDParams):
        p_alive_draws, if_alive_draws = paretonbd.p_alive_draws, paretonbd.purchases_if_alive_draws
    else:
        raise TypeError(f"no predictions for {type(fit.params).__name__}")
    alive = p_alive_draws(parameters, x, t_x, T)

    def expected(t: float) -> FloatArray:
        return np.asarray(alive * if_alive_draws(parameters, t, x, T), dtype=np.float64)

    columns = {"p_alive": alive, "expected_purchases": expected(horizon)}
    if spend is not None and monetary_value is not None and discounting is not None:
        p, q, gamma = _draw(spend, draws, rng).T
        own = monetary_value if x > 0 else 0.0
        with np.errstate(divide="ignore", invalid="ignore"):
            # A draw with q <= 1 has no finite mean spend: it says nothing about this customer's.
            value = np.where(q > 1.0, p * (gamma + x * own) / (p * x + q - 1.0), np.nan)
        columns["expected_value"] = value
        columns["clv"] = value * discounted_purchases(
            expected,
            periods=discounting.periods,
            discount_rate=discounting.rate,
            period_length=discounting.period_length,
        )
    quantiles = ((1.0 - level) / 2.0, (1.0 + level) / 2.0)
    bounds = {name: np.nanquantile(values, quantiles) for name, values in columns.items()}
    return Intervals(
        level=level,
        draws=draws,
        lower={name: low[:1] for name, low in bounds.items()},
        upper={name: bounds[name][1:] for name in bounds},
    )


def _draw(fit: FitResult[Any], draws: int, rng: np.random.Generator) -> FloatArray:
    """``draws`` parameter vectors: ``exp`` of normal draws around the log-estimates."""
    log_cov = fit.log_covariance
    if log_cov is None:
        raise ValueError("the fit has no covariance (the data do not identify every parameter)")
    centre = np.log(fit.params.as_array())
    return np.exp(rng.multivariate_normal(centre, log_cov, size=draws, method="cholesky"))


class _Model:
    p_alive: Callable[..., FloatArray]
    purchases_if_alive: Callable[..., FloatArray]
    log_likelihood: Callable[..., FloatArray]


def _model(params: PurchaseParams) -> _Model:
    if isinstance(params, BGNBDParams):
        return bgnbd  # type: ignore[return-value]
    if isinstance(params, ParetoNBDParams):
        return paretonbd  # type: ignore[return-value]
    raise TypeError(f"no predictions for {type(params).__name__}")
