"""``evaluation``: the models on the CDNOW sample's published split (39 weeks of calibration, 39 of holdout),
compared on one reading of the engine; the weekly tracking and the P(alive) matrix by the models' own
functions; ``scores`` with each purchase model."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from segone.accounts.schemas import SYSTEM
from segone.analytics import backend
from segone.behaviour import evaluation, metrics, scores
from segone.behaviour.btyd import bgnbd, mbgnbd, paretonbd
from segone.behaviour.dataset import EventDataset
from segone.behaviour.events import read_cdnow_sample
from segone.errors import Invalid
from tests.behaviour.conftest import DUCKDB_WARNING

pytestmark = pytest.mark.filterwarnings(DUCKDB_WARNING)

CALIBRATION_END, HOLDOUT_END = date(1997, 9, 30), date(1998, 6, 30)
P_ALIVE = {"pareto-nbd": paretonbd, "bgnbd": bgnbd, "mbgnbd": mbgnbd}


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("evaluation")
    EventDataset(directory / "events").write_batch(read_cdnow_sample())
    return directory


@pytest.fixture(scope="module")
def ranked(data_dir: Path) -> Iterator[list[evaluation.Evaluation]]:
    """The three models compared once for the module (each fit takes a second)."""
    con = backend.connect("duckdb://:memory:", data_dir)
    try:
        yield evaluation.compare(
            EventDataset(data_dir / "events").read(con), CALIBRATION_END, HOLDOUT_END, actor=SYSTEM
        )
    finally:
        con.disconnect()


@pytest.fixture(scope="module")
def calibration(data_dir: Path) -> dict[str, np.ndarray]:
    con = backend.connect("duckdb://:memory:", data_dir)
    try:
        events = EventDataset(data_dir / "events").read(con)
        summary = backend.to_arrow(metrics.rfm_summary(events, CALIBRATION_END, "week"))
    finally:
        con.disconnect()
    return {
        name: np.asarray(summary.column(name).to_numpy(), float) for name in ("frequency", "recency", "T")
    }


def test_compare_ranks_by_mae_and_says_why(ranked: list[evaluation.Evaluation]) -> None:
    assert sorted(e.model for e in ranked) == sorted(evaluation.MODELS)
    errors = [(e.mean_absolute_error, e.root_mean_squared_error) for e in ranked]
    assert errors == sorted(errors)
    # On CDNOW's published split Pareto/NBD predicts the holdout best (MAE 0.7545 against MBG/NBD's 0.7648).
    assert [e.model for e in ranked] == ["pareto-nbd", "mbgnbd", "bgnbd"]
    assert round(ranked[0].mean_absolute_error, 4) == 0.7545
    assert round(ranked[0].parameters["r"], 3) == 0.553  # Fader, Hardie & Lee (2005)
    reason = evaluation.why_best(ranked)
    assert reason == "lowest MAE: 0.7545 repeat purchases per customer, against 0.7648 for MBG/NBD"
    assert all(e.actual_total == 1882 and e.n_customers == 2357 for e in ranked)
    report = evaluation.Report(evaluation.ALL, ranked).as_dict()
    assert report["winner"] == "pareto-nbd" and report["reason"] == reason
    assert [m["model"] for m in report["models"]] == [e.model for e in ranked]
    single = evaluation.Report("bgnbd", [ranked[2]]).as_dict()
    assert single["winner"] is None and single["reason"] is None


def test_weekly_repeat_purchases_are_the_cumulatives_steps(ranked: list[evaluation.Evaluation]) -> None:
    for e in ranked:
        assert len(e.weekly) == len(e.cumulative) == 78
        before_actual, before_predicted = 0, 0.0
        for week, row in zip(e.weekly, e.cumulative, strict=True):
            assert (week["week"], week["end"], week["holdout"]) == (row["week"], row["end"], row["holdout"])
            assert week["actual"] == row["actual"] - before_actual
            assert week["predicted"] == pytest.approx(row["predicted"] - before_predicted, abs=1e-9)
            assert week["actual"] >= 0 and week["predicted"] >= 0 and week["days"] == 7
            before_actual, before_predicted = row["actual"], row["predicted"]
        # The calibration ends on week 39's last day, so the holdout weeks hold every holdout purchase.
        assert e.cumulative[38]["end"] == CALIBRATION_END.isoformat()
        assert sum(w["actual"] for w in e.weekly if w["holdout"]) == e.actual_total == 1882
        assert sum(w["actual"] for w in e.weekly) == e.cumulative[-1]["actual"] == 4339
        assert e.as_dict()["weekly"] == e.weekly


def test_the_alive_matrix_is_each_models_p_alive(
    ranked: list[evaluation.Evaluation], calibration: dict[str, np.ndarray]
) -> None:
    age = float(np.median(calibration["T"]))
    by_model = {e.model: e for e in ranked}
    for name, found in by_model.items():
        matrix = found.alive_matrix
        assert matrix["age"] == pytest.approx(age, abs=1e-4) and matrix["time_unit"] == "week"
        assert matrix["frequencies"] == list(range(evaluation.MATRIX_TOP_FREQUENCY + 1))
        columns = matrix["since_last_purchase"]
        # Whole weeks (4 at a time for a median age of 32.7 weeks), the last cut at the age.
        assert [(c["start"], c["end"]) for c in columns[:2]] == [(0.0, 4.0), (4.0, 8.0)]
        assert columns[-1]["end"] == pytest.approx(age, abs=0.01) and len(columns) == 9
        values = np.asarray(matrix["p_alive"])
        assert values.shape == (11, 9) and np.all((values >= 0) & (values <= 1))
        model = P_ALIVE[name]
        params = _params(model, found)
        # A cell is the model's own P(alive): 3 repeat purchases, the last 10 weeks ago (column 8-12).
        gap = columns[2]["at"]
        assert gap == 10.0
        assert values[3, 2] == pytest.approx(
            float(model.p_alive(params, [3.0], [age - gap], [age])[0]), rel=1e-9
        )
        # ... and a customer who bought once, 10 weeks ago, is 10 weeks old.
        assert values[0, 2] == pytest.approx(float(model.p_alive(params, [0.0], [0.0], [gap])[0]), rel=1e-9)
        # The longer since the last purchase, the less likely alive, for every frequency but BG/NBD's 0.
        for x in range(1, 11):
            assert np.all(np.diff(values[x]) < 0), (name, x)
        # The more often a customer bought, the faster a long silence says they left.
        assert values[10, -1] < values[1, -1]
    # BG/NBD: a customer who never bought again cannot have left (drop-out follows a repeat purchase);
    # Pareto/NBD and MBG/NBD let them fade.
    assert np.all(np.asarray(by_model["bgnbd"].alive_matrix["p_alive"])[0] == 1.0)
    for name in ("pareto-nbd", "mbgnbd"):
        first_row = np.asarray(by_model[name].alive_matrix["p_alive"])[0]
        assert np.all(np.diff(first_row) < 0) and first_row[-1] < 0.5


def _params(model: object, found: evaluation.Evaluation) -> object:
    kinds = {paretonbd: paretonbd.ParetoNBDParams, bgnbd: bgnbd.BGNBDParams, mbgnbd: mbgnbd.MBGNBDParams}
    return kinds[model](**found.parameters)  # type: ignore[index]


def test_a_split_that_cannot_be_evaluated_is_invalid(data_dir: Path) -> None:
    with pytest.raises(Invalid, match="after the last event"):
        evaluation.evaluate_dataset(
            actor=SYSTEM,
            data_dir=data_dir,
            analytics_url="duckdb://:memory:",
            model="bgnbd",
            holdout_end=date(1998, 12, 31),
        )
    with pytest.raises(Invalid, match="must be all or one of"):
        evaluation.evaluate_dataset(
            actor=SYSTEM, data_dir=data_dir, analytics_url="duckdb://:memory:", model="gamma"
        )


@pytest.mark.parametrize("model", ["bgnbd", "mbgnbd"])
def test_scores_with_the_model_asked_for(model: str, calibration: dict[str, np.ndarray]) -> None:
    n = calibration["frequency"].shape[0]
    summary = pa.table(
        {
            "customer_id": pa.array(range(1, n + 1), pa.int64()),
            "frequency": calibration["frequency"],
            "recency": calibration["recency"],
            "T": calibration["T"],
            "monetary_value": np.full(n, 20.0),
        }
    )
    scored = scores.score_customers(summary, horizon_weeks=52, annual_discount_rate=0.1, model=model)
    assert scored.scorer == model and "pareto_nbd" not in scored.models
    fitted = scored.models[scores.MODEL_KEYS[model]]
    module = P_ALIVE[model]
    params = (bgnbd.BGNBDParams if model == "bgnbd" else mbgnbd.MBGNBDParams)(**fitted["params"])
    x, t_x, T = calibration["frequency"], calibration["recency"], calibration["T"]
    alive = np.asarray(scored.table.column("p_alive").to_numpy())
    assert alive == pytest.approx(module.p_alive(params, x, t_x, T), rel=1e-4)
    expected = np.asarray(scored.table.column("expected_purchases").to_numpy())
    assert expected == pytest.approx(module.expected_purchases(params, 52.0, x, t_x, T), rel=1e-4)
    # BG/NBD keeps a customer who never bought again alive; MBG/NBD does not.
    once = x == 0
    assert np.all(alive[once] == 1.0) if model == "bgnbd" else np.all(alive[once] < 1.0)
    with pytest.raises(ValueError, match="model must be one of"):
        scores.score_customers(summary, horizon_weeks=52, annual_discount_rate=0.1, model="best")
