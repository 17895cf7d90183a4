"""``segone facts import`` and ``segone facts train`` against a real store in a temporary folder."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import select

from segone.accounts.schemas import SYSTEM, Role
from segone.demo.load import load as load_demo
from segone.knowledge.categories import classifier
from segone.knowledge.categories.service import in_force as categories_in_force
from segone.knowledge.models import Differentiator
from segone.runtime import Runtime
from tests.cli.conftest import Invoke, as_json
from tests.factories import make_customer, make_user


def _facts(store: Runtime) -> list[tuple[int, str, str]]:
    with store.session() as db:
        return [
            (f.customer_id, f.text, f.category)
            for f in db.scalars(select(Differentiator).order_by(Differentiator.id))
        ]


def test_import_checks_imports_and_suggests_categories(
    segone: Invoke, store: Runtime, tmp_path: Path
) -> None:
    customer = make_customer(store, identities=["crm:C1"])
    file = tmp_path / "facts.csv"
    file.write_text(
        "customer,text,category\ncrm:C1,Has two children,family\ncrm:C1,Sings in a choir on Tuesdays,\n"
    )

    checked = segone("facts", "import", str(file), "--dry-run")
    assert checked.exit_code == 0, checked.output
    assert (
        "Checked facts.csv: 2 rows; 2 facts added, 0 already known (dry run: nothing was written)."
        in checked.stdout
    )
    assert "row 3: free_time" in checked.stdout
    assert _facts(store) == []

    report = as_json(segone("facts", "import", str(file), "--json"))
    assert (report["created"], report["unchanged"]) == (2, 0)
    assert [s["row"] for s in report["suggested"]] == [3]
    assert _facts(store) == [
        (customer, "Has two children", "family"),
        (customer, "Sings in a choir on Tuesdays", "free_time"),
    ]
    again = segone("facts", "import", str(file))
    assert "0 facts added, 2 already known" in again.stdout


def test_bad_rows_are_listed_on_stderr_and_nothing_is_written(
    segone: Invoke, store: Runtime, tmp_path: Path
) -> None:
    make_customer(store, identities=["crm:C1"])
    file = tmp_path / "facts.csv"
    file.write_text("customer,text,category\ncrm:C1,Has two children,family\ncrm:NO,Likes jazz,\ncrm:C1,,\n")
    result = segone("facts", "import", str(file))
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    lines = result.stderr.splitlines()
    assert lines[0].startswith("Error: 2 of the 3 rows are bad; nothing was imported")
    assert lines[1].startswith("  row 3, column customer: no customer has the identity crm:NO")
    assert lines[2].startswith("  row 4, column text: the text is empty")
    assert _facts(store) == []
    as_report = segone("facts", "import", str(file), "--json")
    assert as_report.exit_code == 2
    assert [e["row"] for e in json.loads(as_report.stdout)["errors"]] == [3, 4]


def test_only_an_importer_may_import(segone: Invoke, store: Runtime, tmp_path: Path) -> None:
    user = make_user(store, Role.MANAGER)
    file = tmp_path / "facts.csv"
    file.write_text("customer,text\n1,Likes jazz\n")
    result = segone("facts", "import", str(file), "--as", user.email)
    assert result.exit_code == 2 and "may not import data" in result.stderr


def test_train_learns_from_the_demo_and_says_how_well(segone: Invoke, store: Runtime) -> None:
    with store.session() as db:
        load_demo(db, actor=SYSTEM, categories=categories_in_force(store.settings), people=60, businesses=20)
    result = segone("facts", "train")
    assert result.exit_code == 0, result.output
    assert "Reading the confirmed facts…" in result.stderr  # the progress messages
    assert "held-out facts it chose the right category for" in result.stdout
    assert classifier.model_path(store.settings.data_dir).exists()
    report = as_json(segone("facts", "train", "--json"))
    assert report["accuracy"] > report["rule_accuracy"]
    frontline = make_user(store, Role.FRONTLINE)
    refused = segone("facts", "train", "--as", frontline.email)
    assert refused.exit_code == 2 and "may not run analytics" in refused.stderr
