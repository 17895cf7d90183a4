"""``segone models fit`` on the CDNOW, donations and retention data (published estimates) and on bad
input; ``models predict`` on the CDNOW data (lifetimes); ``segone.connect()``."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow as pa
import pytest
from polars.testing import assert_frame_equal

import segone
from segone.behaviour.dataset import EventDataset
from segone.behaviour.events import read_cdnow_sample, validate_events
from segone.settings import Settings
from tests.btyd_data import DONATIONS, SURVIVORS
from tests.cdnow import SUMMARY, WITH_TRANSACTIONS
from tests.cli.conftest import Invoke, as_json, one_line_error

# Ibis 12 calls DuckDB 2's deprecated fetch_arrow_table(); harmless until either changes.
pytestmark = pytest.mark.filterwarnings(r"ignore:fetch_arrow_table\(\) is deprecated:DeprecationWarning")


def check_bgnbd(fitted: dict[str, object]) -> None:
    """FHL 2005's estimates on CDNOW (weeks): r 0.243, alpha 4.414, a 0.793, b 2.426, LL -9582.4."""
    params = fitted["parameters"]
    assert isinstance(params, dict)
    assert {name: round(value, 3) for name, value in params.items()} == {
        "r": 0.243,
        "alpha": 4.414,
        "a": 0.793,
        "b": 2.426,
    }
    assert round(float(fitted["log_likelihood"]), 1) == -9582.4  # type: ignore[arg-type]
    assert fitted["n_customers"] == 2357
    assert fitted["converged"] is True


def test_bgnbd_from_a_summary_gives_the_published_estimates(segone: Invoke) -> None:
    fitted = as_json(segone("models", "fit", "bgnbd", "--summary", str(SUMMARY), "--json"))
    assert fitted["model"] == "bgnbd" and fitted["seconds"] >= 0
    check_bgnbd(fitted)
    text = segone("models", "fit", "bgnbd", "--summary", str(SUMMARY))
    assert text.exit_code == 0, text.output
    assert "alpha" in text.stdout and "-9582.4" in text.stdout


def test_pareto_nbd_from_a_summary(segone: Invoke) -> None:
    fitted = as_json(segone("models", "fit", "pareto-nbd", "--summary", str(SUMMARY), "--json"))
    params = fitted["parameters"]
    assert set(params) == {"r", "alpha", "s", "beta"}
    # Fader, Hardie & Lee (2005): r 0.55, alpha 10.58, s 0.61, beta 11.67; LL -9595.0.
    assert round(params["r"], 2) == 0.55 and round(params["alpha"], 1) == 10.6
    assert round(params["s"], 2) == 0.61
    assert round(fitted["log_likelihood"], 0) == -9595.0
    assert fitted["n_customers"] == 2357


def test_gamma_gamma_fits_the_repeat_customers(segone: Invoke, tmp_path: Path) -> None:
    renamed = tmp_path / "spend.csv"
    with WITH_TRANSACTIONS.open(newline="") as source, renamed.open("w", newline="") as target:
        writer = csv.writer(target)
        writer.writerow(["frequency", "recency", "T", "monetary_value"])
        for row in csv.DictReader(source):
            writer.writerow([row["x"], row["t_x"], row["T"], row["zbar"]])
    fitted = as_json(segone("models", "fit", "gamma-gamma", "--summary", str(renamed), "--json"))
    params = fitted["parameters"]
    assert round(params["p"], 2) == 6.25 and round(params["q"], 2) == 3.74
    assert set(params) == {"p", "q", "gamma"}
    assert fitted["n_customers"] == 946  # only the customers with repeat purchases


def test_bgnbd_from_the_events_dataset(segone: Invoke, data_dir: Path) -> None:
    EventDataset(data_dir / "events").write_batch(read_cdnow_sample())
    fitted = as_json(
        segone("models", "fit", "bgnbd", "--from-events", "--calibration-end", "1997-09-30", "--json")
    )
    check_bgnbd(fitted)
    assert fitted["time_unit"] == "week"


