"""The Pareto/NBD model: Schmittlein, Morrison & Colombo (1987), "Counting Your Customers: Who Are They and
What Will They Do Next?", Management Science 33(1); expressions from Fader & Hardie (2005), "A Note on
Deriving the Pareto/NBD Model and Related Expressions" (brucehardie.com/notes/009).

While alive, a customer buys at Poisson rate ``lambda ~ Gamma(r, alpha)``; lifetimes are exponential with
rate ``mu ~ Gamma(s, beta)``. With ``C = G(r+x) alpha^r beta^s / G(r)`` the likelihood is

    L = C [ (alpha+T)^-(r+x) (beta+T)^-s  +  s (J(t_x) - J(T)) ],
    J(t) = int_t^inf (alpha+u)^-(r+x) (beta+u)^-(s+1) du
         = (alpha+t)^-(r+x) (beta+t)^-(s+1) (m+t) F(t) / (r+s+x),

the first term for a customer alive at ``T``, the second for one who died between ``t_x`` and ``T``. Here
``M = max(alpha, beta)``, ``m = min(alpha, beta)`` and ``F(t) = 2F1(1, k; r+s+x+1; (M-m)/(M+t))`` with
``k = r+x`` if ``alpha >= beta`` else ``s+1``: the Euler transform of the note's ``2F1(r+s+x, .; r+s+x+1; .)``
terms, whose series has positive terms bounded by ``z^j`` and no cancellation. ``alpha = beta`` is the
easiest point (``z = 0``, ``F = 1``), not a special case. Everything is combined in log space
(``log1mexp`` for ``J(t_x) - J(T)``, ``logaddexp`` for the sum), so large frequencies and recencies stay
finite; see ``_special.log_hyp1`` for how ``F`` is computed near ``z = 1``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from functools import partial

import numpy as np
from numpy.typing import ArrayLike

from segone.behaviour.btyd import fitting
from segone.behaviour.btyd._special import (
    TS_LOG_U,
    TS_LOG_W,
    FloatArray,
    digamma,
    discounted_survival,
    dot,
    gammaln,
    log1mexp,
    log_hyp1,
    log_hyp1_runs,
    logaddexp,
    logsumexp_rows,
)
from segone.behaviour.btyd.fitting import Customers, FitResult, IntArray, ModelParams, Objective


@dataclass(frozen=True)
class ParetoNBDParams(ModelParams):
    """``r, alpha``: purchase-rate heterogeneity (gamma); ``s, beta``: death-rate heterogeneity (gamma)."""

    r: float
    alpha: float
    s: float
    beta: float


def log_likelihood(params: ParetoNBDParams, x: ArrayLike, t_x: ArrayLike, T: ArrayLike) -> FloatArray:
    """Log-likelihood of each customer's ``(x, t_x, T)``."""
    data = fitting.customers(x, t_x, T)
    log_c, _, log_s = _log_parts(params, data)
    return log_c + log_s


def log_likelihood_and_gradient(
    params: ParetoNBDParams, x: ArrayLike, t_x: ArrayLike, T: ArrayLike, weights: ArrayLike | None = None
) -> tuple[float, FloatArray]:
    """Total (weighted) log-likelihood and its analytic gradient with respect to ``(r, alpha, s, beta)``.

    The gradient differentiates the hypergeometric series (or its quadrature) term by term.
    """
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
    start: ParetoNBDParams | None = None,
) -> FitResult[ParetoNBDParams]:
    """Maximum-likelihood Pareto/NBD fit (see ``fitting`` for the optimiser and its guards)."""
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
    r, alpha, s, beta = np.exp(optimum.theta)
    params = ParetoNBDParams(float(r), float(alpha * optimum.scale), float(s), float(beta * optimum.scale))
    return optimum.result(params, n_customers=data.n_customers, started=started)


