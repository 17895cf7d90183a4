"""``segone export``: to stdout or a file, CSV or Parquet, as the operator or a named user; and back in."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
from sqlalchemy import select
from typer.testing import CliRunner

from segone.accounts.models import AuditEntry
from segone.cli.main import app
from segone.runtime import Runtime
from tests.cli.conftest import Invoke, one_line_error

CSV = (
    "name,kind,email,identity:crm,city\n"
    "Ann Patel,person,ann@example.com,C1,Leeds\n"
    '"=HYPERLINK(""http://evil.example"")",business,hello@harbour.example,C2,+York\n'
)
EXPORTED = (
    "id,kind,name,identities,consent:contact,consent:profiling,consent:personalisation,city\r\n"
    "1,person,Ann Patel,email:ann@example.com;crm:C1,,,,Leeds\r\n"
    '2,business,"\'=HYPERLINK(""http://evil.example"")",email:hello@harbour.example;crm:C2,,,,\'+York\r\n'
)


def _imported(segone: Invoke, tmp_path: Path) -> None:
    source = tmp_path / "customers.csv"
    source.write_text(CSV, encoding="utf-8")
    assert segone("customers", "import", str(source)).exit_code == 0


def test_customers_go_to_stdout_and_import_into_another_store(
    segone: Invoke, store: Runtime, tmp_path: Path
) -> None:
    _imported(segone, tmp_path)
    exported = segone("export", "customers")
    assert exported.exit_code == 0, exported.output
    assert exported.stdout_bytes == EXPORTED.encode()
    assert exported.stderr == "Exported 2 customers to stdout.\n"

    copy = tmp_path / "copy.csv"
    copy.write_bytes(exported.stdout_bytes)
    runner = CliRunner()
    other = {"SEGONE_DATA_DIR": str(tmp_path / "other"), "SEGONE_DATABASE_URL": ""}
    assert runner.invoke(app, ["db", "upgrade"], env=other).exit_code == 0
    imported = runner.invoke(app, ["customers", "import", str(copy)], env=other)
    assert "2 rows (read as utf-8); 2 created" in imported.stdout, imported.output
    assert (
        runner.invoke(app, ["export", "customers", "--output", "-"], env=other).stdout_bytes
        == EXPORTED.encode()
    )


def test_a_file_of_each_format_with_the_audit_entry_of_the_named_user(
    segone: Invoke, store: Runtime, tmp_path: Path
) -> None:
    _imported(segone, tmp_path)
    assert segone("users", "create", "ana@example.com", "--role", "analyst").exit_code == 0
    path = tmp_path / "out" / "customers.parquet"
    path.parent.mkdir()
    done = segone(
        "export", "customers", "--format", "parquet", "--output", str(path), "--as", "ana@example.com"
    )
    assert done.exit_code == 0, done.output
    assert done.stderr == f"Exported 2 customers to {path}.\n" and done.stdout == ""
    table = pq.read_table(path)
    assert table.column("name").to_pylist() == ["Ann Patel", '=HYPERLINK("http://evil.example")']
    assert list(path.parent.iterdir()) == [path]  # no temporary file left beside it
    facts = tmp_path / "facts.csv"
    assert segone("export", "facts", "-o", str(facts)).exit_code == 0
    assert facts.read_text().startswith("id,customer_id,customer,customer_name,category,text,")
    with store.session() as db:
        entries = db.scalars(select(AuditEntry).where(AuditEntry.action == "data.exported")).all()
        assert [(e.actor_email, e.details) for e in entries] == [
            ("ana@example.com", {"export": "customers", "format": "parquet", "rows": 2}),
            ("system", {"export": "facts", "format": "csv", "rows": 0}),
        ]


def test_mistakes_are_one_line_errors(segone: Invoke, store: Runtime, tmp_path: Path) -> None:
    assert "name a file with --output" in one_line_error(segone("export", "customers", "--format", "parquet"))
    assert segone("users", "create", "clerk@example.com", "--role", "frontline").exit_code == 0
    assert "may not export data" in one_line_error(
        segone("export", "encounters", "--as", "clerk@example.com")
    )
    missing = tmp_path / "no-such-folder" / "x.csv"
    assert "No such file or directory" in one_line_error(segone("export", "customers", "-o", str(missing)))
    wrong = segone("export", "segments")
    assert wrong.exit_code == 2 and "segments" in wrong.stderr