def test_bad_input_is_one_line_and_exit_2(segone: Invoke, tmp_path: Path) -> None:
    assert "exactly one" in one_line_error(segone("models", "fit", "bgnbd"))
    both = segone(
        "models", "fit", "bgnbd", "--summary", "x.csv", "--from-events", "--calibration-end", "1997-09-30"
    )
    assert "exactly one" in one_line_error(both)
    assert "no such file" in one_line_error(
        segone("models", "fit", "bgnbd", "--summary", str(tmp_path / "no.csv"))
    )
    lacking = tmp_path / "lacking.csv"
    lacking.write_text("frequency,recency\n1,2\n")
    assert "T" in one_line_error(segone("models", "fit", "bgnbd", "--summary", str(lacking)))
    money = tmp_path / "money.csv"
    money.write_text("frequency,recency,T\n1,2,3\n")
    assert "monetary_value" in one_line_error(segone("models", "fit", "gamma-gamma", "--summary", str(money)))
    words = tmp_path / "words.csv"
    words.write_text("frequency,recency,T\n1,2,3\n2,five,9\n")
    message = one_line_error(segone("models", "fit", "bgnbd", "--summary", str(words)))
    assert "row 2" in message and "recency" in message and "'five'" in message
    impossible = tmp_path / "impossible.csv"
    impossible.write_text("frequency,recency,T\n1,5,3\n")
    assert "recency" in one_line_error(segone("models", "fit", "bgnbd", "--summary", str(impossible)))
    assert "no events" in one_line_error(
        segone("models", "fit", "bgnbd", "--from-events", "--calibration-end", "1997-09-30")
    )
    assert "--calibration-end" in one_line_error(segone("models", "fit", "bgnbd", "--from-events"))
    unknown = segone("models", "fit", "bg", "--summary", str(money))
    assert unknown.exit_code == 2 and "Traceback" not in unknown.output


def test_mbgnbd_from_a_summary(segone: Invoke) -> None:
    fitted = as_json(segone("models", "fit", "mbgnbd", "--summary", str(SUMMARY), "--json"))
    # lifetimes' tests/test_estimation.py (from BTYDplus): r 0.525, alpha 6.183, a 0.891, b 1.614.
    assert {name: round(value, 3) for name, value in fitted["parameters"].items()} == {
        "r": 0.525,
        "alpha": 6.183,
        "a": 0.891,
        "b": 1.614,
    }
    assert fitted["model"] == "mbgnbd" and fitted["n_customers"] == 2357 and fitted["converged"] is True


def test_bg_bb_from_the_donations_summary(segone: Invoke) -> None:
    fitted = as_json(segone("models", "fit", "bg-bb", "--summary", str(DONATIONS), "--json"))
    # Fader, Hardie & Berger (2010): alpha 1.204, beta 0.750, gamma 0.657, delta 2.783, LL -33,225.6.
    assert {name: round(value, 3) for name, value in fitted["parameters"].items()} == {
        "alpha": 1.204,
        "beta": 0.750,
        "gamma": 0.657,
        "delta": 2.783,
    }
    assert round(fitted["log_likelihood"], 1) == -33225.6
    assert fitted["n_customers"] == 11104  # the weights count the donors


def test_sbg_from_a_column_of_survivors(segone: Invoke, tmp_path: Path) -> None:
    arguments = (
        "models",
        "fit",
        "sbg",
        "--summary",
        str(SURVIVORS),
        "--column",
        "high_end",
        "--periods",
        "7",
    )
    fitted = as_json(segone(*arguments, "--json"))
    # Fader & Hardie (2007), years 1-7 of the high-end cohort: gamma 0.668, delta 3.806.
    assert {name: round(value, 3) for name, value in fitted["parameters"].items()} == {
        "gamma": 0.668,
        "delta": 3.806,
    }
    assert fitted["n_customers"] == 1000
    text = segone(*arguments)
    assert text.exit_code == 0 and "delta" in text.stdout, text.output
    plain = tmp_path / "cohort.csv"
    plain.write_text("period,survivors\n0,1000\n1,631\n2,468\n3,382\n4,326\n5,289\n6,262\n7,241\n")
    regular = as_json(segone("models", "fit", "sbg", "--summary", str(plain), "--json"))
    assert [round(value, 3) for value in regular["parameters"].values()] == [0.704, 1.182]


