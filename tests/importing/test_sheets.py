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
    ("encoding", "text", "label"),
    [
        ("utf-8", TEXT, "utf-8"),
        ("utf-8-sig", TEXT, "utf-8"),  # UTF-8 with a byte order mark, as Excel's "CSV UTF-8"
        ("utf-16", TEXT, "utf-16"),  # with a byte order mark (little-endian here), as "Unicode text"
        ("utf-16-be", "\ufeff" + TEXT, "utf-16"),
        ("cp1252", TEXT.replace("Kraków", "Krakow"), "windows-1252"),  # Windows-1252 has no ó
    ],
)
def test_each_encoding_is_detected(tmp_path: Path, encoding: str, text: str, label: str) -> None:
    path = tmp_path / "people.csv"
    path.write_bytes(text.encode(encoding))
    sheet = read_sheet(path.read_bytes(), needs="a 'name' column")
    assert sheet.header == ["name", "city"]
    assert sheet.rows[0] == (2, ["José Núñez", "Zürich"])
    assert sheet.rows[1][1][0] == "“Quoted” Ann"
    assert sheet.encoding == label


def test_bytes_windows_1252_lacks_are_read_as_latin_1() -> None:
    sheet = read_sheet(b"name\nAnn\nBo\x81b \xe9\n", needs="a 'name' column")
    assert (sheet.encoding, sheet.rows[1][1][0]) == ("latin-1", "Bo\x81b é")


@pytest.mark.parametrize(
    ("named", "label"),
    [("windows-1250", "windows-1250"), ("CP1250", "windows-1250"), ("latin2", "iso8859-2")],
)
def test_a_named_encoding_wins_over_detection(named: str, label: str) -> None:
    data = "name\nŁukasz Żółć\n".encode("cp1250")  # detection would read it as Windows-1252
    assert read_sheet(data, needs="a 'name' column").rows[0][1] != ["Łukasz Żółć"]
    if label == "iso8859-2":
        data = "name\nŁukasz Żółć\n".encode("latin2")
    sheet = read_sheet(data, needs="a 'name' column", encoding=named)
    assert (sheet.encoding, sheet.rows[0][1]) == (label, ["Łukasz Żółć"])


def test_a_wrong_or_unknown_named_encoding_is_a_clear_error() -> None:
    data = "name\nZoë\nFrançois\n".encode("cp1252")
    with pytest.raises(ImportRejected) as caught:
        read_sheet(data, needs="a 'name' column", encoding="utf-8")
    assert caught.value.message.startswith("The file is not utf-8 text: line 2 holds bytes utf-8 cannot")
    assert "Leave the encoding out to have it detected" in caught.value.message
    assert caught.value.problems[0].row == 2
    for name in ("klingon", "base64"):
        with pytest.raises(ImportRejected, match=f"'{name}' is not a text encoding"):
            read_sheet(data, needs="a 'name' column", encoding=name)
    named_utf8 = read_sheet("\ufeffname\nZoë\n".encode("utf-8-sig"), needs="", encoding="UTF-8")
    assert (named_utf8.header, named_utf8.encoding) == (["name"], "utf-8")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"PK\x03\x04\x14\x00\x06\x00", "an Excel workbook"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1\x00\x00", "an Excel workbook"),
        (b"name\nA\x00n\x00n\x00", "Line 2 holds a NUL byte"),
    ],
)
def test_workbooks_and_other_binary_files_are_refused(data: bytes, message: str) -> None:
    with pytest.raises(ImportRejected, match=message):
        read_sheet(data, needs="a 'name' column")


def test_text_given_as_str_loses_only_its_byte_order_mark() -> None:
    assert decode("\ufeffname\n") == ("name\n", None)


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