def _log_start(start: ParetoNBDParams, scale: float) -> FloatArray:
    """``start`` as the fit's log-parameters, time in units of ``scale`` (rates per unit of time)."""
    return np.log(np.array([start.r, start.alpha / scale, start.s, start.beta / scale], dtype=np.float64))


def p_alive(params: ParetoNBDParams, x: ArrayLike, t_x: ArrayLike, T: ArrayLike) -> FloatArray:
    """Probability that each customer is still alive at ``T`` (FH 2005 note, eq. 18 over eq. 17)."""
    data = fitting.customers(x, t_x, T)
    _, log_a, log_s = _log_parts(params, data)
    return np.exp(log_a - log_s)


def expected_purchases(
    params: ParetoNBDParams, t: float, x: ArrayLike, t_x: ArrayLike, T: ArrayLike
) -> FloatArray:
    """Expected repeat purchases in the next ``t`` time units given each history (FH 2005 note, eq. 41)::

    P(alive) * (r+x) (beta+T) / ((alpha+T) (s-1)) * [1 - ((beta+T) / (beta+T+t))^(s-1)]
    """
    if t < 0:
        raise ValueError("t must be >= 0")
    data = fitting.customers(x, t_x, T)
    return p_alive(params, data.x, data.t_x, data.T) * purchases_if_alive(params, t, data.x, data.T)


def purchases_if_alive(params: ParetoNBDParams, t: float, x: ArrayLike, T: ArrayLike) -> FloatArray:
    """Expected repeat purchases in the next ``t`` time units of a customer known to be alive at ``T``.

    ``expected_purchases`` is ``p_alive`` times this; computing ``p_alive`` once and this per horizon is how
    a CLV sums many horizons cheaply.
    """
    if t < 0:
        raise ValueError("t must be >= 0")
    xa, Ta = fitting.float_array(x, "x"), fitting.float_array(T, "T")
    r, alpha, s, beta = params.values()
    scale = beta + Ta
    return (r + xa) / (alpha + Ta) * scale * _decay_integral(s - 1.0, np.log1p(t / scale))


def expected_purchases_new(params: ParetoNBDParams, t: ArrayLike) -> FloatArray:
    """``E[X(t)] = r beta / (alpha (s-1)) [1 - (beta / (beta+t))^(s-1)]`` for a customer just acquired."""
    times = fitting.float_array(t, "t")
    if np.any(times < 0):
        raise ValueError("t must be >= 0")
    r, alpha, s, beta = params.values()
    return r / alpha * beta * _decay_integral(s - 1.0, np.log1p(times / beta))


def probability_of_purchases_new(params: ParetoNBDParams, t: float, n: ArrayLike) -> FloatArray:
    """``P(X(t) = n)`` for a customer just acquired, per ``n`` (see ``_pmf_alive``)."""
    if t < 0:
        raise ValueError("t must be >= 0")
    counts = _counts(n)
    r, alpha, s, beta = params.values()
    one = np.ones(1)
    return np.asarray(_pmf_alive(r * one, alpha * one, s, beta * one, t, counts)[0], dtype=np.float64)


def probability_of_purchases(
    params: ParetoNBDParams, t: float, n: ArrayLike, x: ArrayLike, t_x: ArrayLike, T: ArrayLike
) -> FloatArray:
    """``P(X(T, T+t) = n | x, t_x, T)``: customers x counts ``n``.

    Alive at ``T``, a customer's rates have the posteriors ``lambda ~ Gamma(r+x, alpha+T)``,
    ``mu ~ Gamma(s, beta+T)`` and, the processes being memoryless, they buy in ``(T, T+t]`` like a new
    customer with those parameters; a dead one buys nothing. So the PMF is ``P(alive)`` times the new
    customer's plus ``1 - P(alive)`` at ``n = 0`` (Fader, Hardie & Shang 2006, "Deriving the Conditional
    PMF of the Pareto/NBD Model", brucehardie.com/notes/028, gives the same in hypergeometric functions).
    """
    if t < 0:
        raise ValueError("t must be >= 0")
    counts = _counts(n)
    data = fitting.customers(x, t_x, T)
    r, alpha, s, beta = params.values()
    alive = p_alive(params, data.x, data.t_x, data.T)[:, None]
    (ux, uT), _, inverse = fitting.group_rows([data.x, data.T], np.ones(data.x.shape[0]))
    pmf = alive * _pmf_alive(r + ux, alpha + uT, s, beta + uT, t, counts)[inverse]
    return np.asarray(pmf + np.where(counts == 0, 1.0 - alive, 0.0), dtype=np.float64)


