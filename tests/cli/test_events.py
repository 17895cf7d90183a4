"""``segone events`` through the CliRunner on a SQLite store."""

from __future__ import annotations

from pathlib import Path

import pytest

from segone.behaviour.events import cdnow_path
from segone.runtime import Runtime
from tests.behaviour.conftest import DUCKDB_WARNING
from tests.cli.conftest import Invoke, as_json

pytestmark = pytest.mark.filterwarnings(DUCKDB_WARNING)


def test_the_cdnow_preset_imports_once(segone: Invoke, store: Runtime) -> None:
    path = str(cdnow_path("CDNOW_master.txt"))
    report = as_json(segone("events", "import", path, "--preset", "cdnow", "--json"))
    assert (report["rows"], report["events_written"], report["customers_created"]) == (69_659, 69_659, 23_570)
    again = as_json(segone("events", "import", path, "--preset", "cdnow", "--json"))
    assert again["customers_created"] == 0
    assert as_json(segone("events", "count", "--json")) == {"events": 69_659, "staged": 0}
    assert segone("events", "compact").exit_code == 0
    assert as_json(segone("events", "count", "--json"))["events"] == 69_659


def test_bad_rows_and_unknown_customers_are_named(segone: Invoke, store: Runtime, tmp_path: Path) -> None:
    path = tmp_path / "orders.csv"
    path.write_text("cust,date,kind\ncrm:1,20240501,purchase\ncrm:2,2024-05-02,purchase\n")
    args = ["events", "import", str(path), "--map", "customer=cust,timestamp=date,type=kind"]
    result = segone(*args, "--date-format", "%Y%m%d")
    assert result.exit_code == 2
    assert "row 2, column date" in result.stderr
    assert as_json(segone("events", "count", "--json"))["events"] == 0

    path.write_text("cust,date,kind\ncrm:1,20240501,purchase\n")
    rejected = segone(*args, "--date-format", "%Y%m%d", "--unknown", "reject")
    assert rejected.exit_code == 2
    assert "unknown customer crm:1" in rejected.stderr
    dry = segone(*args, "--date-format", "%Y%m%d", "--dry-run")
    assert dry.exit_code == 0 and "dry run" in dry.stdout
    assert segone(*args, "--date-format", "%Y%m%d").exit_code == 0
    assert as_json(segone("events", "count", "--json"))["events"] == 1


def test_flush_with_nothing_staged(segone: Invoke, store: Runtime) -> None:
    result = segone("events", "flush")
    assert result.exit_code == 0
    assert "Flushed 0" in result.stdout
