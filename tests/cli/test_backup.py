"""``segone backup`` and ``segone restore`` on a real SQLite store with facts and events: a backup taken
while a writer goes on restores to a store equal to the one backed up, and a bad backup is refused."""

from __future__ import annotations

import json
import shutil
import threading
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from segone.migrations import migrate
from segone.migrations.backup import MANIFEST
from segone.runtime import Runtime
from segone.settings import Settings
from tests.behaviour.conftest import DUCKDB_WARNING
from tests.cli.conftest import Invoke, as_json, one_line_error
from tests.factories import make_customer
from tests.stores import snapshot

pytestmark = pytest.mark.filterwarnings(DUCKDB_WARNING)

PEOPLE = 40


def _seed(segone: Invoke, tmp_path: Path) -> None:
    customers = tmp_path / "customers.csv"
    customers.write_text(
        "name,identity:crm,city\n" + "".join(f"Customer {i},C{i},Leeds\n" for i in range(PEOPLE)),
        encoding="utf-8",
    )
    facts = tmp_path / "facts.csv"
    facts.write_text(
        "customer,text,category,learned_by,learned_at\n"
        + "".join(f"crm:C{i},Plays the cello {i},free_time,,2024-03-01\n" for i in range(PEOPLE)),
        encoding="utf-8",
    )
    events = tmp_path / "events.csv"
    events.write_text(
        "event_id,customer,type,timestamp,value\n"
        + "".join(
            f"e{i},crm:C{i % PEOPLE},purchase,2024-05-0{1 + i % 9}T10:00:00Z,{i}.5\n" for i in range(300)
        ),
        encoding="utf-8",
    )
    for command in (
        ["customers", "import", str(customers)],
        ["facts", "import", str(facts)],
        ["events", "import", str(events)],
    ):
        result = segone(*command)
        assert result.exit_code == 0, result.output


def _store_of(data_dir: Path) -> dict[str, Any]:
    runtime = Runtime(Settings(data_dir=data_dir))
    try:
        tables = snapshot(runtime.engine)
    finally:
        runtime.dispose()
    return tables


def _without_writer(tables: dict[str, Any]) -> dict[str, Any]:
    """The store without what the writer added during the backup (its customers, identities, audit)."""
    kept = dict(tables)
    for name in ("customers", "customer_identities", "audit_log"):
        kept[name] = {**tables[name], "rows": [r for r in tables[name]["rows"] if "Writer" not in "".join(r)]}
    kept["customer_identities"]["rows"] = [
        r for r in kept["customer_identities"]["rows"] if "'writer'" not in r
    ]
    return kept


def test_a_backup_taken_while_a_writer_writes_restores_to_an_equal_store(
    segone: Invoke, store: Runtime, data_dir: Path, tmp_path: Path
) -> None:
    _seed(segone, tmp_path)
    events_before = as_json(segone("events", "count", "--json"))["events"]
    assert events_before == 300
    before = _store_of(data_dir)
    files_before = sorted(p.relative_to(data_dir).as_posix() for p in data_dir.rglob("*.parquet"))

    written: list[int] = []
    stop = threading.Event()

    def writer() -> None:  # one customer and its identity per transaction, as the web app adds them
        while not stop.is_set() and len(written) < 2_000:
            written.append(
                make_customer(store, name=f"Writer {len(written)}", identities=[f"writer:{len(written)}"])
            )

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        while len(written) < 5:
            stop.wait(0.01)
        report = as_json(segone("backup", str(tmp_path / "backup"), "--json"))
    finally:
        stop.set()
        thread.join(timeout=60)
    assert report["revision"] == migrate.head_revision()
    manifest = json.loads((tmp_path / "backup" / MANIFEST).read_text())
    assert {"segone_version", "revision", "created_at", "files"} <= manifest.keys()
    assert all(len(entry["sha256"]) == 64 for entry in manifest["files"])

    store.dispose()
    shutil.rmtree(data_dir)  # the store is lost
    restored = segone("restore", str(tmp_path / "backup"))
    assert restored.exit_code == 0, restored.output
    assert "Restored the backup" in restored.stdout

    after = _store_of(data_dir)
    assert _without_writer(after) == _without_writer(before)
    # What the writer had committed when the database was copied is there whole: each customer with its
    # identity, none half-written.
    writers = [r for r in after["customers"]["rows"] if "Writer" in "".join(r)]
    writer_ids = [r for r in after["customer_identities"]["rows"] if "'writer'" in r]
    assert len(writers) == len(writer_ids) >= 5
    assert sorted(p.relative_to(data_dir).as_posix() for p in data_dir.rglob("*.parquet")) == files_before
    assert as_json(segone("events", "count", "--json"))["events"] == events_before
    assert as_json(segone("db", "current", "--json"))["up_to_date"] is True


def test_restore_refuses_a_non_empty_data_dir_and_a_bad_backup(
    segone: Invoke, store: Runtime, data_dir: Path, tmp_path: Path
) -> None:
    _seed(segone, tmp_path)
    backup = tmp_path / "backup"
    assert segone("backup", str(backup)).exit_code == 0
    assert "not an empty directory" in one_line_error(segone("backup", str(backup)))
    assert "inside the data directory" in one_line_error(segone("backup", str(data_dir / "backup")))

    assert "is not empty" in one_line_error(segone("restore", str(backup)))
    assert "--force" in one_line_error(segone("restore", str(backup)))
    (data_dir / "stray.txt").write_text("not in the backup")
    assert segone("restore", str(backup), "--force").exit_code == 0
    assert not (data_dir / "stray.txt").exists()  # replaced, not merged
    assert (
        sorted(p.name for p in data_dir.parent.iterdir() if p.name.startswith(".")) == []
    )  # no staging left

    assert "no manifest.json" in one_line_error(segone("restore", str(tmp_path)))
    assert "is not a directory" in one_line_error(segone("restore", str(tmp_path / "missing")))

    damaged = tmp_path / "damaged"
    shutil.copytree(backup, damaged)
    [parquet] = list((damaged / "files" / "events").glob("*.parquet"))
    parquet.write_bytes(parquet.read_bytes()[:-10] + b"0123456789")
    assert "does not match its checksum" in one_line_error(segone("restore", str(damaged), "--force"))
    parquet.unlink()
    assert "is missing" in one_line_error(segone("restore", str(damaged), "--force"))
    (damaged / MANIFEST).write_text("{not json")
    assert "damaged" in one_line_error(segone("restore", str(damaged), "--force"))

    newer = tmp_path / "newer"
    shutil.copytree(backup, newer)
    manifest = json.loads((newer / MANIFEST).read_text())
    (newer / MANIFEST).write_text(json.dumps({**manifest, "revision": "9999"}))
    assert "newer than this segone knows" in one_line_error(segone("restore", str(newer), "--force"))
    # Nothing refused touched the store.
    assert as_json(segone("events", "count", "--json"))["events"] == 300
    with store.engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM customers")).scalar() == PEOPLE


def test_on_postgresql_backup_and_restore_point_at_pg_dump(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from segone.cli.main import app

    env = {
        "SEGONE_DATA_DIR": str(tmp_path / "data"),
        "SEGONE_DATABASE_URL": "postgresql+psycopg://x@127.0.0.1/x",
    }
    for command in (["backup", str(tmp_path / "b")], ["restore", str(tmp_path)]):
        result = CliRunner().invoke(app, command, env=env)
        assert "pg_dump" in one_line_error(result)
    assert not (tmp_path / "b").exists()