def dert(
    params: ParetoNBDParams,
    x: ArrayLike,
    t_x: ArrayLike,
    T: ArrayLike,
    *,
    discount_rate: float,
    period_length: float = 1.0,
) -> FloatArray:
    """Discounted expected residual transactions (Fader, Hardie & Lee 2005, "RFM and CLV", eq. 2 & app.)::

    DERT = P(alive) * (r+x) / (alpha+T) * (beta+T)^s delta^(s-1) U(s, s; delta (beta+T))

    with continuous discounting ``delta = log(1 + discount_rate) / period_length`` (``discount_rate`` per
    period of ``period_length`` time units) and an infinite horizon; ``U`` is Tricomi's confluent
    hypergeometric function, evaluated as the integral it stands for.
    """
    if discount_rate <= 0 or period_length <= 0:
        raise ValueError("discount_rate and period_length must be positive")
    data = fitting.customers(x, t_x, T)
    r, alpha, s, beta = params.values()
    delta = float(np.log1p(discount_rate) / period_length)
    (uT,), _, inverse = fitting.group_rows([data.T], np.ones(data.T.shape[0]))
    survival = discounted_survival(s, beta + uT, delta)[inverse]
    return p_alive(params, data.x, data.t_x, data.T) * (r + data.x) / (alpha + data.T) * survival


def clv(
    params: ParetoNBDParams,
    x: ArrayLike,
    t_x: ArrayLike,
    T: ArrayLike,
    value: ArrayLike,
    *,
    discount_rate: float,
    period_length: float = 1.0,
) -> FloatArray:
    """Residual lifetime value ``value * DERT`` (FHL 2005 "RFM and CLV"); see ``dert`` for the discounting."""
    values = fitting.float_array(value, "value")
    return values * dert(params, x, t_x, T, discount_rate=discount_rate, period_length=period_length)


def p_alive_draws(draws: FloatArray, x: float, t_x: float, T: float) -> FloatArray:
    """``p_alive`` of one customer under each row ``(r, alpha, s, beta)`` of ``draws``: vectorised over
    parameter vectors instead of customers, for one customer's bootstrap intervals."""
    r, alpha, s, beta = draws.T
    log_a = -(r + x) * np.log(alpha + T) - s * np.log(beta + T)
    tail_recency, tail_age = _log_tail_draws(draws, x, t_x), _log_tail_draws(draws, x, T)
    died = tail_recency + log1mexp(tail_age - tail_recency)  # -inf when t_x = T: alive for sure
    return np.asarray(np.exp(log_a - np.logaddexp(log_a, died)), dtype=np.float64)


def purchases_if_alive_draws(draws: FloatArray, t: float, x: float, T: float) -> FloatArray:
    """``purchases_if_alive`` of one customer under each row of ``draws`` (see ``p_alive_draws``)."""
    r, alpha, s, beta = draws.T
    scale = beta + T
    u, log_ratio = s - 1.0, np.log1p(t / scale)
    near_zero = np.abs(u) < 1e-10
    with np.errstate(divide="ignore", invalid="ignore"):
        decay = np.where(near_zero, log_ratio * (1.0 - 0.5 * u * log_ratio), -np.expm1(-u * log_ratio) / u)
    return np.asarray((r + x) / (alpha + T) * scale * decay, dtype=np.float64)


# --- internals --------------------------------------------------------------------------------------------