def test_bad_bg_bb_and_sbg_input_names_file_row_and_column(segone: Invoke, tmp_path: Path) -> None:
    history = tmp_path / "history.csv"
    history.write_text("frequency,recency,periods\n1,1,6\n3,2,6\n")
    message = one_line_error(segone("models", "fit", "bg-bb", "--summary", str(history)))
    assert "history.csv, row 2" in message and "frequency" in message
    late = tmp_path / "late.csv"
    late.write_text("frequency,recency,periods,weights\n1,7,6,4\n")
    message = one_line_error(segone("models", "fit", "bg-bb", "--summary", str(late)))
    assert "late.csv, row 1" in message and "recency" in message
    weights = tmp_path / "weights.csv"
    weights.write_text("frequency,recency,periods,weights\n1,1,6,0\n")
    assert "weights" in one_line_error(segone("models", "fit", "bg-bb", "--summary", str(weights)))
    lacking = tmp_path / "lacking.csv"
    lacking.write_text("frequency,recency,T\n1,1,6\n")
    assert "periods" in one_line_error(segone("models", "fit", "bg-bb", "--summary", str(lacking)))
    rising = tmp_path / "rising.csv"
    rising.write_text("period,survivors\n0,100\n1,80\n2,90\n")
    message = one_line_error(segone("models", "fit", "sbg", "--summary", str(rising)))
    assert "rising.csv, row 3" in message and "survivors" in message
    assert "high" in one_line_error(
        segone("models", "fit", "sbg", "--summary", str(SURVIVORS), "--column", "high")
    )
    assert "period 20" in one_line_error(
        segone("models", "fit", "sbg", "--summary", str(SURVIVORS), "--column", "regular", "--periods", "20")
    )
    assert "sbg" in one_line_error(
        segone("models", "fit", "bgnbd", "--summary", str(SUMMARY), "--column", "x")
    )
    events = segone("models", "fit", "bg-bb", "--from-events", "--calibration-end", "1997-09-30")
    assert "--summary" in one_line_error(events)


# Ibis 12's to_pandas asks pandas 3 about an option it deprecated; harmless until either changes.
@pytest.mark.filterwarnings(r"ignore:The 'future.infer_string' option is deprecated")
def test_connect_gives_events_and_profiles(tmp_path: Path) -> None:
    rows = [
        {"event_id": "e1", "customer": "crm:1", "type": "purchase", "ts": "2024-01-02", "value": 10.0},
        {"event_id": "e1", "customer": "crm:1", "type": "purchase", "ts": "2024-01-02", "value": 10.0},
        {"event_id": "e2", "customer": "crm:1", "type": "purchase", "ts": "2024-02-02", "value": 30.0},
        {"event_id": "e3", "customer": "crm:2", "type": "visit", "ts": "2024-01-05"},
    ]
    validated = validate_events(pa.Table.from_pylist(rows))
    assert validated.table is not None, validated.errors
    EventDataset(tmp_path / "events").write_batch(validated.table)
    seg = segone.connect(Settings(data_dir=tmp_path, analytics_url="duckdb://:memory:"))
    try:
        events = seg.events.to_pandas()
        assert sorted(events.event_id) == ["e1", "e2", "e3"]
        profiles = seg.profiles("2024-03-01").to_pandas().sort_values("customer")
        assert profiles["customer"].to_list() == ["crm:1", "crm:2"]
        assert profiles["purchases"].to_list()[0] == 2
        assert profiles["total_value"].to_list()[0] == pytest.approx(40.0)
        assert seg.backend.name == "duckdb"
    finally:
        seg.close()


