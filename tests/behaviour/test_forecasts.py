"""One customer's forecasts from the last refresh's fits: intervals on the scores, P(alive) over their past.

On the CDNOW sample (the published Pareto/NBD fit, the tests' real data) and on the CDNOW summary (2,357
customers, 39 weeks) for the models' per-draw evaluations.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd  # type: ignore[import-untyped]
import pytest
from sqlalchemy import select

from segone.accounts.schemas import SYSTEM
from segone.analytics import backend
from segone.behaviour import forecasts, ingest, metrics, scores
from segone.behaviour import service as profiles
from segone.behaviour.btyd import bgnbd, gammagamma, paretonbd, predictions
from segone.behaviour.models import BehaviourProfile, BehaviourRefresh
from segone.behaviour.schemas import TimelinePoint
from segone.errors import Invalid
from segone.runtime import Runtime
from tests.behaviour.conftest import CDNOW_CALIBRATION_END, DUCKDB_WARNING, refreshed_on_cdnow
from tests.cdnow import SUMMARY, WITH_TRANSACTIONS

pytestmark = pytest.mark.filterwarnings(DUCKDB_WARNING)

DISCOUNTING = predictions.Discounting(periods=13, rate=0.0074, period_length=4.0)


@pytest.fixture(scope="module")
def summary() -> pd.DataFrame:
    return pd.read_csv(SUMMARY)


@pytest.fixture(scope="module")
def fits(summary: pd.DataFrame) -> dict[str, Any]:
    spend = pd.read_csv(WITH_TRANSACTIONS)
    repeat = spend[spend["x"] > 0]
    return {
        "pareto_nbd": paretonbd.fit(summary["frequency"], summary["recency"], summary["T"]),
        "bgnbd": bgnbd.fit(summary["frequency"], summary["recency"], summary["T"]),
        "gamma_gamma": gammagamma.fit(repeat["x"], repeat["zbar"]),
    }


@pytest.mark.parametrize("name", ["pareto_nbd", "bgnbd"])
def test_the_per_draw_evaluations_are_the_models_own_for_each_draw(name: str, fits: dict[str, Any]) -> None:
    fit = fits[name]
    model = paretonbd if name == "pareto_nbd" else bgnbd
    draws = predictions._draw(fit, 40, np.random.default_rng(3))
    # No repeat purchase; an ordinary history; a purchase on the last day; a heavy buyer.
    for x, t_x, age in ((0, 0.0, 30.0), (3, 20.0, 30.0), (5, 30.0, 30.0), (12, 35.0, 38.5)):
        each = [type(fit.params)(*row) for row in draws]
        alive = [model.p_alive(params, [x], [t_x], [age])[0] for params in each]
        if_alive = [
            model.purchases_if_alive(params, 52.0, np.array([float(x)]), np.array([age]))[0]
            for params in each
        ]
        assert model.p_alive_draws(draws, x, t_x, age) == pytest.approx(alive, rel=1e-12, abs=1e-15)
        assert model.purchases_if_alive_draws(draws, 52.0, x, age) == pytest.approx(if_alive, rel=1e-12)


@pytest.mark.parametrize("name", ["pareto_nbd", "bgnbd"])
def test_one_customers_intervals_hold_the_estimate_and_narrow_with_the_level(
    name: str, fits: dict[str, Any]
) -> None:
    fit, spend = fits[name], fits["gamma_gamma"]
    x, t_x, age, money = 3, 20.0, 30.0, 30.0
    predicted = predictions.predict(
        fit.params,
        [x],
        [t_x],
        [age],
        horizon=52.0,
        value=gammagamma.expected_value(spend.params, [x], [money]),
        discounting=DISCOUNTING,
    )

    def at(level: float, seed: int = 0) -> predictions.Intervals:
        return predictions.customer_intervals(
            fit,
            x,
            t_x,
            age,
            horizon=52.0,
            level=level,
            draws=400,
            spend=spend,
            monetary_value=money,
            discounting=DISCOUNTING,
            seed=seed,
        )

    wide, narrow = at(0.95), at(0.5)
    for column in ("p_alive", "expected_purchases", "expected_value", "clv"):
        estimate = predicted[column][0]
        assert wide.lower[column][0] < estimate < wide.upper[column][0], column
        assert (
            wide.lower[column][0] < narrow.lower[column][0] < narrow.upper[column][0] < wide.upper[column][0]
        )
    # Seeded: the same question gets the same answer; another seed draws other parameters.
    same = at(0.95)
    for column in wide.lower:
        assert (same.lower[column][0], same.upper[column][0]) == (
            wide.lower[column][0],
            wide.upper[column][0],
        )
    assert at(0.95, seed=1).lower["clv"][0] != wide.lower["clv"][0]


def test_a_bad_level_is_refused_saying_what_is_allowed() -> None:
    for level in (0.3, 0.995, 1.5):
        with pytest.raises(Invalid, match=r"between 0\.5 and 0\.99") as refused:
            forecasts.checked_level(level)
        assert refused.value.field == "intervals"
    assert forecasts.checked_level(0.9) == 0.9


def _summary_as_of(runtime: Runtime, day: date) -> dict[int, tuple[float, float, float]]:
    """Each customer's ``(x, t_x, T)`` in weeks as the engine computes them up to ``day``."""
    con = backend.connect("duckdb://:memory:", runtime.settings.data_dir)
    try:
        events = ingest.dataset_of(runtime.settings.data_dir).read(con)
        table = backend.to_arrow(metrics.rfm_summary(events, day, "week", by="customer_id"))
    finally:
        con.disconnect()
    return {row["customer_id"]: (row["frequency"], row["recency"], row["T"]) for row in table.to_pylist()}


