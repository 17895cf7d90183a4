"""Per-customer model scores for the customer pages: P(alive), expected purchases, value per purchase, CLV.

A purchase model (Pareto/NBD by default; BG/NBD or MBG/NBD when asked) is fitted on every customer with a
purchase (the RFM summary in weeks), Gamma-Gamma on those with repeat purchases; CLV discounts the
purchases expected over the horizon, four weeks at a time, at the annual rate converted to one per four
weeks. Pareto/NBD by default rather than BG/NBD because its P(alive) falls with time for a customer who
bought once, where BG/NBD's stays at 1: on a page, "bought once, three years ago: 100% alive" would
mislead (MBG/NBD's falls too). A model that cannot be fitted (too few customers, no repeat purchases, an
optimiser that fails) leaves its scores empty and says why in ``notes``; nothing here raises on thin data.
``Scores.scorer`` is the model that gave P(alive) and expected purchases (``evaluation.MODELS`` names).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa

from segone.behaviour.btyd import bgnbd, gammagamma, mbgnbd, paretonbd
from segone.behaviour.btyd._special import FloatArray
from segone.behaviour.btyd.clv import discounted_purchases

MIN_CUSTOMERS = 20
MIN_REPEAT_CUSTOMERS = 50  # fewer give Gamma-Gamma fits that converge to absurd spend distributions
YOUNGEST_WEEKS = (
    0.5 / 7
)  # a customer whose first purchase is on the profile's day is scored as half a day old
WEEKS_PER_YEAR = 52
NO_DROPOUT = 1e-4  # BG/NBD's a below this: the fit found no customer who stopped buying
SCORE_COLUMNS = ("p_alive", "expected_purchases", "expected_value", "clv")
PURCHASE_MODELS = ("pareto-nbd", "bgnbd", "mbgnbd")  # the names of evaluation.MODELS
# The keys of the fitted purchase models in ``Scores.models`` (and so in ``BehaviourRefresh.models``).
MODEL_KEYS = {"pareto-nbd": "pareto_nbd", "bgnbd": "bgnbd", "mbgnbd": "mbgnbd"}
LABELS = {"pareto-nbd": "Pareto/NBD", "bgnbd": "BG/NBD", "mbgnbd": "MBG/NBD"}


@dataclass
class Scores:
    """``table``: ``customer_id`` and the ``SCORE_COLUMNS`` (nulls where a model is missing)."""

    table: pa.Table
    models: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    scorer: str | None = None  # the purchase model behind p_alive and expected_purchases; None: not fitted


def period_rate(annual_discount_rate: float, weeks: float) -> float:
    """The discount rate of a period of ``weeks`` weeks equivalent to the annual one."""
    return float((1.0 + annual_discount_rate) ** (weeks / WEEKS_PER_YEAR) - 1.0)


def score_customers(
    summary: pa.Table,
    *,
    horizon_weeks: int,
    annual_discount_rate: float,
    model: str = "pareto-nbd",
) -> Scores:
    """Scores for each customer of ``summary`` (``customer_id, frequency, recency, T, monetary_value``,
    in weeks), P(alive) and expected purchases by ``model`` (one of ``PURCHASE_MODELS``).

    The rows are put in customer order first: engines return them in any order, and the sums of the
    likelihood in another order can move a flat optimum (no dropout) in the fifth digit.
    """
    summary = summary.sort_by("customer_id")
    ids = summary.column("customer_id")
    n = summary.num_rows
    x = _floats(summary, "frequency")
    t_x, money = _floats(summary, "recency"), _floats(summary, "monetary_value")
    # T is 0 for a first purchase on the profile's day: the likelihood needs T > 0 (and T >= recency).
    age = np.maximum(_floats(summary, "T"), YOUNGEST_WEEKS)
    empty = np.full(n, np.nan)
    alive, expected, value, clv = empty.copy(), empty.copy(), empty.copy(), empty.copy()
    scores = Scores(pa.table({"customer_id": ids}))

    if model not in PURCHASE_MODELS:
        raise ValueError(f"model must be one of {', '.join(PURCHASE_MODELS)}, not {model!r}")
    if model == "pareto-nbd":
        purchases = _fit_purchases(x, t_x, age, scores)
    else:
        purchases = _fit_beta_geometric(model, x, t_x, age, scores)
    if purchases is not None:
        alive = purchases.alive
        expected = purchases.expected(float(horizon_weeks))

    spend_model = _fit_gammagamma(x, money, scores)
    if spend_model is not None:
        value = gammagamma.expected_value(spend_model, x, money)
    if purchases is not None and spend_model is not None:
        # Discounted by four-week period: weekly would cost 4x the model evaluations for cents of difference.
        periods = max(1, round(horizon_weeks / 4))
        length = horizon_weeks / periods
        clv = value * discounted_purchases(
            purchases.expected,
            periods=periods,
            period_length=length,
            discount_rate=period_rate(annual_discount_rate, length),
        )

    for name, values in zip(SCORE_COLUMNS, (alive, expected, value, clv), strict=True):
        scores.table = scores.table.append_column(name, pa.array(values, pa.float64(), mask=np.isnan(values)))
    return scores


@dataclass
class _Purchases:
    """A fitted purchase model: P(alive) per customer, and ``expected(t)`` purchases in ``t`` weeks."""

    alive: FloatArray
    expected: Callable[[float], FloatArray]


def _fit_purchases(x: FloatArray, t_x: FloatArray, age: FloatArray, scores: Scores) -> _Purchases | None:
    """Pareto/NBD, unless BG/NBD (fitted first: it takes a second) finds that nobody has stopped buying.

    Then both models reduce to the NBD, in which everyone is alive, and the Pareto/NBD optimiser wanders
    towards the edge of its search box for minutes; the BG/NBD scores say the same thing at once.
    """
    if not _enough(LABELS["pareto-nbd"], x, scores):
        return None
    try:
        screen = bgnbd.fit(x, t_x, age)
        if screen.params.a < NO_DROPOUT:
            scores.models["bgnbd"] = _describe(screen, ("r", "alpha", "a", "b"))
            scores.notes.append(
                "No customer seems to have stopped buying yet (BG/NBD finds no dropout), so P(alive) is "
                "about 1 for everyone; the scores are BG/NBD's and Pareto/NBD was not fitted."
            )
            model = screen.params
            alive = bgnbd.p_alive(model, x, t_x, age)
            scores.scorer = "bgnbd"
            return _Purchases(alive, lambda weeks: alive * bgnbd.purchases_if_alive(model, weeks, x, age))
        fitted = paretonbd.fit(x, t_x, age)
    except (ValueError, FloatingPointError, ArithmeticError) as exc:
        scores.notes.append(f"Pareto/NBD could not be fitted: {exc}")
        return None
    scores.models["pareto_nbd"] = _describe(fitted, ("r", "alpha", "s", "beta"))
    if not fitted.converged:
        scores.notes.append(
            f"Pareto/NBD did not fully converge ({fitted.message}); its scores are approximate."
        )
    params = fitted.params
    alive = paretonbd.p_alive(params, x, t_x, age)
    scores.scorer = "pareto-nbd"
    return _Purchases(alive, lambda weeks: alive * paretonbd.purchases_if_alive(params, weeks, x, age))


def _fit_beta_geometric(
    model: str, x: FloatArray, t_x: FloatArray, age: FloatArray, scores: Scores
) -> _Purchases | None:
    """BG/NBD or MBG/NBD, as asked (``--model``, ``SEGONE_BEHAVIOUR_MODEL`` or the best on the holdout).

    Neither needs the Pareto/NBD's screen: when nobody has stopped buying their fits find it in a second.
    """
    label = LABELS[model]
    if not _enough(label, x, scores):
        return None
    module: Any = bgnbd if model == "bgnbd" else mbgnbd
    try:
        fitted = module.fit(x, t_x, age, standard_errors=False)
    except (ValueError, FloatingPointError, ArithmeticError) as exc:
        scores.notes.append(f"{label} could not be fitted: {exc}")
        return None
    scores.models[MODEL_KEYS[model]] = _describe(fitted, ("r", "alpha", "a", "b"))
    if not fitted.converged:
        scores.notes.append(f"{label} did not fully converge ({fitted.message}); its scores are approximate.")
    params = fitted.params
    alive = module.p_alive(params, x, t_x, age)
    scores.scorer = model
    return _Purchases(alive, lambda weeks: alive * module.purchases_if_alive(params, weeks, x, age))


def _enough(label: str, x: FloatArray, scores: Scores) -> bool:
    """Whether there are customers enough, and repeat purchases, to fit a purchase model (else a note)."""
    if x.shape[0] < MIN_CUSTOMERS:
        scores.notes.append(
            f"{label} not fitted: {x.shape[0]} customers have purchased; it needs {MIN_CUSTOMERS}."
        )
        return False
    if not np.any(x > 0):
        scores.notes.append(f"{label} not fitted: no customer has bought twice yet.")
        return False
    return True


def _fit_gammagamma(x: FloatArray, money: FloatArray, scores: Scores) -> gammagamma.GammaGammaParams | None:
    keep = (x > 0) & (money > 0)  # a repeat customer whose purchases were all free says nothing of spend
    repeat = int(np.count_nonzero(keep))
    if repeat < MIN_REPEAT_CUSTOMERS:
        scores.notes.append(
            f"Gamma-Gamma not fitted: {repeat} customers have repeat purchases with a value; "
            f"it needs at least {MIN_REPEAT_CUSTOMERS}."
        )
        return None
    try:
        fitted = gammagamma.fit(x[keep], money[keep])
    except (ValueError, FloatingPointError, ArithmeticError) as exc:
        scores.notes.append(f"Gamma-Gamma could not be fitted: {exc}")
        return None
    if fitted.params.q <= 1.0:
        scores.notes.append("Gamma-Gamma left out: its fit implies an infinite mean spend (q <= 1).")
        return None
    scores.models["gamma_gamma"] = _describe(fitted, ("p", "q", "gamma"))
    return fitted.params


def _describe(fitted: Any, names: tuple[str, ...]) -> dict[str, Any]:
    """The fit as ``BehaviourRefresh.models`` keeps it: with its covariance (the parameters' order, None when
    the data do not identify every parameter), from which a customer's intervals are drawn later."""
    covariance = fitted.covariance
    return {
        "params": dict(zip(names, (round(v, 6) for v in fitted.params.values()), strict=True)),
        "covariance": None if covariance is None else [[float(v) for v in row] for row in covariance],
        "log_likelihood": round(fitted.log_likelihood, 3),
        "customers": fitted.n_customers,
        "converged": fitted.converged,
        "seconds": round(fitted.seconds, 3),
    }


def _floats(table: pa.Table, name: str) -> FloatArray:
    return np.asarray(table.column(name).to_numpy(), dtype=np.float64)
