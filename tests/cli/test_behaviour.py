"""``segone behaviour refresh`` and ``status`` through the CliRunner on a SQLite store."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest

from segone.behaviour.events import cdnow_path
from segone.runtime import Runtime
from tests.behaviour.conftest import DUCKDB_WARNING
from tests.cli.conftest import Invoke, as_json, one_line_error

pytestmark = pytest.mark.filterwarnings(DUCKDB_WARNING)


def test_refresh_the_cdnow_history_and_read_its_status(segone: Invoke, store: Runtime) -> None:
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

    # As of the end of the first week, only the first week's buyers have a profile.
    early = segone("behaviour", "refresh", "--as-of", "1997-01-07")
    assert early.exit_code == 0, early.output
    assert "as of 1997-01-07" in early.stdout and "pareto_nbd" in early.stdout
    assert as_json(segone("behaviour", "status", "--json"))["refresh"]["customers"] < 23_570


def test_refresh_refuses_bad_and_future_dates(segone: Invoke, store: Runtime, tmp_path: Path) -> None:
    bad = segone("behaviour", "refresh", "--as-of", "30/06/1998")
    assert bad.exit_code == 2 and "--as-of" in bad.output
    tomorrow = (date.today() + timedelta(days=2)).isoformat()
    assert "in the future" in one_line_error(segone("behaviour", "refresh", "--as-of", tomorrow))


def test_refresh_with_no_events_writes_no_profiles(segone: Invoke, store: Runtime) -> None:
    report = as_json(segone("behaviour", "refresh", "--json"))
    assert (report["events"], report["customers"], report["models"]) == (0, 0, {})
    assert any("needs 20" in note for note in report["notes"])
