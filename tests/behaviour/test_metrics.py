"""Behaviour metrics: the same expressions on DuckDB and on Spark, checked against the CDNOW papers and a
plain pandas reference.

Every metric is computed once per engine (through the events dataset, so de-duplication on read is part of
what is compared); the tests then compare the engines with each other and with known answers.
"""

from __future__ import annotations

import itertools
import json
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import ibis
import numpy as np
import pandas as pd
import pytest
from ibis import BaseBackend

from segone.analytics.backend import to_arrow
from segone.behaviour.dataset import EventDataset
from segone.behaviour.events import read_cdnow_sample
from segone.behaviour.metrics import behaviour_profile, holdout_counts, rfm_summary, transactions
from tests.behaviour.conftest import DUCKDB_WARNING, ENGINES, SPARK_WARNING, synthetic_events, write_events
from tests.cdnow import SAMPLE_LOG, WITH_TRANSACTIONS

CALIBRATION_END = date(1997, 9, 30)
HOLDOUT_END = date(1998, 6, 30)
AS_OF = date(2024, 10, 31)
AS_OF_NOON = datetime(2024, 10, 31, 12, 0, tzinfo=UTC)
KEYS = {"transactions": ["customer", "day"]}

pytestmark = pytest.mark.filterwarnings(DUCKDB_WARNING)


@dataclass(frozen=True)
class Inputs:
    synthetic: pd.DataFrame
    cdnow: pd.DataFrame
    directory: Path
    """One dataset holds both: the synthetic events start in 2023, long after CDNOW's last (1998)."""


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> Inputs:
    directory = tmp_path_factory.mktemp("metrics") / "events"
    synthetic, cdnow = synthetic_events(), read_cdnow_sample()
    write_events(directory, synthetic)
    EventDataset(directory).write_batch(cdnow)
    return Inputs(synthetic.to_pandas(), cdnow.to_pandas(), directory)


def compute(con: BaseBackend, inputs: Inputs) -> dict[str, pd.DataFrame]:
    events = EventDataset(inputs.directory).read(con)
    expressions = {
        "events": events,
        "transactions": transactions(events),
        "rfm_cdnow": rfm_summary(events, CALIBRATION_END),
        "holdout_cdnow": holdout_counts(events, CALIBRATION_END, HOLDOUT_END),
        "rfm_days": rfm_summary(
            events.filter(events.customer.startswith("crm:")),
            date(2024, 6, 30),
            "day",
            observation_start=date(2023, 3, 1),
        ),
        "profile": behaviour_profile(events, AS_OF),
        "profile_noon": behaviour_profile(events, AS_OF_NOON),
    }
    frames = {}
    for name, expression in expressions.items():
        frame = to_arrow(expression).to_pandas()
        keys = KEYS.get(name, ["event_id"] if name == "events" else ["customer"])
        frames[name] = frame.sort_values(keys).reset_index(drop=True)
    return frames


@pytest.fixture(scope="module")
def duckdb_results(inputs: Inputs) -> dict[str, pd.DataFrame]:
    return compute(ibis.duckdb.connect(), inputs)


@pytest.fixture(scope="module")
def pyspark_results(spark: BaseBackend, inputs: Inputs) -> dict[str, pd.DataFrame]:
    return compute(spark, inputs)


@pytest.fixture(params=ENGINES)
def results(request: pytest.FixtureRequest) -> dict[str, pd.DataFrame]:
    return request.getfixturevalue(f"{request.param}_results")  # type: ignore[no-any-return]


# --- the engines agree -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    ["events", "transactions", "rfm_cdnow", "holdout_cdnow", "rfm_days", "profile", "profile_noon"],
)
@pytest.mark.xdist_group("spark")
@pytest.mark.filterwarnings(SPARK_WARNING)
def test_duckdb_and_spark_give_identical_results(
    name: str, duckdb_results: dict[str, pd.DataFrame], pyspark_results: dict[str, pd.DataFrame]
) -> None:
    duck, spark = duckdb_results[name], pyspark_results[name]
    assert len(duck) > 0
    # Same columns, rows, values and null positions; floats to 1e-12 (sums may add in another order).
    pd.testing.assert_frame_equal(duck, spark, check_dtype=False, check_exact=False, rtol=1e-12)