# Ibis 12's to_pandas asks pandas 3 about an option it deprecated (to_polars does not go through pandas).
@pytest.mark.filterwarnings(r"ignore:The 'future.infer_string' option is deprecated")
def test_connect_tables_convert_to_polars_as_to_pandas(tmp_path: Path) -> None:
    given = [
        {"event_id": "e1", "customer": "crm:1", "type": "purchase", "ts": "2024-01-02T09:30", "value": 10},
        {"event_id": "e2", "customer": "crm:1", "type": "purchase", "ts": "2024-02-02", "value": 30},
        {"event_id": "e3", "customer": "crm:1", "type": "contact", "ts": "2024-02-03", "reason": "price"},
        {"event_id": "e4", "customer": "crm:2", "type": "visit", "ts": "2024-01-05", "channel": "web"},
        {"event_id": "e5", "customer": "crm:3", "type": "purchase", "ts": "2024-02-20", "value": 5.5},
    ]
    # from_pylist takes its columns from the first row: give every row every key.
    blank = dict.fromkeys(["event_id", "customer", "type", "ts", "value", "channel", "reason"])
    rows = [blank | row for row in given]
    validated = validate_events(pa.Table.from_pylist(rows))
    assert validated.table is not None, validated.errors
    dataset = EventDataset(tmp_path / "events")
    dataset.write_batch(validated.table)
    dataset.write_batch(validated.table.slice(0, 2))  # re-sent: each event_id counts once
    seg = segone.connect(Settings(data_dir=tmp_path, analytics_url="duckdb://:memory:"))
    try:
        events = seg.events.to_polars()
        assert isinstance(events, pl.DataFrame)
        assert events.height == 5 and events.columns == list(seg.events.columns)
        assert events.schema["ts"] == pl.Datetime("us", "UTC")
        events = events.sort("event_id")
        assert events["event_id"].to_list() == ["e1", "e2", "e3", "e4", "e5"]
        assert events["value"].to_list() == [10.0, 30.0, None, None, 5.5]
        expected = pl.from_pandas(seg.events.to_pandas()).sort("event_id")
        assert_frame_equal(events, expected, check_dtypes=False)

        profiles = seg.profiles("2024-03-01").to_polars()
        assert isinstance(profiles, pl.DataFrame)
        assert profiles.height == 3 and profiles.columns == list(seg.profiles("2024-03-01").columns)
        profiles = profiles.sort("customer")
        assert profiles["purchases"].to_list() == [2, 0, 1]
        assert profiles["total_value"].to_list() == [40.0, None, 5.5]
        assert profiles["top_contact_reason_1"].to_list() == ["price", None, None]
        expected = pl.from_pandas(seg.profiles("2024-03-01").to_pandas()).sort("customer")
        assert_frame_equal(profiles, expected, check_dtypes=False)
    finally:
        seg.close()


