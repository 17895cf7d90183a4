"""CSV and Parquet out of batches of rows: the bytes, the types, one chunk per batch."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from segone.exporting import Column, Format, Kind, Tally, encode, write_file
from segone.importing import read_sheet

COLUMNS = (
    Column("id", Kind.INTEGER),
    Column("name"),
    Column("at", Kind.TIMESTAMP),
    Column("sure", Kind.FLOAT),
    Column("known", Kind.BOOLEAN),
)
AT = datetime(2024, 3, 1, 14, 30, tzinfo=UTC)


def batches(count: int, size: int) -> Iterator[list[dict[str, object]]]:
    for b in range(count):
        yield [
            {
                "id": b * size + i,
                "name": f"Customer {b * size + i}",
                "at": AT,
                "sure": 0.25,
                "known": i % 2 == 0,
            }
            for i in range(size)
        ]


def test_csv_is_utf8_with_a_header_crlf_and_rfc_4180_quoting() -> None:
    rows = [
        {"id": 1, "name": 'Café "Zur Post", Zürich', "at": AT, "sure": 0.8, "known": True},
        {"id": 2, "name": "two\nlines", "at": None, "sure": None, "known": False},
        {"id": 3},
    ]
    data = b"".join(encode(Format.CSV, COLUMNS, [rows]))
    assert not data.startswith(b"\xef\xbb\xbf")
    assert data.decode("utf-8") == (
        "id,name,at,sure,known\r\n"
        '1,"Café ""Zur Post"", Zürich",2024-03-01T14:30:00+00:00,0.8,true\r\n'
        '2,"two\nlines",,,false\r\n'
        "3,,,,\r\n"
    )


def test_csv_text_cells_and_headers_are_guarded_but_numbers_are_not() -> None:
    columns = (Column("=cmd"), Column("n", Kind.INTEGER), Column("x", Kind.FLOAT), Column("note"))
    rows = [{"=cmd": "@me", "n": -5, "x": -0.5, "note": "-5"}]
    text = b"".join(encode(Format.CSV, columns, [rows])).decode()
    assert text == "'=cmd,n,x,note\r\n'@me,-5,-0.5,'-5\r\n"
    sheet = read_sheet(text, needs="anything")
    assert sheet.header == ["=cmd", "n", "x", "note"]
    assert sheet.rows == [(2, ["@me", "-5", "-0.5", "-5"])]


def test_a_text_column_holding_other_values_writes_them_as_text_in_both_formats() -> None:
    columns = (Column("since"), Column("vip"))
    rows = [{"since": 2019, "vip": True}, {"since": 1.5, "vip": False}]
    assert b"".join(encode(Format.CSV, columns, [rows])) == b"since,vip\r\n2019,true\r\n1.5,false\r\n"
    table = pq.read_table(pa.BufferReader(b"".join(encode(Format.PARQUET, columns, [rows]))))
    assert table.to_pylist() == [{"since": "2019", "vip": "true"}, {"since": "1.5", "vip": "false"}]


def test_csv_gives_the_header_then_a_chunk_per_batch() -> None:
    chunks = list(encode(Format.CSV, COLUMNS, batches(3, 4)))
    assert len(chunks) == 4
    assert chunks[0] == b"id,name,at,sure,known\r\n"
    assert [len(list(csv.reader(io.StringIO(c.decode(), newline="")))) for c in chunks[1:]] == [4, 4, 4]


def test_parquet_has_typed_columns_and_a_row_group_per_batch() -> None:
    chunks = list(encode(Format.PARQUET, COLUMNS, batches(3, 4)))
    assert len(chunks) == 4  # three row groups as they are written, then the footer
    assert chunks[0].startswith(b"PAR1")
    data = b"".join(chunks)
    file = pq.ParquetFile(pa.BufferReader(data))
    assert file.metadata.num_row_groups == 3
    assert file.schema_arrow == pa.schema(
        [
            ("id", pa.int64()),
            ("name", pa.string()),
            ("at", pa.timestamp("us", tz="UTC")),
            ("sure", pa.float64()),
            ("known", pa.bool_()),
        ]
    )
    table = file.read()
    assert table.num_rows == 12
    assert table.column("id").to_pylist() == list(range(12))
    assert table.column("at")[0].as_py() == AT
    assert table.column("known").to_pylist()[:2] == [True, False]


def test_parquet_takes_arrow_record_batches_too() -> None:
    schema = pa.schema([("id", pa.int64()), ("name", pa.string())])
    batch = pa.RecordBatch.from_pylist([{"id": 1, "name": "=x"}, {"id": 2, "name": None}], schema=schema)
    columns = (Column("id", Kind.INTEGER), Column("name"))
    table = pq.read_table(pa.BufferReader(b"".join(encode(Format.PARQUET, columns, [batch]))))
    assert table.to_pylist() == [{"id": 1, "name": "=x"}, {"id": 2, "name": None}]  # no guard in Parquet
    assert b"".join(encode(Format.CSV, columns, [batch])) == b"id,name\r\n1,'=x\r\n2,\r\n"


@pytest.mark.parametrize("fmt", list(Format))
def test_an_export_without_rows_is_a_valid_empty_file(fmt: Format) -> None:
    data = b"".join(encode(fmt, COLUMNS, []))
    if fmt is Format.CSV:
        assert data == b"id,name,at,sure,known\r\n"
    else:
        table = pq.read_table(pa.BufferReader(data))
        assert table.num_rows == 0 and table.column_names == [c.name for c in COLUMNS]


def test_the_tally_counts_rows_and_reports_progress() -> None:
    calls: list[tuple[str, int, int | None]] = []
    tally = Tally(batches(3, 5), progress=lambda *call: calls.append(call), stage="Exporting", total=15)
    assert sum(1 for _ in encode(Format.CSV, COLUMNS, tally)) == 4
    assert tally.rows == 15
    assert calls == [("Exporting", 0, 15), ("Exporting", 5, 15), ("Exporting", 10, 15), ("Exporting", 15, 15)]


def test_a_failed_write_leaves_no_file_under_the_name(tmp_path: Path) -> None:
    path = tmp_path / "customers.csv"
    path.write_text("the last export\n")

    def failing() -> Iterator[bytes]:
        yield b"id\r\n"
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        write_file(failing(), path)
    assert path.read_text() == "the last export\n"
    assert list(tmp_path.iterdir()) == [path]
    assert write_file(encode(Format.CSV, COLUMNS, batches(1, 2)), path) == path.stat().st_size
    assert path.read_bytes().startswith(b"id,name")


def test_text_where_another_type_was_expected_is_still_guarded() -> None:
    columns = (Column("n", Kind.INTEGER), Column("at", Kind.TIMESTAMP), Column("ok", Kind.BOOLEAN))
    rows = [{"n": "=1+1", "at": "@now", "ok": "-x"}, {"n": "12", "at": "later", "ok": True}]
    data = b"".join(encode(Format.CSV, columns, [rows]))
    assert data == b"n,at,ok\r\n'=1+1,'@now,'-x\r\n12,later,true\r\n"
