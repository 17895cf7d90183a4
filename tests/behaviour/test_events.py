"""Events: validation and normalisation, derived ids, file readers, the CDNOW preset, the events dataset
(atomic batches, de-duplication on read and by compaction, concurrent appends) and the analytics backends."""

from __future__ import annotations

import gzip
import importlib.util
import json
import multiprocessing
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import ibis
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from ibis import BaseBackend
from ibis.common.exceptions import TableNotFound

from segone.analytics import backend
from segone.behaviour import dataset as dataset_module
from segone.behaviour.dataset import EventDataset
from segone.behaviour.events import (
    EVENT_SCHEMA,
    cdnow_path,
    read_cdnow_master,
    read_cdnow_sample,
    validate_events,
)
from segone.errors import Invalid
from segone.importing import ImportProblem
from segone.importing.tables import read_table
from tests.behaviour.conftest import DUCKDB_WARNING, ENGINES
from tests.cdnow import SUMMARY, WITH_TRANSACTIONS

pytestmark = pytest.mark.filterwarnings(DUCKDB_WARNING)


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


def events(rows: list[dict[str, Any]]) -> pa.Table:
    result = validate_events(pa.Table.from_pylist(rows))
    assert result.table is not None, result.errors
    return result.table


# --- validation --------------------------------------------------------------------------------------------


def test_validation_maps_columns_and_normalises_every_field() -> None:
    raw = pa.table(
        {
            "cust_id": ["crm:00042", " email:ann@example.com "],
            "date": ["2024-05-01", "2024-05-02T14:03:07.25+02:00"],
            "kind": ["Purchase", "contact"],
            "amount": ["19.90", ""],
            "qty": ["2", ""],
            "channel": ["Web", " "],
            "offering": ["plus", None],
            "why": ["", "billing"],
            "properties": ['{"campaign": "spring"}', ""],
            "ignored": ["x", "y"],
        }
    )
    mapping = {"customer": "cust_id", "timestamp": "date", "type": "kind", "value": "amount"}
    result = validate_events(raw, {**mapping, "quantity": "qty", "reason": "why"})
    assert result.ok and result.errors == [] and result.table is not None
    assert result.table.schema == EVENT_SCHEMA
    rows = result.table.to_pylist()
    assert [r["customer"] for r in rows] == ["crm:00042", "email:ann@example.com"]
    assert [r["type"] for r in rows] == ["purchase", "contact"]
    assert [r["ts"] for r in rows] == [utc(2024, 5, 1), datetime(2024, 5, 2, 12, 3, 7, 250000, tzinfo=UTC)]
    assert [r["value"] for r in rows] == [19.9, None]
    assert [r["quantity"] for r in rows] == [2, None]
    assert [r["channel"] for r in rows] == ["web", None]
    assert [r["reason"] for r in rows] == [None, "billing"]
    assert [r["properties"] for r in rows] == ['{"campaign": "spring"}', None]
    assert [r["customer_id"] for r in rows] == [None, None]  # filled later by identity resolution
    assert all(len(r["event_id"]) == 32 for r in rows)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-05-01", utc(2024, 5, 1)),
        ("2024-05-01 14:03", utc(2024, 5, 1, 14, 3)),
        ("2024-05-01T14:03:07", utc(2024, 5, 1, 14, 3, 7)),
        ("2024-05-01T14:03:07Z", utc(2024, 5, 1, 14, 3, 7)),
        ("2024-05-01T14:03:07.123456789Z", datetime(2024, 5, 1, 14, 3, 7, 123456, tzinfo=UTC)),
        ("2024-05-01T00:30:00+01:00", utc(2024, 4, 30, 23, 30)),
        ("2024-05-01T00:30:00-0530", utc(2024, 5, 1, 6, 0)),
        ("2024-05-01T23:00:00+02", utc(2024, 5, 1, 21, 0)),
    ],
)
def test_iso_dates_are_read_as_utc(text: str, expected: datetime) -> None:
    table = events([{"customer": "c", "type": "visit", "ts": text}])
    assert table.column("ts")[0].as_py() == expected


