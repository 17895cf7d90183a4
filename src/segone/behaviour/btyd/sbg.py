"""The shifted-beta-geometric (sBG) model of contractual retention: Fader & Hardie (2007), "How to Project
Customer Retention", Journal of Interactive Marketing 21(1), 76-90.

Each customer renews at the end of every period with a constant probability ``1 - theta`` and churns with
probability ``theta ~ Beta(gamma, delta)`` across customers. The lifetime ``T`` (the period in which a
customer churns, 1, 2, ...) then has (FH 2007, eqs. 5-7)::

    P(T = t) = B(gamma+1, delta+t-1) / B(gamma, delta)          (churn_probability)
    S(t)     = B(gamma, delta+t) / B(gamma, delta)              (survival)
    r(t)     = S(t) / S(t-1) = (delta+t-1) / (gamma+delta+t-1)  (retention_rate, rising with t)

A cohort is given as ``survivors``: its size at period 0, then the customers still active at the end of
periods 1..k. Its log-likelihood (FH 2007, eq. 8) is
``sum_t (s_{t-1} - s_t) log P(T = t) + s_k log S(k)``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from segone.behaviour.btyd import fitting
from segone.behaviour.btyd._special import FloatArray, betaln, digamma, log_hyp1
from segone.behaviour.btyd.fitting import FitResult, ModelParams, Objective


@dataclass(frozen=True)
class SBGParams(ModelParams):
    """``gamma, delta``: the beta distribution of churn probabilities across customers."""

    gamma: float
    delta: float

    @property
    def mean_churn(self) -> float:
        """Mean churn probability per period across the cohort at acquisition, ``gamma / (gamma+delta)``."""
        return self.gamma / (self.gamma + self.delta)


def check_survivors(survivors: ArrayLike) -> FloatArray:
    """Validate a cohort's survivor counts: period 0 first, positive, never rising."""
    counts = fitting.float_array(survivors, "survivors")
    if counts.shape[0] < 2:
        raise ValueError("survivors needs the cohort size and at least one later period")
    if counts[0] <= 0:
        raise ValueError("survivors must start with the (positive) cohort size at period 0")
    if np.any(counts < 0):
        raise ValueError("survivors must be >= 0")
    if np.any(np.diff(counts) > 0):
        raise ValueError("survivors must not rise from one period to the next")
    return counts


def log_likelihood(params: SBGParams, survivors: ArrayLike) -> float:
    """Log-likelihood of a cohort's survivor counts (FH 2007, eq. 8)."""
    total, _ = _objective(check_survivors(survivors))(np.log(params.as_array()), False)
    return total


def log_likelihood_and_gradient(params: SBGParams, survivors: ArrayLike) -> tuple[float, FloatArray]:
    """Log-likelihood and its analytic gradient with respect to ``(gamma, delta)``."""
    values = params.as_array()
    total, gradient = _objective(check_survivors(survivors))(np.log(values), True)
    return total, gradient / values


def fit(survivors: ArrayLike) -> FitResult[SBGParams]:
    """Maximum-likelihood sBG fit to one cohort (``fitting.maximise``); ``n_customers`` is the cohort size."""
    started = time.perf_counter()
    counts = check_survivors(survivors)
    optimum = fitting.maximise(_objective(counts), centre=np.zeros(2), total_weight=float(counts[0]))
    gamma, delta = np.exp(optimum.theta)
    return optimum.result(
        SBGParams(float(gamma), float(delta)), n_customers=round(counts[0]), started=started
    )


def survival(params: SBGParams, t: ArrayLike) -> FloatArray:
    """``S(t)``: share of the cohort still a customer after ``t`` periods (``t >= 0``); times the cohort
    size, the projected survivors."""
    periods = _periods(t, 0)
    gamma, delta = params.values()
    return np.asarray(np.exp(betaln(gamma, delta + periods) - betaln(gamma, delta)), dtype=np.float64)


