"""The model-evaluation page: charts and tables on the CDNOW sample, the empty state without events."""

from __future__ import annotations

import re
import shutil
from datetime import date, timedelta

import pytest

from segone.accounts.schemas import SYSTEM, Role
from segone.behaviour import ingest, refresh
from segone.behaviour.dataset import EventDataset
from segone.behaviour.events import moved, read_cdnow_sample
from segone.behaviour.models import BehaviourRefresh
from segone.clock import utcnow
from segone.demo.timeline import cdnow_shift, remove_record, write_record
from segone.storage import leases
from tests.conftest import LiveServer
from tests.factories import make_user
from tests.web.conftest import signed_in

# Fader, Hardie & Lee (2005) on the CDNOW sample: r 0.553, alpha 10.578, s 0.606, beta 11.669; the page
# prints 4 significant digits, whose first three are the published ones.
PUBLISHED_PARETO_NBD = [("r", "0.553"), ("alpha", "10.5"), ("s", "0.606"), ("beta", "11.6")]

pytestmark = pytest.mark.filterwarnings(r"ignore:fetch_arrow_table\(\) is deprecated:DeprecationWarning")


def test_the_page_evaluates_each_model_on_the_cdnow_sample(sqlite_live_server: LiveServer) -> None:
    server = sqlite_live_server
    directory = server.runtime.settings.data_dir / "events"
    shutil.rmtree(directory, ignore_errors=True)
    EventDataset(directory).write_batch(read_cdnow_sample())
    try:
        with signed_in(server, make_user(server.runtime, Role.ANALYST)) as client:
            query = "calibration_end=1997-09-30&holdout_end=1998-06-30"
            predicted = {}
            for model, label in (("bgnbd", "BG/NBD"), ("pareto-nbd", "Pareto/NBD")):
                page = client.get(f"/analytics/models?model={model}&{query}")
                assert page.status_code == 200, page.text
                html = page.text
                assert f'<h2 id="evaluation-title">{label}: predicted vs actual repeat purchases</h2>' in html
                assert f'<option value="{model}" selected>' in html
                assert "Cumulative repeat purchases" in html and "<polyline" in html and "<rect" in html
                assert html.index("<svg") < html.index("<table")
                assert ">1,882<" in html and ">7+<" in html and ">2,357<" in html
                assert "format=csv" in html and f"model={model}" in html
                assert 'href="/analytics/models"' in html
                assert "moved forward" not in html  # not the demo's events
                predicted[model] = re.search(
                    r"<th>Predicted repeat purchases in the holdout</th><td>([^<]+)</td>", html
                )
                # Both charts have axes with units and ticks, and their values written on them.
                lines = html[html.index("<svg") : html.index("</svg>")]
                assert "repeat purchases, cumulative" in lines and "calibration end" in lines
                assert ">week 1<" in lines and ">week 78<" in lines
                # The last week's totals, written at the end of each line (thousands separated).
                assert re.search(r'class="chart-value"[^>]*>actual \d,\d{3}<', lines)
                assert re.search(r'class="chart-value"[^>]*>predicted \d,\d{3}<', lines)
                bars = html[html.index("<svg", html.index("</svg>")) :]
                bars = bars[: bars.index("</svg>")]
                assert "repeat purchases in the calibration period" in bars
                assert len(re.findall(r'class="chart-value"[^>]*>\d+\.\d\d<', bars)) == 16  # 8 groups x 2
                csv_text = client.get(f"/analytics/models?model={model}&{query}&format=csv")
                assert csv_text.status_code == 200 and csv_text.headers["content-type"].startswith("text/csv")
                assert f"{model}-evaluation.csv" in csv_text.headers["content-disposition"]
                assert (
                    "repeat purchases in holdout,1882" in csv_text.text and f"model,{model}" in csv_text.text
                )
            bg, pareto = (predicted[m] for m in ("bgnbd", "pareto-nbd"))
            assert bg is not None and pareto is not None and bg.group(1) != pareto.group(1)
            # Without a refresh, the page evaluates Pareto/NBD, the model that would score the customers.
            assert "Pareto/NBD: predicted" in client.get(f"/analytics/models?{query}").text
            unknown = client.get(f"/analytics/models?model=gamma&{query}").text
            assert "There is no model &#39;gamma&#39; to evaluate" in unknown
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def test_the_page_says_how_to_import_events_when_there_are_none(sqlite_live_server: LiveServer) -> None:
    server = sqlite_live_server
    shutil.rmtree(server.runtime.settings.data_dir / "events", ignore_errors=True)
    with signed_in(server, make_user(server.runtime, Role.ANALYST)) as client:
        page = client.get("/analytics/models")
        assert page.status_code == 200
        assert "segone events import FILE --preset cdnow" in page.text


