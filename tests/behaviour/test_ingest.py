"""Event ingestion on SQLite and PostgreSQL: identities resolved in bulk, all or nothing, idempotent."""

from __future__ import annotations

import threading
from collections.abc import Collection, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import ibis
import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from ibis import BaseBackend
from sqlalchemy import func, select, text

from segone.accounts.models import AuditEntry
from segone.accounts.schemas import SYSTEM
from segone.behaviour import ingest
from segone.behaviour.dataset import EventDataset
from segone.behaviour.events import cdnow_path
from segone.behaviour.models import StagedEvent
from segone.behaviour.stored_ids import StoredIds
from segone.customers import service as customers_service
from segone.customers.models import Customer
from segone.errors import Invalid
from segone.importing import ImportRejected
from segone.runtime import Runtime
from segone.storage import batching
from tests.behaviour.conftest import DUCKDB_WARNING
from tests.conftest import _runtime_for

pytestmark = pytest.mark.filterwarnings(DUCKDB_WARNING)


@pytest.fixture
def dataset(tmp_path: Path) -> EventDataset:
    return EventDataset(tmp_path / "events")


@pytest.fixture
def con() -> Iterator[BaseBackend]:
    backend = ibis.duckdb.connect(":memory:")
    yield backend
    backend.disconnect()


def _customers(runtime: Runtime) -> int:
    with runtime.session() as db:
        return int(db.scalar(select(func.count()).select_from(Customer)) or 0)


def test_the_cdnow_master_imports_once(runtime: Runtime, dataset: EventDataset, con: BaseBackend) -> None:
    path = cdnow_path("CDNOW_master.txt")
    report = ingest.import_file(runtime.sessions, actor=SYSTEM, path=path, preset="cdnow", dataset=dataset)
    assert (report.rows, report.events_written, report.customers_created) == (69_659, 69_659, 23_570)
    assert ingest.count(con, dataset) == 69_659
    assert _customers(runtime) == 23_570
    with runtime.session() as db:
        audit = db.scalars(
            select(AuditEntry).where(AuditEntry.action == "customers.created_from_events")
        ).all()
        assert len(audit) == 1 and audit[0].details["count"] == 23_570

    again = ingest.import_file(runtime.sessions, actor=SYSTEM, path=path, preset="cdnow", dataset=dataset)
    assert again.customers_created == 0
    assert ingest.count(con, dataset) == 69_659
    assert _customers(runtime) == 23_570


def test_a_file_with_bad_rows_writes_nothing(runtime: Runtime, dataset: EventDataset, tmp_path: Path) -> None:
    path = tmp_path / "events.csv"
    path.write_text(
        "customer,type,timestamp,value\n"
        "email:ann@x.com,purchase,2024-05-01,10\n"
        "email:bob@x.com,purchase,not a date,5\n"
        "email:cy@x.com,purchase,2024-05-02,lots\n"
    )
    with pytest.raises(ImportRejected) as caught:
        ingest.import_file(runtime.sessions, actor=SYSTEM, path=path, dataset=dataset)
    rows = {(error.row, error.column) for error in caught.value.report.errors}
    assert rows == {(2, "timestamp"), (3, "value")}
    assert dataset.files() == []
    assert _customers(runtime) == 0


def test_mapping_and_date_format(
    runtime: Runtime, dataset: EventDataset, tmp_path: Path, con: BaseBackend
) -> None:
    path = tmp_path / "orders.csv"
    path.write_text("cust_id,date,kind\ncrm:1,20240501,purchase\ncrm:2,20240502,visit\n")
    report = ingest.import_file(
        runtime.sessions,
        actor=SYSTEM,
        path=path,
        mapping={"customer": "cust_id", "timestamp": "date", "type": "kind"},
        date_formats=("%Y%m%d",),
        dataset=dataset,
    )
    assert (report.events_written, report.customers_created) == (2, 2)
    assert ingest.count(con, dataset) == 2


def test_reject_names_the_unknown_identities(runtime: Runtime, dataset: EventDataset, tmp_path: Path) -> None:
    ingest_path = tmp_path / "known.csv"
    ingest_path.write_text("customer,type,timestamp\ncrm:1,visit,2024-05-01\n")
    ingest.import_file(runtime.sessions, actor=SYSTEM, path=ingest_path, dataset=dataset)
    path = tmp_path / "events.csv"
    path.write_text("customer,type,timestamp\ncrm:1,visit,2024-05-02\ncrm:9,visit,2024-05-02\n")
    with pytest.raises(ImportRejected) as caught:
        ingest.import_file(runtime.sessions, actor=SYSTEM, path=path, unknown="reject", dataset=dataset)
    errors = caught.value.report.errors
    assert [(e.row, e.column) for e in errors] == [(2, "customer")]
    assert "crm:9" in errors[0].problem
    assert len(dataset.files()) == 1
    assert _customers(runtime) == 1