# --- CDNOW: the published summary --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cdnow_summary() -> pd.DataFrame:
    return pd.read_csv(WITH_TRANSACTIONS).set_index("ID").sort_index()


def by_sample_id(frame: pd.DataFrame, cdnow: pd.DataFrame) -> pd.DataFrame:
    sample_ids = (
        cdnow.drop_duplicates("customer")
        .set_index("customer")
        .properties.map(lambda text: json.loads(text)["sample_id"])
    )
    return frame.assign(ID=frame.customer.map(sample_ids)).set_index("ID").sort_index()


def test_rfm_summary_reproduces_the_cdnow_summary(
    results: dict[str, pd.DataFrame], inputs: Inputs, cdnow_summary: pd.DataFrame
) -> None:
    rfm = by_sample_id(results["rfm_cdnow"], inputs.cdnow)
    assert len(rfm) == len(cdnow_summary) == 2357
    assert list(rfm.index) == list(cdnow_summary.index)
    assert (rfm.frequency == cdnow_summary.x).all()
    assert (rfm.recency.round(2) == cdnow_summary.t_x).all()
    assert (rfm["T"].round(2) == cdnow_summary["T"]).all()
    # zbar is printed to cents; our means are exact.
    assert np.abs(rfm.monetary_value - cdnow_summary.zbar).max() <= 0.005 + 1e-9
    assert rfm["T"].max() == pytest.approx(272 / 7)  # 1997-01-01 to 1997-09-30: the end of week 39


def test_holdout_counts_match_the_raw_file(results: dict[str, pd.DataFrame], inputs: Inputs) -> None:
    raw = pd.read_csv(
        SAMPLE_LOG,
        sep=r"\s+",
        header=None,
        names=["master", "id", "day", "cds", "usd"],
    )
    raw["day"] = pd.to_datetime(raw.day.astype(str))
    daily = raw.groupby(["master", "day"]).usd.sum().reset_index()
    later = daily[(daily.day > "1997-09-30") & (daily.day <= "1998-06-30")].groupby("master").usd
    holdout = (
        results["holdout_cdnow"].assign(master=lambda f: f.customer.str[6:].astype(int)).set_index("master")
    )
    assert len(holdout) == 2357
    expected_counts = later.size().reindex(holdout.index, fill_value=0)
    assert (holdout.frequency_holdout == expected_counts).all()
    expected_means = later.mean().reindex(holdout.index, fill_value=0.0)
    np.testing.assert_allclose(holdout.monetary_value_holdout, expected_means, rtol=1e-12)
    assert (holdout.duration_holdout == 39.0).all()  # weeks 40 to 78


def test_profile_of_cdnow_counts_days_and_dollars(results: dict[str, pd.DataFrame], inputs: Inputs) -> None:
    profile = results["profile"].set_index("customer").filter(like="cdnow:", axis=0)
    events = inputs.cdnow.assign(day=inputs.cdnow.ts.dt.date)
    assert len(profile) == 2357
    assert (profile.purchases == events.groupby("customer").day.nunique().reindex(profile.index)).all()
    np.testing.assert_allclose(
        profile.total_value, events.groupby("customer").value.sum().reindex(profile.index)
    )
    assert (profile.repeat_purchases == profile.purchases - 1).all()
    assert profile.tenure_days.max() == (AS_OF - date(1997, 1, 1)).days
    assert (profile.purchases_last_90d == 0).all()


# --- synthetic events: a pandas reference and known cases --------------------------------------------------


