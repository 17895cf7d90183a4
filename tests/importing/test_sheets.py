"""Files read into rows: every encoding a spreadsheet writes, every delimiter, the line of each row."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from segone.importing import ImportRejected, decode, read_sheet, sniff_delimiter

TEXT = "name,city\nJosé Núñez,Zürich\n“Quoted” Ann,Kraków\n"


@pytest.mark.parametrize(
    ("encoding", "text"),
    [
        ("utf-8", TEXT),
        ("utf-8-sig", TEXT),  # UTF-8 with a byte order mark, as Excel's "CSV UTF-8"
        ("utf-16", TEXT),  # with a byte order mark (little-endian here), as "Unicode text"
        ("utf-16-be", "\ufeff" + TEXT),
        ("cp1252", TEXT.replace("Kraków", "Krakow")),  # Windows-1252 has no ó
    ],
)
def test_each_encoding_is_detected(tmp_path: Path, encoding: str, text: str) -> None:
    path = tmp_path / "people.csv"
    path.write_bytes(text.encode(encoding))
    sheet = read_sheet(path.read_bytes(), needs="a 'name' column")
    assert sheet.header == ["name", "city"]
    assert sheet.rows[0] == (2, ["José Núñez", "Zürich"])
    assert sheet.rows[1][1][0] == "“Quoted” Ann"


def test_text_neither_utf8_nor_windows_1252_names_its_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_bytes(b"name\nAnn\nBo\x81b\n")
    with pytest.raises(ImportRejected) as caught:
        read_sheet(path.read_bytes(), needs="a 'name' column")
    assert "Line 3 is neither UTF-8 nor Windows-1252" in caught.value.message
    assert [(p.row, p.column) for p in caught.value.problems] == [(3, None)]
    assert caught.value.details["errors"][0]["row"] == 3


def test_text_given_as_str_loses_only_its_byte_order_mark() -> None:
    assert decode("\ufeffname\n") == "name\n"


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_the_header_decides_the_delimiter(tmp_path: Path, delimiter: str) -> None:
    other = ";" if delimiter != ";" else ","
    path = tmp_path / "people.csv"
    path.write_text(
        delimiter.join(["name", "notes", "city"])
        + "\n"
        + delimiter.join(["Ann", f'"a{delimiter}b{other}c"', "Leeds"])
        + "\n",
        encoding="utf-8",
    )
    sheet = read_sheet(path.read_bytes(), needs="a 'name' column")
    assert sheet.header == ["name", "notes", "city"]
    assert sheet.rows == [(2, ["Ann", f"a{delimiter}b{other}c", "Leeds"])]


def test_sniffing_prefers_the_comma_and_defaults_to_it() -> None:
    assert sniff_delimiter("a,b;c") == ","
    assert sniff_delimiter("name") == ","
    assert sniff_delimiter("a|b|c,d") == "|"


def test_rows_carry_the_line_where_they_start(tmp_path: Path) -> None:
    path = tmp_path / "people.csv"
    path.write_text('\n\nname,notes\nAnn,"two\nlines"\n\n,\nBob,one\n', encoding="utf-8")
    sheet = read_sheet(path.read_bytes(), needs="a 'name' column")
    assert sheet.header_line == 3
    assert sheet.rows == [(4, ["Ann", "two\nlines"]), (8, ["Bob", "one"])]


@pytest.mark.parametrize("data", [b"", b"\n \n", "\ufeff".encode()])
def test_an_empty_file_says_what_the_header_needs(data: bytes) -> None:
    with pytest.raises(
        ImportRejected, match="The file is empty: it needs a header line with a 'name' column"
    ):
        read_sheet(data, needs="a 'name' column")


def test_broken_csv_names_its_line() -> None:
    data = b"name\nAnn\n" + b"x" * 200_000 + b"\n"  # a field longer than the csv module takes
    with pytest.raises(ImportRejected, match="Line 3 is not valid CSV") as caught:
        read_sheet(data, needs="a 'name' column")
    assert caught.value.problems[0].row == 3


def test_parquet_rows_are_numbered_and_typed_values_become_text(tmp_path: Path) -> None:
    path = tmp_path / "people.parquet"
    table = pa.table(
        {"name": ["Ann", "Bob"], "since": [2019, None], "vip": [True, False], "score": [0.5, 1.25]}
    )
    pq.write_table(table, path)
    sheet = read_sheet(path.read_bytes(), needs="a 'name' column", fmt="parquet")
    assert sheet.header_line is None
    assert sheet.header == ["name", "since", "vip", "score"]
    assert sheet.rows == [(1, ["Ann", "2019", "true", "0.5"]), (2, ["Bob", "", "false", "1.25"])]


def test_jsonl_rows_carry_their_line_and_every_key_is_a_column(tmp_path: Path) -> None:
    path = tmp_path / "people.jsonl"
    records = [{"name": "Ann", "tags": ["a", "b"]}, {"name": "Bob", "city": "York"}]
    path.write_text(json.dumps(records[0]) + "\n\n" + json.dumps(records[1]) + "\n", encoding="utf-16")
    sheet = read_sheet(path.read_bytes(), needs="a 'name' column", fmt="jsonl")
    assert sheet.header == ["name", "tags", "city"]
    assert sheet.rows == [(1, ["Ann", '["a", "b"]', ""]), (3, ["Bob", "", "York"])]


@pytest.mark.parametrize(
    ("text", "message"),
    [('{"name": "Ann"}\n{"name": \n', "Line 2 is not valid JSON"), ("[1]\n", "Line 1 is not a JSON object")],
)
def test_bad_jsonl_names_its_line(text: str, message: str) -> None:
    with pytest.raises(ImportRejected, match=message):
        read_sheet(text.encode(), needs="a 'name' column", fmt="jsonl")


def test_not_parquet_and_unknown_formats_are_refused() -> None:
    with pytest.raises(ImportRejected, match="not Parquet"):
        read_sheet(b"name\nAnn\n", needs="a 'name' column", fmt="parquet")
    with pytest.raises(ImportRejected, match="Unknown format 'xlsx'"):
        read_sheet(b"", needs="a 'name' column", fmt="xlsx")


def test_the_quote_guarding_a_formula_like_cell_is_taken_off() -> None:
    text = "'=name,note\n'=HYPERLINK(\"x\"),'+44\n'plain,''-twice\n"
    sheet = read_sheet(text.encode(), needs="a 'name' column")
    assert sheet.header == ["=name", "note"]
    assert sheet.rows == [(2, ['=HYPERLINK("x")', "+44"]), (3, ["'plain", "'-twice"])]