def _log_tail_draws(draws: FloatArray, x: float, t: float) -> FloatArray:
    """``_log_tail``'s value for one customer under each row of ``draws`` (which of ``alpha, beta`` is the
    larger may differ between rows)."""
    r, alpha, s, beta = draws.T
    p, lam = r + x, r + s + x
    big, small = np.maximum(alpha, beta), np.minimum(alpha, beta)
    k = np.where(alpha >= beta, p, s + 1.0)
    z, eps = (big - small) / (big + t), (small + t) / (big + t)
    log_f = log_hyp1(k, lam + 1.0, z, eps, grad=False)[0]
    return np.asarray(
        np.log(s)
        - np.log(lam)
        - p * np.log(alpha + t)
        - (s + 1.0) * np.log(beta + t)
        + np.log(small + t)
        + log_f,
        dtype=np.float64,
    )


def _counts(n: ArrayLike) -> FloatArray:
    counts = fitting.float_array(n, "n")
    if np.any(counts < 0) or np.any(counts != np.round(counts)):
        raise ValueError("n must be whole numbers >= 0")
    return counts


_PMF_CELLS = 1_000_000  # rows x quadrature nodes x counts held at once


def _pmf_alive(
    r: FloatArray, alpha: FloatArray, s: float, beta: FloatArray, t: float, n: FloatArray
) -> FloatArray:
    """``P(X(t) = n)`` per row of ``(r, alpha, beta)`` (a customer alive at the start) and count ``n``.

    Given the lifetime ``tau``, the purchases in ``(0, t]`` are ``NB(r, alpha)`` over ``min(tau, t)``:
    ``NB(n; r, alpha, u) = G(r+n) / (G(r) n!) (alpha / (alpha+u))^r (u / (alpha+u))^n``. The lifetime is
    Pareto (Lomax): ``P(tau > u) = (beta / (beta+u))^s``. So

        P(X(t) = n) = (beta / (beta+t))^s NB(n; t)  +  int_0^t s beta^s (beta+u)^-(s+1) NB(n; u) du,

    the integral by tanh-sinh quadrature in ``u / t`` (the integrand is smooth on ``[0, t]``).
    """
    rows, counts = r.shape[0], n.shape[0]
    out = np.empty((rows, counts))
    if t == 0:
        out[:] = np.where(n == 0, 1.0, 0.0)[None, :]
        return out
    u = t * np.exp(TS_LOG_U)  # nodes on (0, t)
    log_w = np.log(t) + TS_LOG_W
    nr = n[None, :]
    log_coef = gammaln(r[:, None] + nr) - gammaln(r)[:, None] - gammaln(nr + 1.0)  # rows x counts
    step = max(1, _PMF_CELLS // (counts * (u.shape[0] + 1)))
    for start in range(0, rows, step):
        part = slice(start, min(rows, start + step))
        rc, ac, bc = r[part, None], alpha[part, None], beta[part, None]
        survive = s * (np.log(bc) - np.log(bc + t)) + _log_nb_kernel(rc, ac, np.array([t]), nr)[:, 0, :]
        density = np.log(s) + s * np.log(bc) - (s + 1.0) * np.log(bc + u[None, :]) + log_w[None, :]
        terms = density[:, :, None] + _log_nb_kernel(rc, ac, u, nr)  # rows x nodes x counts
        by_count = np.moveaxis(terms, 1, 2).reshape(-1, u.shape[0])
        died = logsumexp_rows(by_count).reshape(terms.shape[0], counts)
        out[part] = np.exp(log_coef[part] + np.logaddexp(survive, died))
    return out


def _log_nb_kernel(r: FloatArray, alpha: FloatArray, u: FloatArray, n: FloatArray) -> FloatArray:
    """``log[(alpha / (alpha+u))^r (u / (alpha+u))^n]``: rows (``r, alpha`` columns) x ``u`` x ``n``."""
    log_total = np.log(alpha + u[None, :])
    base = r * (np.log(alpha) - log_total)
    return np.asarray(
        base[:, :, None] + n[None, :, :] * (np.log(u)[None, :, None] - log_total[:, :, None]),
        dtype=np.float64,
    )


def _decay_integral(u: float, log_ratio: FloatArray) -> FloatArray:
    """``(1 - exp(-u L)) / u`` with its limit ``L`` at ``u = 0``."""
    if abs(u) < 1e-10:
        return log_ratio * (1.0 - 0.5 * u * log_ratio)
    return -np.expm1(-u * log_ratio) / u


def _log_tail(
    params: ParetoNBDParams, x: FloatArray, t: FloatArray, grad: bool, runs: _Runs | None = None
) -> tuple[FloatArray, FloatArray]:
    """``E(t) = log(s J(t))`` and (if ``grad``) its partial derivatives w.r.t. ``(r, alpha, s, beta)``.

    ``runs``: the rows are sorted by ``x`` then ``t``, and these are the runs of equal ``x``; then the
    hypergeometric series is summed run by run (``log_hyp1_runs``)."""
    r, alpha, s, beta = params.values()
    p = r + x
    lam = r + s + x
    la, lb = np.log(alpha + t), np.log(beta + t)
    alpha_max = alpha >= beta
    big, small = (alpha, beta) if alpha_max else (beta, alpha)
    z = (big - small) / (big + t)
    eps = (small + t) / (big + t)
    if runs is None:
        k = p if alpha_max else np.full(x.shape[0], s + 1.0)
        log_f, d_k, d_n, d_z = log_hyp1(k, lam + 1.0, z, eps, grad=grad)
    else:
        run_k = r + runs.x if alpha_max else np.full(runs.x.shape[0], s + 1.0)
        log_f, d_k, d_n, d_z = log_hyp1_runs(run_k, r + s + runs.x + 1.0, runs.starts, z, eps, grad=grad)
    value = np.log(s) - np.log(lam) - p * la - (s + 1.0) * lb + np.log(small + t) + log_f
    if not grad:
        return value, np.zeros((4, x.shape[0]))
    inv_a, inv_b = 1.0 / (alpha + t), 1.0 / (beta + t)
    d_r = -1.0 / lam - la + d_n
    d_s = 1.0 / s - 1.0 / lam - lb + d_n
    if alpha_max:
        d_r = d_r + d_k
        d_alpha = -p * inv_a + d_z * (beta + t) * inv_a**2
        d_beta = -s * inv_b - d_z * inv_a
    else:
        d_s = d_s + d_k
        d_alpha = (1.0 - p) * inv_a - d_z * inv_b
        d_beta = -(s + 1.0) * inv_b + d_z * (alpha + t) * inv_b**2
    return value, np.vstack([d_r, d_alpha, d_s, d_beta])


def _log_parts(params: ParetoNBDParams, data: Customers) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Per customer: ``log C``, ``log`` of the alive term and ``log`` of the bracket (``L = C * S``)."""
    r, alpha, s, beta = params.values()
    x = data.x
    log_c = gammaln(r + x) - gammaln(r) + r * np.log(alpha) + s * np.log(beta)
    log_a = -(r + x) * np.log(alpha + data.T) - s * np.log(beta + data.T)
    tail_recency, _ = _log_tail(params, x, data.t_x, False)
    tail_age, _ = _log_tail(params, x, data.T, False)
    died = tail_recency + log1mexp(tail_age - tail_recency)
    return log_c, log_a, np.logaddexp(log_a, died)


@dataclass(frozen=True)
class _Runs:
    """Rows sorted by ``x`` then time: where each run of one ``x`` starts, and that ``x``."""

    starts: IntArray
    x: FloatArray


def _sorted_pairs(
    x: FloatArray, t: FloatArray, index: IntArray
) -> tuple[FloatArray, FloatArray, IntArray, _Runs]:
    """Distinct ``(x, t)`` pairs sorted by ``x`` then ``t``, ``index`` mapped to the new order, the runs."""
    order = np.lexsort((t, x))
    position = np.empty_like(order)
    position[order] = np.arange(order.shape[0])
    xs, ts = x[order], t[order]
    starts = np.flatnonzero(np.r_[True, xs[1:] != xs[:-1]]).astype(np.intp)
    return xs, ts, position[index], _Runs(starts, xs[starts])


@dataclass(frozen=True)
class _Data:
    """Fitting layout: the tail terms depend on ``(x, t_x)`` or ``(x, T)`` only, so they are computed once
    per distinct pair and gathered."""

    ux: FloatArray
    wx: FloatArray
    recency_x: FloatArray  # distinct (x, t_x)
    recency_t: FloatArray
    recency_index: IntArray
    recency_runs: _Runs
    age_x: FloatArray  # distinct (x, T)
    age_t: FloatArray
    age_index: IntArray
    age_runs: _Runs
    w: FloatArray
    total_weight: float


def _prepare(data: Customers) -> _Data:
    (ux,), wx, _ = fitting.group_rows([data.x], data.weights)
    (rx, rt), _, r_index = fitting.group_rows([data.x, data.t_x], data.weights)
    (ax, at), _, a_index = fitting.group_rows([data.x, data.T], data.weights)
    rx, rt, r_index, r_runs = _sorted_pairs(rx, rt, r_index)
    ax, at, a_index, a_runs = _sorted_pairs(ax, at, a_index)
    return _Data(
        ux, wx, rx, rt, r_index, r_runs, ax, at, a_index, a_runs, data.weights, float(data.weights.sum())
    )


def _objective(d: _Data) -> Objective:
    def evaluate(theta: FloatArray, grad: bool) -> tuple[float, FloatArray]:
        r, alpha, s, beta = np.exp(theta)
        params = ParetoNBDParams(float(r), float(alpha), float(s), float(beta))
        big_w = d.total_weight
        log_age_a, log_age_b = np.log(alpha + d.age_t), np.log(beta + d.age_t)
        alive = -(r + d.age_x) * log_age_a - s * log_age_b
        tail_r, d_tail_r = _log_tail(params, d.recency_x, d.recency_t, grad, d.recency_runs)
        tail_a, d_tail_a = _log_tail(params, d.age_x, d.age_t, grad, d.age_runs)
        e_r, e_a, log_a = tail_r[d.recency_index], tail_a[d.age_index], alive[d.age_index]
        log_s = logaddexp(log_a, e_r + log1mexp(e_a - e_r))
        total = float(d.wx @ (gammaln(r + d.ux) - gammaln(r)))
        total += big_w * (r * np.log(alpha) + s * np.log(beta)) + dot(d.w, log_s)
        if not grad:
            return total, np.zeros(4)
        n_age, n_rec = d.age_x.shape[0], d.recency_x.shape[0]
        share_alive = np.bincount(d.age_index, d.w * np.exp(log_a - log_s), n_age)
        share_rec = np.bincount(d.recency_index, d.w * np.exp(e_r - log_s), n_rec)
        share_age = np.bincount(d.age_index, d.w * np.exp(e_a - log_s), n_age)
        d_alive = np.vstack(
            [-log_age_a, -(r + d.age_x) / (alpha + d.age_t), -log_age_b, -s / (beta + d.age_t)]
        )
        gradient = np.array(
            [
                d.wx @ (digamma(r + d.ux) - digamma(r)) + big_w * np.log(alpha),
                big_w * r / alpha,
                big_w * np.log(beta),
                big_w * s / beta,
            ]
        )
        gradient += (  # einsum, not BLAS: see _special.dot
            np.einsum("ij,j->i", d_alive, share_alive)
            + np.einsum("ij,j->i", d_tail_r, share_rec)
            - np.einsum("ij,j->i", d_tail_a, share_age)
        )
        return total, gradient * np.exp(theta)

    return evaluate
