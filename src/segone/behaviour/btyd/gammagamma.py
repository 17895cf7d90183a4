"""The Gamma-Gamma model of spend per transaction: Fader, Hardie & Lee (2005), "RFM and CLV: Using Iso-Value
Curves for Customer Base Analysis", Journal of Marketing Research 42(4), 415-430; Fader & Hardie (2013),
"The Gamma-Gamma Model of Monetary Value" (brucehardie.com/notes/025).

A customer's transaction values are ``Gamma(p, nu)``; ``nu ~ Gamma(q, gamma)`` across customers, independent
of the purchase process. Only customers with repeat purchases (``x > 0``) carry information:
``monetary_value`` is the mean of their ``x`` repeat transactions, whose density is (FH 2013, eq. 3)

    f(m | x) = G(px+q) / (G(px) G(q)) * gamma^q m^(px-1) x^(px) / (gamma + m x)^(px+q)
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from segone.behaviour.btyd import fitting
from segone.behaviour.btyd._special import FloatArray, digamma, dot, gammaln, trigamma
from segone.behaviour.btyd.fitting import FitResult, ModelParams


@dataclass(frozen=True)
class GammaGammaParams(ModelParams):
    """``p``: shape of transaction values; ``q, gamma``: heterogeneity of their scale across customers."""

    p: float
    q: float
    gamma: float

    @property
    def mean(self) -> float:
        """Population mean value per transaction, ``p gamma / (q - 1)`` (infinite for ``q <= 1``)."""
        return self.p * self.gamma / (self.q - 1.0) if self.q > 1.0 else float("inf")


def log_likelihood(params: GammaGammaParams, x: ArrayLike, monetary_value: ArrayLike) -> FloatArray:
    """Log-density of each repeat customer's mean transaction value (``x > 0``, ``monetary_value > 0``)."""
    xa, ma, _ = _repeat_customers(x, monetary_value, None, drop=False)
    p, q, gamma = params.values()
    px = p * xa
    return np.asarray(
        gammaln(px + q)
        - gammaln(px)
        - gammaln(q)
        + q * np.log(gamma)
        + (px - 1.0) * np.log(ma)
        + px * np.log(xa)
        - (px + q) * np.log(gamma + ma * xa),
        dtype=np.float64,
    )


def log_likelihood_and_gradient(
    params: GammaGammaParams, x: ArrayLike, monetary_value: ArrayLike, weights: ArrayLike | None = None
) -> tuple[float, FloatArray]:
    """Total (weighted) log-likelihood and its analytic gradient with respect to ``(p, q, gamma)``."""
    xa, ma, wa = _repeat_customers(x, monetary_value, weights, drop=False)
    values = params.as_array()
    total, gradient, _ = _Spend(xa, ma, wa).evaluate(np.log(values), 1)
    return total, gradient / values


