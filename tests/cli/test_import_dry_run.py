"""A file refused by ``--dry-run`` reports that it was a dry run, whatever refused it, in every import
command's ``--json`` report."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from segone.runtime import Runtime
from tests.behaviour.conftest import DUCKDB_WARNING
from tests.cli.conftest import Invoke, one_line_error
from tests.factories import make_customer

pytestmark = pytest.mark.filterwarnings(DUCKDB_WARNING)

# Refused for its header, for being empty, for not being CSV, for its rows: each file of each import.
FILES = {
    "customers": ("email\na@example.com\n", "", 'name\n"Ann\n', "name,email\n,a@example.com\n"),
    "facts": ("customer,words\ncrm:C1,Has two children\n", "", "customer,text\ncrm:NOPE,Has a dog\n"),
    "events": (
        "who,when\ncrm:C1,2024-05-01\n",
        "",
        "customer,timestamp,type\ncrm:C1,2024-05-01,purchase,one too many\n",
        "customer,timestamp,type\ncrm:C1,yesterday,purchase\n",
    ),
}


@pytest.mark.parametrize("command", sorted(FILES))
def test_a_refused_dry_run_reports_dry_run(
    segone: Invoke, store: Runtime, tmp_path: Path, command: str
) -> None:
    make_customer(store, identities=["crm:C1"])
    for n, content in enumerate(FILES[command]):
        path = tmp_path / f"{command}-{n}.csv"
        path.write_text(content, encoding="utf-8")
        checked = segone(command, "import", str(path), "--dry-run", "--json")
        one_line_error(checked)
        assert json.loads(checked.stdout)["dry_run"] is True, content
        imported = segone(command, "import", str(path), "--json")
        one_line_error(imported)
        assert json.loads(imported.stdout)["dry_run"] is False, content
