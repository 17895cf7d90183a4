"""``segone behaviour refresh`` and ``status`` through the CliRunner on a SQLite store."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest

from segone.accounts.schemas import SYSTEM
from segone.behaviour import ingest
from segone.behaviour.events import cdnow_path, read_cdnow_sample
from segone.runtime import Runtime
from tests.behaviour.conftest import DUCKDB_WARNING
from tests.behaviour.killed import kill, refresh_running_elsewhere
from tests.cli.conftest import Invoke, as_json, one_line_error

pytestmark = pytest.mark.filterwarnings(DUCKDB_WARNING)


def test_refresh_the_cdnow_history_and_read_its_status(
    segone: Invoke, store: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SEGONE_CURRENCY", "EUR")
    assert "No refresh yet" in segone("behaviour", "status").stdout
    path = str(cdnow_path("CDNOW_master.txt"))
    assert segone("events", "import", path, "--preset", "cdnow").exit_code == 0

    report = as_json(segone("behaviour", "refresh", "--as-of", "1998-06-30", "--json"))
    assert (report["as_of"], report["events"], report["customers"]) == ("1998-06-30", 69_659, 23_570)
    assert report["models"]["pareto_nbd"]["customers"] == 23_570
    assert report["models"]["gamma_gamma"]["converged"] is True
    assert set(report["seconds"]) == {
        "Flushing staged events",
        "Computing behaviour profiles",
        "Fitting purchase and spend models",
        "Writing profiles",
    }
    status = as_json(segone("behaviour", "status", "--json"))["refresh"]
    assert (status["id"], status["status"], status["customers"]) == (report["refresh_id"], "done", 23_570)
    assert "23,570 customers, 69,659 events." in segone("behaviour", "status").stdout

    # Customer 42 bought on 1 and 2 January 1997: too few purchases to tell a rhythm or a weekday; the
    # amounts in the configured currency; the expected value says what it leans on.
    shown = segone("customers", "show", "cdnow:00042")
    assert shown.exit_code == 0, shown.output
    lines = [line.strip() for line in shown.stdout.splitlines()]
    assert "Behaviour (as of 1998-06-30)" in lines
    assert "• Bought on 2 days, the last on 1997-01-02 (18 months before 1998-06-30)." in lines
    assert "• How often they buy: too few purchases to tell (2 purchase days; we say it from 5)." in lines
    assert "• Favourite weekday: too few events to tell (2 events; we say it from 8)." in lines
    assert "Spent up to 1998-06-30: \u20ac38.32" in lines
    assert not any("Usually every" in line or "Wednesdays" in line for line in lines)
    note = lines[
        lines.index(next(x for x in lines if x.startswith("Expected value per purchase: \u20ac"))) + 1
    ]
    assert note.startswith(
        "Based on 2 purchase days; with few purchases the estimate leans on all customers'"
    )
    assert "average of \u20ac" in note

    # As of the end of the first week, only the first week's buyers have a profile.
    early = segone("behaviour", "refresh", "--as-of", "1997-01-07")
    assert early.exit_code == 0, early.output
    assert "as of 1997-01-07" in early.stdout and "pareto_nbd" in early.stdout
    assert as_json(segone("behaviour", "status", "--json"))["refresh"]["customers"] < 23_570


def test_refresh_with_the_best_model_from_the_setting_or_the_option(
    segone: Invoke, store: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    with store.session() as db:
        resolved = ingest.resolve_customers(db, actor=SYSTEM, events=read_cdnow_sample(), unknown="create")
    assert resolved.table is not None
    ingest.dataset_of(store.settings.data_dir).write_batch(resolved.table)
    # SEGONE_BEHAVIOUR_MODEL=best: the three models compared on the default split, MBG/NBD the winner.
    monkeypatch.setenv("SEGONE_BEHAVIOUR_MODEL", "best")
    best = segone("behaviour", "refresh", "--as-of", "1997-12-31")
    assert best.exit_code == 0, best.output
    assert (
        "The customers' P(alive) and expected purchases are MBG/NBD's (the best on the holdout "
        in best.stdout
    )
    assert "1997-07-02 to 1997-12-31: lowest MAE: " in best.stdout
    assert "Holdout MAE per customer, best first (1997-07-02 to 1997-12-31): mbgnbd 0.6" in best.stdout
    assert "mbgnbd: r " in best.stdout and "selection" not in best.stdout
    status = as_json(segone("behaviour", "status", "--json"))["refresh"]
    assert (
        status["models"]["selection"]["model"] == "mbgnbd"
        and status["models"]["selection"]["asked"] == "best"
    )
    assert "MBG/NBD scored the customers" in status["message"]
    # --model overrides the setting.
    named = as_json(
        segone("behaviour", "refresh", "--as-of", "1997-12-31", "--model", "pareto-nbd", "--json")
    )
    assert named["models"]["selection"] == {
        "model": "pareto-nbd",
        "asked": "pareto-nbd",
        "why": "the default",
        "comparison": None,
    }
    assert "Fitting purchase and spend models" in named["seconds"] and "Comparing" not in str(
        named["seconds"]
    )
    assert "Invalid value for '--model'" in segone("behaviour", "refresh", "--model", "gamma").output
    monkeypatch.setenv("SEGONE_BEHAVIOUR_MODEL", "gamma")
    refused = segone("behaviour", "refresh")
    assert refused.exit_code != 0 and "behaviour_model" in refused.output


def test_refresh_refuses_bad_and_future_dates(segone: Invoke, store: Runtime, tmp_path: Path) -> None:
    bad = segone("behaviour", "refresh", "--as-of", "30/06/1998")
    assert bad.exit_code == 2 and "--as-of" in bad.output
    tomorrow = (date.today() + timedelta(days=2)).isoformat()
    assert "in the future" in one_line_error(segone("behaviour", "refresh", "--as-of", tomorrow))


def test_refresh_with_no_events_writes_no_profiles(segone: Invoke, store: Runtime) -> None:
    report = as_json(segone("behaviour", "refresh", "--json"))
    assert (report["events"], report["customers"]) == (0, 0)
    assert report["models"] == {  # no model fitted, none scored
        "selection": {"model": None, "asked": "pareto-nbd", "why": "the default", "comparison": None}
    }
    assert any("needs 20" in note for note in report["notes"])


def test_a_refresh_killed_mid_run_reads_as_failed_and_one_running_refuses(
    segone: Invoke, store: Runtime
) -> None:
    with refresh_running_elsewhere(store.settings, date.today()) as child:
        assert as_json(segone("behaviour", "status", "--json"))["refresh"]["status"] == "running"
        refused = one_line_error(segone("behaviour", "refresh"))
        assert "A behaviour refresh is running already: run 1" in refused
        assert "Wait for it to finish" in refused
        kill(child)

    said = segone("behaviour", "status")
    assert "Refresh 1 (failed)" in said.stdout, said.output
    assert "Stopped without finishing" in said.stdout and "start it again" in said.stdout
    assert as_json(segone("behaviour", "refresh", "--json"))["refresh_id"] == 2
    assert as_json(segone("behaviour", "status", "--json"))["refresh"]["status"] == "done"
