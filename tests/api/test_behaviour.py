"""GET /customers/{id}/behaviour, /behaviour/refreshes/latest and /behaviour/evaluation over real HTTP; the
server's flusher."""

from __future__ import annotations

import time
from datetime import date

import httpx
import pytest

from segone.accounts.schemas import SYSTEM, Role
from segone.behaviour import ingest, refresh
from segone.behaviour.dataset import EventDataset
from segone.behaviour.events import read_cdnow_sample
from segone.runtime import Runtime
from segone.settings import Settings
from tests.api.conftest import ClientFactory
from tests.api.helpers import api_user, error_of
from tests.behaviour.conftest import DUCKDB_WARNING, refreshed_on_cdnow
from tests.conftest import LiveServer
from tests.factories import make_customer

pytestmark = pytest.mark.filterwarnings(DUCKDB_WARNING)

AS_OF = date(2024, 6, 30)
PURCHASES = [("2024-03-01T10:00:00Z", 20.0), ("2024-04-01T11:00:00Z", 30.0), ("2024-04-01T17:00:00Z", 5.0)]


def _stage(runtime: Runtime, customers: int = 30) -> None:
    """Three purchase days for shop:0 (two purchases on 1 April) and a few for each other customer."""
    events = [
        {"customer": "shop:0", "type": "purchase", "timestamp": ts, "value": str(value), "channel": "web"}
        for ts, value in PURCHASES
    ]
    events.append({"customer": "shop:0", "type": "complaint", "timestamp": "2024-04-02", "reason": "late"})
    for n in range(1, customers):
        for month in range(1, 2 + n % 4):
            events.append(
                {
                    "customer": f"shop:{n}",
                    "type": "purchase",
                    "timestamp": f"2024-0{month}-1{n % 9}",
                    "value": "9",
                }
            )
    with runtime.session() as db:
        ingest.stage_batch(db, actor=SYSTEM, events=events)


def test_behaviour_before_and_after_a_refresh(runtime: Runtime, api: ClientFactory) -> None:
    _stage(runtime)
    client = api(api_user(runtime, Role.FRONTLINE).token)
    customer = client.get("/customers/by-identity/shop:0").json()["id"]

    empty = client.get(f"/customers/{customer}/behaviour")
    assert empty.status_code == 200
    assert empty.json() == {
        "customer_id": customer,
        "currency": "USD",
        "as_of": None,
        "refreshed_at": None,
        "profile": None,
        "scores": None,
        "timeline": [],
        "reading": None,
    }
    assert client.get("/behaviour/refreshes/latest").json() is None

    report = refresh.refresh(runtime.sessions, runtime.settings, actor=SYSTEM, as_of=AS_OF)
    body = client.get(f"/customers/{customer}/behaviour").json()
    assert body["as_of"] == "2024-06-30" and body["refreshed_at"] is not None
    profile = body["profile"]
    assert (profile["purchases"], profile["repeat_purchases"], profile["total_value"]) == (2, 1, 55.0)
    assert (profile["first_purchase"], profile["last_purchase"]) == ("2024-03-01", "2024-04-01")
    assert (profile["recency_days"], profile["complaints"], profile["preferred_channel"]) == (90, 1, "web")
    assert body["timeline"] == [
        {"day": "2024-03-01", "value": 20.0, "purchases": 1},
        {"day": "2024-04-01", "value": 35.0, "purchases": 2},
    ]
    scores = body["scores"]
    assert 0.0 < scores["p_alive"] <= 1.0 and scores["expected_purchases"] > 0.0
    assert scores["horizon_weeks"] == runtime.settings.behaviour_horizon_weeks
    assert scores["model"] in {"Pareto/NBD", "BG/NBD"}
    # The words of the customer page, with the same evidence rules and the configured currency.
    statements = {s["topic"]: s for s in body["reading"]["statements"]}
    assert statements["cadence"] == {
        "topic": "cadence",
        "text": "How often they buy: too few purchases to tell (2 purchase days; we say it from 5).",
        "enough_evidence": False,
    }
    assert statements["weekday"]["enough_evidence"] is False
    figures = {f["label"]: f["text"] for f in body["reading"]["figures"]}
    assert figures["Spent up to 2024-06-30"] == "$55.00"

    latest = client.get("/behaviour/refreshes/latest").json()
    assert latest["id"] == report.refresh_id and latest["status"] == "done"
    assert latest["customers"] == 30 and "pareto_nbd" in latest["models"]


