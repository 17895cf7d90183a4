"""``kill -9`` during ``segone segments build``, at points over the whole build: the killed version reads
as failed (with why) rather than running for ever, leaves no segment or membership behind, and the next
build completes to the tree a build never killed stores."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from segone.accounts.schemas import SYSTEM
from segone.cli.main import app
from segone.errors import Conflict
from segone.runtime import Runtime
from segone.segmentation import service
from segone.segmentation.models import SegmentationVersion
from segone.storage import leases
from tests.killing import kill_points, segone

PEOPLE = 120


def _seed(runtime: Runtime, tmp_path: Path) -> None:
    pick = random.Random(5)
    customers = tmp_path / "customers.csv"
    customers.write_text(
        "name,identity:crm,city,visits\n"
        + "".join(
            f"Customer {i},C{i},{pick.choice(['Leeds', 'York', 'Hull'])},{pick.randint(0, 40)}\n"
            for i in range(PEOPLE)
        ),
        encoding="utf-8",
    )
    env = {
        "SEGONE_DATA_DIR": str(runtime.settings.data_dir),
        "SEGONE_DATABASE_URL": runtime.settings.resolved_database_url(),
    }
    result = CliRunner().invoke(app, ["customers", "import", str(customers)], env=env)
    assert result.exit_code == 0, result.output


def _stored(runtime: Runtime) -> dict[str, Any]:
    """What the builds stored, by version: status, fingerprint, segments and memberships."""
    with runtime.engine.connect() as connection:
        versions = connection.execute(
            text(
                "SELECT v.id, v.status, v.fingerprint, "
                "(SELECT count(*) FROM segments s WHERE s.version_id = v.id), "
                "(SELECT count(*) FROM segment_memberships m WHERE m.version_id = v.id) "
                "FROM segmentation_versions v ORDER BY v.id"
            )
        ).all()
    return {row[0]: tuple(row[1:]) for row in versions}


def test_a_killed_build_reads_as_failed_leaves_nothing_and_the_next_one_completes(
    runtime: Runtime, tmp_path: Path
) -> None:
    _seed(runtime, tmp_path)
    where = {
        "data_dir": runtime.settings.data_dir,
        "database_url": runtime.settings.resolved_database_url(),
    }
    first = segone("segments", "build", "--min-size", "5", "--json", **where)
    assert first.returncode == 0, first.stderr
    (done,) = _stored(runtime).values()
    assert done[0] == "done" and done[2] > 1 and done[3] == PEOPLE
    # A build after the first reads more (each earlier version's segments are variables too), so the
    # points are statements at random, and two named by what the build does then: just after its version
    # is recorded (as running), and at its last write (segments and memberships inserted, not committed).
    whole = segone("segments", "build", "--min-size", "5", "--json", **where)
    assert whole.returncode == 0 and whole.statements, whole.stderr
    points: list[int | dict[str, str]] = [
        *kill_points(whole.statements, range(2)),
        {"kill_after": "INSERT INTO segmentation_versions"},
        {"kill_on": "segments_of_one="},  # the UPDATE that records the build as done
    ]
    for point in points:
        at: dict[str, Any] = point if isinstance(point, dict) else {"kill_at": point}
        killed = segone("segments", "build", "--min-size", "5", **where, **at)
        assert killed.killed, killed.stderr
        # Until the next build, the list says how the killed one ended: not "running" for ever.
        listed = segone("segments", "list", "--json", **where)
        assert listed.returncode == 0, listed.stderr
        versions = json.loads(listed.stdout)
        assert "running" not in {v["status"] for v in versions}, f"killed before statement {point}"
        for version in versions:
            if version["status"] == "failed":
                assert version["message"].startswith("Stopped without finishing")

    again = segone("segments", "build", "--min-size", "5", "--json", **where)
    assert again.returncode == 0, again.stderr
    stored = _stored(runtime)
    completed = [row for row in stored.values() if row[0] == "done"]
    killed_ones = [row for row in stored.values() if row[0] != "done"]
    assert len(completed) == 3 and set(completed) == {done}  # the same tree, whole, every time
    assert len(killed_ones) >= 2, f"the named points left no version: nothing was tested ({stored})"
    # The killed builds left no segment or membership (a kill before its row was committed, no row); the
    # next build marked a killed one failed in the table, with why.
    assert all(row[0] == "failed" and row[2] == row[3] == 0 for row in killed_ones)
    with runtime.engine.connect() as connection:
        messages = connection.execute(
            text("SELECT message FROM segmentation_versions WHERE status = 'failed'")
        ).scalars()
        assert all(m.startswith("Stopped without finishing") for m in messages)


def test_a_build_is_refused_while_another_runs(runtime: Runtime, tmp_path: Path) -> None:
    _seed(runtime, tmp_path)
    with runtime.session() as db:
        running = SegmentationVersion(settings={}, variable_names=[])
        leases.take(db, SegmentationVersion, running, what=service.BUILD, lease_seconds=60)
    with pytest.raises(Conflict, match=r"A segmentation build is running already: run \d+"):
        service.build(runtime.sessions, runtime.settings, actor=SYSTEM, min_size=5)
