"""While a behaviour refresh writes its profiles back to SQLite, the front line keeps writing: a fact added
and a customer edited over the API succeed (no 5xx, no "database is locked"), because the write-back lets
SQLite's one write lock go between chunks of customers."""

from __future__ import annotations

import threading

import httpx
import pytest
from sqlalchemy import func, select

from segone.accounts.schemas import SYSTEM
from segone.behaviour import refresh
from segone.behaviour.models import BehaviourProfile
from segone.runtime import Runtime
from segone.storage.batching import ROWS_PER_STATEMENT
from tests.api.helpers import api_user
from tests.behaviour.conftest import DUCKDB_WARNING, synthetic_events
from tests.behaviour.test_refresh import AS_OF, _load
from tests.conftest import LiveServer
from tests.factories import make_customer

pytestmark = pytest.mark.filterwarnings(DUCKDB_WARNING)


class FrontLine:
    """Edits a customer and adds a fact over the API, again and again, keeping every answer."""

    def __init__(self, server: LiveServer, runtime: Runtime) -> None:
        self.customer = make_customer(runtime, name="Walk-in")
        self.client = httpx.Client(
            base_url=server.url + "/api/v1",
            headers={"Authorization": f"Bearer {api_user(runtime).token}"},
            timeout=60,
        )
        self.answers: list[httpx.Response] = []
        self.stop = threading.Event()
        self._thread = threading.Thread(target=self._work)

    def once(self) -> list[httpx.Response]:
        n = len(self.answers)
        answers = [
            self.client.patch(f"/customers/{self.customer}", json={"name": f"Walk-in {n}"}),
            self.client.post(
                f"/customers/{self.customer}/differentiators",
                json={"text": f"Asked about the loyalty card ({n})", "category": "preferences"},
            ),
        ]
        self.answers.extend(answers)
        return answers

    def _work(self) -> None:
        while not self.stop.is_set():
            self.once()

    def start(self) -> None:
        self._thread.start()

    def finish(self) -> None:
        self.stop.set()
        self._thread.join(timeout=120)
        self.client.close()


def test_writers_go_on_while_a_refresh_writes_back_on_sqlite(
    sqlite_runtime: Runtime, sqlite_live_server: LiveServer
) -> None:
    runtime = sqlite_runtime
    customers = 3 * ROWS_PER_STATEMENT + 500  # four chunks
    _load(runtime, synthetic_events(customers=customers))
    front = FrontLine(sqlite_live_server, runtime)
    between_chunks: list[int] = []

    def progress(stage: str, done: int, total: int) -> None:
        if stage != "Writing profiles":
            return
        if done == 0:
            front.start()  # writing all through the write-back, at whatever moment each write comes
        elif done < total:
            # Mid-write-back, with more chunks to come: a write from here must not wait for the end.
            between_chunks.append(sum(a.status_code < 300 for a in front.once()))

    try:
        report = refresh.refresh(
            runtime.sessions, runtime.settings, actor=SYSTEM, as_of=AS_OF, progress=progress
        )
    finally:
        front.finish()

    assert between_chunks == [2, 2, 2]
    assert len(front.answers) >= 6
    failed = [(a.status_code, a.text) for a in front.answers if a.status_code >= 300]
    assert not failed, failed
    with runtime.session() as db:
        stored = db.execute(
            select(func.count(), func.min(BehaviourProfile.refresh_id), func.max(BehaviourProfile.refresh_id))
        ).one()
    # Every profile is the new refresh's, and the front line's customer (no events) has none.
    assert tuple(stored) == (report.customers, report.refresh_id, report.refresh_id)
    assert report.customers > 3 * ROWS_PER_STATEMENT