def test_unknown_customer_and_bad_ids(runtime: Runtime, api: ClientFactory) -> None:
    client = api(api_user(runtime, Role.FRONTLINE).token)
    missing = error_of(client.get("/customers/999999/behaviour"), 404, "not_found")
    assert "999999" in missing["message"]
    error_of(client.get("/customers/abc/behaviour"), 422, "invalid")
    assert client.get(f"/customers/{make_customer(runtime)}/behaviour").json()["profile"] is None


def test_the_server_flushes_staged_events_in_the_background(fresh_settings: Settings) -> None:
    settings = fresh_settings.model_copy(update={"flush_interval_seconds": 1})
    runtime = Runtime(settings)
    runtime.upgrade_schema()
    server = LiveServer(runtime)
    try:
        token = api_user(runtime, Role.ANALYST).token
        sent = httpx.post(
            f"{server.url}/api/v1/events",
            json={"events": [{"customer": "shop:9", "type": "visit", "timestamp": "2024-05-01"}]},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert sent.status_code == 200, sent.text

        # A flush writes its file, then deletes the staged rows: done when both are seen.
        def flushed() -> bool:
            with runtime.session() as db:
                staged = ingest.staged_count(db)
            return staged == 0 and bool(ingest.dataset_of(runtime.settings.data_dir).files())

        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not flushed():
            time.sleep(0.2)
        assert len(ingest.dataset_of(runtime.settings.data_dir).files()) == 1
        with runtime.session() as db:
            assert ingest.staged_count(db) == 0
    finally:
        server.stop()
        runtime.dispose()


def test_a_server_reads_the_ids_of_the_stored_events_as_it_starts(fresh_settings: Settings) -> None:
    """Not at its first events batch, which would wait for them, and every batch behind it."""
    runtime = Runtime(fresh_settings)
    runtime.upgrade_schema()
    with runtime.session() as db:
        resolved = ingest.resolve_customers(db, actor=SYSTEM, events=read_cdnow_sample(), unknown="create")
    assert resolved.table is not None
    dataset = ingest.dataset_of(runtime.settings.data_dir)
    dataset.write_batch(resolved.table)
    server = LiveServer(runtime)
    try:
        stored = server.app.state.stored_event_ids
        assert stored.files_read == set(dataset.files())
        assert len(stored) == resolved.table.num_rows
    finally:
        server.stop()
        runtime.dispose()


def test_intervals_on_the_scores_when_asked_for(runtime: Runtime, api: ClientFactory) -> None:
    refreshed_on_cdnow(runtime)  # customers who drop out: a Pareto/NBD with every parameter pinned down
    client = api(api_user(runtime, Role.FRONTLINE).token)
    customer = client.get("/customers/by-identity/cdnow:00004").json()["id"]

    plain = client.get(f"/customers/{customer}/behaviour").json()
    assert plain["scores"]["intervals"] is None  # only when asked for
    asked = client.get(f"/customers/{customer}/behaviour", params={"intervals": "0.9"})
    assert asked.status_code == 200
    scores = asked.json()["scores"]
    found = scores["intervals"]
    assert (found["level"], found["draws"], found["note"]) == (0.9, 500, None)
    for name in ("p_alive", "expected_purchases", "expected_value", "clv"):
        interval = found[name]
        assert set(interval) == {"low", "high", "level"} and interval["level"] == 0.9
        assert interval["low"] <= scores[name] <= interval["high"] and interval["low"] < interval["high"], (
            name
        )
    assert {k: v for k, v in scores.items() if k != "intervals"} == {
        k: v for k, v in plain["scores"].items() if k != "intervals"
    }
    # The same request, the same interval; a lower level, a narrower one.
    again = client.get(f"/customers/{customer}/behaviour", params={"intervals": "0.9"}).json()
    assert again["scores"]["intervals"] == found
    half = client.get(f"/customers/{customer}/behaviour", params={"intervals": "0.5"}).json()
    inner = half["scores"]["intervals"]["clv"]
    assert found["clv"]["low"] < inner["low"] < inner["high"] < found["clv"]["high"]

    refused = error_of(client.get(f"/customers/{customer}/behaviour?intervals=1.5"), 422, "invalid")
    assert refused["message"] == (
        "The interval level must be between 0.5 and 0.99 (0.9 for 90% intervals), not 1.5."
    )
    error_of(client.get(f"/customers/{customer}/behaviour?intervals=ninety"), 422, "invalid")


def test_the_evaluation_compares_the_models_best_first(
    sqlite_runtime: Runtime, sqlite_api: ClientFactory
) -> None:
    runtime, api = sqlite_runtime, sqlite_api
    analyst = api(api_user(runtime, Role.ANALYST).token)
    assert "no events" in error_of(analyst.get("/behaviour/evaluation"), 422, "invalid")["message"]
    EventDataset(runtime.settings.data_dir / "events").write_batch(read_cdnow_sample())
    assert error_of(api(api_user(runtime, Role.MANAGER).token).get("/behaviour/evaluation"), 403, "forbidden")

    found = analyst.get("/behaviour/evaluation", params={"model": "all"})
    assert found.status_code == 200, found.text
    body = found.json()
    # Without dates, the published split: 39 weeks of calibration, 39 of holdout.
    assert (body["calibration_end"], body["holdout_end"], body["time_unit"]) == (
        "1997-09-30",
        "1998-06-30",
        "week",
    )
    models = body["models"]
    assert [m["model"] for m in models] == ["pareto-nbd", "mbgnbd", "bgnbd"]
    assert body["model"] == "all" and body["winner"] == "pareto-nbd"
    assert body["reason"] == (
        f"lowest MAE: {models[0]['mean_absolute_error']:.4f} repeat purchases per customer, against "
        f"{models[1]['mean_absolute_error']:.4f} for MBG/NBD"
    )
    for m in models:
        assert m["actual_total"] == 1882 and m["n_customers"] == 2357
        assert {"root_mean_squared_error", "log_likelihood", "tracking_error", "predicted_total"} <= set(m)
        weekly, cumulative = m["weekly"], m["cumulative"]
        assert len(weekly) == len(cumulative) == 78
        assert [w["actual"] for w in weekly[:3]] == [0, 19, 23]
        assert sum(w["predicted"] for w in weekly) == pytest.approx(cumulative[-1]["predicted"], rel=1e-9)
        matrix = m["alive_matrix"]
        assert matrix["frequencies"][0] == 0 and len(matrix["p_alive"][0]) == len(
            matrix["since_last_purchase"]
        )
    bgnbd = next(m for m in models if m["model"] == "bgnbd")
    assert set(bgnbd["alive_matrix"]["p_alive"][0]) == {1.0}

    one = analyst.get(
        "/behaviour/evaluation",
        params={"model": "bgnbd", "calibration_end": "1997-09-30", "holdout_end": "1998-06-30"},
    ).json()
    assert (one["model"], one["winner"], one["reason"]) == ("bgnbd", None, None)
    assert [m["model"] for m in one["models"]] == ["bgnbd"]
    assert one["models"][0]["predicted_total"] == pytest.approx(bgnbd["predicted_total"], rel=1e-6)
    late = analyst.get("/behaviour/evaluation", params={"holdout_end": "1999-01-01"})
    assert "after the last event (1998-06-30)" in error_of(late, 422, "invalid")["message"]
    backwards = analyst.get(
        "/behaviour/evaluation", params={"calibration_end": "1998-01-01", "holdout_end": "1997-12-01"}
    )
    assert "must be after the calibration end" in error_of(backwards, 422, "invalid")["message"]
    assert error_of(analyst.get("/behaviour/evaluation", params={"model": "gamma"}), 422, "invalid")
