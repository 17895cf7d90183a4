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
from dataclasses import astuple, dataclass

import numpy as np
from numpy.typing import ArrayLike

from segone.behaviour.btyd import fitting
from segone.behaviour.btyd._special import FloatArray, digamma, gammaln
from segone.behaviour.btyd.fitting import FitResult, Objective


@dataclass(frozen=True)
class GammaGammaParams:
    """``p``: shape of transaction values; ``q, gamma``: heterogeneity of their scale across customers."""

    p: float
    q: float
    gamma: float

    def values(self) -> tuple[float, float, float]:
        return (self.p, self.q, self.gamma)

    def as_array(self) -> FloatArray:
        return np.array(astuple(self), dtype=np.float64)

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
    total, gradient = _objective(xa, ma, wa)(np.log(values), True)
    return total, gradient / values


def fit(
    x: ArrayLike, monetary_value: ArrayLike, *, weights: ArrayLike | None = None, aggregate: bool = True
) -> FitResult[GammaGammaParams]:
    """Maximum-likelihood Gamma-Gamma fit on the customers with repeat purchases.

    Customers with ``x = 0`` are left out (they say nothing about spend per repeat purchase), as in FH 2013;
    ``n_customers`` counts those used. ``aggregate`` merges identical ``(x, monetary_value)`` rows when at
    least half of the values repeat (judged on a sample).
    """
    started = time.perf_counter()
    xa, ma, wa = _repeat_customers(x, monetary_value, weights, drop=True)
    if xa.shape[0] == 0:
        raise ValueError("no customer has repeat purchases")
    if aggregate and fitting.distinct_share(ma) < 0.5:  # spend is usually continuous: nothing to merge
        (xa, ma), wa, _ = fitting.group_rows([xa, ma], wa)
    scale = float(np.average(ma, weights=wa))
    scaled = ma / scale
    screening: Objective | None = None
    screening_weight = 1.0
    if xa.shape[0] > fitting.SCREEN_ABOVE_ROWS:
        rows, counts = fitting.subsample_customers(wa, fitting.SCREEN_CUSTOMERS)
        screening, screening_weight = _objective(xa[rows], scaled[rows], counts), float(counts.sum())
    optimum = fitting.maximise(
        _objective(xa, scaled, wa),
        centre=np.array([0.0, np.log(2.0), 0.0]),
        total_weight=float(wa.sum()),
        screening=screening,
        screening_weight=screening_weight,
    )
    p, q, gamma = np.exp(optimum.theta)
    params = GammaGammaParams(float(p), float(q), float(gamma * scale))
    return FitResult(
        params=params,
        log_likelihood=float(optimum.log_likelihood - wa.sum() * np.log(scale)),  # density of m / scale
        n_customers=round(float(wa.sum())),
        seconds=time.perf_counter() - started,
        converged=optimum.converged,
        n_starts=optimum.n_starts,
        message=optimum.message,
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


def _repeat_customers(
    x: ArrayLike, monetary_value: ArrayLike, weights: ArrayLike | None, *, drop: bool
) -> tuple[FloatArray, FloatArray, FloatArray]:
    xa, ma = fitting.float_array(x, "x"), fitting.float_array(monetary_value, "monetary_value")
    if xa.shape != ma.shape:
        raise ValueError("x and monetary_value must have the same length")
    wa = fitting.check_weights(weights, xa.shape[0])
    if np.any(xa < 0) or np.any(xa != np.round(xa)):
        raise ValueError("x (repeat purchases) must be whole numbers >= 0")
    keep = xa > 0
    if not drop and not np.all(keep):
        raise ValueError("the Gamma-Gamma likelihood is defined for customers with repeat purchases only")
    xa, ma, wa = xa[keep], ma[keep], wa[keep]
    if np.any(ma <= 0):
        raise ValueError("monetary_value must be positive for customers with repeat purchases")
    return xa, ma, wa


def _objective(x: FloatArray, m: FloatArray, w: FloatArray) -> Objective:
    """Log-likelihood as sufficient statistics: gamma functions per distinct ``x``, two logs per row."""
    (ux,), wx, _ = fitting.group_rows([x], w)
    spend = m * x  # each customer's total repeat spend
    wx_row = w * x
    big_w = float(w.sum())
    fixed = float(wx_row @ (np.log(m) + np.log(x)))  # multiplies p
    fixed_m = float(w @ np.log(m))

    def evaluate(theta: FloatArray, grad: bool) -> tuple[float, FloatArray]:
        p, q, gamma = np.exp(theta)
        pu = p * ux
        log_total = np.log(gamma + spend)
        sum_x_log, sum_log = float(wx_row @ log_total), float(w @ log_total)
        total = (
            float(wx @ (gammaln(pu + q) - gammaln(pu))) + p * fixed - fixed_m - p * sum_x_log - q * sum_log
        )
        total += big_w * (q * np.log(gamma) - gammaln(q).item())
        if not grad:
            return total, np.zeros(3)
        psi = digamma(pu + q)
        inverse = 1.0 / (gamma + spend)
        g_p = float(wx @ (ux * (psi - digamma(pu)))) + fixed - sum_x_log
        g_q = float(wx @ psi) - big_w * digamma(q).item() + big_w * np.log(gamma) - sum_log
        g_gamma = big_w * q / gamma - p * float(wx_row @ inverse) - q * float(w @ inverse)
        return total, np.array([g_p * p, g_q * q, g_gamma * gamma])

    return evaluate