def test_the_refresh_keeps_each_models_covariance_and_a_customers_intervals_come_from_it(
    sqlite_runtime: Runtime,
) -> None:
    runtime = sqlite_runtime
    models = refreshed_on_cdnow(runtime)
    # The covariance kept is the fit's own: refitting the engine's summary gives the same standard errors.
    rows = _summary_as_of(runtime, CDNOW_CALIBRATION_END)
    x, t_x, age = (np.array([row[i] for row in rows.values()]) for i in range(3))
    own = paretonbd.fit(x, t_x, age).standard_errors
    assert own is not None
    kept = np.sqrt(np.diag(np.array(models["pareto_nbd"]["covariance"])))
    assert kept == pytest.approx([own[k] for k in ("r", "alpha", "s", "beta")], rel=1e-4)
    # Fader, Hardie & Lee's CDNOW sample: beta's standard error is about half its estimate (a flat ridge).
    assert 0.3 < kept[3] / models["pareto_nbd"]["params"]["beta"] < 0.7
    assert np.array(models["gamma_gamma"]["covariance"]).shape == (3, 3)

    with runtime.session() as db:
        regular = db.scalar(
            select(BehaviourProfile.customer_id).where(BehaviourProfile.purchases == 4).limit(1)
        )
        assert regular is not None
        plain = profiles.behaviour_of(db, actor=SYSTEM, customer_id=regular, currency="USD")
        wide = profiles.behaviour_with_intervals(
            db, actor=SYSTEM, customer_id=regular, currency="USD", level=0.9
        )
        again = profiles.behaviour_with_intervals(
            db, actor=SYSTEM, customer_id=regular, currency="USD", level=0.9
        )
        narrow = profiles.behaviour_with_intervals(
            db, actor=SYSTEM, customer_id=regular, currency="USD", level=0.5
        )
        with pytest.raises(Invalid, match=r"between 0\.5 and 0\.99"):
            profiles.behaviour_with_intervals(
                db, actor=SYSTEM, customer_id=regular, currency="USD", level=1.5
            )
    assert plain.scores is not None and plain.scores.intervals is None  # nothing unless asked
    assert wide.scores is not None and narrow.scores is not None and again.scores is not None
    found, small = wide.scores.intervals, narrow.scores.intervals
    assert found is not None and small is not None and found.note is None and found.draws == forecasts.DRAWS
    assert again.scores.intervals == found
    for name in ("p_alive", "expected_purchases", "expected_value", "clv"):
        estimate = getattr(wide.scores, name)
        interval, inner = getattr(found, name), getattr(small, name)
        assert interval.level == 0.9 and inner.level == 0.5
        assert interval.low <= inner.low < estimate < inner.high <= interval.high, name
    # The mean repeat spend recovered from the stored expected value is the customer's own.
    money = rows[regular]
    assert money[0] == 3
    assert found.expected_value.low < wide.scores.expected_value < found.expected_value.high