def test_date_formats_are_tried_in_order_and_native_types_accepted() -> None:
    texts = ["31/12/2023", "20240101", "1/2/2024", "30/02/2024", "x"]
    raw = pa.table({"customer": ["a"] * 5, "type": ["visit"] * 5, "ts": texts})
    result = validate_events(raw, date_formats=["%d/%m/%Y", "%Y%m%d"])
    assert result.errors == [
        ImportProblem(row=4, column="ts", problem="not a date in the format %d/%m/%Y, %Y%m%d: '30/02/2024'"),
        ImportProblem(row=5, column="ts", problem="not a date in the format %d/%m/%Y, %Y%m%d: 'x'"),
    ]
    table = validate_events(raw.slice(0, 3), date_formats=["%d/%m/%Y", "%Y%m%d"]).table
    assert table is not None
    assert table.column("ts").to_pylist() == [utc(2023, 12, 31), utc(2024, 1, 1), utc(2024, 2, 1)]

    native = pa.table(
        {
            "customer": pa.array([1, 2]),  # numbers become text identities
            "type": ["visit", "visit"],
            "ts": pa.array([datetime(2024, 1, 1, 12), datetime(2024, 1, 2)], pa.timestamp("ns")),
            "value": pa.array([1, 2], pa.int32()),
            "quantity": pa.array([3.0, None]),
        }
    )
    table = validate_events(native).table
    assert table is not None
    assert table.column("customer").to_pylist() == ["1", "2"]
    assert table.column("ts").to_pylist() == [utc(2024, 1, 1, 12), utc(2024, 1, 2)]  # zone-less means UTC
    assert table.column("value").to_pylist() == [1.0, 2.0]
    assert table.column("quantity").to_pylist() == [3, None]


def test_bad_rows_are_reported_with_row_numbers(tmp_path: Path) -> None:
    path = tmp_path / "events.csv"
    path.write_text(
        "customer,type,timestamp,value,quantity,properties\n"
        "crm:1,purchase,2024-01-05,10.5,1,\n"
        ",purchase,2024-01-06,3,1,\n"  # row 2: no customer
        "crm:3,purchase,2024-02-30,ten,1.5,\n"  # row 3: no such day, not a number, not whole
        "crm:4,Big Sale!,2024-01-07,,,[1]\n"  # row 4: not a type name, properties not an object
        "crm:5,visit,,,,\n"  # row 5: no date
    )
    result = validate_events(read_table(path))
    assert not result.ok and result.table is None
    assert result.error_count == 7
    assert result.errors == [
        ImportProblem(row=2, column="customer", problem="missing value"),
        ImportProblem(row=3, column="timestamp", problem="not a date in the format ISO8601: '2024-02-30'"),
        ImportProblem(row=3, column="value", problem="not a number: 'ten'"),
        ImportProblem(row=3, column="quantity", problem="not a whole number: '1.5'"),
        ImportProblem(
            row=4,
            column="type",
            problem="event type must be a lowercase name such as purchase or contact: 'Big Sale!'",
        ),
        ImportProblem(row=4, column="properties", problem="properties must be a JSON object: '[1]'"),
        ImportProblem(row=5, column="timestamp", problem="missing date"),
    ]


