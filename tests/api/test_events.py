"""POST /events over real HTTP: batches staged all or nothing, idempotent, flushed into the dataset."""

from __future__ import annotations

import shutil

import httpx
import ibis
import pyarrow.parquet as pq
import pytest

from segone.accounts.schemas import Role
from segone.behaviour import ingest
from segone.behaviour.dataset import EventDataset
from segone.runtime import Runtime
from tests.api.conftest import ClientFactory
from tests.api.helpers import api_user, error_of
from tests.behaviour.conftest import DUCKDB_WARNING
from tests.conftest import LiveServer

pytestmark = pytest.mark.filterwarnings(DUCKDB_WARNING)

EVENTS = [
    {
        "customer": "email:ann@example.com",
        "type": "purchase",
        "timestamp": "2024-05-01T10:00:00Z",
        "value": 12.5,
    },
    {"customer": "email:bob@example.com", "type": "contact", "timestamp": "2024-05-02", "channel": "Phone"},
    {
        "event_id": "web-1",
        "customer": "crm:7",
        "type": "visit",
        "timestamp": "2024-05-03",
        "properties": {"p": 1},
    },
]


def test_a_batch_twice_is_stored_once_and_flushes(runtime: Runtime, api: ClientFactory) -> None:
    shutil.rmtree(ingest.dataset_of(runtime.settings.data_dir).directory, ignore_errors=True)
    client = api(api_user(runtime, Role.ANALYST).token)
    first = client.post("/events", json={"events": EVENTS})
    assert first.status_code == 200, first.text
    assert first.json() == {"received": 3, "new": 3, "duplicates": 0, "customers_created": 3}
    second = client.post("/events", json={"events": EVENTS})
    assert second.json() == {"received": 3, "new": 0, "duplicates": 3, "customers_created": 0}

    assert ingest.flush_staged(runtime.sessions, dataset=ingest.dataset_of(runtime.settings.data_dir)) == 3
    con = ibis.duckdb.connect(":memory:")
    try:
        assert ingest.count(con, ingest.dataset_of(runtime.settings.data_dir)) == 3
    finally:
        con.disconnect()
    with runtime.session() as db:
        assert ingest.staged_count(db) == 0


def test_a_batch_re_sent_after_the_flush_is_answered_as_duplicates_and_not_stored(
    runtime: Runtime, api: ClientFactory
) -> None:
    dataset = ingest.dataset_of(runtime.settings.data_dir)
    shutil.rmtree(dataset.directory, ignore_errors=True)
    client = api(api_user(runtime, Role.ANALYST).token)
    assert client.post("/events", json={"events": EVENTS}).json()["new"] == 3
    assert ingest.flush_staged(runtime.sessions, dataset=dataset) == 3
    raw = _raw_rows(dataset)
    assert raw == 3

    again = client.post("/events", json={"events": EVENTS})
    assert again.status_code == 200, again.text
    assert again.json() == {"received": 3, "new": 0, "duplicates": 3, "customers_created": 0}
    one_more = {"event_id": "web-2", "customer": "crm:7", "type": "visit", "timestamp": "2024-05-04"}
    mixed = client.post("/events", json={"events": [*EVENTS[1:], one_more]})
    assert mixed.json() == {"received": 3, "new": 1, "duplicates": 2, "customers_created": 0}
    with runtime.session() as db:
        assert ingest.staged_count(db) == 1
    assert ingest.flush_staged(runtime.sessions, dataset=dataset) == 1
    assert _raw_rows(dataset) == raw + 1


def _raw_rows(dataset: EventDataset) -> int:
    """The rows of the dataset's files as written, before the read-time de-duplication."""
    return sum(pq.read_metadata(path).num_rows for path in dataset.files())


def test_bad_events_name_their_rows_and_store_nothing(runtime: Runtime, api: ClientFactory) -> None:
    client = api(api_user(runtime, Role.ANALYST).token)
    bad = [*EVENTS, {"customer": "crm:8", "type": "visit", "timestamp": "yesterday"}]
    error = error_of(client.post("/events", json={"events": bad}), 422, "invalid")
    assert [(e["row"], e["column"]) for e in error["details"]["errors"]] == [(4, "timestamp")]
    rejected = client.post("/events", params={"unknown": "reject"}, json={"events": EVENTS})
    error = error_of(rejected, 422, "invalid")
    assert {e["row"] for e in error["details"]["errors"]} == {1, 2, 3}
    with runtime.session() as db:
        assert ingest.staged_count(db) == 0


def test_a_batch_over_10000_is_refused(runtime: Runtime, api: ClientFactory) -> None:
    client = api(api_user(runtime, Role.ANALYST).token)
    events = [{"customer": "crm:1", "type": "visit", "timestamp": "2024-05-01"}] * 10_001
    error = error_of(client.post("/events", json={"events": events}), 422, "invalid")
    assert "at most 10000" in error["message"]


def test_frontline_users_may_not_send_events(runtime: Runtime, api: ClientFactory) -> None:
    client = api(api_user(runtime).token)
    error_of(client.post("/events", json={"events": EVENTS}), 403, "forbidden")


def test_a_batch_re_sent_to_another_server_process_stores_nothing_new(
    runtime: Runtime, api: ClientFactory
) -> None:
    """Two applications over one store, as two workers of `segone serve --workers 2` are: each has its own
    index of the dataset's ids, the staging table and the files are shared."""
    dataset = ingest.dataset_of(runtime.settings.data_dir)
    token = api_user(runtime, Role.ANALYST).token
    first = api(token)
    other_runtime = Runtime(runtime.settings)  # its own engine, as another process has
    other = LiveServer(other_runtime)
    try:
        with httpx.Client(
            base_url=other.url + "/api/v1", headers={"Authorization": f"Bearer {token}"}, timeout=30
        ) as second:
            assert second.post("/events", json={"events": EVENTS[:1]}).json()["new"] == 1  # its index built
            assert first.post("/events", json={"events": EVENTS}).json()["new"] == 2
            staged = second.post("/events", json={"events": EVENTS})  # before the flush: still staged
            assert staged.json() == {"received": 3, "new": 0, "duplicates": 3, "customers_created": 0}
            assert ingest.flush_staged(runtime.sessions, dataset=dataset) == 3  # as A's flusher does
            flushed = second.post("/events", json={"events": EVENTS})  # after it: in a file B never saw
            assert flushed.json() == {"received": 3, "new": 0, "duplicates": 3, "customers_created": 0}
    finally:
        other.stop()
        other_runtime.dispose()
    with runtime.session() as db:
        assert ingest.staged_count(db) == 0
    assert _raw_rows(dataset) == 3
