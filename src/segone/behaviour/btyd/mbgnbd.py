"""The MBG/NBD model: Batislam, Denizel & Filiztekin (2007), "Empirical validation and comparison of models
for customer base analysis", International Journal of Research in Marketing 24(3), 201-209.

The BG/NBD with one change: a customer may also drop out right after the first purchase, so a customer
without repeat purchases is not certainly alive. While alive, purchases come at Poisson rate
``lambda ~ Gamma(r, alpha)``; at the first purchase and after each repeat purchase the customer drops out
with probability ``p ~ Beta(a, b)``.

Likelihood of ``(x, t_x, T)`` (Batislam et al. 2007, eq. 4), in log space::

    log L = log G(r+x) - log G(r) + r log alpha + log B(a, b+x+1) - log B(a, b) - (r+x) log(alpha+T)
            + softplus(D),   D = log a - log(b+x) + (r+x) (log(alpha+T) - log(alpha+t_x))

and ``P(alive) = 1 / (1 + e^D)`` for every customer (eq. 5). Peer implementation: ``lifetimes``'
``ModifiedBetaGeoFitter`` and BTYDplus' ``mbgcnbd`` with ``k = 1``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from functools import partial

import numpy as np
from numpy.typing import ArrayLike

from segone.behaviour.btyd import bgnbd, fitting
from segone.behaviour.btyd._special import FloatArray, betaln, digamma, dot, expit, gammaln
from segone.behaviour.btyd.fitting import Customers, FitResult, IntArray, ModelParams, Objective


@dataclass(frozen=True)
class MBGNBDParams(ModelParams):
    """``r, alpha``: heterogeneity of purchase rates (gamma); ``a, b``: of drop-out probabilities (beta)."""

    r: float
    alpha: float
    a: float
    b: float


def log_likelihood(params: MBGNBDParams, x: ArrayLike, t_x: ArrayLike, T: ArrayLike) -> FloatArray:
    """Log-likelihood of each customer's ``(x, t_x, T)``."""
    data = fitting.customers(x, t_x, T)
    r, alpha, a, b = params.values()
    x_, lT = data.x, np.log(alpha + data.T)
    base = gammaln(r + x_) - gammaln(r) + r * np.log(alpha) - (r + x_) * lT
    base += betaln(a, b + x_ + 1.0) - betaln(a, b)
    d = _log_odds_dead(params, x_, data.t_x, data.T)
    return np.asarray(base + np.logaddexp(0.0, d), dtype=np.float64)


def log_likelihood_and_gradient(
    params: MBGNBDParams, x: ArrayLike, t_x: ArrayLike, T: ArrayLike, weights: ArrayLike | None = None
) -> tuple[float, FloatArray]:
    """Total (weighted) log-likelihood and its analytic gradient with respect to ``(r, alpha, a, b)``."""
    data = _prepare(fitting.customers(x, t_x, T, weights))
    values = params.as_array()
    total, gradient = _objective(data)(np.log(values), True)
    return total, gradient / values


def fit(
    x: ArrayLike,
    t_x: ArrayLike,
    T: ArrayLike,
    *,
    weights: ArrayLike | None = None,
    aggregate: bool = True,
    standard_errors: bool = True,
    start: MBGNBDParams | None = None,
) -> FitResult[MBGNBDParams]:
    """Maximum-likelihood MBG/NBD fit (see ``fitting`` for the optimiser and its guards)."""
    started = time.perf_counter()
    data = fitting.customers(x, t_x, T, weights)
    if aggregate:
        data = fitting.aggregate(data)
    optimum = fitting.fit_rfm(
        data,
        lambda rows: _objective(_prepare(rows)),
        np.zeros(4),
        standard_errors=standard_errors,
        start=None if start is None else partial(_log_start, start),
    )
    r, alpha, a, b = np.exp(optimum.theta)
    params = MBGNBDParams(float(r), float(alpha * optimum.scale), float(a), float(b))
    return optimum.result(params, n_customers=data.n_customers, started=started)


def _log_start(start: MBGNBDParams, scale: float) -> FloatArray:
    """``start`` as the fit's log-parameters, time in units of ``scale`` (rates per unit of time)."""
    return np.log(np.array([start.r, start.alpha / scale, start.a, start.b], dtype=np.float64))


def p_alive(params: MBGNBDParams, x: ArrayLike, t_x: ArrayLike, T: ArrayLike) -> FloatArray:
    """Probability that each customer is still alive at ``T`` (below 1 without repeat purchases too)."""
    data = fitting.customers(x, t_x, T)
    return expit(-_log_odds_dead(params, data.x, data.t_x, data.T))


