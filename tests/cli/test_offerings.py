"""``segone offerings`` against a real store in a temporary folder: import, list, show, deactivate."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from segone.accounts.schemas import SYSTEM, Role
from segone.behaviour import ingest
from segone.runtime import Runtime
from tests.behaviour.conftest import DUCKDB_WARNING
from tests.cli.conftest import Invoke, as_json, one_line_error
from tests.factories import make_user

EXAMPLE = Path(__file__).parents[2] / "examples" / "offerings.csv"


def test_the_example_catalogue_is_checked_imported_and_listed(segone: Invoke, store: Runtime) -> None:
    checked = segone("offerings", "import", str(EXAMPLE), "--dry-run")
    assert checked.exit_code == 0, checked.output
    assert (
        "Checked offerings.csv: 5 rows (read as utf-8); 5 created, 0 updated, 0 unchanged "
        "(dry run: nothing was written)." in checked.stdout
    )
    assert "No offerings found" in segone("offerings", "list").stdout

    report = as_json(segone("offerings", "import", str(EXAMPLE), "--json"))
    assert (report["created"], report["attributes"]) == (5, ["lessons", "duration"])
    again = segone("offerings", "import", str(EXAMPLE))
    assert "0 created, 0 updated, 5 unchanged." in again.stdout

    listed = segone("offerings", "list")
    assert listed.exit_code == 0, listed.output
    assert "Ten guitar lessons" in listed.stdout and "$50\u2013200" in listed.stdout
    assert "1-5 of 5" in listed.stdout
    found = as_json(segone("offerings", "list", "--search", "REPAIR", "--json"))
    assert [item["key"] for item in found["items"]] == ["repair-workshop", "setup-and-restring"]


def test_a_bad_file_is_reported_row_by_row_with_exit_code_2(
    segone: Invoke, store: Runtime, tmp_path: Path
) -> None:
    file = tmp_path / "bad.csv"
    file.write_text("key,name,price_band\nok,Fine,\nbad/key,,cheap\n")
    result = segone("offerings", "import", str(file))
    assert one_line_error(result) == (
        "Error: 1 of the 2 rows is bad; nothing was imported. Fix every row the report names and import "
        "the file again."
    )
    assert "  row 3, column key: 'bad/key' is not a key" in result.stderr
    assert "  row 3, column price_band: 'cheap' is not a price band" in result.stderr
    report = json.loads(segone("offerings", "import", str(file), "--json").stdout)
    assert [problem["row"] for problem in report["errors"]] == [3, 3, 3]
    assert "No offerings found" in segone("offerings", "list").stdout


@pytest.mark.filterwarnings(DUCKDB_WARNING)
def test_show_counts_the_purchases_and_deactivate_withdraws(segone: Invoke, store: Runtime) -> None:
    as_json(segone("offerings", "import", str(EXAMPLE), "--json"))
    with store.session() as db:
        ingest.stage_batch(
            db,
            actor=SYSTEM,
            events=[
                {
                    "customer": f"crm:{n}",
                    "type": "purchase",
                    "timestamp": "2024-05-01",
                    "offering": "repair-workshop",
                }
                for n in range(3)
            ],
        )
    ingest.flush_staged(store.sessions, dataset=ingest.dataset_of(store.settings.data_dir))

    shown = segone("offerings", "show", "repair-workshop")
    assert shown.exit_code == 0, shown.output
    assert "Repair workshop  (repair-workshop)" in shown.stdout
    assert "Price band: $50\u2013200" in shown.stdout and "Purchases: 3 purchase events" in shown.stdout
    assert as_json(segone("offerings", "show", "repair-workshop", "--json"))["purchases"] == 3
    assert one_line_error(segone("offerings", "show", "nope")) == "Error: There is no offering 'nope'."

    analyst = make_user(store, Role.ANALYST)
    refused = segone("offerings", "deactivate", "repair-workshop", "--as", analyst.email)
    assert "may not manage settings" in one_line_error(refused)
    done = segone("offerings", "deactivate", "repair-workshop")
    assert "Repair workshop (repair-workshop) is deactivated" in done.stdout
    assert "repair-workshop" not in segone("offerings", "list").stdout
    assert "(deactivated)" in segone("offerings", "list", "--all").stdout