def test_staged_batches_are_idempotent_and_flush(runtime: Runtime, con: BaseBackend, tmp_path: Path) -> None:
    dataset = EventDataset(tmp_path / "events")
    events = [
        {
            "customer": "email:ann@x.com",
            "type": "purchase",
            "timestamp": "2024-05-01T12:00:00.250+02:00",
            "value": 9.5,
            "event_id": "order-1",
        },
        {
            "customer": "email:bob@x.com",
            "type": "visit",
            "timestamp": "2024-05-02",
            "properties": {"page": "/"},
        },
    ]
    with runtime.session() as db:
        first = ingest.stage_batch(db, actor=SYSTEM, events=[*events, events[0]])
    assert (first.received, first.new, first.duplicates, first.customers_created) == (3, 2, 1, 2)
    with runtime.session() as db:
        second = ingest.stage_batch(db, actor=SYSTEM, events=events)
    assert (second.new, second.duplicates, second.customers_created) == (0, 2, 0)
    assert ingest.flush_staged(runtime.sessions, dataset=dataset) == 2
    assert ingest.count(con, dataset) == 2
    # What was staged is what the dataset holds: the time to the microsecond, in UTC.
    written = pa.concat_tables(pq.read_table(path) for path in dataset.files()).sort_by("ts").to_pylist()
    assert [(e["event_id"], e["ts"], e["value"], e["properties"]) for e in written] == [
        ("order-1", datetime(2024, 5, 1, 10, 0, 0, 250_000, tzinfo=UTC), 9.5, None),
        (written[1]["event_id"], datetime(2024, 5, 2, tzinfo=UTC), None, '{"page": "/"}'),
    ]
    with runtime.session() as db:
        assert ingest.staged_count(db) == 0
    assert ingest.flush_staged(runtime.sessions, dataset=dataset) == 0
    # Sent again after the flush, as a server does (its index of the dataset's ids): nothing is new.
    with runtime.session() as db:
        resent = ingest.stage_batch(db, actor=SYSTEM, events=events, stored=StoredIds(dataset))
        assert (resent.new, resent.duplicates) == (0, 2) and ingest.staged_count(db) == 0


