"""``kill -9`` during ``segone offers refresh``: the killed run reads as failed (with why) rather than
running for ever, the offers served stay those of the last run that finished, and the next refresh
completes to the offers a refresh never killed stores. A refresh is refused while another runs."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text

from segone.accounts.schemas import SYSTEM
from segone.errors import Conflict
from segone.personalisation import refresh
from segone.personalisation.models import RecommendationRun
from segone.runtime import Runtime
from segone.storage import leases
from tests.behaviour.conftest import DUCKDB_WARNING
from tests.killing import segone
from tests.personalisation.planted import load, planted_world

pytestmark = pytest.mark.filterwarnings(DUCKDB_WARNING)


def _runs(runtime: Runtime) -> list[tuple[Any, ...]]:
    with runtime.engine.connect() as connection:
        return [
            tuple(row)
            for row in connection.execute(
                text("SELECT id, status, message FROM recommendation_runs ORDER BY id")
            )
        ]


def _offers(runtime: Runtime) -> list[tuple[Any, ...]]:
    """The offers stored, without their run (each refresh numbers its own)."""
    with runtime.engine.connect() as connection:
        return [
            (customer_id, rank, offering_id, round(score, 9))
            for customer_id, rank, offering_id, score in connection.execute(
                text(
                    "SELECT customer_id, rank, offering_id, score FROM recommendations "
                    "ORDER BY customer_id, rank"
                )
            )
        ]


def test_a_killed_refresh_reads_as_failed_and_the_next_one_completes(runtime: Runtime) -> None:
    load(runtime, planted_world(customers=120, groups=3, seed=17))
    where = {"data_dir": runtime.settings.data_dir, "database_url": runtime.settings.resolved_database_url()}
    first = segone("offers", "refresh", **where)
    assert first.returncode == 0, first.stderr
    served = _offers(runtime)
    assert served and _runs(runtime) == [(1, "done", None)]

    # Killed just after its run is recorded (running), and at the UPDATE that marks it done (its offers
    # written, the older ones deleted, nothing committed): the served offers are the first run's.
    for point in (
        {"kill_after": "INSERT INTO recommendation_runs"},
        {"kill_on": "recommendations="},
    ):
        killed = segone("offers", "refresh", **where, **point)
        assert killed.killed, killed.stderr
        with runtime.session() as db:
            run = db.get(RecommendationRun, _runs(runtime)[-1][0])
            assert run is not None and run.status == "running"
            assert leases.status_of(run) == "failed", point  # its process is gone
            assert leases.stopped_message(run).startswith("Stopped without finishing")

    again = segone("offers", "refresh", **where)
    assert again.returncode == 0, again.stderr
    runs = _runs(runtime)
    assert [status for _id, status, _message in runs] == ["done", "failed", "failed", "done"]
    assert all(message.startswith("Stopped without finishing") for _id, status, message in runs[1:3])
    assert _offers(runtime) == served  # the same offers, once each: the killed runs' rows are gone


def test_a_refresh_is_refused_while_another_runs(sqlite_runtime: Runtime) -> None:
    runtime = sqlite_runtime
    load(runtime, planted_world(customers=40, groups=2, seed=3))
    with runtime.session() as db:
        running = RecommendationRun(settings={}, seconds={})
        leases.take(db, RecommendationRun, running, what=refresh.REFRESH, lease_seconds=60)
    with pytest.raises(Conflict, match=r"An offers refresh is running already: run \d+"):
        refresh.refresh(runtime.sessions, runtime.settings, actor=SYSTEM)
    assert [status for _id, status, _message in _runs(runtime)] == ["running"]
