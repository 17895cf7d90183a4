"""Files read into one Arrow table (events): encodings, delimiters, gzip, Parquet, JSON Lines."""

from __future__ import annotations

import gzip
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from segone.errors import Invalid
from segone.importing.tables import read_table

TEXT = 'customer,type,note\nemail:josé@example.com,visit,Zürich\ncrm:2,purchase,"a,b"\n'


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16", "cp1252"])
def test_csv_in_each_encoding_is_read_as_text(tmp_path: Path, encoding: str) -> None:
    path = tmp_path / "events.csv"
    path.write_bytes(TEXT.encode(encoding))
    table = read_table(path)
    assert table.schema == pa.schema(
        [("customer", pa.string()), ("type", pa.string()), ("note", pa.string())]
    )
    assert table.column("customer").to_pylist() == ["email:josé@example.com", "crm:2"]
    assert table.column("note").to_pylist() == ["Zürich", "a,b"]


def test_windows_1252_after_a_utf8_looking_start_is_read_too(tmp_path: Path) -> None:
    path = tmp_path / "events.csv"
    path.write_bytes(("customer,type\n" + "crm:1,visit\n" * 40_000 + "crm:é,visit\n").encode("cp1252"))
    table = read_table(path)
    assert table.num_rows == 40_001
    assert table.column("customer")[-1].as_py() == "crm:é"


def test_bytes_windows_1252_lacks_are_read_as_latin_1(tmp_path: Path) -> None:
    path = tmp_path / "events.csv"
    path.write_bytes(b"customer,type\ncrm:\x81\xe9,visit\n")
    assert read_table(path).column("customer").to_pylist() == ["crm:\x81é"]


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_the_delimiter_is_sniffed_from_the_header(tmp_path: Path, delimiter: str) -> None:
    path = tmp_path / "events.csv.gz"
    path.write_bytes(gzip.compress(f"customer{delimiter}type\n00042{delimiter}visit\n".encode()))
    table = read_table(path)
    assert table.to_pylist() == [{"customer": "00042", "type": "visit"}]


def test_tsv_files_are_tab_separated_and_a_delimiter_may_be_given(tmp_path: Path) -> None:
    tsv = tmp_path / "events.tsv"
    tsv.write_text("customer\ttype,kind\n1\tvisit,x\n")
    assert read_table(tsv).column_names == ["customer", "type,kind"]
    csv_path = tmp_path / "events.csv"
    csv_path.write_text("customer;type,kind\n1;visit,x\n")
    assert read_table(csv_path, delimiter=";").column_names == ["customer", "type,kind"]


def test_parquet_and_jsonl_keep_their_types(tmp_path: Path) -> None:
    parquet = tmp_path / "events.parquet"
    pq.write_table(pa.table({"customer": ["a"], "value": [1.5]}), parquet)
    assert read_table(parquet).column("value").to_pylist() == [1.5]
    jsonl = tmp_path / "events.ndjson"
    jsonl.write_text('{"customer": "a", "value": 2}\n{"customer": "b", "value": 3}\n')
    assert read_table(jsonl).column("value").to_pylist() == [2, 3]
    assert read_table(jsonl, fmt="jsonl").num_rows == 2


def test_unreadable_files_are_refused_with_the_reason(tmp_path: Path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(Invalid, match=r"empty\.csv is empty"):
        read_table(empty)
    bad = tmp_path / "bad.jsonl"
    bad.write_text("{not json\n")
    with pytest.raises(Invalid, match="not valid JSON Lines"):
        read_table(bad)
    with pytest.raises(Invalid, match=r"Cannot tell the format of events\.xlsx"):
        read_table(tmp_path / "events.xlsx")
    with pytest.raises(Invalid, match="Unknown format 'xml'"):
        read_table(empty, fmt="xml")
