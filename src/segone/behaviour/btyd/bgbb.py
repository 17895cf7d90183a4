"""The BG/BB model: Fader, Hardie & Berger (2010), "Customer-Base Analysis in a Discrete-Time Noncontractual
Setting", Marketing Science 29(6), 1086-1108.

Transactions can only happen at discrete opportunities (a yearly appeal, an annual event). While alive, a
customer transacts at each opportunity with probability ``p ~ Beta(alpha, beta)``; at the start of each
opportunity an alive customer dies with probability ``theta ~ Beta(gamma, delta)``.

A customer is summarised by ``x`` repeat transactions in ``n`` opportunities after the first, the last at
opportunity ``t_x`` (0 when ``x = 0``). Likelihood (FHB 2010, eq. 5)::

    L = B(alpha+x, beta+n-x) / B(alpha, beta) * B(gamma, delta+n) / B(gamma, delta)
        + sum_{i=0}^{n-t_x-1} B(alpha+x, beta+t_x-x+i) / B(alpha, beta)
                              * B(gamma+1, delta+t_x+i) / B(gamma, delta)

(alive through opportunity ``n``, or dead from opportunity ``t_x + i + 1``), summed in log space.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from segone.behaviour.btyd import fitting
from segone.behaviour.btyd._special import FloatArray, betaln, digamma, logsumexp_rows
from segone.behaviour.btyd.fitting import FitResult, ModelParams, Objective


@dataclass(frozen=True)
class BGBBParams(ModelParams):
    """``alpha, beta``: heterogeneity of transaction probabilities; ``gamma, delta``: of dropout ones."""

    alpha: float
    beta: float
    gamma: float
    delta: float


@dataclass(frozen=True)
class Histories:
    """Validated ``(x, t_x, n)`` rows, or distinct ones with ``weights`` counting the customers with each."""

    x: FloatArray
    t_x: FloatArray
    n: FloatArray
    weights: FloatArray

    @property
    def n_customers(self) -> int:
        return round(float(self.weights.sum()))


def histories(x: ArrayLike, t_x: ArrayLike, n: ArrayLike, weights: ArrayLike | None = None) -> Histories:
    """Validate repeat transactions ``x``, the opportunity of the last ``t_x`` and opportunities ``n``."""
    xa, ta, na = (fitting.float_array(v, name) for v, name in ((x, "x"), (t_x, "t_x"), (n, "n")))
    if not xa.shape == ta.shape == na.shape:
        raise ValueError("x, t_x and n must have the same length")
    for values, name in ((xa, "x"), (ta, "t_x"), (na, "n")):
        if np.any(values < 0) or np.any(values != np.round(values)):
            raise ValueError(f"{name} must be whole numbers >= 0")
    if np.any(na < 1):
        raise ValueError("n (opportunities) must be at least 1")
    if np.any(ta > na):
        raise ValueError("t_x (opportunity of the last transaction) must not exceed n (opportunities)")
    if np.any(xa > ta):
        raise ValueError("x (repeat transactions) must not exceed t_x (opportunity of the last one)")
    if np.any((xa == 0) & (ta != 0)):
        raise ValueError("t_x must be 0 for customers without repeat transactions")
    return Histories(xa, ta, na, fitting.check_weights(weights, xa.shape[0]))


def log_likelihood(params: BGBBParams, x: ArrayLike, t_x: ArrayLike, n: ArrayLike) -> FloatArray:
    """Log-likelihood of each customer's ``(x, t_x, n)``."""
    data = histories(x, t_x, n)
    terms, _ = _terms(params.as_array(), data.x, data.t_x, data.n, grad=False)
    return logsumexp_rows(terms)


def log_likelihood_and_gradient(
    params: BGBBParams, x: ArrayLike, t_x: ArrayLike, n: ArrayLike, weights: ArrayLike | None = None
) -> tuple[float, FloatArray]:
    """Total (weighted) log-likelihood and its analytic gradient with respect to ``(alpha, beta, gamma,
    delta)``."""
    data = histories(x, t_x, n, weights)
    values = params.as_array()
    total, gradient = _objective(data)(np.log(values), True)
    return total, gradient / values


def fit(
    x: ArrayLike, t_x: ArrayLike, n: ArrayLike, *, weights: ArrayLike | None = None, aggregate: bool = True
) -> FitResult[BGBBParams]:
    """Maximum-likelihood BG/BB fit (``fitting.maximise``: 32 deterministic starts, L-BFGS-B, Newton).

    Discrete-time data repeat a lot (22 distinct rows describe 11,104 donors), so ``aggregate`` collapses
    identical ``(x, t_x, n)`` rows into weighted ones first; ``weights`` may also come aggregated already.
    """
    started = time.perf_counter()
    data = histories(x, t_x, n, weights)
    if aggregate:
        (ux, ut, un), w, _ = fitting.group_rows([data.x, data.t_x, data.n], data.weights)
        data = Histories(ux, ut, un, w)
    optimum = fitting.maximise(_objective(data), centre=np.zeros(4), total_weight=float(data.weights.sum()))
    params = BGBBParams(*(float(v) for v in np.exp(optimum.theta)))
    return optimum.result(params, n_customers=data.n_customers, started=started)


def p_alive(params: BGBBParams, x: ArrayLike, t_x: ArrayLike, n: ArrayLike) -> FloatArray:
    """Probability that each customer is alive at the next opportunity, ``n + 1`` (FHB 2010, eq. 11)."""
    return _p_alive_at(params, histories(x, t_x, n), 1.0)