def fit(
    x: ArrayLike,
    monetary_value: ArrayLike,
    *,
    weights: ArrayLike | None = None,
    aggregate: bool = True,
    standard_errors: bool = True,
) -> FitResult[GammaGammaParams]:
    """Maximum-likelihood Gamma-Gamma fit on the customers with repeat purchases.

    Customers with ``x = 0`` are left out (they say nothing about spend per repeat purchase), as in FH 2013;
    ``n_customers`` counts those used. ``aggregate`` merges identical ``(x, monetary_value)`` rows when at
    least half of the values repeat (judged on a sample).

    The likelihood reduces to a few sums (``_Spend``), so each evaluation costs one logarithm per customer
    and the gamma functions once per distinct ``x``. Newton steps with the analytic Hessian run on a seeded
    sample of 5,000 customers (all of them when there are at most 10,000 rows) from two starting points, the
    scale-free centre and a method-of-moments estimate; when both reach the same optimum, a few Newton steps
    on all rows finish the fit. Otherwise -- two optima, or no convergence -- the 32-start search of
    ``fitting.maximise`` decides.
    """
    started = time.perf_counter()
    xa, ma, wa = _repeat_customers(x, monetary_value, weights, drop=True)
    if xa.shape[0] == 0:
        raise ValueError("no customer has repeat purchases")
    # spend is usually continuous: nothing to merge, which 2,000 customers show as well as more
    if aggregate and fitting.distinct_share(ma, sample=2_000) < 0.5:
        (xa, ma), wa, _ = fitting.group_rows([xa, ma], np.ones(xa.shape[0]) if wa is None else wa)
    total_weight = float(xa.shape[0]) if wa is None else float(wa.sum())
    scale = float(np.mean(ma) if wa is None else np.average(ma, weights=wa))
    spend = _Spend(xa, ma / scale, wa)
    screen = spend
    if xa.shape[0] > fitting.SCREEN_ABOVE_ROWS:
        if wa is None:
            rows = np.random.default_rng(0).integers(0, xa.shape[0], fitting.SCREEN_CUSTOMERS)
            screen = _Spend(xa[rows], ma[rows] / scale, None)
        else:
            picked, counts = fitting.subsample_customers(wa, fitting.SCREEN_CUSTOMERS)
            screen = _Spend(xa[picked], ma[picked] / scale, counts)
    starts = [_CENTRE, screen.moment_start()]
    found = [_newton(screen, theta, max_steps=60) for theta in starts]
    optimum: fitting.Optimum | None = None
    if all(res[2] for res in found) and np.max(np.abs(found[0][0] - found[1][0])) < 1e-3:
        theta, value, converged, message = _newton(spend, min(found, key=lambda res: res[1])[0])
        if converged:
            optimum = fitting.Optimum(theta, -value * total_weight, True, len(starts), message)
    if optimum is None:  # the starts disagree or Newton stalled: the full multi-start search decides
        optimum = fitting.maximise(
            spend.objective,
            centre=_CENTRE,
            total_weight=total_weight,
            samples=() if screen is spend else ((screen.objective, screen.total_weight),),
        )
    converged = optimum.converged
    message = optimum.message
    if np.any(np.abs(optimum.theta) > fitting.LOG_BOUND - 1e-3):
        converged = False
        message = "a parameter reached the edge of the search box; the data do not identify it"
    p, q, gamma = np.exp(optimum.theta)
    params = GammaGammaParams(float(p), float(q), float(gamma * scale))
    covariance = (
        fitting.natural_covariance(_log_covariance(spend, optimum.theta), params.as_array())
        if standard_errors
        else None
    )
    return FitResult(
        params=params,
        log_likelihood=float(optimum.log_likelihood - total_weight * np.log(scale)),  # density of m / scale
        n_customers=round(total_weight),
        seconds=time.perf_counter() - started,
        converged=converged,
        n_starts=optimum.n_starts,
        message=message,
        covariance=covariance,
    )


def expected_value(params: GammaGammaParams, x: ArrayLike, monetary_value: ArrayLike) -> FloatArray:
    """Conditional expected value per transaction (FH 2013, eq. 5)::

        E[M | x, m] = (q - 1) / (px + q - 1) * p gamma / (q - 1) + px / (px + q - 1) * m

    a weighted mean of the population mean and the customer's own mean; the population mean for ``x = 0``.
    """
    xa, ma = fitting.float_array(x, "x"), fitting.float_array(monetary_value, "monetary_value")
    if xa.shape != ma.shape:
        raise ValueError("x and monetary_value must have the same length")
    p, q, gamma = params.values()
    if q <= 1.0:
        raise ValueError("the population mean is infinite for q <= 1")
    own = np.where(xa > 0, ma, 0.0)
    return p * (gamma + xa * own) / (p * xa + q - 1.0)


# --- internals --------------------------------------------------------------------------------------------


_CENTRE = np.array([0.0, np.log(2.0), 0.0])  # p = 1, q = 2, gamma = 1: mean spend 1 after rescaling


def _repeat_customers(
    x: ArrayLike, monetary_value: ArrayLike, weights: ArrayLike | None, *, drop: bool
) -> tuple[FloatArray, FloatArray, FloatArray | None]:
    """The customers with repeat purchases; ``None`` weights when the caller gave none (all ones)."""
    xa, ma = fitting.float_array(x, "x"), fitting.float_array(monetary_value, "monetary_value")
    if xa.shape != ma.shape:
        raise ValueError("x and monetary_value must have the same length")
    wa = None if weights is None else fitting.check_weights(weights, xa.shape[0])
    if xa.shape[0] and (xa.min() < 0 or not np.array_equal(xa, np.trunc(xa))):
        raise ValueError("x (repeat purchases) must be whole numbers >= 0")
    keep = xa > 0
    if not drop and not np.all(keep):
        raise ValueError("the Gamma-Gamma likelihood is defined for customers with repeat purchases only")
    if drop:
        rows = np.flatnonzero(keep)  # then take(): several times faster than boolean indexing
        xa, ma = xa.take(rows), ma.take(rows)
        wa = None if wa is None else wa.take(rows)
    if ma.shape[0] and ma.min() <= 0:
        raise ValueError("monetary_value must be positive for customers with repeat purchases")
    return xa, ma, wa


