"""The index of the dataset's event ids: files seen as they appear, forgotten when compacted away."""

from __future__ import annotations

from pathlib import Path

import ibis
import pyarrow as pa
import pytest

from segone.behaviour import stored_ids
from segone.behaviour.dataset import EventDataset
from segone.behaviour.events import EVENT_SCHEMA
from segone.behaviour.stored_ids import StoredIds
from tests.behaviour.conftest import DUCKDB_WARNING

pytestmark = pytest.mark.filterwarnings(DUCKDB_WARNING)


def _events(ids: list[str]) -> pa.Table:
    rows = [
        {"event_id": i, "customer": "crm:1", "customer_id": 1, "type": "visit", "ts": 0, "value": None}
        for i in ids
    ]
    return pa.Table.from_pylist(
        [{name: row.get(name) for name in EVENT_SCHEMA.names} for row in rows], schema=EVENT_SCHEMA
    )


# Every file merged at once, merged in pairs, and kept apart (the default merges after 16).
@pytest.fixture(params=[1, 2, 16], ids=lambda n: f"merge-after-{n}")
def index(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[EventDataset, StoredIds]:
    monkeypatch.setattr(stored_ids, "MERGE_AFTER", request.param)
    dataset = EventDataset(tmp_path / "events")
    return dataset, StoredIds(dataset)


def test_ids_of_files_written_later_and_by_compaction_are_known(
    index: tuple[EventDataset, StoredIds],
) -> None:
    dataset, stored = index
    asked = pa.array(["a", "b", "c", "d"])
    assert stored.contains(asked).tolist() == [False] * 4
    dataset.write_batch(_events(["a", "b"]))
    assert stored.contains(asked).tolist() == [True, True, False, False]
    dataset.write_batch(_events(["b", "c"]))
    assert stored.contains(asked).tolist() == [True, True, True, False]
    assert len(stored) == 4

    con = ibis.duckdb.connect(":memory:")
    try:
        dataset.compact(con)
    finally:
        con.disconnect()
    assert stored.contains(asked).tolist() == [True, True, True, False]
    assert len(stored) == 3  # the compacted file's ids, the old files forgotten
    assert stored.contains(pa.array([], pa.string())).tolist() == []


def test_asked_again_a_batch_finds_the_ids_of_files_written_since(
    index: tuple[EventDataset, StoredIds],
) -> None:
    dataset, stored = index
    for n in range(5):  # hundreds an array: merged out of order, the searches would miss some
        dataset.write_batch(_events([f"old-{n}-{i}" for i in range(300)]))
    every = pa.array([f"old-{n}-{i}" for n in range(5) for i in range(300)])
    assert (
        stored.contains(every).all() and not stored.contains(pa.array([f"new-{i}" for i in range(300)])).any()
    )
    asked = pa.array(["old-0-0", "old-4-299", "late", "never"])
    found, listed = stored.check(asked)
    assert found.tolist() == [True, True, False, False] and len(listed) == 5
    dataset.write_batch(_events(["late"]))  # a flush between the check and the staging
    again, now = stored.check(pa.array(["late", "never"]), besides=listed)
    assert again.tolist() == [True, False] and len(now) == 6 and listed < now
    assert len(stored) == 1_501