def reference_profile(events: pd.DataFrame, cutoff: pd.Timestamp, today: date) -> pd.DataFrame:
    """behaviour_profile written the obvious way, in plain Python over the rows."""
    rows_by_customer: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in events.drop_duplicates("event_id").to_dict("records"):
        if row["ts"] <= cutoff:
            rows_by_customer[row["customer"]].append(row)
    profiles = []
    for customer, rows in sorted(rows_by_customer.items()):
        daily: dict[date, list[float]] = defaultdict(list)
        for row in rows:
            if row["type"] == "purchase":
                daily[row["ts"].date()].extend([] if pd.isna(row["value"]) else [row["value"]])
        days = sorted(daily)
        values = [sum(daily[d]) for d in days if daily[d]]
        gaps = [float((b - a).days) for a, b in itertools.pairwise(days)]
        recent = sum(d > today - timedelta(days=90) for d in days)
        before = sum(today - timedelta(days=180) < d <= today - timedelta(days=90) for d in days)
        kinds = Counter(row["type"] for row in rows)
        reasons = Counter(
            r["reason"] for r in rows if r["type"] == "contact" and isinstance(r["reason"], str)
        )
        top = sorted(reasons, key=lambda reason: (-reasons[reason], reason))[:3] + [None] * 3
        channels = [r["channel"] for r in rows if isinstance(r["channel"], str)]
        weekdays, hours = [r["ts"].weekday() for r in rows], [r["ts"].hour for r in rows]
        profiles.append(
            {
                "customer": customer,
                "first_purchase": days[0] if days else None,
                "last_purchase": days[-1] if days else None,
                "purchases": len(days),
                "repeat_purchases": max(len(days) - 1, 0),
                "recency_days": (today - days[-1]).days if days else None,
                "tenure_days": (today - days[0]).days if days else None,
                "total_value": sum(values) if values else None,
                "mean_value": statistics.mean(values) if values else None,
                "median_gap_days": statistics.median(gaps) if gaps else None,
                "gap_cv": statistics.stdev(gaps) / statistics.mean(gaps) if len(gaps) > 1 else None,
                "purchases_last_90d": recent,
                "purchases_prev_90d": before,
                "trend_ratio": recent / before if before else None,
                "preferred_channel": most_frequent(channels),
                "preferred_channel_events": Counter(channels).most_common(1)[0][1] if channels else 0,
                "channel_events": len(channels),
                "preferred_day_of_week": most_frequent(weekdays),
                "preferred_day_events": Counter(weekdays).most_common(1)[0][1],
                "preferred_hour": most_frequent(hours),
                "preferred_hour_events": Counter(hours).most_common(1)[0][1],
                "contacts": kinds["contact"],
                "top_contact_reason_1": top[0],
                "top_contact_reason_2": top[1],
                "top_contact_reason_3": top[2],
                "complaints": kinds["complaint"],
                "returns": kinds["return"],
                "last_complaint_at": max((r["ts"] for r in rows if r["type"] == "complaint"), default=None),
                "last_return_at": max((r["ts"] for r in rows if r["type"] == "return"), default=None),
                "referrals": kinds["referral"],
                "reviews": kinds["review"],
                "visits": kinds["visit"],
                "events": len(rows),
            }
        )
    return pd.DataFrame(profiles)


def most_frequent(values: Iterable[Any]) -> Any:
    counts = Counter(values)
    return min(counts, key=lambda value: (-counts[value], value)) if counts else None


def as_objects(frame: pd.DataFrame) -> pd.DataFrame:
    """Nulls as None and numbers as floats, so that frames from different sources compare by value."""
    out = frame.astype(object).where(frame.notna(), None)
    for column in out.columns:
        if all(isinstance(v, int | float | np.integer | np.floating) or v is None for v in out[column]):
            out[column] = [None if v is None else float(v) for v in out[column]]
    return out


CUTOFFS = {
    "profile": pd.Timestamp("2024-10-31 23:59:59.999999", tz="UTC"),
    "profile_noon": pd.Timestamp(AS_OF_NOON),
}


@pytest.fixture(scope="module")
def references(inputs: Inputs) -> dict[str, pd.DataFrame]:
    return {name: reference_profile(inputs.synthetic, cutoff, AS_OF) for name, cutoff in CUTOFFS.items()}


@pytest.mark.parametrize("name", list(CUTOFFS))
def test_profile_equals_the_pandas_reference(
    results: dict[str, pd.DataFrame], references: dict[str, pd.DataFrame], name: str
) -> None:
    expected = references[name]
    actual = results[name]
    actual = actual[~actual.customer.str.startswith("cdnow:")].reset_index(drop=True)
    assert list(actual.columns) == list(expected.columns)
    pd.testing.assert_frame_equal(as_objects(actual), as_objects(expected), check_exact=False, rtol=1e-12)


