"""``behaviour refresh``: profiles and scores computed on the engine and written back, on both stores."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from ibis import BaseBackend
from sqlalchemy import func, select

from segone import processes
from segone.accounts.schemas import SYSTEM, Role
from segone.analytics import backend
from segone.behaviour import evaluation, ingest, metrics, refresh, scores
from segone.behaviour import service as profiles
from segone.behaviour.btyd import bgnbd, mbgnbd, paretonbd
from segone.behaviour.events import read_cdnow_sample
from segone.behaviour.models import BehaviourProfile, BehaviourRefresh
from segone.clock import utcnow
from segone.customers.models import CustomerIdentity
from segone.errors import Conflict, Forbidden, Invalid
from segone.runtime import Runtime
from segone.storage import leases
from segone.views import merge
from tests.behaviour.conftest import DUCKDB_WARNING, SPARK_WARNING, synthetic_events
from tests.behaviour.killed import kill, refresh_running_elsewhere
from tests.factories import make_user, refuse_consent

pytestmark = pytest.mark.filterwarnings(DUCKDB_WARNING)

AS_OF = date(2024, 10, 31)
CDNOW_CALIBRATION_END = date(1997, 9, 30)


def _load(runtime: Runtime, events: pa.Table) -> dict[str, int]:
    """Resolve the events' identities (creating customers) and write them to the runtime's dataset."""
    with runtime.session() as db:
        resolved = ingest.resolve_customers(db, actor=SYSTEM, events=events, unknown="create")
    assert resolved.table is not None
    ingest.dataset_of(runtime.settings.data_dir).write_batch(resolved.table)
    return _ids(runtime)


def _ids(runtime: Runtime) -> dict[str, int]:
    with runtime.session() as db:
        rows = db.execute(
            select(CustomerIdentity.system, CustomerIdentity.value, CustomerIdentity.customer_id)
        )
        return {f"{system}:{value}": customer for system, value, customer in rows}


def _profile(runtime: Runtime, customer_id: int) -> dict[str, Any]:
    with runtime.session() as db:
        row = db.get(BehaviourProfile, customer_id)
        assert row is not None, f"no profile for customer {customer_id}"
        return {column.key: getattr(row, column.key) for column in BehaviourProfile.__table__.columns}


def test_refresh_writes_the_engines_profiles_and_scores(runtime: Runtime) -> None:
    ids = _load(runtime, synthetic_events(customers=120))
    seen: list[tuple[str, int, int]] = []
    report = refresh.refresh(
        runtime.sessions,
        runtime.settings,
        actor=SYSTEM,
        as_of=AS_OF,
        progress=lambda *step: seen.append(step),
    )

    assert [stage for stage, done, total in seen if done == total] == [
        "Flushing staged events",
        "Computing behaviour profiles",
        "Fitting purchase and spend models",
        "Writing profiles",
    ]
    con = backend.connect("duckdb://:memory:", runtime.settings.data_dir)
    events = ingest.dataset_of(runtime.settings.data_dir).read(con)
    expected = backend.to_arrow(metrics.behaviour_profile(events, AS_OF, by="customer_id")).to_pylist()
    with runtime.session() as db:
        assert (
            db.scalar(select(func.count()).select_from(BehaviourProfile)) == len(expected) == report.customers
        )
    assert report.events == sum(row["events"] for row in expected)
    for row in expected:
        stored = _profile(runtime, row["customer_id"])
        for name, value in row.items():
            if isinstance(value, float):
                assert stored[name] == pytest.approx(value, rel=1e-9), name
            else:
                assert stored[name] == value, name
        assert stored["as_of"] == AS_OF and stored["refresh_id"] == report.refresh_id

    # The hand-made customers, by heart: two purchases on one day are one transaction.
    ties = _profile(runtime, ids["edge:ties"])
    assert (ties["purchases"], ties["total_value"], ties["median_gap_days"]) == (2, 35.0, 10.0)
    assert ties["preferred_channel"] == "store"
    assert sorted(json.loads(ties["timeline"])) == [["2024-10-01", 15.0, 2], ["2024-10-11", 20.0, 1]]
    contacts = _profile(runtime, ids["edge:contacts"])
    assert (contacts["purchases"], contacts["contacts"], contacts["complaints"]) == (0, 8, 1)
    assert [contacts[f"top_contact_reason_{i}"] for i in (1, 2, 3)] == ["price", "billing", "delivery"]
    assert contacts["p_alive"] is None and contacts["clv"] is None  # never bought: nothing to score
    late = _profile(runtime, ids["edge:late"])
    assert (late["purchases"], late["total_value"]) == (2, 10.0)  # the purchase of 1 November is later

    # The synthetic customers buy at steady rates until the end: BG/NBD finds no dropout, and its scores
    # (everyone about alive) are used, each on its own customer, with a note that says so.
    summary = backend.to_arrow(metrics.rfm_summary(events, AS_OF, "week", by="customer_id"))
    x, t_x, age = (np.asarray(summary.column(c).to_numpy(), float) for c in ("frequency", "recency", "T"))
    fitted = bgnbd.fit(x, t_x, np.maximum(age, scores.YOUNGEST_WEEKS))
    assert fitted.params.a < scores.NO_DROPOUT
    assert report.models["bgnbd"]["log_likelihood"] == pytest.approx(fitted.log_likelihood, abs=1e-2)
    assert any("no dropout" in note for note in report.notes)
    alive = bgnbd.p_alive(fitted.params, x, t_x, np.maximum(age, scores.YOUNGEST_WEEKS))
    for customer_id, p in zip(summary.column("customer_id").to_pylist(), alive, strict=True):
        assert _profile(runtime, customer_id)["p_alive"] == pytest.approx(p, rel=1e-4)
    with runtime.session() as db:
        run = db.get(BehaviourRefresh, report.refresh_id)
        assert run is not None and run.status == "done" and run.finished_at is not None
        assert set(run.models) == {"bgnbd", "gamma_gamma", "selection"} and "no dropout" in (
            run.message or ""
        )
        # Pareto/NBD was asked for (the default); BG/NBD scored, and the selection says so and why.
        assert (
            run.models["selection"]["model"] == "bgnbd" and run.models["selection"]["asked"] == "pareto-nbd"
        )
        assert run.models["selection"]["why"].startswith("BG/NBD instead of Pareto/NBD: no customer")
        assert profiles.scoring_model(run.models) == "BG/NBD"


@pytest.mark.xdist_group("spark")
@pytest.mark.filterwarnings(SPARK_WARNING)
def test_spark_refreshes_the_same_profiles_as_duckdb(sqlite_runtime: Runtime, spark: BaseBackend) -> None:
    runtime = sqlite_runtime
    _load(runtime, synthetic_events(customers=60))
    on_duckdb = refresh.refresh(runtime.sessions, runtime.settings, actor=SYSTEM, as_of=AS_OF)
    first = _all_profiles(runtime)
    on_spark = refresh.refresh(runtime.sessions, runtime.settings, actor=SYSTEM, as_of=AS_OF, con=spark)
    second = _all_profiles(runtime)
    assert on_spark.events == on_duckdb.events and len(second) == len(first) == on_duckdb.customers
    for customer_id, row in first.items():
        other = second[customer_id]
        for name, value in row.items():
            if name == "refresh_id":
                continue
            if name == "timeline":  # the days in any order (see refresh._timelines)
                assert sorted(json.loads(other[name])) == sorted(json.loads(value))
            elif name in scores.SCORE_COLUMNS and value is not None:
                # Fitted on the same summary in another row order: the optimum agrees to ~1e-6.
                assert other[name] == pytest.approx(value, rel=1e-5), name
            elif isinstance(value, float):
                assert other[name] == pytest.approx(value, rel=1e-9), name
            else:
                assert other[name] == value, name


def _all_profiles(runtime: Runtime) -> dict[int, dict[str, Any]]:
    with runtime.session() as db:
        ids = list(db.scalars(select(BehaviourProfile.customer_id)))
    return {customer_id: _profile(runtime, customer_id) for customer_id in ids}


def test_refresh_on_the_cdnow_sample_fits_the_published_pareto_nbd(sqlite_runtime: Runtime) -> None:
    runtime = sqlite_runtime
    ids = _load(runtime, read_cdnow_sample())
    report = refresh.refresh(runtime.sessions, runtime.settings, actor=SYSTEM, as_of=CDNOW_CALIBRATION_END)

    # Fader, Hardie & Lee (2005), the CDNOW 1/10 sample over 39 weeks: r, alpha, s, beta.
    params = report.models["pareto_nbd"]["params"]
    assert [round(params[k], 3) for k in ("r", "alpha", "s", "beta")] == [0.553, 10.578, 0.606, 11.669]
    assert report.customers == 2357 and report.models["pareto_nbd"]["customers"] == 2357
    # CDNOW customers do drop out: the Pareto/NBD scores each customer, aligned by customer id.
    con = backend.connect("duckdb://:memory:", runtime.settings.data_dir)
    events = ingest.dataset_of(runtime.settings.data_dir).read(con)
    summary = backend.to_arrow(metrics.rfm_summary(events, CDNOW_CALIBRATION_END, "week", by="customer_id"))
    x, t_x, age = (np.asarray(summary.column(c).to_numpy(), float) for c in ("frequency", "recency", "T"))
    published = paretonbd.ParetoNBDParams(**params)
    alive = paretonbd.p_alive(published, x, t_x, age)
    for customer_id, p in zip(summary.column("customer_id").to_pylist()[:300], alive, strict=False):
        assert _profile(runtime, customer_id)["p_alive"] == pytest.approx(p, rel=1e-4)

    raw = read_cdnow_sample()
    end = pa.scalar(datetime(1997, 10, 1, tzinfo=UTC), raw.schema.field("ts").type)
    calibration = raw.filter(pc.less(raw.column("ts"), end))
    assert report.events == calibration.num_rows

    # Customer 00004, the first of the sample: its purchase days in the file, as the timeline.
    mine = calibration.filter(pc.equal(calibration.column("customer"), "cdnow:00004")).to_pylist()
    days: dict[str, float] = {}
    for event in mine:
        day = event["ts"].date().isoformat()
        days[day] = days.get(day, 0.0) + event["value"]
    points = [(p[0], p[1]) for p in json.loads(_profile(runtime, ids["cdnow:00004"])["timeline"])]
    assert sorted(points) == sorted((day, round(value, 2)) for day, value in days.items())

    # Gamma-Gamma's expected value per purchase rests on all customers' average in proportion to the
    # weight the reading states: all of it without a repeat purchase, less with each repeat purchase.
    ids, means = summary.column("customer_id").to_pylist(), summary.column("monetary_value").to_pylist()
    money = dict(zip(ids, means, strict=True))
    with runtime.session() as db:
        once = db.scalar(select(BehaviourProfile.customer_id).where(BehaviourProfile.purchases == 1).limit(1))
        often = db.scalar(
            select(BehaviourProfile.customer_id).where(BehaviourProfile.purchases == 6).limit(1)
        )
        assert once is not None and often is not None
        single = profiles.behaviour_of(db, actor=SYSTEM, customer_id=once, currency="USD")
        regular = profiles.behaviour_of(db, actor=SYSTEM, customer_id=often, currency="USD")
    assert single.scores is not None and regular.scores is not None
    assert single.scores.model == "Pareto/NBD"
    average = single.scores.value_population_mean
    assert average is not None and single.scores.value_population_weight == 1.0
    assert single.scores.expected_value == pytest.approx(average, rel=1e-5)
    weight = regular.scores.value_population_weight
    assert weight is not None and 0 < weight < 1
    assert regular.scores.expected_value == pytest.approx(
        weight * average + (1 - weight) * money[often], rel=1e-5
    )
    assert single.reading is not None
    note = next(f.note for f in single.reading.figures if f.label == "Expected value per purchase")
    assert note == (
        "Based on 1 purchase day; with no repeat purchase yet the estimate is all customers' average, "
        f"${average:,.2f}."
    )


def test_refresh_with_the_best_model_scores_with_the_winner_of_the_comparison(
    sqlite_runtime: Runtime,
) -> None:
    """As of the end of 1997 the default split is 1997-07-02 (halfway from the first purchase), and on that
    holdout MBG/NBD predicts best: it scores the customers, and the refresh records the comparison."""
    runtime = sqlite_runtime
    _load(runtime, read_cdnow_sample())
    as_of = date(1997, 12, 31)
    seen: list[str] = []
    report = refresh.refresh(
        runtime.sessions,
        runtime.settings,
        actor=SYSTEM,
        as_of=as_of,
        model="best",
        progress=lambda stage, done, total: seen.append(stage) if done == total else None,
    )
    assert seen == [
        "Flushing staged events",
        "Computing behaviour profiles",
        refresh.COMPARING,
        "Fitting purchase and spend models",
        "Writing profiles",
    ]
    # The same comparison, on the same events through the evaluation's own reading.
    con = backend.connect("duckdb://:memory:", runtime.settings.data_dir)
    events = metrics.until(ingest.dataset_of(runtime.settings.data_dir).read(con), as_of)
    start, end = evaluation.default_period(events)
    assert (start, end) == (date(1997, 7, 2), as_of)
    ranked = evaluation.compare(events, start, end, actor=SYSTEM, by="customer_id")
    assert ranked[0].model == "mbgnbd"

    selection = report.models["selection"]
    assert (selection["asked"], selection["model"]) == ("best", "mbgnbd")
    comparison = selection["comparison"]
    assert (comparison["calibration_end"], comparison["holdout_end"]) == ("1997-07-02", "1997-12-31")
    assert comparison["ranking"] == [e.model for e in ranked] and comparison["winner"] == "mbgnbd"
    for e in ranked:
        assert comparison["mean_absolute_error"][e.model] == pytest.approx(e.mean_absolute_error, abs=1e-6)
        assert comparison["root_mean_squared_error"][e.model] == pytest.approx(
            e.root_mean_squared_error, abs=1e-6
        )
    assert comparison["reason"] == evaluation.why_best(ranked) and "lowest MAE" in selection["why"]
    assert set(report.models) == {"mbgnbd", "gamma_gamma", "selection"}  # Pareto/NBD never fitted
    assert report.notes[0].startswith("MBG/NBD scored the customers: of the three purchase models fitted")

    # Every customer's P(alive) is MBG/NBD's, fitted to all the purchases up to the refresh's day.
    summary = backend.to_arrow(metrics.rfm_summary(events, as_of, "week", by="customer_id"))
    con.disconnect()
    x, t_x, age = (np.asarray(summary.column(c).to_numpy(), float) for c in ("frequency", "recency", "T"))
    age = np.maximum(age, scores.YOUNGEST_WEEKS)
    fitted = mbgnbd.fit(x, t_x, age, standard_errors=False)
    assert report.models["mbgnbd"]["log_likelihood"] == pytest.approx(fitted.log_likelihood, abs=1e-2)
    alive = mbgnbd.p_alive(mbgnbd.MBGNBDParams(**report.models["mbgnbd"]["params"]), x, t_x, age)
    for customer_id, p in zip(summary.column("customer_id").to_pylist()[:300], alive, strict=False):
        assert _profile(runtime, customer_id)["p_alive"] == pytest.approx(p, rel=1e-4)
    # What the API and the pages read says so.
    with runtime.session() as db:
        run = db.get(BehaviourRefresh, report.refresh_id)
        assert run is not None and profiles.scoring_model(run.models) == "MBG/NBD"
        customer = summary.column("customer_id").to_pylist()[0]
        read = profiles.behaviour_of(db, actor=SYSTEM, customer_id=customer, currency="USD")
        assert read.scores is not None and read.scores.model == "MBG/NBD"

    with pytest.raises(Invalid, match="behaviour model must be one of pareto-nbd, bgnbd, mbgnbd, best"):
        refresh.refresh(runtime.sessions, runtime.settings, actor=SYSTEM, as_of=as_of, model="gamma")


def test_merged_records_count_for_their_survivor(runtime: Runtime) -> None:
    events = synthetic_events(customers=30)
    ids = _load(runtime, events)
    survivor, merged = ids["crm:00001"], ids["crm:00002"]
    with runtime.session() as db:
        merge.merge(db, actor=SYSTEM, survivor_id=survivor, merged_id=merged)
    refresh.refresh(runtime.sessions, runtime.settings, actor=SYSTEM, as_of=AS_OF)

    per_customer = events.group_by("customer").aggregate([("event_id", "count")]).to_pylist()
    counts = {row["customer"]: row["event_id_count"] for row in per_customer}
    late = sum(  # events after AS_OF are not in the profile
        1
        for row in events.to_pylist()
        if row["customer"] in ("crm:00001", "crm:00002") and row["ts"].date() > AS_OF
    )
    assert _profile(runtime, survivor)["events"] == counts["crm:00001"] + counts["crm:00002"] - late
    with runtime.session() as db:
        assert db.get(BehaviourProfile, merged) is None
        # The API reads the merged id as the survivor's.
        assert (
            profiles.behaviour_of(db, actor=SYSTEM, customer_id=merged, currency="USD").customer_id
            == survivor
        )


def test_staged_api_events_are_flushed_first(runtime: Runtime) -> None:
    ids = _load(runtime, synthetic_events(customers=25))
    with runtime.session() as db:
        staged = ingest.stage_batch(
            db,
            actor=SYSTEM,
            events=[
                {
                    "customer": "crm:00003",
                    "type": "purchase",
                    "timestamp": "2024-10-30T12:00:00Z",
                    "value": "9.5",
                },
                {
                    "customer": "api:new",
                    "type": "contact",
                    "timestamp": "2024-10-29T09:00:00Z",
                    "reason": "price",
                },
            ],
        )
    assert staged.new == 2 and staged.customers_created == 1
    report = refresh.refresh(runtime.sessions, runtime.settings, actor=SYSTEM, as_of=AS_OF)
    assert report.staged_flushed == 2
    with runtime.session() as db:
        assert ingest.staged_count(db) == 0
    ids = _ids(runtime)
    newcomer = _profile(runtime, ids["api:new"])
    assert (newcomer["contacts"], newcomer["top_contact_reason_1"], newcomer["purchases"]) == (1, "price", 0)
    assert _profile(runtime, ids["crm:00003"])["last_purchase"] == date(2024, 10, 30)


def test_thin_data_leaves_scores_empty_and_says_why(runtime: Runtime) -> None:
    small = synthetic_events(customers=5)
    _load(runtime, small)
    report = refresh.refresh(runtime.sessions, runtime.settings, actor=SYSTEM, as_of=AS_OF)
    # No model fitted: the selection says so (the model that scored: none).
    assert report.models == {
        "selection": {"model": None, "asked": "pareto-nbd", "why": "the default", "comparison": None}
    }
    assert any("needs 20" in note for note in report.notes), report.notes
    with runtime.session() as db:
        assert db.scalar(select(func.count()).where(BehaviourProfile.p_alive.is_not(None))) == 0
        run = db.get(BehaviourRefresh, report.refresh_id)
        assert run is not None and run.status == "done" and run.message and "Pareto/NBD" in run.message
        assert profiles.scoring_model(run.models) is None

    # Asked for the best model, too few customers to compare: Pareto/NBD, the default, and a note why.
    best = refresh.refresh(runtime.sessions, runtime.settings, actor=SYSTEM, as_of=AS_OF, model="best")
    selection = best.models["selection"]
    assert (selection["asked"], selection["model"], selection["comparison"]) == ("best", None, None)
    assert "could not be compared" in selection["why"] and "Pareto/NBD, the default" in selection["why"]
    assert best.notes[0].startswith("The purchase models could not be compared on a holdout (")
    assert "a comparison needs 20" in best.notes[0]


def test_a_failed_refresh_keeps_the_last_profiles(runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> None:
    _load(runtime, synthetic_events(customers=40))
    first = refresh.refresh(runtime.sessions, runtime.settings, actor=SYSTEM, as_of=AS_OF)

    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("the disk is full")

    monkeypatch.setattr(scores, "score_customers", broken)
    with pytest.raises(RuntimeError, match="disk is full"):
        refresh.refresh(runtime.sessions, runtime.settings, actor=SYSTEM, as_of=AS_OF + timedelta(days=1))
    with runtime.session() as db:
        assert set(db.scalars(select(BehaviourProfile.refresh_id))) == {first.refresh_id}
        failed = profiles.latest_refresh(db, actor=SYSTEM)
        assert failed is not None and failed.status == "failed" and "disk is full" in (failed.message or "")


def test_refresh_refuses_a_future_day_and_roles_without_analytics(runtime: Runtime) -> None:
    with pytest.raises(Invalid, match="in the future"):
        refresh.refresh(
            runtime.sessions, runtime.settings, actor=SYSTEM, as_of=date.today() + timedelta(days=2)
        )
    manager = make_user(runtime, Role.MANAGER)
    with pytest.raises(Forbidden):
        refresh.refresh(runtime.sessions, runtime.settings, actor=manager.actor, as_of=AS_OF)
    with runtime.session() as db:
        assert db.scalar(select(func.count()).select_from(BehaviourRefresh)) == 0


def test_events_of_customers_not_in_the_store_are_skipped_with_a_note(runtime: Runtime) -> None:
    events = synthetic_events(customers=25)
    with runtime.session() as db:
        resolved = ingest.resolve_customers(db, actor=SYSTEM, events=events, unknown="create")
    assert resolved.table is not None
    stray = resolved.table.slice(0, 3)
    for name, values in (("customer_id", [999_999] * 3), ("event_id", ["stray-1", "stray-2", "stray-3"])):
        field = stray.schema.field(name)
        stray = stray.set_column(stray.schema.get_field_index(name), field, pa.array(values, field.type))
    ingest.dataset_of(runtime.settings.data_dir).write_batch(pa.concat_tables([resolved.table, stray]))
    report = refresh.refresh(runtime.sessions, runtime.settings, actor=SYSTEM, as_of=AS_OF)
    assert report.skipped_customers == 1
    assert any("not in the store" in note for note in report.notes)


def test_profile_rows_stream_the_chosen_columns_by_customer(runtime: Runtime) -> None:
    with runtime.session() as db:
        assert not profiles.has_profiles(db)
    _load(runtime, synthetic_events(customers=20))
    refresh.refresh(runtime.sessions, runtime.settings, actor=SYSTEM, as_of=AS_OF)
    with runtime.session() as db:
        assert profiles.has_profiles(db)
        rows = list(profiles.profile_rows(db, columns=["recency_days", "clv"], batch_size=7))
        expected = db.execute(
            select(
                BehaviourProfile.customer_id, BehaviourProfile.recency_days, BehaviourProfile.clv
            ).order_by(BehaviourProfile.customer_id)
        ).all()
        assert rows == [tuple(row) for row in expected] and len(rows) > 7
        with pytest.raises(Invalid, match="timeline_x"):
            list(profiles.profile_rows(db, columns=["timeline_x"]))


def test_a_killed_refresh_reads_as_failed_and_a_new_one_runs(runtime: Runtime) -> None:
    _load(runtime, synthetic_events(customers=40))
    with refresh_running_elsewhere(runtime.settings, AS_OF) as child:
        with runtime.session() as db:
            running = profiles.latest_refresh(db, actor=SYSTEM)
            assert running is not None and profiles.to_out(running).status == "running"
        with pytest.raises(Conflict, match=r"is running already: run \d+, started .* \(process \d+\)"):
            refresh.refresh(runtime.sessions, runtime.settings, actor=SYSTEM, as_of=AS_OF)

        kill(child)
        with runtime.session() as db:
            killed = profiles.latest_refresh(db, actor=SYSTEM)
            assert killed is not None and killed.status == "running"  # the row as the process left it
            out = profiles.to_out(killed)
            assert out.status == "failed" and out.finished_at is None
            assert out.message and out.message.startswith("Stopped without finishing")

    report = refresh.refresh(runtime.sessions, runtime.settings, actor=SYSTEM, as_of=AS_OF)
    assert report.customers >= 40
    with runtime.session() as db:
        old = db.get(BehaviourRefresh, killed.id)
        assert old is not None and old.status == "failed" and old.finished_at is not None
        assert (old.message or "").startswith("Stopped without finishing")
        latest = profiles.latest_refresh(db, actor=SYSTEM)
        assert latest is not None and latest.id == report.refresh_id
        assert profiles.to_out(latest).status == "done"


def test_a_lease_run_out_on_another_host_reads_as_failed(runtime: Runtime) -> None:
    """Where the owner cannot be asked (another host), the lease's expiry decides."""
    with runtime.session() as db:
        run = BehaviourRefresh(as_of=AS_OF, horizon_weeks=52, annual_discount_rate=0.1, models={})
        leases.take(db, BehaviourRefresh, run, what="A refresh", lease_seconds=60)
        run.owner = "elsewhere~1~4242~77"
        db.flush()
        assert profiles.to_out(run).status == "running"
        run.lease_expires_at = utcnow() - timedelta(seconds=1)
        db.flush()
        assert profiles.to_out(run).status == "failed"
        db.rollback()