def test_errors_are_capped_but_counted() -> None:
    rows = 200_000
    raw = pa.table(
        {"customer": ["c"] * rows, "type": ["visit"] * rows, "ts": ["2024-01-01", "never"] * (rows // 2)}
    )
    result = validate_events(raw, max_errors=50)
    assert result.error_count == rows // 2
    assert [e.row for e in result.errors] == list(range(2, 101, 2))


def test_mapping_mistakes_are_refused() -> None:
    raw = pa.table({"who": ["c"], "kind": ["visit"], "when": ["2024-01-01"]})
    with pytest.raises(Invalid, match="No column for 'customer'"):
        validate_events(raw, {"type": "kind", "ts": "when"})
    with pytest.raises(Invalid, match="column 'nope'"):
        validate_events(raw, {"customer": "nope"})
    with pytest.raises(Invalid, match="Unknown event field 'colour'"):
        validate_events(raw, {"colour": "who"})
    with pytest.raises(Invalid, match="both mapped"):
        validate_events(raw, {"customer": "who", "type": "kind", "ts": "when"}, constants={"type": "visit"})
    fixed = validate_events(raw, {"customer": "who", "ts": "when"}, constants={"type": "Review"})
    assert fixed.table is not None and fixed.table.column("type").to_pylist() == ["review"]


TEXTS = [
    "plain",
    " padded ",
    "tab\t",
    "",
    "   ",
    None,
    "Upper",
    "caf\u00e9",
    "\u00a0nbsp",
    "nel\u0085",
    "with space",
    "under_score9",
    "9starts_with_digit",
    "dash-ed",
    "\x1fcontrol",
]


@pytest.mark.parametrize("chunks", [1, 3])
@pytest.mark.parametrize(
    "values",
    [TEXTS, ["purchase", "visit", None, "return"], ["web", "Store", "app"], ["ord-1", "ord-2"], [None, None]],
)
def test_fast_text_checks_agree_with_the_arrow_kernels(values: list[str | None], chunks: int) -> None:
    """Columns that need no trimming or lowercasing skip those kernels; the result must be the same."""
    import pyarrow.compute as pc

    from segone.behaviour import events

    step = max(1, -(-len(values) // chunks))
    column = pa.chunked_array(
        [pa.array(values[i : i + step], pa.string()) for i in range(0, len(values), step)], type=pa.string()
    )
    trimmed = pc.utf8_trim_whitespace(column)
    reference = pc.if_else(pc.equal(trimmed, ""), pa.scalar(None, pa.string()), trimmed)
    assert events._text(column).to_pylist() == reference.to_pylist()
    assert events._lower(reference).to_pylist() == pc.utf8_lower(reference).to_pylist()
    named, problems = events._event_type("type", column, ())
    lowered = pc.utf8_lower(reference)
    missing = pc.is_null(lowered).to_pylist()
    matches = pc.fill_null(pc.match_substring_regex(lowered, events._TYPE_PATTERN), False).to_pylist()
    assert named.to_pylist() == lowered.to_pylist()
    assert problems[0].mask.tolist() == missing
    assert problems[1].mask.tolist() == [not m and not ok for m, ok in zip(missing, matches, strict=True)]


def test_a_sliced_column_is_checked_by_its_own_values() -> None:
    from segone.behaviour import events

    column = pa.array([" x ", "a", "b", "Upper "], pa.string())
    assert events._plain_ascii(pa.chunked_array([column.slice(1, 2)]), "trimmed")
    assert events._plain_ascii(pa.chunked_array([column.slice(1, 2)]), "name")
    assert not events._plain_ascii(pa.chunked_array([column.slice(0, 2)]), "trimmed")
    assert not events._plain_ascii(pa.chunked_array([column.slice(2, 2)]), "lower")
    assert not events._plain_ascii(pa.chunked_array([pa.array([1, 2])]), "trimmed")


def test_absent_fields_are_null_in_every_row() -> None:
    from segone.behaviour import events

    rows = (1 << 20) * 2 + 5  # more rows than one shared block of nulls
    result = validate_events(
        pa.table({"customer": pa.array(["c"] * rows), "type": ["visit"] * rows, "ts": ["2024-01-01"] * rows})
    )
    assert result.table is not None
    for name in ("customer_id", "offering", "reason", "properties"):
        column = result.table.column(name)
        assert (len(column), column.null_count, column.type) == (rows, rows, EVENT_SCHEMA.field(name).type)
    assert len(events._nulls(0, pa.string())) == 0


# --- derived event ids -------------------------------------------------------------------------------------


def test_derived_ids_are_stable_across_formats_and_keep_identical_rows_apart(tmp_path: Path) -> None:
    rows = [
        {
            "customer": "email:ann@example.com",
            "type": "purchase",
            "ts": "2024-05-01T14:03:07Z",
            "value": "19.99",
        },
        {"customer": "crm:7", "type": "purchase", "ts": "2024-05-01", "value": "5"},
        {
            "customer": "crm:7",
            "type": "purchase",
            "ts": "2024-05-01",
            "value": "5",
        },  # a second, same purchase
        {"event_id": "shop-991", "customer": "crm:7", "type": "visit", "ts": "2024-05-02"},
    ]
    csv_path = tmp_path / "a.csv"
    csv_path.write_text(
        "value,ts,type,customer,event_id\n"
        + "".join(
            f"{r.get('value', '')},{r['ts']},{r['type']},{r['customer']},{r.get('event_id', '')}\n"
            for r in rows
        )
    )
    jsonl_path = tmp_path / "a.jsonl"
    jsonl_path.write_text(
        "".join(json.dumps({**r, "ts": r["ts"].replace("Z", "+00:00")}) + "\n" for r in rows)
    )
    ids = []
    for path in (csv_path, jsonl_path):
        result = validate_events(read_table(path))
        assert result.table is not None
        ids.append(result.table.column("event_id").to_pylist())
    from_csv, from_jsonl = ids
    assert from_csv == from_jsonl
    assert from_csv[0] == "2d72edd95056427b1bc1fcc44fd16f3c"  # pinned: ids must never change
    assert from_csv[1] != from_csv[2] and len(set(from_csv)) == 4
    assert from_csv[3] == "shop-991"


# --- readers and the CDNOW preset --------------------------------------------------------------------------


def test_readers_keep_text_and_nested_properties(tmp_path: Path) -> None:
    csv_path = tmp_path / "events.csv.gz"
    csv_path.write_bytes(gzip.compress(b"customer;type;ts\n00042;visit;2024-01-01\n"))
    table = read_table(csv_path, delimiter=";")
    assert table.schema == pa.schema([("customer", pa.string()), ("type", pa.string()), ("ts", pa.string())])
    assert table.column("customer").to_pylist() == ["00042"]

    jsonl_path = tmp_path / "events.jsonl"
    jsonl_path.write_text(
        '{"customer": "a", "type": "review", "ts": "2024-01-01", "properties": {"stars": 5, "text": "ok"}}\n'
        '{"customer": "b", "type": "review", "ts": "2024-01-02", "properties": {"stars": 2}}\n'
    )
    result = validate_events(read_table(jsonl_path))
    assert result.table is not None
    assert [json.loads(p) for p in result.table.column("properties").to_pylist()] == [
        {"stars": 5, "text": "ok"},
        {"stars": 2},
    ]

    parquet_path = tmp_path / "events.parquet"
    pq.write_table(result.table, parquet_path)
    assert read_table(parquet_path).equals(result.table)
    with pytest.raises(Invalid, match="Cannot tell the format"):
        read_table(tmp_path / "events.xlsx")


def test_cdnow_master_becomes_purchase_events() -> None:
    table = read_cdnow_master()
    assert table.schema == EVENT_SCHEMA
    assert table.num_rows == 69_659
    customers = set(table.column("customer").to_pylist())
    assert len(customers) == 23_570
    assert {"cdnow:00001", "cdnow:23570"} <= customers and all(len(c) == 11 for c in customers)
    assert set(table.column("type").to_pylist()) == {"purchase"}
    assert len(set(table.column("event_id").to_pylist())) == 69_659  # 255 repeated lines stay apart
    with gzip.open(cdnow_path("CDNOW_master.txt"), "rt") as text:
        lines = [line.split() for line in text.read().splitlines()[1:]]
    assert sum(table.column("quantity").to_pylist()) == sum(int(line[2]) for line in lines)
    assert sum(table.column("value").to_pylist()) == pytest.approx(sum(float(line[3]) for line in lines))
    first = table.slice(0, 1).to_pylist()[0]
    assert (first["customer"], first["ts"], first["quantity"], first["value"]) == (
        "cdnow:00001",
        utc(1997, 1, 1),
        1,
        11.77,
    )


def test_cdnow_sample_keeps_the_sample_id() -> None:
    table = read_cdnow_sample()
    assert table.num_rows == 6_919
    pairs = set(
        zip(table.column("customer").to_pylist(), table.column("properties").to_pylist(), strict=True)
    )
    assert len(pairs) == 2_357
    assert ("cdnow:00004", '{"sample_id": 1}') in pairs


def _lifetimes_datasets() -> Path:
    """The files of Lifetimes 0.11.3 (a dev dependency), the source both copies name; found, not imported."""
    spec = importlib.util.find_spec("lifetimes")
    assert spec is not None and spec.origin is not None, "make test installs lifetimes==0.11.3"
    return Path(spec.origin).parent / "datasets"


@pytest.mark.parametrize("name", ["CDNOW_master.txt", "CDNOW_sample.txt"])
def test_shipped_cdnow_logs_are_the_published_ones(name: str) -> None:
    with gzip.open(cdnow_path(name)) as shipped:
        assert shipped.read() == (_lifetimes_datasets() / name).read_bytes()


@pytest.mark.parametrize("path", [SUMMARY, WITH_TRANSACTIONS], ids=lambda path: path.name)
def test_the_cdnow_summaries_of_the_tests_are_the_published_ones(path: Path) -> None:
    assert path.read_bytes() == (_lifetimes_datasets() / path.name).read_bytes()


# --- the events dataset ------------------------------------------------------------------------------------


def batch(prefix: str, count: int, start: int = 0) -> pa.Table:
    return events(
        [
            {
                "event_id": f"{prefix}-{i}",
                "customer": f"crm:{i % 7}",
                "type": "visit",
                "ts": f"2024-01-{1 + i % 28:02d}",
            }
            for i in range(start, start + count)
        ]
    )


def ids(con: BaseBackend, dataset: EventDataset) -> list[str]:
    table = backend.to_arrow(dataset.read(con))
    return sorted(table.column("event_id").to_pylist())


def test_write_batch_adds_one_visible_file(tmp_path: Path) -> None:
    dataset = EventDataset(tmp_path / "events")
    con = ibis.duckdb.connect()
    assert dataset.files() == [] and ids(con, dataset) == []
    path = dataset.write_batch(batch("a", 10))
    assert path is not None and dataset.files() == [path]
    assert pq.read_schema(path) == EVENT_SCHEMA
    assert dataset.write_batch(batch("a", 1).slice(0, 0)) is None
    assert ids(con, dataset) == sorted(f"a-{i}" for i in range(10))


def test_a_failing_write_leaves_nothing_behind(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    dataset = EventDataset(tmp_path / "events")
    dataset.write_batch(batch("kept", 5))
    seen: list[list[str]] = []

    def disk_full(self: pq.ParquetWriter, *args: Any, **kwargs: Any) -> None:
        seen.append(sorted(os.listdir(dataset.directory)))  # the half-written file exists, hidden
        raise OSError("No space left on device")

    monkeypatch.setattr(pq.ParquetWriter, "write_batch", disk_full)
    with pytest.raises(OSError, match="No space"):
        dataset.write_batch(batch("lost", 5))
    assert any(name.startswith(".") and name.endswith(".tmp") for name in seen[0])
    assert len(os.listdir(dataset.directory)) == 1  # neither the new file nor its temporary
    monkeypatch.undo()
    assert ids(ibis.duckdb.connect(), dataset) == sorted(f"kept-{i}" for i in range(5))


def test_events_that_do_not_fit_are_refused(tmp_path: Path) -> None:
    dataset = EventDataset(tmp_path / "events")
    with pytest.raises(Invalid, match="lack the columns"):
        dataset.write_batch(pa.table({"customer": ["a"]}))
    broken = batch("b", 2).set_column(1, "customer", pa.array(["a", None], pa.string()))
    with pytest.raises(Invalid, match="customer in every row"):
        dataset.write_batch(broken)
    assert dataset.files() == []


@pytest.mark.parametrize("engine", ENGINES)
def test_duplicates_are_removed_on_read_the_same_way_on_every_engine(
    engine: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    con = ibis.duckdb.connect() if engine == "duckdb" else request.getfixturevalue("spark")
    dataset = EventDataset(tmp_path / "events")
    assert backend.to_arrow(dataset.read(con)).num_rows == 0  # nothing yet: an empty table, not an error
    first = batch("e", 30)
    dataset.write_batch(first)
    dataset.write_batch(batch("e", 30, start=20))  # re-sends e-20..e-29
    conflict = first.slice(0, 1).set_column(5, "value", pa.array([-1.0]))  # e-0 again, with a value
    dataset.write_batch(conflict)
    table = backend.to_arrow(dataset.read(con))
    assert sorted(table.column("event_id").to_pylist()) == sorted(f"e-{i}" for i in range(50))
    e0 = [row for row in table.to_pylist() if row["event_id"] == "e-0"]
    assert [row["value"] for row in e0] == [-1.0]  # same time: the lower value wins (nulls sort last)


def test_compact_rewrites_into_fewer_files_without_duplicates(tmp_path: Path) -> None:
    con = ibis.duckdb.connect()
    dataset = EventDataset(tmp_path / "events")
    for start in range(0, 100, 10):
        dataset.write_batch(batch("c", 15, start=start))  # each overlaps the next by 5
    old = dataset.files()
    result = dataset.compact(con, rows_per_file=40)
    assert (result.files_before, result.files_after, result.rows_after) == (10, 3, 105)
    files = dataset.files()
    assert not set(files) & set(old) and len(files) == 3
    raw = pq.read_table(files[0].parent, schema=EVENT_SCHEMA)
    assert raw.num_rows == 105 and len(set(raw.column("event_id").to_pylist())) == 105
    assert [pq.read_metadata(f).num_rows for f in files] == [40, 40, 25] or sorted(
        pq.read_metadata(f).num_rows for f in files
    ) == [25, 40, 40]
    assert ids(con, dataset) == sorted(f"c-{i}" for i in range(105))
    assert sorted(os.listdir(dataset.directory)) == sorted(f.name for f in files)  # no temporaries left


def test_compact_leaves_batches_appended_meanwhile(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    con = ibis.duckdb.connect()
    dataset = EventDataset(tmp_path / "events")
    dataset.write_batch(batch("old", 10))
    dataset.write_batch(batch("old", 10))
    read_files = backend.read_parquet_files

    def read_then_someone_appends(con: BaseBackend, files: list[Path]) -> Any:
        table = read_files(con, files)
        dataset.write_batch(batch("new", 3))
        return table

    monkeypatch.setattr(dataset_module.backend, "read_parquet_files", read_then_someone_appends)
    result = dataset.compact(con)
    assert (result.files_before, result.files_after, result.rows_after) == (2, 1, 10)
    assert len(dataset.files()) == 2
    assert ids(con, dataset) == sorted([f"old-{i}" for i in range(10)] + [f"new-{i}" for i in range(3)])


def append_batches(directory: str, worker: int, batches: int, start: Any) -> None:
    """Runs in another process: waits for the others, then appends its batches."""
    start.wait()
    dataset = EventDataset(Path(directory))
    for number in range(batches):
        dataset.write_batch(batch(f"w{worker}", 20, start=number * 10))  # overlapping ids within a worker


def test_two_processes_append_at_once(tmp_path: Path) -> None:
    context = multiprocessing.get_context("spawn")
    start = context.Barrier(2)
    directory = tmp_path / "events"
    workers = [context.Process(target=append_batches, args=(str(directory), w, 15, start)) for w in (1, 2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
    assert [w.exitcode for w in workers] == [0, 0]
    dataset = EventDataset(directory)
    assert len(dataset.files()) == 30
    assert all(not name.endswith(".tmp") for name in os.listdir(directory))
    expected = sorted(f"w{w}-{i}" for w in (1, 2) for i in range(160))
    assert ids(ibis.duckdb.connect(), dataset) == expected


# --- analytics backends ------------------------------------------------------------------------------------


def test_connect_defaults_to_a_duckdb_that_many_processes_open_at_once(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    con = backend.connect("", data_dir)
    assert con.name == "duckdb"
    spill = con.raw_sql("SELECT current_setting('temp_directory')").fetchone()
    assert spill is not None and spill[0] == str(data_dir / backend.DUCKDB_SPILL_DIR)
    # Another process (a refresh while the server runs) connects too: no file lock stands in the way.
    script = (
        "from pathlib import Path; from segone.analytics import backend; "
        f"backend.connect('', Path({str(data_dir)!r}))"
    )
    other = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert other.returncode == 0, other.stderr
    con.disconnect()
    again = backend.connect("duckdb://", data_dir)
    assert again.name == "duckdb"
    memory = backend.connect("duckdb://:memory:", tmp_path)
    assert memory.name == "duckdb"
    with pytest.raises(TableNotFound):
        memory.table("t")


@pytest.mark.xdist_group("spark")
def test_connect_to_spark_reuses_the_session(spark: BaseBackend, tmp_path: Path) -> None:
    con = backend.connect("pyspark://local[2]", tmp_path)
    assert con.name == "pyspark"
    assert con._session is spark._session  # type: ignore[attr-defined]
    assert con._session.conf.get("spark.sql.session.timeZone") == "UTC"  # type: ignore[attr-defined]