def test_profile_of_known_customers(results: dict[str, pd.DataFrame]) -> None:
    profile = results["profile"].set_index("customer")
    ties = profile.loc["edge:ties"]
    assert (ties.purchases, ties.repeat_purchases, ties.total_value) == (2, 1, 35.0)  # two on 1 October: one
    assert ties.preferred_channel == "store"  # web 2, store 2: the tie goes to the smaller name
    assert (ties.median_gap_days, ties.recency_days, ties.tenure_days) == (10.0, 20, 30)
    assert (ties.purchases_last_90d, ties.purchases_prev_90d) == (2, 0)
    assert np.isnan(ties.trend_ratio) and np.isnan(ties.gap_cv)  # nothing before; one gap has no spread

    contacts = profile.loc["edge:contacts"]
    assert (contacts.purchases, contacts.contacts, contacts.complaints) == (0, 8, 1)
    assert [contacts.top_contact_reason_1, contacts.top_contact_reason_2, contacts.top_contact_reason_3] == [
        "price",
        "billing",
        "delivery",
    ]
    assert pd.isna(contacts.first_purchase) and np.isnan(contacts.recency_days)

    late = profile.loc["edge:late"]
    assert (late.purchases, late.total_value, late.recency_days) == (2, 10.0, 0)
    late_noon = results["profile_noon"].set_index("customer").loc["edge:late"]
    assert (late_noon.purchases, late_noon.recency_days) == (1, 152)


def test_every_event_type_is_counted(results: dict[str, pd.DataFrame], inputs: Inputs) -> None:
    profile = results["profile"]
    kept = inputs.synthetic[inputs.synthetic.ts < pd.Timestamp("2024-11-01", tz="UTC")]
    for column, kind in [("contacts", "contact"), ("complaints", "complaint"), ("returns", "return")]:
        assert profile[column].sum() == (kept.type == kind).sum() > 0
    for column, kind in [("referrals", "referral"), ("reviews", "review"), ("visits", "visit")]:
        assert profile[column].sum() == (kept.type == kind).sum() > 0
    assert (kept.type == "webinar").sum() > 0  # a custom type: an event, not a purchase
    assert profile.events.sum() == len(kept) + len(inputs.cdnow)


def test_transactions_collapse_a_day(results: dict[str, pd.DataFrame]) -> None:
    tx = results["transactions"]
    ties = tx[tx.customer == "edge:ties"]
    assert ties.day.tolist() == [date(2024, 10, 1), date(2024, 10, 11)]
    assert ties.value.tolist() == [15.0, 20.0]
    assert ties.purchases.tolist() == [2, 1]
    assert not tx.duplicated(["customer", "day"]).any()


def test_rfm_in_days_within_an_observation_window(results: dict[str, pd.DataFrame], inputs: Inputs) -> None:
    rfm = results["rfm_days"].set_index("customer")
    events = inputs.synthetic
    window = events[
        (events.type == "purchase")
        & (events.ts >= pd.Timestamp("2023-03-01", tz="UTC"))
        & (events.ts < pd.Timestamp("2024-07-01", tz="UTC"))
    ]
    days = window.assign(day=window.ts.dt.date).groupby("customer").day
    first = days.min().reindex(rfm.index)
    assert (rfm.frequency == days.nunique().reindex(rfm.index) - 1).all()
    assert (
        rfm.recency == [(b - a).days for a, b in zip(first, days.max().reindex(rfm.index), strict=True)]
    ).all()
    assert (rfm["T"] == [(date(2024, 6, 30) - a).days for a in first]).all()


def test_bad_arguments_are_refused() -> None:
    events = ibis.memtable(synthetic_events(customers=2))
    with pytest.raises(ValueError, match="time_unit"):
        rfm_summary(events, CALIBRATION_END, "fortnight")
    with pytest.raises(ValueError, match="after"):
        holdout_counts(events, HOLDOUT_END, CALIBRATION_END)
