"""``segone events`` through the CliRunner on a SQLite store."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from segone import processes
from segone.behaviour.dataset import LEFTOVER_AGE, EventDataset
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
    assert as_json(segone("events", "count", "--json")) == {"events": 69_659, "staged": 0, "leftovers": []}
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


def _events_file(path: Path, rows: int) -> Path:
    numbers = pa.array(range(rows), pa.int64())
    table = pa.table(
        {
            "event_id": pc.binary_join_element_wise("e", pc.cast(numbers, pa.string()), ""),
            "customer": pc.binary_join_element_wise(
                "shop:", pc.cast(pc.bit_wise_and(numbers, 255), pa.string()), ""
            ),
            "type": pa.array(["purchase"] * rows),
            "timestamp": pa.array(["2024-05-01T10:00:00Z"] * rows),
            "value": pc.cast(numbers, pa.float64()),
        }
    )
    pq.write_table(table, path)
    return path


def test_a_killed_import_leaves_a_temporary_file_the_next_write_removes(
    segone: Invoke, store: Runtime, data_dir: Path, tmp_path: Path
) -> None:
    source = _events_file(tmp_path / "events.parquet", 1_500_000)
    events = data_dir / "events"
    command = [sys.executable, "-c", "from segone.cli.main import main; main()", "events", "import"]
    env = {**os.environ, "SEGONE_DATA_DIR": str(data_dir), "SEGONE_DATABASE_URL": ""}
    importing = subprocess.Popen([*command, str(source)], env=env, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while not list(events.glob(".*.tmp")) and importing.poll() is None and time.monotonic() < deadline:
        time.sleep(0.002)
    importing.send_signal(signal.SIGKILL)  # while it writes the dataset's file
    importing.wait(timeout=30)
    assert importing.returncode == -signal.SIGKILL
    [orphan] = list(events.glob(".*.tmp"))
    assert f"~{importing.pid}~" in orphan.name

    [leftover] = as_json(segone("events", "count", "--json"))["leftovers"]
    assert (leftover["file"], leftover["abandoned"]) == (orphan.name, True)
    assert f"~{importing.pid}~" in leftover["writer"]
    said = segone("events", "count")
    assert "1 temporary files" in said.stdout and "removes them" in said.stdout

    compacted = as_json(segone("events", "compact", "--json"))
    assert compacted["leftovers_removed"] == 1
    assert not orphan.exists()
    assert as_json(segone("events", "count", "--json"))["leftovers"] == []


def test_an_unfinished_write_of_a_live_writer_is_left_alone(store: Runtime, tmp_path: Path) -> None:
    dataset = EventDataset(tmp_path / "events")
    dataset.directory.mkdir()
    mine = dataset.directory / f".part-1.parquet.{processes.current()}.tmp"
    old = dataset.directory / ".part-0.parquet.tmp"  # named by an older version: known by its age only
    mine.write_bytes(b"x")
    old.write_bytes(b"x")
    assert [left.abandoned for left in dataset.leftovers()] == [False, False]
    later = time.time() + LEFTOVER_AGE + 1
    assert [left.abandoned for left in dataset.leftovers(now=later)] == [True, False]  # mine: I live
    assert dataset.remove_abandoned() == []
    long_ago = time.time() - 2 * LEFTOVER_AGE
    os.utime(old, (long_ago, long_ago))
    assert [left.path for left in dataset.remove_abandoned()] == [old]
    assert mine.exists()
