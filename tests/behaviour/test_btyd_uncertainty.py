"""Standard errors, the distribution of future purchases and bootstrap intervals of the BTYD models, on the
CDNOW summary (2,357 customers, 39 weeks), against the ``lifetimes`` package and mathematical identities.

Peers:

* Standard errors of the BG/NBD on CDNOW -- lifetimes' Quickstart (docs/Quickstart.md of
  github.com/CamDavidsonPilon/lifetimes, ``BetaGeoFitter(penalizer_coef=0.0)`` on
  ``cdnow_customers_summary``, ``bgf.summary``): se(coef) r 0.012557, alpha 0.378221, a 0.185719,
  b 0.705345.
* The unconditional PMF of the BG/NBD (Fader, Hardie & Lee 2005, eq. 8): lifetimes 0.11.3's
  ``BetaGeoFitter.probability_of_n_purchases_up_to_time``, ported below (``lifetimes_pmf``) as written there:
  a finite sum of gamma functions, independent of our incomplete-beta form.
* The conditional PMF of the Pareto/NBD (Fader, Hardie & Shang 2006, brucehardie.com/notes/028, eq. 16):
  lifetimes 0.11.3's ``ParetoNBDFitter.conditional_probability_of_n_purchases_up_to_time``, ported below
  (``lifetimes_pareto_pmf``, with SciPy's ``hyp2f1``), against our quadrature over the lifetime.
* Conditional expected value per purchase of the Gamma-Gamma -- the same Quickstart: customers 1, 2, 3
  24.658619, 18.911489, 35.170981.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd  # type: ignore[import-untyped]
import pytest
from scipy.special import beta as beta_fn  # type: ignore[import-untyped]
from scipy.special import betaln, gammaln, hyp2f1, logsumexp
from scipy.special import gamma as gamma_fn

from segone.behaviour.btyd import bgnbd, gammagamma, paretonbd, predictions
from segone.behaviour.btyd.bgnbd import BGNBDParams
from tests.cdnow import SUMMARY, WITH_TRANSACTIONS

HORIZON = 39.0


@pytest.fixture(scope="module")
def summary() -> pd.DataFrame:
    return pd.read_csv(SUMMARY)


@pytest.fixture(scope="module")
def spend_data() -> pd.DataFrame:
    return pd.read_csv(WITH_TRANSACTIONS)


@pytest.fixture(scope="module")
def bg_fit(summary: pd.DataFrame) -> Any:
    return bgnbd.fit(summary["frequency"], summary["recency"], summary["T"])


@pytest.fixture(scope="module")
def pn_fit(summary: pd.DataFrame) -> Any:
    return paretonbd.fit(summary["frequency"], summary["recency"], summary["T"])


@pytest.fixture(scope="module")
def gg_fit(spend_data: pd.DataFrame) -> Any:
    return gammagamma.fit(spend_data["x"], spend_data["zbar"])


def rfm(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return (
        frame["frequency"].to_numpy(dtype=float),
        frame["recency"].to_numpy(dtype=float),
        frame["T"].to_numpy(dtype=float),
    )


# --- standard errors --------------------------------------------------------------------------------------


def test_bgnbd_standard_errors_match_lifetimes(bg_fit: Any) -> None:
    errors = bg_fit.standard_errors
    assert {name: round(value, 4) for name, value in errors.items()} == {
        "r": 0.0126,  # lifetimes: 0.012557
        "alpha": 0.3782,  # 0.378221
        "a": 0.1857,  # 0.185719
        "b": 0.7053,  # 0.705345
    }
    assert bg_fit.covariance.shape == (4, 4)
    assert np.allclose(bg_fit.covariance, bg_fit.covariance.T)
    assert replace(bg_fit) == bg_fit  # the array stays out of the dataclass comparison


def test_a_fit_without_standard_errors_is_the_same_fit_without_them(
    summary: pd.DataFrame, spend_data: pd.DataFrame, bg_fit: Any, pn_fit: Any, gg_fit: Any
) -> None:
    # What a refresh asks for: it scores customers and shows no standard errors.
    fits = {
        "bgnbd": (bgnbd.fit(*rfm(summary), standard_errors=False), bg_fit),
        "pareto": (paretonbd.fit(*rfm(summary), standard_errors=False), pn_fit),
        "gamma": (gammagamma.fit(spend_data["x"], spend_data["zbar"], standard_errors=False), gg_fit),
    }
    for name, (without, with_them) in fits.items():
        assert without.covariance is None and without.standard_errors is None, name
        assert with_them.standard_errors is not None, name
        assert without.params == with_them.params, name
        assert without.log_likelihood == with_them.log_likelihood, name


def natural_hessian(total: Any, values: np.ndarray) -> np.ndarray:
    """Hessian of ``total`` in the natural parameters by second central differences of the function."""
    d = values.shape[0]
    h = 1e-4 * values
    out = np.empty((d, d))
    for i in range(d):
        for j in range(d):
            shifts = []
            for si, sj in ((1, 1), (1, -1), (-1, 1), (-1, -1)):
                point = values.copy()
                point[i] += si * h[i]
                point[j] += sj * h[j]
                shifts.append(si * sj * total(point))
            out[i, j] = sum(shifts) / (4.0 * h[i] * h[j])
    return out


def test_pareto_and_gammagamma_standard_errors_invert_the_likelihood_curvature(
    summary: pd.DataFrame, spend_data: pd.DataFrame, pn_fit: Any, gg_fit: Any
) -> None:
    """Our errors difference the analytic gradient in log-parameters; here the per-customer log-likelihood
    is differenced twice in the natural parameters: the inverse of minus that Hessian is the covariance."""
    x, t_x, T = rfm(summary)
    cases = [
        (pn_fit, lambda v: float(paretonbd.log_likelihood(paretonbd.ParetoNBDParams(*v), x, t_x, T).sum())),
    ]
    repeat = spend_data["x"] > 0
    gx, gm = spend_data["x"][repeat].to_numpy(float), spend_data["zbar"][repeat].to_numpy(float)
    cases.append(
        (gg_fit, lambda v: float(gammagamma.log_likelihood(gammagamma.GammaGammaParams(*v), gx, gm).sum()))
    )
    for fit, total in cases:
        covariance = np.linalg.inv(-natural_hessian(total, fit.params.as_array()))
        assert np.allclose(np.sqrt(np.diag(covariance)), list(fit.standard_errors.values()), rtol=2e-3)
    # The flat ridge of the Pareto/NBD on CDNOW: beta's standard error is about half the estimate.
    assert round(pn_fit.standard_errors["beta"], 1) == 6.2


# --- distribution of future purchases ---------------------------------------------------------------------


def lifetimes_pmf(params: BGNBDParams, t: float, n: int) -> float:
    """lifetimes 0.11.3, ``BetaGeoFitter.probability_of_n_purchases_up_to_time`` (FHL 2005 eq. 8)."""
    r, alpha, a, b = params.values()
    first = (
        beta_fn(a, b + n)
        / beta_fn(a, b)
        * gamma_fn(r + n)
        / gamma_fn(r)
        / gamma_fn(n + 1)
        * (alpha / (alpha + t)) ** r
        * (t / (alpha + t)) ** n
    )
    if n == 0:
        return float(first)
    j = np.arange(0, n)
    finite_sum = (gamma_fn(r + j) / gamma_fn(r) / gamma_fn(j + 1) * (t / (alpha + t)) ** j).sum()
    second = beta_fn(a + 1, b + n - 1) / beta_fn(a, b) * (1 - (alpha / (alpha + t)) ** r * finite_sum)
    return float(first + second)


def test_new_customer_pmf_matches_lifetimes(bg_fit: Any) -> None:
    counts = np.arange(30)
    for t in (1.0, 39.0, 78.0):
        ours = bgnbd.probability_of_purchases_new(bg_fit.params, t, counts)
        theirs = np.array([lifetimes_pmf(bg_fit.params, t, int(n)) for n in counts])
        assert np.allclose(ours, theirs, rtol=1e-9, atol=1e-14)
    assert bgnbd.probability_of_purchases_new(bg_fit.params, 0.0, [0, 1]).tolist() == [1.0, 0.0]


def test_conditional_pmf_sums_to_one_and_its_mean_is_the_expected_purchases(
    summary: pd.DataFrame, bg_fit: Any
) -> None:
    x, t_x, T = rfm(summary)
    counts = np.arange(0, 1500)
    pmf = bgnbd.probability_of_purchases(bg_fit.params, HORIZON, counts, x, t_x, T)
    assert pmf.shape == (x.shape[0], counts.shape[0]) and np.all(pmf >= 0)
    assert np.allclose(pmf.sum(axis=1), 1.0, atol=1e-10)
    expected = bgnbd.expected_purchases(bg_fit.params, HORIZON, x, t_x, T)
    assert np.allclose(pmf @ counts, expected, rtol=1e-8, atol=1e-10)
    # P(X = 0) is the likelihood ratio L(x, t_x, T + t) / L(x, t_x, T) that ``predict`` uses.
    point = predictions.predict(bg_fit.params, x, t_x, T, horizon=HORIZON)
    assert np.allclose(pmf[:, 0], point["p_no_purchases"], rtol=1e-10)


def test_conditional_pmf_of_a_customer_without_repeat_purchases_is_a_new_customers(bg_fit: Any) -> None:
    """With ``x = 0`` nothing is learned about drop-out and ``lambda ~ Gamma(r, alpha + T)``: eq. 8 with
    ``alpha + T``."""
    r, alpha, a, b = bg_fit.params.values()
    shifted = BGNBDParams(r, alpha + 20.0, a, b)
    counts = np.arange(12)
    conditional = bgnbd.probability_of_purchases(bg_fit.params, 10.0, counts, [0.0], [0.0], [20.0])[0]
    assert np.allclose(conditional, [lifetimes_pmf(shifted, 10.0, int(n)) for n in counts], rtol=1e-9)


def test_pareto_p_no_purchases_tends_to_one_and_is_at_least_p_dead(
    summary: pd.DataFrame, pn_fit: Any
) -> None:
    """P(X(t) = 0) -> 1 as the horizon shrinks, falls as it grows, and never drops below P(dead)."""
    x, t_x, T = rfm(summary)
    short = predictions.predict(pn_fit.params, x, t_x, T, horizon=1e-6)
    assert np.allclose(short["p_no_purchases"], 1.0, atol=1e-5)
    long = predictions.predict(pn_fit.params, x, t_x, T, horizon=HORIZON)
    assert np.all(long["p_no_purchases"] >= 1.0 - long["p_alive"] - 1e-12)
    assert np.all(long["p_no_purchases"] < short["p_no_purchases"])


def lifetimes_pareto_pmf(params: Any, n: int, t: float, x: float, t_x: float, T: float) -> float:
    """lifetimes 0.11.3, ``ParetoNBDFitter.conditional_probability_of_n_purchases_up_to_time`` (its
    log-likelihood replaced by ours, which test_btyd checks against lifetimes and the papers)."""
    r, alpha, s, beta = params.values()
    if alpha < beta:
        low, high, p = alpha, beta, r + x + n
    else:
        low, high, p = beta, alpha, s + 1
    log_l = float(paretonbd.log_likelihood(params, [x], [t_x], [T])[0])
    common = r * np.log(alpha) + s * np.log(beta)
    log_p_zero = (
        gammaln(r + x) + common - (gammaln(r) + (r + x) * np.log(alpha + T) + s * np.log(beta + T) + log_l)
    )
    log_b_one = (
        gammaln(r + x + n)
        + common
        - (gammaln(r) + (r + x + n) * np.log(alpha + T + t) + s * np.log(beta + T + t))
    )
    log_b_two = (
        common
        + gammaln(r + s + x)
        + betaln(r + x + n, s + 1)
        + np.log(hyp2f1(r + s + x, p, r + s + x + n + 1, (high - low) / (high + T)))
        - (gammaln(r) + gammaln(s) + (r + s + x) * np.log(high + T))
    )

    def log_b_three(i: int) -> float:
        return float(
            common
            + gammaln(r + s + x + i)
            + betaln(r + x + n, s + 1)
            + np.log(hyp2f1(r + s + x + i, p, r + s + x + n + 1, (high - low) / (high + T + t)))
            - (gammaln(r) + gammaln(s) + (r + s + x + i) * np.log(high + T + t))
        )

    zeroth = (n == 0) * (1 - np.exp(log_p_zero))
    first = n * np.log(t) - gammaln(n + 1) + log_b_one - log_l
    second = log_b_two - log_l
    third = logsumexp([i * np.log(t) - gammaln(i + 1) + log_b_three(i) - log_l for i in range(n + 1)])
    total = logsumexp([first, second, third], b=[1, 1, -1], return_sign=True)[0]
    return float(zeroth + np.exp(total))


def test_pareto_conditional_pmf_matches_lifetimes_and_the_identities(
    summary: pd.DataFrame, pn_fit: Any
) -> None:
    x, t_x, T = rfm(summary)
    counts = np.arange(0, 400)
    pmf = paretonbd.probability_of_purchases(pn_fit.params, HORIZON, counts, x, t_x, T)
    assert np.allclose(pmf.sum(axis=1), 1.0, atol=1e-10)
    expected = paretonbd.expected_purchases(pn_fit.params, HORIZON, x, t_x, T)
    assert np.allclose(pmf @ counts, expected, rtol=1e-8, atol=1e-10)
    point = predictions.predict(pn_fit.params, x, t_x, T, horizon=HORIZON)
    assert np.allclose(pmf[:, 0], point["p_no_purchases"], rtol=1e-10)
    for row in (0, 1, 2, 5, 156, 1515):  # customers 1, 2, 3, 6, 157 (29 purchases), 1516 (26)
        theirs = [
            lifetimes_pareto_pmf(pn_fit.params, n, HORIZON, x[row], t_x[row], T[row]) for n in range(12)
        ]
        assert np.allclose(pmf[row, :12], theirs, rtol=1e-7, atol=1e-12), row
    new = paretonbd.probability_of_purchases_new(pn_fit.params, HORIZON, counts)
    assert np.isclose(new.sum(), 1.0, atol=1e-10)
    assert np.isclose(new @ counts, paretonbd.expected_purchases_new(pn_fit.params, [HORIZON])[0], rtol=1e-8)


# --- intervals --------------------------------------------------------------------------------------------


def test_expected_value_matches_lifetimes(spend_data: pd.DataFrame, gg_fit: Any) -> None:
    value = gammagamma.expected_value(gg_fit.params, spend_data["x"][:3], spend_data["zbar"][:3])
    assert np.round(value, 3).tolist() == [24.659, 18.911, 35.171]  # lifetimes 24.658619 18.911489 35.170981


def test_bootstrap_intervals_agree_with_the_delta_method(summary: pd.DataFrame, bg_fit: Any) -> None:
    """With many draws, the central 68.27% interval of P(alive) and E[X] spans about two delta-method
    standard errors (gradient of the prediction times the covariance), and contains the estimate."""
    x, t_x, T = (column[:40] for column in rfm(summary))
    bands = predictions.intervals(bg_fit, x, t_x, T, horizon=HORIZON, level=0.6827, draws=4000, seed=1)
    values = bg_fit.params.as_array()
    point = predictions.predict(bg_fit.params, x, t_x, T, horizon=HORIZON)
    for name in ("p_alive", "expected_purchases"):
        gradient = np.empty((values.shape[0], x.shape[0]))
        for i in range(values.shape[0]):
            up, down = values.copy(), values.copy()
            up[i] *= 1.0 + 1e-5
            down[i] *= 1.0 - 1e-5
            high = predictions.predict(BGNBDParams(*up), x, t_x, T, horizon=HORIZON)[name]
            low = predictions.predict(BGNBDParams(*down), x, t_x, T, horizon=HORIZON)[name]
            gradient[i] = (high - low) / (up[i] - down[i])
        delta = np.sqrt(np.einsum("ic,ij,jc->c", gradient, bg_fit.covariance, gradient))
        varying = delta > 1e-6  # P(alive) is 1 for every draw when x = 0
        half = (bands.upper[name] - bands.lower[name]) / 2.0
        assert np.allclose(half[varying], delta[varying], rtol=0.12)
        assert np.all(bands.lower[name] <= point[name] + 1e-12)
        assert np.all(point[name] <= bands.upper[name] + 1e-12)


def test_intervals_are_reproducible_and_carry_clv(spend_data: pd.DataFrame, pn_fit: Any, gg_fit: Any) -> None:
    data = spend_data.iloc[:200]
    x, t_x, T, m = (data[c].to_numpy(float) for c in ("x", "t_x", "T", "zbar"))
    discounting = predictions.Discounting(periods=10, rate=0.01, period_length=HORIZON / 10)

    def run() -> predictions.Intervals:
        return predictions.intervals(
            pn_fit,
            x,
            t_x,
            T,
            horizon=HORIZON,
            draws=60,
            spend=gg_fit,
            monetary_value=m,
            discounting=discounting,
        )

    first, second = run(), run()
    assert set(first.lower) == set(predictions.COLUMNS)
    for name in predictions.COLUMNS:
        assert np.array_equal(first.lower[name], second.lower[name])
        assert np.all(first.lower[name] <= first.upper[name])
    value = gammagamma.expected_value(gg_fit.params, x, m)
    point = predictions.predict(
        pn_fit.params, x, t_x, T, horizon=HORIZON, value=value, discounting=discounting
    )
    # CLV is value times discounted purchases; undiscounted it would be value times expected purchases.
    assert np.all(point["clv"] <= value * point["expected_purchases"] + 1e-9)
    with pytest.raises(ValueError, match="level"):
        predictions.intervals(pn_fit, x, t_x, T, horizon=HORIZON, level=1.5)