def test_a_customer_without_profiling_consent_gets_no_stored_scores(runtime: Runtime) -> None:
    ids = _load(runtime, synthetic_events(customers=40))
    unwilling, willing = ids["crm:00000"], ids["crm:00001"]
    refuse_consent(runtime, unwilling, "profiling")
    refresh.refresh(runtime.sessions, runtime.settings, actor=SYSTEM, as_of=AS_OF)
    hidden = _profile(runtime, unwilling)
    assert all(hidden[name] is None for name in scores.SCORE_COLUMNS)
    assert hidden["purchases"] > 0  # what they did is theirs to see; nothing predicted about them is kept
    shown = _profile(runtime, willing)
    assert shown["p_alive"] is not None


def test_the_profiles_are_written_in_pieces_each_followed_by_giving_way(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every piece of the write-back is followed by ``processes.give_way`` with the time it took, so that
    in a job the database's process rests between pieces; all the profiles are written all the same."""
    _load(runtime, synthetic_events(customers=30))
    monkeypatch.setattr(refresh, "WRITE_CHUNK", 7)
    monkeypatch.setattr(refresh, "ROWS_PER_STATEMENT", 7)
    busy: list[float] = []
    monkeypatch.setattr(processes, "give_way", busy.append)
    report = refresh.refresh(runtime.sessions, runtime.settings, actor=SYSTEM, as_of=AS_OF)
    assert len(busy) == -(-report.customers // 7) and all(seconds > 0 for seconds in busy)
    with runtime.session() as db:
        assert db.scalar(select(func.count()).select_from(BehaviourProfile)) == report.customers