def expected_purchases(
    params: MBGNBDParams, t: float, x: ArrayLike, t_x: ArrayLike, T: ArrayLike
) -> FloatArray:
    """Expected repeat purchases in the next ``t`` time units, given each customer's history (eq. 7).

    ``P(alive) * E[(1 - ((alpha+T) / (alpha+T+p t))^(r+x)) / p]`` over the posterior ``p ~ Beta(a, b+x+1)``
    (the customer survived ``x + 1`` drop-out draws): Batislam et al.'s hypergeometric expression, by
    quadrature as for the BG/NBD.
    """
    data = fitting.customers(x, t_x, T)
    return p_alive(params, data.x, data.t_x, data.T) * purchases_if_alive(params, t, data.x, data.T)


def expected_purchases_new(params: MBGNBDParams, t: ArrayLike) -> FloatArray:
    """``E[X(t)]`` of a customer just acquired (eq. 6): ``b / (a+b)`` alive after the first purchase."""
    times = fitting.float_array(t, "t")
    if np.any(times < 0):
        raise ValueError("t must be >= 0")
    _, _, a, b = params.values()
    zero = np.zeros(1)
    return np.array([b / (a + b) * purchases_if_alive(params, float(u), zero, zero)[0] for u in times])


def purchases_if_alive(params: MBGNBDParams, t: float, x: FloatArray, T: FloatArray) -> FloatArray:
    """Expected purchases in ``t`` for a customer alive at ``T`` with ``x`` repeat purchases, per row.

    The BG/NBD quantity with the drop-out posterior ``Beta(a, b+x+1)`` instead of ``Beta(a, b+x)``.
    """
    r, alpha, a, b = params.values()
    return bgnbd.purchases_if_alive(bgnbd.BGNBDParams(r, alpha, a, b + 1.0), t, x, T)


# --- internals --------------------------------------------------------------------------------------------


def _log_odds_dead(params: MBGNBDParams, x: FloatArray, t_x: FloatArray, T: FloatArray) -> FloatArray:
    """``D = log(P(dead) / P(alive))``."""
    r, alpha, a, b = params.values()
    since_last = np.log(alpha + T) - np.log(alpha + t_x)
    return np.asarray(np.log(a) - np.log(b + x) + (r + x) * since_last, dtype=np.float64)


@dataclass(frozen=True)
class _Data:
    """Fitting layout: functions of ``x`` alone are computed once per distinct ``x``."""

    ux: FloatArray  # distinct x
    wx: FloatArray  # customers per distinct x
    x: FloatArray
    t_x: FloatArray
    T: FloatArray
    w: FloatArray
    x_index: IntArray  # position of each row's x in ux
    total_weight: float


def _prepare(data: Customers) -> _Data:
    (ux,), wx, inverse = fitting.group_rows([data.x], data.weights)
    return _Data(
        ux=ux,
        wx=wx,
        x=data.x,
        t_x=data.t_x,
        T=data.T,
        w=data.weights,
        x_index=inverse,
        total_weight=float(data.weights.sum()),
    )


def _objective(d: _Data) -> Objective:
    def evaluate(theta: FloatArray, grad: bool) -> tuple[float, FloatArray]:
        r, alpha, a, b = np.exp(theta)
        ux, wx, big_w = d.ux, d.wx, d.total_weight
        per_x = (
            gammaln(r + ux)
            - gammaln(r)
            + gammaln(b + ux + 1.0)
            - gammaln(a + b + ux + 1.0)
            + gammaln(a + b)
            - gammaln(b)
        )
        lT = np.log(alpha + d.T)
        lt = np.log(alpha + d.t_x)
        rx = r + d.x
        dead = np.log(a) - np.log(b + ux)[d.x_index] + rx * (lT - lt)
        total = float(wx @ per_x + big_w * r * np.log(alpha))
        total += float(dot(d.w, np.logaddexp(0.0, dead) - rx * lT))
        if not grad:
            return total, np.zeros(4)
        q = d.w * expit(dead)  # weight of the "dropped out after the last purchase" branch
        psi_ab = digamma(a + b)
        psi_abx = digamma(a + b + ux + 1.0)
        g_r = wx @ (digamma(r + ux) - digamma(r)) + big_w * np.log(alpha) - dot(d.w, lT) + dot(q, lT - lt)
        inv_T, inv_t = 1.0 / (alpha + d.T), 1.0 / (alpha + d.t_x)
        g_alpha = big_w * r / alpha - dot(d.w, rx * inv_T) + dot(q, rx * (inv_T - inv_t))
        g_a = wx @ (psi_ab - psi_abx) + q.sum() / a
        g_b = wx @ (digamma(b + ux + 1.0) - psi_abx + psi_ab - digamma(b)) - dot(q, 1.0 / (b + d.x))
        return total, np.array([g_r * r, g_alpha * alpha, g_a * a, g_b * b])

    return evaluate