def test_evaluate_each_model_on_the_cdnow_holdout(segone: Invoke, data_dir: Path) -> None:
    from datetime import date

    from segone.accounts.schemas import SYSTEM
    from segone.analytics import backend
    from segone.behaviour.evaluation import evaluate

    dataset = EventDataset(data_dir / "events")
    dataset.write_batch(read_cdnow_sample())
    con = backend.connect("duckdb://:memory:", data_dir)
    try:
        result = evaluate(
            dataset.read(con), date(1997, 9, 30), date(1998, 6, 30), model="bgnbd", actor=SYSTEM
        )
    finally:
        con.disconnect()
    assert result.actual_total == 1882
    assert abs(result.predicted_total - 1882) / 1882 < 0.15
    assert [row["frequency"] for row in result.by_frequency][-1] == "7+"
    assert result.cumulative[-1]["end"] == "1998-06-30" and result.cumulative[-1]["holdout"]
    period = ("--calibration-end", "1997-09-30", "--holdout-end", "1998-06-30")
    out = as_json(segone("models", "evaluate", *period, "--model", "bgnbd", "--json"))
    assert out["model"] == "bgnbd" and set(out["parameters"]) == {"r", "alpha", "a", "b"}
    assert out["actual_total"] == 1882
    assert out["predicted_total"] == pytest.approx(result.predicted_total, rel=1e-6)
    assert out["n_customers"] == 2357 and len(out["cumulative"]) == len(result.cumulative)
    # Without dates, the events' span gives the same split: the holdout to the last day, calibration to
    # the day halfway (so the tour's command works on the demo's moved purchases too).
    default = as_json(segone("models", "evaluate", "--model", "bgnbd", "--json"))
    assert (default["calibration_end"], default["holdout_end"]) == ("1997-09-30", "1998-06-30")
    assert default["actual_total"] == 1882
    assert default["predicted_total"] == pytest.approx(out["predicted_total"], rel=1e-6)
    # Pareto/NBD, the model that scores the customers, is the default: its own fit and predictions.
    pareto = as_json(segone("models", "evaluate", *period, "--json"))
    assert pareto["model"] == "pareto-nbd" and set(pareto["parameters"]) == {"r", "alpha", "s", "beta"}
    assert round(pareto["parameters"]["r"], 3) == 0.553  # Fader, Hardie & Lee (2005)
    assert pareto["actual_total"] == 1882 and pareto["predicted_total"] != out["predicted_total"]
    assert abs(pareto["predicted_total"] - 1882) / 1882 < 0.15
    assert len(pareto["cumulative"]) == len(out["cumulative"])
    text = segone("models", "evaluate", *period)
    assert text.exit_code == 0, text.output
    assert "Pareto/NBD on 2,357 customers, calibration to 1997-09-30, holdout to 1998-06-30:" in text.stdout
    assert "actual repeat purchases    1,882" in text.stdout
    assert "Invalid value for '--model'" in segone("models", "evaluate", "--model", "gamma-gamma").output

    # All of them on the same split, the best first: each as evaluated alone.
    compared = as_json(segone("models", "evaluate", *period, "--model", "all", "--json"))
    ranked = compared["models"]
    assert [m["model"] for m in ranked] != [] and compared["winner"] == ranked[0]["model"]
    assert sorted(m["model"] for m in ranked) == ["bgnbd", "mbgnbd", "pareto-nbd"]
    errors = [m["mean_absolute_error"] for m in ranked]
    assert errors == sorted(errors)
    alone = {"bgnbd": out, "pareto-nbd": pareto}
    for m in ranked:
        assert m["actual_total"] == 1882
        assert m["root_mean_squared_error"] >= m["mean_absolute_error"] > 0
        assert m["log_likelihood"] < 0 and m["tracking_error"] >= 0
        if m["model"] in alone:
            assert m["predicted_total"] == pytest.approx(alone[m["model"]]["predicted_total"], rel=1e-6)
    mbg = next(m for m in ranked if m["model"] == "mbgnbd")
    assert set(mbg["parameters"]) == {"r", "alpha", "a", "b"}
    assert mbg["predicted_total"] != out["predicted_total"]  # its own fit, not BG/NBD's
    assert compared["model"] == "all" and compared["reason"].startswith("lowest MAE: ")
    assert (compared["calibration_end"], compared["holdout_end"]) == ("1997-09-30", "1998-06-30")
    for m in ranked:
        # Each week's repeat purchases, and P(alive) by frequency and weeks since the last purchase.
        assert sum(w["actual"] for w in m["weekly"]) == m["cumulative"][-1]["actual"]
        assert len(m["alive_matrix"]["p_alive"]) == len(m["alive_matrix"]["frequencies"]) == 11
    table = segone("models", "evaluate", *period, "--model", "all")
    assert table.exit_code == 0, table.output
    assert "3 models on 2,357 customers" in table.stdout
    assert f"Best on this holdout: Pareto/NBD ({compared['reason']})." in table.stdout


# --- models predict ---------------------------------------------------------------------------------------
# lifetimes' Quickstart (docs/Quickstart.md of github.com/CamDavidsonPilon/lifetimes), BG/NBD on this CDNOW
# summary: se(coef) r 0.012557, alpha 0.378221, a 0.185719, b 0.705345; expected purchases in the next week
# (conditional_expected_number_of_purchases_up_to_time(1, ...)) of customers 1516 0.710623, 157 0.662396,
# 1981 0.486526; Gamma-Gamma's expected value per purchase of customers 1, 2, 6: 24.658619, 18.911489,
# 71.462843.


def money_summary(tmp_path: Path) -> Path:
    """The CDNOW summary with spend, under the column names segone reads (and a customer_id)."""
    renamed = tmp_path / "money.csv"
    with WITH_TRANSACTIONS.open(newline="") as source, renamed.open("w", newline="") as target:
        writer = csv.writer(target)
        writer.writerow(["customer_id", "frequency", "recency", "T", "monetary_value"])
        for row in csv.DictReader(source):
            writer.writerow([row["ID"], row["x"], row["t_x"], row["T"], row["zbar"]])
    return renamed