def expected_purchases(
    params: BGBBParams, n_star: int, x: ArrayLike, t_x: ArrayLike, n: ArrayLike
) -> FloatArray:
    """Expected transactions in the next ``n_star`` opportunities, given each customer's history (eq. 13).

    Summed per opportunity: ``P(alive at n) * E[p] * sum_{k=1..n*} B(gamma, delta+n+k) / B(gamma, delta+n)``
    with the posterior mean ``E[p] = (alpha+x) / (alpha+beta+n)`` -- the paper's closed form, which divides
    by ``gamma - 1``, without that singularity at ``gamma = 1``.
    """
    data = histories(x, t_x, n)
    steps = _check_opportunities(n_star)
    a, b, g, d = params.values()
    alive_now = _p_alive_at(params, data, 0.0)
    survive = _survival_sums(g, d, data.n, steps)
    return np.asarray(alive_now * (a + data.x) / (a + b + data.n) * survive, dtype=np.float64)


def expected_purchases_new(params: BGBBParams, n: ArrayLike) -> FloatArray:
    """``E[X(n)]``: expected repeat transactions in the first ``n`` opportunities of a new customer (eq. 7).

    ``alpha / (alpha + beta) * sum_{k=1..n} B(gamma, delta+k) / B(gamma, delta)``.
    """
    counts = fitting.float_array(n, "n")
    if np.any(counts < 0) or np.any(counts != np.round(counts)):
        raise ValueError("n must be whole numbers >= 0")
    a, b, g, d = params.values()
    return np.array([a / (a + b) * _survival_sums(g, d, np.zeros(1), int(k))[0] for k in counts])


# --- internals --------------------------------------------------------------------------------------------


def _check_opportunities(n_star: int) -> int:
    if int(n_star) != n_star or n_star < 0:
        raise ValueError("n_star must be a whole number >= 0")
    return int(n_star)


def _survival_sums(g: float, d: float, n: FloatArray, steps: int) -> FloatArray:
    """``sum_{k=1..steps} B(g, d+n+k) / B(g, d+n)`` per row: expected alive opportunities ahead."""
    if steps == 0:
        return np.zeros(n.shape[0])
    k = np.arange(1, steps + 1, dtype=np.float64)[None, :]
    base = (d + n)[:, None]
    return np.asarray(np.exp(betaln(g, base + k) - betaln(g, base)).sum(axis=1), dtype=np.float64)


def _p_alive_at(params: BGBBParams, data: Histories, ahead: float) -> FloatArray:
    """``P(alive at opportunity n + ahead | x, t_x, n)``."""
    values = params.as_array()
    a, b, g, d = values
    terms, _ = _terms(values, data.x, data.t_x, data.n, grad=False)
    alive = (
        betaln(a + data.x, b + data.n - data.x) - betaln(a, b) + betaln(g, d + data.n + ahead) - betaln(g, d)
    )
    return np.asarray(np.exp(alive - logsumexp_rows(terms)), dtype=np.float64)


def _terms(
    values: FloatArray, x: FloatArray, t_x: FloatArray, n: FloatArray, *, grad: bool
) -> tuple[FloatArray, FloatArray]:
    """Log of each term of the likelihood (rows x (1 + max(n - t_x)), ``-inf`` past a row's last) and, if
    ``grad``, the derivatives of each term with respect to the four parameters (4 x rows x terms)."""
    a, b, g, d = values
    width = int(np.max(n - t_x)) if n.shape[0] else 0
    i = np.arange(width, dtype=np.float64)[None, :]
    xc, tc, nc = x[:, None], t_x[:, None], n[:, None]
    inside = i < (nc - tc)
    # Column 0: alive through n. Columns 1..: died at opportunity t_x + i + 1.
    p_a = np.concatenate([a + xc, np.broadcast_to(a + xc, (x.shape[0], width))], axis=1)
    p_b = np.concatenate([b + nc - xc, b + tc - xc + i], axis=1)
    q_g = np.concatenate([np.full_like(xc, g), np.full((x.shape[0], width), g + 1.0)], axis=1)
    q_d = np.concatenate([d + nc, d + tc + i], axis=1)
    mask = np.concatenate([np.ones_like(xc, dtype=bool), inside], axis=1)
    common = -betaln(a, b) - betaln(g, d)
    with np.errstate(invalid="ignore"):
        log_terms = betaln(p_a, np.where(mask, p_b, 1.0)) + betaln(q_g, np.where(mask, q_d, 1.0)) + common
    log_terms = np.where(mask, log_terms, -np.inf)
    if not grad:
        return log_terms, np.zeros(0)
    p_b, q_d = np.where(mask, p_b, 1.0), np.where(mask, q_d, 1.0)
    psi_ab, psi_gd = digamma(a + b), digamma(g + d)
    derivatives = np.stack(
        [
            digamma(p_a) - digamma(p_a + p_b) - digamma(a) + psi_ab,
            digamma(p_b) - digamma(p_a + p_b) - digamma(b) + psi_ab,
            digamma(q_g) - digamma(q_g + q_d) - digamma(g) + psi_gd,
            digamma(q_d) - digamma(q_g + q_d) - digamma(d) + psi_gd,
        ]
    )
    return log_terms, derivatives


def _objective(data: Histories) -> Objective:
    def evaluate(theta: FloatArray, grad: bool) -> tuple[float, FloatArray]:
        values = np.exp(theta)
        log_terms, derivatives = _terms(values, data.x, data.t_x, data.n, grad=grad)
        per_row = logsumexp_rows(log_terms)
        total = float(data.weights @ per_row)
        if not grad:
            return total, np.zeros(4)
        share = np.exp(log_terms - per_row[:, None])  # each term's part of the row's likelihood
        gradient = np.einsum("r,krj,rj->k", data.weights, derivatives, share)
        return total, np.asarray(gradient * values, dtype=np.float64)

    return evaluate