def test_p_alive_over_a_customers_past_is_the_models_at_each_day(sqlite_runtime: Runtime) -> None:
    runtime = sqlite_runtime
    models = refreshed_on_cdnow(runtime)
    params = paretonbd.ParetoNBDParams(**models["pareto_nbd"]["params"])
    with runtime.session() as db:
        customer = db.scalar(
            select(BehaviourProfile.customer_id).where(BehaviourProfile.purchases == 5).limit(1)
        )
        assert customer is not None
        history = profiles.alive_history(db, actor=SYSTEM, customer_id=customer)
        stored = db.get(BehaviourProfile, customer)
        run = db.scalars(select(BehaviourRefresh)).one()
        assert stored is not None and stored.first_purchase is not None
    assert history.model == "Pareto/NBD" and history.as_of == CDNOW_CALIBRATION_END and run.status == "done"
    points = history.points
    days = [p.day for p in points]
    assert days == sorted(days) and days[0] == stored.first_purchase and days[-1] == CDNOW_CALIBRATION_END
    assert sum(p.purchase for p in points) == 5 and len(points) <= 100 + 5
    assert points[-1].p_alive == pytest.approx(stored.p_alive, rel=1e-5)
    # Right after a repeat purchase the Pareto/NBD is sure the customer is alive; in between it loses hope.
    # On the first purchase day they are scored as half a day old, as the refresh scores a newcomer.
    assert all(p.p_alive == pytest.approx(1.0) for p in points[1:] if p.purchase)
    newcomer = paretonbd.p_alive(params, [0], [0], [scores.YOUNGEST_WEEKS])[0]
    assert points[0].purchase and points[0].p_alive == pytest.approx(newcomer, abs=1e-6) and newcomer < 1
    assert min(p.p_alive for p in points) < 0.99
    # At a few days, the engine's own summary up to that day, through the model, gives the same P(alive).
    checked = [p for p in points if not p.purchase][1::7][:4]
    assert len(checked) >= 3
    for point in checked:
        x, t_x, age = _summary_as_of(runtime, point.day)[customer]
        assert point.p_alive == pytest.approx(paretonbd.p_alive(params, [x], [t_x], [age])[0], abs=1e-6)


def test_the_bg_nbd_history_is_one_before_a_repeat_purchase_and_its_formula_after(
    fits: dict[str, Any],
) -> None:
    fit = fits["bgnbd"]
    _, _, a, b = fit.params.values()
    models = {"bgnbd": {"params": dict(zip(("r", "alpha", "a", "b"), fit.params.values(), strict=True))}}
    first = date(2024, 1, 1)
    bought = [first, first + timedelta(days=70), first + timedelta(days=140)]
    as_of = first + timedelta(days=400)
    timeline = [TimelinePoint(day=day, value=10.0, purchases=1) for day in bought]
    points = forecasts.alive_history(
        models=models, scorer="bgnbd", first=first, as_of=as_of, purchases=3, timeline=timeline
    )
    assert len([p for p in points if not p.purchase]) <= forecasts.HISTORY_POINTS
    before = [p for p in points if p.day < bought[1]]
    assert before and all(p.p_alive == 1.0 for p in before)
    for x, day in ((1, bought[1]), (2, bought[2])):
        # On the day of a purchase t_x = T: P(alive) = 1 / (1 + a / (b + x - 1)).
        point = next(p for p in points if p.day == day)
        assert point.purchase and point.p_alive == pytest.approx(1.0 / (1.0 + a / (b + x - 1.0)), abs=1e-6)
    last = points[-1]
    weeks = (as_of - first).days / 7
    expected = bgnbd.p_alive(fit.params, [2], [140 / 7], [weeks])[0]
    assert last.day == as_of and last.p_alive == pytest.approx(expected, abs=1e-6)
    # A timeline that no longer reaches the first purchase: the older purchase days still count.
    later = forecasts.alive_history(
        models=models, scorer="bgnbd", first=first, as_of=as_of, purchases=5, timeline=timeline[1:]
    )
    assert later[0].day == bought[1]
    assert later[-1].p_alive == pytest.approx(bgnbd.p_alive(fit.params, [4], [140 / 7], [weeks])[0], abs=1e-6)


def test_what_the_refresh_did_not_keep_gets_no_interval_and_a_note_saying_why(fits: dict[str, Any]) -> None:
    purchases = scores._describe(fits["pareto_nbd"], ("r", "alpha", "s", "beta"))
    spend = scores._describe(fits["gamma_gamma"], ("p", "q", "gamma"))

    def asked(models: dict[str, Any]) -> Any:
        return profiles.score_intervals(
            frequency=3,
            recency=20.0,
            T=30.0,
            money=30.0,
            models=models,
            horizon_weeks=52,
            annual_discount_rate=0.1,
            level=0.8,
        )

    full = asked({"pareto_nbd": purchases, "gamma_gamma": spend})
    assert full.note is None and full.clv is not None and full.clv.level == 0.8
    older = asked({"pareto_nbd": {**purchases, "covariance": None}, "gamma_gamma": spend})
    assert older.p_alive is None and older.clv is None
    assert older.note is not None and older.note.startswith("The last refresh kept no covariance")
    stuck = asked({"pareto_nbd": {**purchases, "converged": False}})
    assert stuck.p_alive is None and stuck.note is not None and "did not converge" in stuck.note
    assert (
        asked({}).note
        == "Intervals are drawn for Pareto/NBD and BG/NBD scores; the last refresh fitted neither."
    )
    no_spend = asked({"pareto_nbd": purchases, "gamma_gamma": {**spend, "covariance": None}})
    assert no_spend.p_alive == full.p_alive and no_spend.clv is None and no_spend.expected_value is None
    assert no_spend.note == "No spend model with a covariance: no interval on value or CLV."
