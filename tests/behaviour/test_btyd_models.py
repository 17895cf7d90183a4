"""MBG/NBD, BG/BB and sBG against the published estimates (or a peer's, where the paper's data differ).

* MBG/NBD -- Batislam, Denizel & Filiztekin (2007), IJRM 24(3). On the CDNOW calibration summary the peer
  values are those of lifetimes' own test suite (CamDavidsonPilon/lifetimes, tests/test_estimation.py,
  ``test_params_out_is_close_to_BTYDplus``: r 0.525, alpha 6.183, a 0.891, b 1.614, to 3 decimals, which
  it takes from BTYDplus).
* BG/BB -- Fader, Hardie & Berger (2010), Marketing Science 29(6), the 1995 donor cohort (11,104 donors,
  6 opportunities): alpha 1.204, beta 0.750, gamma 0.657, delta 2.783, LL -33,225.6.
* sBG -- Fader & Hardie (2007), "How to Project Customer Retention", JIM 21(1), fitted to years 1-7:
  regular gamma 0.704, delta 1.182; high end gamma 0.668, delta 3.806. The high-end projection and DERL
  are checked against the values the README of jdmaturen/shifted_beta_geometric_py gives for that data.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import astuple
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy.special import gammaln

from segone.behaviour.btyd import bgbb, bgnbd, mbgnbd, paretonbd, sbg
from segone.behaviour.btyd.bgbb import BGBBParams
from segone.behaviour.btyd.mbgnbd import MBGNBDParams
from segone.behaviour.btyd.sbg import SBGParams
from tests.behaviour.test_btyd import lifetimes_quietly
from tests.btyd_data import DONATIONS, SURVIVORS
from tests.cdnow import SUMMARY


def finite_differences(f: Callable[[np.ndarray], float], point: np.ndarray, h: float = 1e-6) -> np.ndarray:
    """Central differences, relative step."""
    out = np.empty_like(point)
    for i in range(point.shape[0]):
        step = h * max(abs(point[i]), 1.0)
        up, down = point.copy(), point.copy()
        up[i] += step
        down[i] -= step
        out[i] = (f(up) - f(down)) / (2 * step)
    return out


# --- MBG/NBD ----------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cdnow_summary() -> pd.DataFrame:
    return pd.read_csv(SUMMARY)


@pytest.fixture(scope="module")
def mbg_fit(cdnow_summary: pd.DataFrame) -> Any:
    return mbgnbd.fit(cdnow_summary["frequency"], cdnow_summary["recency"], cdnow_summary["T"])


def test_mbgnbd_reproduces_the_peer_estimates_on_cdnow(mbg_fit: Any) -> None:
    fitted = mbg_fit.params
    assert mbg_fit.converged
    assert [round(value, 3) for value in fitted.values()] == [0.525, 6.183, 0.891, 1.614]
    np.testing.assert_allclose(fitted.values(), [0.525, 6.183, 0.891, 1.614], rtol=1e-3)
    assert mbg_fit.n_customers == 2357


def test_mbgnbd_gradient_matches_finite_differences(cdnow_summary: pd.DataFrame) -> None:
    x, t_x, T = (cdnow_summary[name].to_numpy() for name in ("frequency", "recency", "T"))

    def total(v: np.ndarray) -> float:
        return float(mbgnbd.log_likelihood(MBGNBDParams(*v), x, t_x, T).sum())

    point = np.array([0.3, 5.0, 1.2, 2.5])
    ll, gradient = mbgnbd.log_likelihood_and_gradient(MBGNBDParams(*point), x, t_x, T)
    assert ll == pytest.approx(total(point), rel=1e-12)
    np.testing.assert_allclose(gradient, finite_differences(total, point), rtol=1e-6, atol=1e-4)


def test_mbgnbd_predictions_match_lifetimes(cdnow_summary: pd.DataFrame, mbg_fit: Any) -> None:
    params = mbg_fit.params
    x, t_x, T = (cdnow_summary[name].to_numpy() for name in ("frequency", "recency", "T"))
    with lifetimes_quietly() as lifetimes:
        peer = lifetimes.ModifiedBetaGeoFitter()
        peer.params_ = pd.Series(dict(zip(("r", "alpha", "a", "b"), params.values(), strict=True)))
        np.testing.assert_allclose(
            mbgnbd.p_alive(params, x, t_x, T), peer.conditional_probability_alive(x, t_x, T), rtol=1e-10
        )
        for horizon in (1.0, 39.0, 156.0):
            np.testing.assert_allclose(
                mbgnbd.expected_purchases(params, horizon, x, t_x, T),
                peer.conditional_expected_number_of_purchases_up_to_time(horizon, x, t_x, T),
                rtol=1e-8,
            )
        times = np.array([1.0, 39.0, 78.0])
        np.testing.assert_allclose(
            mbgnbd.expected_purchases_new(params, times),
            peer.expected_number_of_purchases_up_to_time(times),
            rtol=1e-8,
        )
    # A customer without repeat purchases may have dropped out at the first purchase.
    assert mbgnbd.p_alive(params, 0, 0, 39.0)[0] < 1.0


# --- BG/BB ------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def donations() -> pd.DataFrame:
    return pd.read_csv(DONATIONS)


@pytest.fixture(scope="module")
def bgbb_fit(donations: pd.DataFrame) -> Any:
    return bgbb.fit(
        donations["frequency"], donations["recency"], donations["periods"], weights=donations["weights"]
    )


def test_bgbb_reproduces_the_published_estimates(bgbb_fit: Any) -> None:
    """FHB 2010: alpha 1.204, beta 0.750, gamma 0.657, delta 2.783, LL -33,225.6 (the estimates lifetimes'
    tests/test_estimation.py also checks, ``test_params_out_is_close_to_Hardie_paper``)."""
    assert bgbb_fit.converged and bgbb_fit.n_customers == 11104
    assert [round(value, 3) for value in bgbb_fit.params.values()] == [1.204, 0.750, 0.657, 2.783]
    assert round(bgbb_fit.log_likelihood, 1) == -33225.6


def test_bgbb_aggregated_or_one_row_per_donor_is_the_same_fit(donations: pd.DataFrame, bgbb_fit: Any) -> None:
    rows = donations.loc[donations.index.repeat(donations["weights"])]
    again = bgbb.fit(rows["frequency"], rows["recency"], rows["periods"], aggregate=False)
    np.testing.assert_allclose(again.params.values(), bgbb_fit.params.values(), rtol=1e-6)
    assert again.log_likelihood == pytest.approx(bgbb_fit.log_likelihood, rel=1e-10)


def test_bgbb_gradient_matches_finite_differences(donations: pd.DataFrame) -> None:
    x, t_x, n, w = (donations[name].to_numpy() for name in ("frequency", "recency", "periods", "weights"))

    def total(v: np.ndarray) -> float:
        return float(w @ bgbb.log_likelihood(BGBBParams(*v), x, t_x, n))

    point = np.array([1.5, 0.9, 0.8, 2.0])
    ll, gradient = bgbb.log_likelihood_and_gradient(BGBBParams(*point), x, t_x, n, w)
    assert ll == pytest.approx(total(point), rel=1e-12)
    np.testing.assert_allclose(gradient, finite_differences(total, point), rtol=1e-6, atol=1e-4)


def test_bgbb_p_alive_reproduces_the_published_table_6(donations: pd.DataFrame, bgbb_fit: Any) -> None:
    """FHB 2010, Table 6, P(alive in 2002): 0.11 without repeat donations, 0.59 for two with the last in
    1999, 0.93 for six (as quoted by lifetimes' ``test_prob_alive_is_close_to_Hardie_paper_table_6``)."""
    alive = bgbb.p_alive(bgbb_fit.params, [0, 2, 6], [0, 4, 6], [6, 6, 6])
    assert [round(float(value), 2) for value in alive] == [0.11, 0.59, 0.93]


def test_bgbb_conditional_expectations_reproduce_the_published_spreadsheet(
    donations: pd.DataFrame, bgbb_fit: Any
) -> None:
    """Expected donations in 2002-2006 summed over the cohort: 12,884.2 in Hardie's BG/BB spreadsheet
    (brucehardie.com/notes/010, "Conditional Expectations (II)", as quoted by lifetimes' tests)."""
    x, t_x, n, w = (donations[name].to_numpy() for name in ("frequency", "recency", "periods", "weights"))
    expected = bgbb.expected_purchases(bgbb_fit.params, 5, x, t_x, n)
    assert round(float(w @ expected), 0) == 12884.0


def test_bgbb_predictions_match_lifetimes_and_the_closed_forms(donations: pd.DataFrame) -> None:
    params = BGBBParams(1.5, 0.9, 0.8, 2.0)
    a, b, g, d = params.values()
    x, t_x, n = (donations[name].to_numpy() for name in ("frequency", "recency", "periods"))
    with lifetimes_quietly() as lifetimes:
        peer = lifetimes.BetaGeoBetaBinomFitter()
        peer.params_ = pd.Series(dict(zip(("alpha", "beta", "gamma", "delta"), params.values(), strict=True)))
        np.testing.assert_allclose(
            bgbb.p_alive(params, x, t_x, n), peer.conditional_probability_alive(1, x, t_x, n), rtol=1e-10
        )
        np.testing.assert_allclose(
            bgbb.expected_purchases(params, 5, x, t_x, n),
            peer.conditional_expected_number_of_purchases_up_to_time(5, x, t_x, n),
            rtol=1e-10,
        )
    # FHB 2010, eq. 7: E[X(n)] = alpha / (alpha+beta) * delta / (gamma-1) * (1 - G(g+d) G(1+d+n) /
    # (G(g+d+n) G(1+d))).
    counts = np.array([1.0, 6.0, 20.0])
    closed = (
        a
        / (a + b)
        * d
        / (g - 1.0)
        * (1.0 - np.exp(gammaln(g + d) + gammaln(1 + d + counts) - gammaln(g + d + counts) - gammaln(1 + d)))
    )
    np.testing.assert_allclose(bgbb.expected_purchases_new(params, counts), closed, rtol=1e-12)


def test_bgbb_rejects_impossible_histories() -> None:
    with pytest.raises(ValueError, match="t_x"):
        bgbb.fit([2], [1], [6])
    with pytest.raises(ValueError, match="n"):
        bgbb.fit([1], [7], [6])
    with pytest.raises(ValueError, match="t_x must be 0"):
        bgbb.fit([0], [3], [6])


# --- sBG --------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cohorts() -> pd.DataFrame:
    return pd.read_csv(SURVIVORS)


@pytest.mark.parametrize(("column", "published"), [("regular", (0.704, 1.182)), ("high_end", (0.668, 3.806))])
def test_sbg_reproduces_the_published_estimates(cohorts: pd.DataFrame, column: str, published: tuple) -> None:
    """Fader & Hardie (2007), fitted to years 1-7: regular gamma 0.704, delta 1.182; high end 0.668, 3.806."""
    fitted = sbg.fit(cohorts[column].to_numpy()[:8])
    assert fitted.converged and fitted.n_customers == 1000
    assert tuple(round(value, 3) for value in fitted.params.values()) == published


def test_sbg_projects_the_published_survival_and_derl(cohorts: pd.DataFrame) -> None:
    """The high-end cohort's projection for years 8-12 (0.460, 0.436, 0.414, 0.395, 0.378 survive) and the
    DERL of its survivors after 7 years at 10% (7.530), as the README of jdmaturen/shifted_beta_geometric_py
    quotes them for FH 2007's data."""
    params = sbg.fit(cohorts["high_end"].to_numpy()[:8]).params
    projected = sbg.survival(params, np.arange(8, 13))
    assert [round(float(value), 3) for value in projected] == [0.460, 0.436, 0.414, 0.395, 0.378]
    assert round(float(sbg.derl(params, 0.10, 7)[0]), 3) == 7.530
    # Against what happened: within 4.1% of the actual survivors of years 8-12 (FH 2007, Table 1).
    actual = cohorts["high_end"].to_numpy()[8:13] / 1000.0
    np.testing.assert_allclose(projected, actual, rtol=0.041)


def test_sbg_functions_agree_with_each_other(cohorts: pd.DataFrame) -> None:
    params = SBGParams(0.704, 1.182)
    t = np.arange(1, 40)
    s = sbg.survival(params, np.arange(0, 40))
    assert s[0] == 1.0
    np.testing.assert_allclose(sbg.retention_rate(params, t), s[1:] / s[:-1], rtol=1e-12)
    np.testing.assert_allclose(sbg.churn_probability(params, t), s[:-1] - s[1:], rtol=1e-10)
    # DERL as the discounted sum of the survival ratios, 2F1 aside (FH 2010, eq. 6).
    long = sbg.survival(params, np.arange(0, 4000))
    for renewals in (0, 3):
        n = renewals + 1
        direct = sum(long[k] / long[n - 1] / 1.1 ** (k - n) for k in range(n, 4000))
        assert sbg.derl(params, 0.1, renewals)[0] == pytest.approx(direct, rel=1e-10)
    counts = cohorts["regular"].to_numpy()[:8]

    def total(v: np.ndarray) -> float:
        return sbg.log_likelihood(SBGParams(*v), counts)

    point = np.array([1.0, 2.0])
    ll, gradient = sbg.log_likelihood_and_gradient(SBGParams(*point), counts)
    assert ll == pytest.approx(total(point), rel=1e-12)
    np.testing.assert_allclose(gradient, finite_differences(total, point), rtol=1e-6, atol=1e-6)


def test_sbg_rejects_impossible_cohorts() -> None:
    with pytest.raises(ValueError, match="rise"):
        sbg.fit([1000, 600, 700])
    with pytest.raises(ValueError, match="cohort size"):
        sbg.fit([1000])
    with pytest.raises(ValueError, match="positive"):
        sbg.derl(SBGParams(1.0, 1.0), 0.0)


def test_extreme_histories_give_finite_values() -> None:
    mbg = MBGNBDParams(0.525, 6.183, 0.891, 1.614)
    x, t_x, T = np.array([0.0, 400.0, 1.0]), np.array([0.0, 5.0, 1e-9]), np.array([1e-6, 3000.0, 3000.0])
    for values in (
        mbgnbd.log_likelihood(mbg, x, t_x, T),
        mbgnbd.p_alive(mbg, x, t_x, T),
        mbgnbd.expected_purchases(mbg, 520.0, x, t_x, T),
    ):
        assert np.all(np.isfinite(values))
    bb = BGBBParams(1.204, 0.750, 0.657, 2.783)
    xs, ts, ns = np.array([0.0, 500.0, 1.0]), np.array([0.0, 500.0, 1.0]), np.array([500.0, 500.0, 500.0])
    for values in (
        bgbb.log_likelihood(bb, xs, ts, ns),
        bgbb.p_alive(bb, xs, ts, ns),
        bgbb.expected_purchases(bb, 100, xs, ts, ns),
    ):
        assert np.all(np.isfinite(values))
    assert np.all(np.isfinite(sbg.survival(SBGParams(0.704, 1.182), [0, 10_000])))
    assert np.isfinite(sbg.derl(SBGParams(0.704, 1.182), 1e-4, 100)[0])


@pytest.mark.parametrize("model", ["bgnbd", "mbgnbd", "pareto-nbd"])
def test_a_fit_started_near_a_related_optimum_finds_the_same_optimum(
    model: str, cdnow_summary: pd.DataFrame
) -> None:
    """A segment's fit starts from everyone's optimum (``start``): on half of CDNOW it must reach the
    optimum the 32-start search finds, the same parameters and likelihood."""
    fit = {"bgnbd": bgnbd.fit, "mbgnbd": mbgnbd.fit, "pareto-nbd": paretonbd.fit}[model]
    x, t_x, T = (cdnow_summary[name].to_numpy(dtype=float) for name in ("frequency", "recency", "T"))
    everyone = fit(x, t_x, T, standard_errors=False)
    half = slice(0, None, 2)
    searched = fit(x[half], t_x[half], T[half], standard_errors=False)
    warm = fit(x[half], t_x[half], T[half], standard_errors=False, start=everyone.params)
    assert warm.converged and warm.n_starts == 1 and searched.n_starts == 32
    assert warm.log_likelihood == pytest.approx(searched.log_likelihood, abs=1e-6)
    assert np.asarray(astuple(warm.params)) == pytest.approx(np.asarray(astuple(searched.params)), rel=1e-4)