def test_the_page_shows_the_last_refresh_and_its_models(sqlite_live_server: LiveServer) -> None:
    server = sqlite_live_server
    runtime = server.runtime
    shutil.rmtree(runtime.settings.data_dir / "events", ignore_errors=True)
    with signed_in(server, make_user(runtime, Role.ANALYST)) as client:
        assert "No refresh yet" in client.get("/analytics/models").text
        with runtime.session() as db:
            resolved = ingest.resolve_customers(
                db, actor=SYSTEM, events=read_cdnow_sample(), unknown="create"
            )
        assert resolved.table is not None
        ingest.dataset_of(runtime.settings.data_dir).write_batch(resolved.table)
        refresh.refresh(runtime.sessions, runtime.settings, actor=SYSTEM, as_of=date(1997, 9, 30))
        html = client.get("/analytics/models").text
        scores = html[html.index('id="scores"') : html.index("</section>", html.index('id="scores"'))]
        assert "profiles as of <strong>1997-09-30</strong>" in scores and "2,357 customers" in scores
        assert "Pareto/NBD" in scores and "-9,595.0" in scores
        # Which model scores the customers, and why that one.
        assert re.search(r'<p id="scoring-model">.*?come from\s+<strong>Pareto/NBD</strong>', scores, re.S)
        assert '<option value="pareto-nbd" selected>Pareto/NBD (scores the customers)</option>' in html
        assert all(f"{name} {value}" in scores for name, value in PUBLISHED_PARETO_NBD)
        assert "Gamma-Gamma" in scores
    shutil.rmtree(runtime.settings.data_dir / "events", ignore_errors=True)


def test_the_page_shows_a_refresh_whose_process_died_as_failed(sqlite_live_server: LiveServer) -> None:
    runtime = sqlite_live_server.runtime
    with runtime.session() as db:
        run = BehaviourRefresh(as_of=date(2024, 5, 1), horizon_weeks=52, annual_discount_rate=0.1, models={})
        leases.take(db, BehaviourRefresh, run, what="A refresh", lease_seconds=60)
        run.owner, run.lease_expires_at = "another-host~1~4242~77", utcnow() - timedelta(minutes=1)
    with signed_in(sqlite_live_server, make_user(runtime, Role.ANALYST)) as client:
        html = client.get("/analytics/models").text
    assert "Last refresh: <strong>failed</strong>" in html
    assert '<p id="refresh-failed">It failed: Stopped without finishing: its process (another-host' in html


def test_the_page_says_how_the_demo_moved_the_purchases(sqlite_live_server: LiveServer) -> None:
    server = sqlite_live_server
    data_dir = server.runtime.settings.data_dir
    directory = data_dir / "events"
    shutil.rmtree(directory, ignore_errors=True)
    day = date(2026, 11, 27)
    EventDataset(directory).write_batch(moved(read_cdnow_sample(), cdnow_shift(day)))
    write_record(data_dir, seed=7, day=day)
    try:
        with signed_in(server, make_user(server.runtime, Role.ANALYST)) as client:
            html = " ".join(client.get("/analytics/models").text.split())
        assert (
            "The demo's purchases are CDNOW's (1997-01-01 to 1998-06-30) moved forward by 10,377 days "
            "so that they end on the day the demo was loaded (2026-11-27); the published checks "
            "(docs/benchmarks.md) run on the unshifted files."
        ) in html
        # The default split is the published one, moved: 39 weeks of calibration, 39 of holdout.
        assert 'value="2026-02-27"' in html and 'value="2026-11-27"' in html and ">1,882<" in html
    finally:
        remove_record(data_dir)
        shutil.rmtree(directory, ignore_errors=True)
