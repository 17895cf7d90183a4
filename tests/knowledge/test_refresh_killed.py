"""``kill -9`` during ``segone knowledge refresh``, at points over the whole run (reading, grouping, the
write that replaces the last results): the last results stay whole, and the next refresh completes to
exactly what a refresh never killed stores."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from segone.accounts.schemas import SYSTEM
from segone.cli.main import app
from segone.errors import Conflict
from segone.knowledge.distinguishability import refresh
from segone.knowledge.distinguishability.refresh import WHAT
from segone.knowledge.models import KnowledgeRefresh
from segone.runtime import Runtime
from segone.storage import leases
from tests.killing import kill_points, segone

PEOPLE = 150
FACTS = [
    ("Has two children", "family"),
    ("Plays the cello in an orchestra", "free_time"),
    ("Restores vintage motorbikes", "lifestyle"),
    ("Runs marathons", "free_time"),
    ("Keeps bees in the garden", "lifestyle"),
    ("Cares for an elderly mother", "family"),
]


def _seed(runtime: Runtime, tmp_path: Path) -> None:
    """Customers and what we know of them, imported through the CLI in this process."""
    pick = random.Random(11)
    customers = tmp_path / "customers.csv"
    customers.write_text(
        "name,identity:crm,city\n"
        + "".join(f"Customer {i},C{i},{pick.choice(['Leeds', 'York'])}\n" for i in range(PEOPLE)),
        encoding="utf-8",
    )
    facts = tmp_path / "facts.csv"
    rows = [
        f"crm:C{i},{fact},{category},,2024-03-01\n"
        for i in range(PEOPLE)
        for fact, category in pick.sample(FACTS, pick.randint(0, 3))
    ]
    facts.write_text("customer,text,category,learned_by,learned_at\n" + "".join(rows), encoding="utf-8")
    env = {
        "SEGONE_DATA_DIR": str(runtime.settings.data_dir),
        "SEGONE_DATABASE_URL": runtime.settings.resolved_database_url(),
        "SEGONE_FACT_CATEGORIES": "",
    }
    for command in (["customers", "import", str(customers)], ["facts", "import", str(facts)]):
        result = CliRunner().invoke(app, command, env=env)
        assert result.exit_code == 0, result.output


def _results(runtime: Runtime) -> dict[str, Any]:
    """The stored results, told by content: run ids and trait ids differ from one refresh to the next."""
    with runtime.engine.connect() as connection:
        traits = connection.execute(
            text("SELECT key, kind, question, label, holders, population, rarity FROM knowledge_traits")
        ).all()
        fact_traits = connection.execute(
            text(
                "SELECT d.customer_id, d.text, t.key FROM knowledge_fact_traits f "
                "JOIN differentiators d ON d.id = f.differentiator_id "
                "JOIN knowledge_traits t ON t.id = f.trait_id"
            )
        ).all()
        measures = connection.execute(
            text(
                "SELECT customer_id, trait_count, distinguishability, look_alikes, next_question, "
                "next_question_remaining FROM knowledge_customer_measures"
            )
        ).all()
        refreshes = {
            row[0]
            for row in connection.execute(
                text(
                    "SELECT DISTINCT refresh_id FROM knowledge_customer_measures UNION "
                    "SELECT DISTINCT refresh_id FROM knowledge_traits"
                )
            )
        }
    return {
        "traits": sorted(tuple(map(repr, row)) for row in traits),
        "fact_traits": sorted(tuple(row) for row in fact_traits),
        "measures": sorted(tuple(map(repr, row)) for row in measures),
        "from_refreshes": len(refreshes),  # one refresh's results, never a mix
    }


def _statuses(runtime: Runtime) -> list[str]:
    with runtime.engine.connect() as connection:
        return list(connection.execute(text("SELECT status FROM knowledge_refreshes ORDER BY id")).scalars())


def test_a_killed_knowledge_refresh_leaves_the_last_results_whole_and_the_next_one_completes(
    runtime: Runtime, tmp_path: Path
) -> None:
    _seed(runtime, tmp_path)
    where = {"data_dir": runtime.settings.data_dir, "database_url": runtime.settings.resolved_database_url()}
    whole = segone("knowledge", "refresh", **where)
    assert whole.returncode == 0 and whole.statements, whole.stderr
    expected = _results(runtime)
    assert len(expected["measures"]) == PEOPLE and expected["traits"] and expected["from_refreshes"] == 1

    points = kill_points(whole.statements, range(2))
    for point in points:
        killed = segone("knowledge", "refresh", kill_at=point, **where)
        assert killed.killed, killed.stderr
        assert _results(runtime) == expected, f"killed before statement {point}"

    again = segone("knowledge", "refresh", **where)
    assert again.returncode == 0, again.stderr
    assert _results(runtime) == expected
    statuses = _statuses(runtime)
    # The killed runs never read as done (only done refreshes count, in the self-assessment too); a kill
    # before the run's row was committed left no row at all.
    assert statuses[0] == statuses[-1] == "done"
    assert statuses.count("done") == 2 and len(statuses) <= 2 + len(points)
    # A killed run's lease died with its process: the next refresh marked it failed, with why.
    assert set(statuses[1:-1]) <= {"failed"}
    with runtime.engine.connect() as connection:
        messages = connection.execute(
            text("SELECT message FROM knowledge_refreshes WHERE status = 'failed'")
        ).scalars()
        assert all(m.startswith("Stopped without finishing") for m in messages)


def test_a_knowledge_refresh_is_refused_while_another_runs(runtime: Runtime) -> None:
    with runtime.session() as db:
        run = KnowledgeRefresh(method="tfidf", threshold=0.5, distribution={}, seconds={})
        leases.take(db, KnowledgeRefresh, run, what=WHAT, lease_seconds=60)  # held by this live process
    with pytest.raises(Conflict, match=r"A knowledge refresh is running already: run \d+"):
        refresh.refresh(runtime.sessions, runtime.settings, actor=SYSTEM)