def test_predict_bgnbd_matches_lifetimes(segone: Invoke) -> None:
    result = as_json(
        segone("models", "predict", "bgnbd", "--summary", str(SUMMARY), "--horizon", "1", "--json")
    )
    assert {name: round(value, 4) for name, value in result["standard_errors"].items()} == {
        "r": 0.0126,
        "alpha": 0.3782,
        "a": 0.1857,
        "b": 0.7053,
    }
    customers = {row["ID"]: row for row in result["customers"]}
    assert len(customers) == 2357 and result["intervals"] is None
    for customer, published in (("1516", 0.710623), ("157", 0.662396), ("1981", 0.486526)):
        assert round(customers[customer]["expected_purchases"], 4) == round(published, 4)
    assert all(0.0 <= row["p_no_purchases"] <= 1.0 for row in customers.values())
    assert "clv" not in customers["1"]  # no monetary_value column


def test_predict_writes_csv_with_intervals_and_clv(segone: Invoke, tmp_path: Path) -> None:
    out = tmp_path / "predictions.csv"
    result = segone(
        "models", "predict", "pareto-nbd", "--summary", str(money_summary(tmp_path)), "--horizon", "52",
        "--intervals", "0.9", "--draws", "30", "--csv", "--output", str(out),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    with out.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 2357 and rows[0]["customer_id"] == "1"
    for name in ("p_alive", "expected_purchases", "p_no_purchases", "expected_value", "clv"):
        for row in rows:
            assert float(row[f"{name}_low"]) <= float(row[name]) + 1e-9 <= float(row[f"{name}_high"]) + 2e-9
    by_id = {row["customer_id"]: row for row in rows}
    for customer, published in (("1", 24.658619), ("2", 18.911489), ("6", 71.462843)):
        assert round(float(by_id[customer]["expected_value"]), 3) == round(published, 3)


def test_predict_with_the_parameters_of_a_previous_fit(segone: Invoke, tmp_path: Path) -> None:
    fitted = segone("models", "fit", "bgnbd", "--summary", str(SUMMARY), "--json")
    assert fitted.exit_code == 0, fitted.output
    check_bgnbd(as_json(fitted))
    # lifetimes' se(coef), to its precision; the covariance's diagonal is their squares.
    errors = as_json(fitted)["standard_errors"]
    assert [round(errors[name], 3) for name in ("r", "alpha", "a", "b")] == [0.013, 0.378, 0.186, 0.705]
    assert np.allclose(np.diag(as_json(fitted)["covariance"]), [e**2 for e in errors.values()])
    params = tmp_path / "bgnbd.json"
    params.write_text(fitted.stdout, encoding="utf-8")
    args = ("models", "predict", "bgnbd", "--summary", str(SUMMARY), "--horizon", "39", "--json")
    again = as_json(segone(*args))
    reused = as_json(segone(*args, "--params", str(params)))
    assert reused["parameters"] == again["parameters"] == as_json(fitted)["parameters"]
    assert reused["standard_errors"] == again["standard_errors"]
    assert reused["customers"] == again["customers"]
    wrong = one_line_error(segone("models", "predict", "pareto-nbd", "--summary", str(SUMMARY),
                                  "--horizon", "39", "--json", "--params", str(params)))  # fmt: skip
    assert "pareto-nbd" in wrong


def test_predict_bad_input_is_one_line_and_exit_2(segone: Invoke, tmp_path: Path) -> None:
    base = ("models", "predict", "bgnbd", "--horizon", "10")
    assert "exactly one" in one_line_error(segone(*base, "--summary", str(SUMMARY)))
    lacking = tmp_path / "lacking.csv"
    lacking.write_text("frequency,recency\n1,2\n", encoding="utf-8")
    assert "T" in one_line_error(segone(*base, "--summary", str(lacking), "--json"))
    words = tmp_path / "words.csv"
    words.write_text("frequency,recency,T\n1,two,3\n", encoding="utf-8")
    assert "'two' is not a number" in one_line_error(segone(*base, "--summary", str(words), "--json"))
    assert "--intervals" in one_line_error(
        segone(*base, "--summary", str(SUMMARY), "--json", "--intervals", "2")
    )
    garbage = tmp_path / "garbage.json"
    garbage.write_text("{not json", encoding="utf-8")
    assert "not JSON" in one_line_error(
        segone(*base, "--summary", str(SUMMARY), "--json", "--params", str(garbage))
    )