class _Spend:
    """The log-likelihood through sufficient statistics, with its gradient and Hessian in log-parameters.

    Per customer (weight ``w``, ``s = x m``, ``t = s + gamma``), FH 2013 eq. 3 gives

        LL = sum_x W_x [lnG(px + q) - lnG(px)] - W lnG(q) + W q log gamma
             + p sum w x log s - sum w log m - p sum w x log t - q sum w log t

    where ``W_x`` sums the weights of the customers with ``x`` repeat purchases. The gamma functions are
    evaluated once per distinct ``x``; the only work per customer is ``log t`` (and ``1 / t``, ``1 / t^2``
    for the derivatives), summed with weights ``w`` and ``w x``.
    """

    def __init__(self, x: FloatArray, m: FloatArray, w: FloatArray | None) -> None:
        self.x, self.m, self.w = x, m, w
        self.spend = x * m
        self.total_weight = float(x.shape[0]) if w is None else float(w.sum())
        self.weighted_x = x if w is None else w * x
        self.x_values, self.x_weights = _by_x(x, w)
        self.buffer = np.empty((3, x.shape[0]))
        log_spend = np.log(self.spend)
        self.fixed_p = dot(self.weighted_x, log_spend)  # sum w x log s = sum w x (log m + log x)
        self.fixed = self._sum(log_spend) - float(self.x_weights @ np.log(self.x_values))  # sum w log m

    def evaluate(self, theta: FloatArray, order: int) -> tuple[float, FloatArray, FloatArray]:
        """Log-likelihood and, up to ``order``, its gradient and Hessian with respect to ``theta``."""
        p, q, gamma = np.exp(theta)
        ux, wx, big_w = self.x_values, self.x_weights, self.total_weight
        a = self.buffer[: order + 1]
        np.add(self.spend, gamma, out=a[0])
        if order >= 1:
            np.divide(1.0, a[0], out=a[1])
            if order >= 2:
                np.multiply(a[1], a[1], out=a[2])
        np.log(a[0], out=a[0])
        sums = np.array([[self._sum(f), dot(self.weighted_x, f)] for f in a]).T  # f = log t, 1/t, 1/t^2
        pu = p * ux
        value = (
            float(wx @ (gammaln(pu + q) - gammaln(pu)))
            - big_w * gammaln(q).item()
            + big_w * q * np.log(gamma)
            + p * (self.fixed_p - sums[1, 0])
            - self.fixed
            - q * sums[0, 0]
        )
        if order == 0:
            return value, np.zeros(3), np.zeros((3, 3))
        psi = digamma(pu + q)
        g_p = float(wx @ (ux * (psi - digamma(pu)))) + self.fixed_p - sums[1, 0]
        g_q = float(wx @ psi) - big_w * digamma(q).item() + big_w * np.log(gamma) - sums[0, 0]
        g_gamma = big_w * q / gamma - p * sums[1, 1] - q * sums[0, 1]
        values = np.array([p, q, gamma])
        natural = np.array([g_p, g_q, g_gamma])
        if order == 1:
            return value, natural * values, np.zeros((3, 3))
        tri = trigamma(pu + q)
        h_pp = float(wx @ (ux * ux * (tri - trigamma(pu))))
        h_pq = float(wx @ (ux * tri))
        h_qq = float(wx @ tri) - big_w * trigamma(q).item()
        h_pg = -sums[1, 1]
        h_qg = big_w / gamma - sums[0, 1]
        h_gg = -big_w * q / gamma**2 + p * sums[1, 2] + q * sums[0, 2]
        hessian = np.array([[h_pp, h_pq, h_pg], [h_pq, h_qq, h_qg], [h_pg, h_qg, h_gg]])
        hessian = hessian * np.outer(values, values) + np.diag(natural * values)
        return value, natural * values, hessian

    def _sum(self, values: FloatArray) -> float:
        return float(values.sum()) if self.w is None else dot(self.w, values)

    def objective(self, theta: FloatArray, grad: bool) -> tuple[float, FloatArray]:
        """``fitting.Objective`` form, for the multi-start search."""
        value, gradient, _ = self.evaluate(theta, 1 if grad else 0)
        return value, gradient

    def moment_start(self) -> FloatArray:
        """Log-parameters matching the moments of ``m``, or a fixed point when they do not identify them.

        Given ``x``, ``Var(m | x) = A / x + B`` with ``A = mu^2 (q - 1) / (p (q - 2))``,
        ``B = mu^2 / (q - 2)`` and ``mu = p gamma / (q - 1)`` the mean: a weighted regression of the
        per-``x`` variances on ``1 / x``.
        """
        fallback = np.array([np.log(5.0), np.log(5.0), np.log(0.8)])
        codes = np.searchsorted(self.x_values, self.x)
        w, m = self.w, self.m
        n = np.bincount(codes, weights=w, minlength=self.x_values.shape[0])
        wm = m if w is None else w * m
        s1 = np.bincount(codes, weights=wm, minlength=n.shape[0])
        with np.errstate(over="ignore"):
            s2 = np.bincount(codes, weights=wm * m, minlength=n.shape[0])
        usable = n >= 2
        if np.count_nonzero(usable) < 2:
            return fallback
        mean = s1[usable] / n[usable]
        variance = (s2[usable] - n[usable] * mean**2) / (n[usable] - 1.0)
        if not np.all(np.isfinite(variance)):  # values so large that their squares overflow
            return fallback
        design = np.column_stack([1.0 / self.x_values[usable], np.ones(mean.shape[0])])
        root = np.sqrt(n[usable] - 1.0)
        (a_coef, b_coef), *_ = np.linalg.lstsq(design * root[:, None], variance * root, rcond=None)
        mu = float(s1.sum() / n.sum())
        if not (a_coef > 0 and b_coef > 0 and mu > 0):
            return fallback
        q = 2.0 + mu * mu / b_coef
        p = (q - 1.0) * b_coef / a_coef
        gamma = mu * (q - 1.0) / p
        theta = np.log(np.array([p, q, gamma]))
        bound = fitting.LOG_BOUND - 1.0
        return fallback if not np.all(np.isfinite(theta)) else np.clip(theta, -bound, bound)


