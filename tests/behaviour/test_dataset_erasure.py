"""Taking a customer out of the append-only events dataset: only the files holding their events change."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from segone.behaviour.dataset import EventDataset
from segone.behaviour.events import validate_events


def _batch(*rows: tuple[str, int | None]) -> pa.Table:
    validated = validate_events(
        pa.table(
            {
                "customer": pa.array([customer for customer, _ in rows]),
                "type": pa.array(["purchase"] * len(rows)),
                "ts": pa.array([datetime(2026, 11, 1, tzinfo=UTC)] * len(rows), pa.timestamp("us", tz="UTC")),
            }
        )
    )
    assert validated.table is not None
    ids = pa.array([customer_id for _, customer_id in rows], pa.int64())
    return validated.table.set_column(
        validated.table.schema.get_field_index("customer_id"), "customer_id", ids
    )


def test_only_the_files_holding_their_events_are_rewritten(tmp_path: Path) -> None:
    dataset = EventDataset(tmp_path / "events")
    only_ann = dataset.write_batch(_batch(("crm:ann", 1), ("crm:ann", 1)))
    mixed = dataset.write_batch(_batch(("crm:ann", None), ("crm:bob", 2), ("crm:ann", 1)))
    only_bob = dataset.write_batch(_batch(("crm:bob", 2)))
    assert only_ann and mixed and only_bob
    untouched = only_bob.stat().st_mtime_ns

    removed = dataset.remove_customers(customer_ids=[1], customers=["crm:ann"])

    assert removed == 4
    files = dataset.files()
    assert only_ann not in files and mixed not in files and only_bob in files
    assert only_bob.stat().st_mtime_ns == untouched
    rows = [row for path in files for row in pq.read_table(path).to_pylist()]
    assert sorted(row["customer"] for row in rows) == ["crm:bob", "crm:bob"]
    assert dataset.remove_customers(customer_ids=[1], customers=["crm:ann"]) == 0
    assert list((tmp_path / "events").glob(".*")) == []