def test_a_flush_moves_many_staged_events_in_pieces_once(
    runtime: Runtime, con: BaseBackend, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Pieces of two rows read and three ids deleted a statement: every piece and chunk boundary crossed.
    monkeypatch.setattr(ingest, "FLUSH_ROWS", 2)
    monkeypatch.setattr(batching, "POSTGRES_VALUES", 3)
    dataset = EventDataset(tmp_path / "events")
    events = [
        {
            "customer": f"email:c{n % 3}@x.com",
            "type": "purchase",
            "timestamp": f"2024-05-0{n + 1}T08:30:00.{n:06d}Z",
            "value": None if n == 4 else n + 0.5,
            "quantity": n + 1,
            "event_id": f"piece-{n}",
        }
        for n in range(7)
    ]
    with runtime.session() as db:
        assert ingest.stage_batch(db, actor=SYSTEM, events=events).new == 7
    assert ingest.flush_staged(runtime.sessions, dataset=dataset) == 7
    with runtime.session() as db:
        assert ingest.staged_count(db) == 0
    assert ingest.count(con, dataset) == 7
    written = pa.concat_tables(pq.read_table(path) for path in dataset.files()).to_pylist()
    assert [(e["event_id"], e["ts"], e["value"], e["quantity"]) for e in written] == [
        (f"piece-{n}", datetime(2024, 5, n + 1, 8, 30, 0, n, tzinfo=UTC), None if n == 4 else n + 0.5, n + 1)
        for n in range(7)
    ]


def test_the_staged_ids_delete_is_planned_with_its_ids_every_time(runtime: Runtime) -> None:
    # Its ids are in its text, a constant when PostgreSQL plans (storage.batching.delete_ids), and it is
    # never prepared: the driver would keep every such text, and prepares a statement from its fifth run.
    events = [
        {
            "customer": "email:a@x.com",
            "type": "purchase",
            "timestamp": "2024-05-01T08:30:00Z",
            "event_id": f"p-{n}",
        }
        for n in range(8)
    ]
    with runtime.session() as db:
        ingest.stage_batch(db, actor=SYSTEM, events=events)
        staged = list(db.scalars(select(StagedEvent.id).order_by(StagedEvent.id)))
        assert [batching.delete_ids(db, "event_staging", [one]) for one in staged] == [1] * 8
        assert ingest.staged_count(db) == 0
        if runtime.engine.dialect.name == "postgresql":
            prepared = db.scalars(text("SELECT statement FROM pg_prepared_statements")).all()
            assert not [statement for statement in prepared if "event_staging" in statement]


def test_a_batch_re_sent_while_another_process_flushes_it_is_not_staged_again(
    runtime: Runtime, dataset: EventDataset
) -> None:
    events = [
        {
            "event_id": f"order-{n}",
            "customer": "email:ann@x.com",
            "type": "purchase",
            "timestamp": "2024-05-01",
        }
        for n in (1, 2)
    ]
    with runtime.session() as db:
        assert ingest.stage_batch(db, actor=SYSTEM, events=events).new == 2

    class FlushedAfterTheCheck(StoredIds):
        """Another server process's flush lands between the re-sent batch's check and its insert."""

        flushed = False

        def check(
            self, ids: pa.Array, *, besides: Collection[Path] = frozenset()
        ) -> tuple[npt.NDArray[np.bool_], frozenset[Path]]:
            answer = super().check(ids, besides=besides)
            if not self.flushed:
                self.flushed = True
                assert ingest.flush_staged(runtime.sessions, dataset=dataset) == 2
            return answer

    with runtime.session() as db:
        resent = ingest.stage_batch(db, actor=SYSTEM, events=events, stored=FlushedAfterTheCheck(dataset))
    assert (resent.new, resent.duplicates) == (0, 2)
    with runtime.session() as db:
        assert ingest.staged_count(db) == 0
    assert sum(pq.read_metadata(path).num_rows for path in dataset.files()) == 2


def test_two_processes_flushing_at_once_write_the_staged_events_once(
    runtime: Runtime, dataset: EventDataset
) -> None:
    events = [
        {"event_id": f"visit-{n}", "customer": "email:ann@x.com", "type": "visit", "timestamp": "2024-05-01"}
        for n in range(3)
    ]
    with runtime.session() as db:
        assert ingest.stage_batch(db, actor=SYSTEM, events=events).new == 3
    writing, release = threading.Event(), threading.Event()

    class Slow(EventDataset):
        """A flush caught in the middle of writing its file, when the other worker's flusher ticks."""

        def write_batch(self, table: pa.Table) -> Path | None:
            writing.set()
            release.wait(10)
            return super().write_batch(table)

    moved: dict[str, int] = {}
    first = threading.Thread(
        target=lambda: moved.update(
            first=ingest.flush_staged(runtime.sessions, dataset=Slow(dataset.directory))
        )
    )
    second = threading.Thread(
        target=lambda: moved.update(second=ingest.flush_staged(runtime.sessions, dataset=dataset))
    )
    first.start()
    assert writing.wait(10)
    second.start()
    second.join(0.3)  # without turns it would read the same rows now and write them too
    release.set()
    first.join(10)
    second.join(10)
    assert moved == {"first": 3, "second": 0}
    assert sum(pq.read_metadata(path).num_rows for path in dataset.files()) == 3


def test_a_batch_too_large_is_refused(runtime: Runtime) -> None:
    events = [{"customer": "crm:1", "type": "visit", "timestamp": "2024-05-01"}] * (ingest.MAX_BATCH + 1)
    with runtime.session() as db, pytest.raises(Invalid, match="at most 10000"):
        ingest.stage_batch(db, actor=SYSTEM, events=events)


IDENTITIES = [
    "shop:1",
    "shop:a:b",
    "Shop:1",
    " shop:1 ",
    "shop: 1",
    "email:Ann@X.com",
    "Email: Ann@X.com ",
    "phone:0113 496-0000",
    "phone:01134960000",
    "crm:caf\u00e9",
    "crm:x y",
    "1shop:2",
    "shop",
    "shop:",
    ":1",
    "sh op:1",
    "shop:" + "x" * 300,
    "shop:" + "x" * 301,
    "s" * 60 + ":1",
    "s" * 61 + ":1",
    "a.b-c_d:~!",
]


def test_identities_are_parsed_as_parse_identity_does() -> None:
    import pyarrow as pa

    from segone.customers.schemas import parse_identity

    systems, values, bad = ingest._parse_identities(pa.array(IDENTITIES, pa.string()))
    for identity, system, value in zip(IDENTITIES, systems.to_pylist(), values.to_pylist(), strict=True):
        expected: tuple[str | None, str | None] = (None, None)
        problem = None
        try:
            expected = parse_identity(identity)
        except ValueError as exc:
            problem = str(exc)
        assert bad.get(identity) == problem, identity
        assert (system, value) == expected, identity


@pytest.fixture
def postgres_runtime(_runtimes: dict[str, Runtime]) -> Iterator[Runtime]:
    yield from _runtime_for("postgres", _runtimes)


@pytest.mark.postgres
def test_an_events_batch_reads_only_the_customers_it_names(
    postgres_runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every statement an events batch sends, as PostgreSQL plans it against 20,000 customers: none reads
    the customers or their identities whole. Joined with the batch's identities or ids as a table, the
    lookup and the update of 'customer since' hashed every row of both for each batch (45 ms apiece of the
    database's CPU at 100,000 customers, growing with them)."""
    import psycopg

    runtime = postgres_runtime
    with runtime.session() as db:
        customers_service.create_for_identities(
            db, actor=SYSTEM, keys=[("crm", str(n)) for n in range(20_000)], source="test"
        )
        db.commit()
    with runtime.engine.connect() as connection:
        connection.execute(text("ANALYZE customers"))
        connection.execute(text("ANALYZE customer_identities"))
        connection.commit()
    sent: list[tuple[str, Any]] = []
    execute = psycopg.Cursor.execute

    def recorded(cursor: Any, query: Any, params: Any = None, **kwargs: Any) -> Any:
        sent.append((query if isinstance(query, str) else query.as_string(cursor), params))
        return execute(cursor, query, params, **kwargs)

    events = [
        {"customer": f"crm:{n * 37}", "type": "purchase", "timestamp": "2020-05-01T08:30:00Z"}
        for n in range(300)
    ]
    with runtime.session() as db:
        monkeypatch.setattr(psycopg.Cursor, "execute", recorded)
        report = ingest.stage_batch(db, actor=SYSTEM, events=events)
        monkeypatch.undo()
        assert (report.new, report.customers_created) == (300, 0)
        plans = {}
        for query, params in sent:
            if "customer" in query and not query.lstrip().upper().startswith(("SAVEPOINT", "RELEASE")):
                rows = db.connection().exec_driver_sql(f"EXPLAIN {query}", params).all()
                plans[query] = "\n".join(row[0] for row in rows)
        db.rollback()
    assert any("customer_identities" in query for query in plans)
    assert any(query.lstrip().startswith("UPDATE customers") for query in plans)
    whole = [plan for plan in plans.values() if "Seq Scan on customer" in plan]
    assert not whole, whole


@pytest.mark.parametrize("scan", [True, False])
def test_identities_are_found_by_lookup_or_by_reading_the_system(
    runtime: Runtime, dataset: EventDataset, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, scan: bool
) -> None:
    """Both ways of finding the owners, and the distinct identities counted in parts, give the same ids."""
    import pyarrow.parquet as pq

    monkeypatch.setattr(customers_service, "SCAN_FROM", 1 if scan else 10**9)
    monkeypatch.setattr(ingest, "_PART_ROWS", 2)  # several parts, each encoded in its own thread
    first = tmp_path / "first.csv"
    first.write_text(
        "customer,type,timestamp\nshop:1,visit,2024-05-01\nEmail:Ann@X.com,visit,2024-05-01\n"
        "crm:7,visit,2024-05-01\n"
    )
    created = ingest.import_file(runtime.sessions, actor=SYSTEM, path=first, dataset=dataset)
    assert created.customers_created == 3
    path = tmp_path / "events.csv"
    path.write_text(
        "customer,type,timestamp\n"
        "shop:1,visit,2024-05-02\n"
        "email:ann@x.com,purchase,2024-05-02\n"
        " Shop:1 ,visit,2024-05-03\n"
        "crm:7,visit,2024-05-02\n"
        "shop:2,visit,2024-05-02\n"
        "shop:1,review,2024-05-04\n"
        "shop:2,visit,2024-05-05\n"
    )
    report = ingest.import_file(runtime.sessions, actor=SYSTEM, path=path, dataset=dataset)
    assert report.customers_created == 1  # shop:2
    earlier, later = dataset.files()  # named by the time of writing
    shop1, ann, crm7 = pq.read_table(earlier).column("customer_id").to_pylist()
    ids = pq.read_table(later).column("customer_id").to_pylist()
    assert ids[0] == ids[2] == ids[5] == shop1
    assert ids[1] == ann and ids[3] == crm7
    assert ids[4] == ids[6] and ids[4] not in (shop1, ann, crm7)
    assert _customers(runtime) == 4
    unknown = tmp_path / "unknown.csv"
    unknown.write_text("customer,type,timestamp\nshop:1,visit,2024-05-02\nshop:3,visit,2024-05-02\n")
    with pytest.raises(ImportRejected) as caught:
        ingest.import_file(runtime.sessions, actor=SYSTEM, path=unknown, unknown="reject", dataset=dataset)
    assert [(e.row, e.column, e.problem) for e in caught.value.report.errors] == [
        (2, "customer", "unknown customer shop:3")
    ]