def _log_covariance(spend: _Spend, theta: FloatArray) -> FloatArray | None:
    """``fitting.log_covariance`` from the analytic Hessian: one evaluation instead of six gradients."""
    with np.errstate(all="ignore"):
        hessian = spend.evaluate(theta, 2)[2]
    return fitting.inverse_information(-hessian)


def _by_x(x: FloatArray, w: FloatArray | None) -> tuple[FloatArray, FloatArray]:
    """Distinct values of ``x`` (ascending) and the summed weight of each."""
    top = float(x.max()) if x.shape[0] else 0.0
    if top <= 4 * x.shape[0] + 1024:  # whole numbers in a modest range: count them directly
        counts = np.bincount(x.astype(np.intp), weights=w)
        present = np.flatnonzero(counts)
        return present.astype(np.float64), np.asarray(counts[present], dtype=np.float64)
    (values,), totals, _ = fitting.group_rows([x], np.ones(x.shape[0]) if w is None else w)
    order = np.argsort(values)
    return values[order], totals[order]


def _newton(spend: _Spend, theta: FloatArray, max_steps: int = 20) -> tuple[FloatArray, float, bool, str]:
    """Damped Newton steps on the mean negative log-likelihood, with the analytic Hessian.

    The Hessian is made positive definite by taking absolute eigenvalues (floored), steps are capped at 2 in
    every log-parameter and an Armijo line search keeps each one downhill; converged when the largest mean
    gradient is below ``fitting.NEWTON_GTOL`` or the predicted gain is below what the objective resolves.
    """
    weight = spend.total_weight

    def negative_mean(point: FloatArray) -> tuple[float, FloatArray, FloatArray]:
        with np.errstate(all="ignore"):
            value, gradient, hessian = spend.evaluate(point, 2)
        if not (np.isfinite(value) and np.all(np.isfinite(gradient)) and np.all(np.isfinite(hessian))):
            return 1e10, np.zeros(3), np.eye(3)
        return -value / weight, -gradient / weight, -hessian / weight

    value, grad, hessian = negative_mean(theta)
    for _ in range(max_steps):
        if float(np.max(np.abs(grad))) < fitting.NEWTON_GTOL:
            return theta, value, True, "converged"
        eigenvalues, vectors = np.linalg.eigh(0.5 * (hessian + hessian.T))
        floor = max(float(np.max(np.abs(eigenvalues))), 1e-12) * 1e-10
        step = -(vectors @ ((vectors.T @ grad) / np.maximum(np.abs(eigenvalues), floor)))
        step *= min(1.0, 2.0 / max(float(np.max(np.abs(step))), 1e-300))
        slope = float(grad @ step)
        rounding = 1e-14 * max(1.0, abs(value))
        if -slope < rounding:  # the predicted gain is below what the objective can resolve
            return theta, value, True, "converged"
        length = 1.0
        while length > 1e-6:
            trial = np.clip(theta + length * step, -fitting.LOG_BOUND, fitting.LOG_BOUND)
            trial_value, trial_grad, trial_hessian = negative_mean(trial)
            if trial_value <= value + 1e-4 * length * slope:
                break
            flat = trial_value <= value + rounding and np.max(np.abs(trial_grad)) < np.max(np.abs(grad))
            if flat:  # no measurable change in value, but closer to the stationary point
                break
            length *= 0.5
        else:
            return theta, value, False, "Newton line search failed"
        theta, value, grad, hessian = trial, trial_value, trial_grad, trial_hessian
    return theta, value, float(np.max(np.abs(grad))) < fitting.NEWTON_GTOL, "Newton step limit"