def retention_rate(params: SBGParams, t: ArrayLike) -> FloatArray:
    """``r(t) = S(t) / S(t-1)``: share of period ``t - 1``'s customers who renew at the end of period ``t``
    (``t >= 1``)."""
    periods = _periods(t, 1)
    gamma, delta = params.values()
    return np.asarray((delta + periods - 1.0) / (gamma + delta + periods - 1.0), dtype=np.float64)


def churn_probability(params: SBGParams, t: ArrayLike) -> FloatArray:
    """``P(T = t)``: probability that a new customer churns at the end of period ``t`` (``t >= 1``)."""
    periods = _periods(t, 1)
    gamma, delta = params.values()
    log_p = betaln(gamma + 1.0, delta + periods - 1.0) - betaln(gamma, delta)
    return np.asarray(np.exp(log_p), dtype=np.float64)


def derl(params: SBGParams, discount_rate: float, renewals: ArrayLike = 0) -> FloatArray:
    """Discounted expected residual lifetime: Fader & Hardie (2010), "Customer-Base Valuation in a
    Contractual Setting: The Perils of Ignoring Heterogeneity", Marketing Science 29(1), 85-93, eq. 6.

    The expected number of payments still to come from a customer who has made ``renewals`` renewals
    (``n - 1`` in the paper; 0 for a customer just acquired), the next one undiscounted and each later
    one discounted by ``discount_rate`` per period::

        DERL = (delta+n-1) / (gamma+delta+n-1) * 2F1(1, delta+n; gamma+delta+n; 1 / (1+d))

    Times the net cash flow per period, the value of the customer's remaining contract. The 2F1 is
    evaluated by ``_special.log_hyp1``, accurate as ``1 / (1+d)`` approaches 1.
    """
    if not discount_rate > 0:
        raise ValueError("discount_rate must be positive (undiscounted residual lifetimes can be infinite)")
    made = _periods(renewals, 0)
    gamma, delta = params.values()
    n = made + 1.0
    z = np.full(made.shape[0], 1.0 / (1.0 + discount_rate))
    eps = np.full(made.shape[0], discount_rate / (1.0 + discount_rate))
    log_f, _, _, _ = log_hyp1(delta + n, gamma + delta + n, z, eps, grad=False)
    return np.asarray((delta + n - 1.0) / (gamma + delta + n - 1.0) * np.exp(log_f), dtype=np.float64)


# --- internals --------------------------------------------------------------------------------------------


def _periods(t: ArrayLike, lowest: int) -> FloatArray:
    periods = fitting.float_array(t, "t")
    if np.any(periods < lowest) or np.any(periods != np.round(periods)):
        raise ValueError(f"t must be whole numbers >= {lowest}")
    return periods


def _objective(survivors: FloatArray) -> Objective:
    churned = survivors[:-1] - survivors[1:]  # at the end of periods 1..k
    t = np.arange(1, survivors.shape[0], dtype=np.float64)
    last, k = float(survivors[-1]), float(t[-1])
    cohort = float(survivors[0])

    def evaluate(theta: FloatArray, grad: bool) -> tuple[float, FloatArray]:
        gamma, delta = np.exp(theta)
        base = betaln(gamma, delta)
        log_p = betaln(gamma + 1.0, delta + t - 1.0) - base
        log_s = float(betaln(gamma, delta + k) - base)
        total = float(churned @ log_p) + last * log_s
        if not grad:
            return total, np.zeros(2)
        psi_gd = digamma(gamma + delta)
        g_gamma = float(churned @ (digamma(gamma + 1.0) - digamma(gamma + delta + t)))
        g_gamma += last * float(digamma(gamma) - digamma(gamma + delta + k))
        g_gamma -= cohort * float(digamma(gamma) - psi_gd)
        g_delta = float(churned @ (digamma(delta + t - 1.0) - digamma(gamma + delta + t)))
        g_delta += last * float(digamma(delta + k) - digamma(gamma + delta + k))
        g_delta -= cohort * float(digamma(delta) - psi_gd)
        return total, np.array([g_gamma * gamma, g_delta * delta])

    return evaluate
