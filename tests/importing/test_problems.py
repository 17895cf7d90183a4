"""One problem type, one refusal, column matching and chunks: what every import shares."""

from __future__ import annotations

import pytest

from segone.errors import Invalid
from segone.importing import (
    ImportProblem,
    ImportRejected,
    ImportReport,
    bad_rows_message,
    column_positions,
    mapped_sources,
    match_columns,
    parse_mapping,
    read_sheet,
    reported_as_dry_run,
)


class _Report(ImportReport):
    created: int = 0


def test_a_rejected_file_carries_its_report_with_every_row_problem() -> None:
    sheet = read_sheet(b"name,email\nAnn,ann@example.com\n,bob@example.com\nCy,nope\n", needs="a name")
    problems = [
        ImportProblem(row=line, column=column, problem=message)
        for line, values in sheet.rows
        for column, message in (("name", "the name is empty"), ("email", "not an e-mail address"))
        if (column == "name" and not values[0]) or (column == "email" and "@" not in values[1])
    ]
    bad = len({p.row for p in problems})
    rejected = ImportRejected(bad_rows_message(bad, len(sheet.rows)), _Report(rows=3, errors=problems))
    assert isinstance(rejected, Invalid) and rejected.code == "invalid"
    assert rejected.message.startswith("2 of the 3 rows are bad; nothing was imported.")
    assert [(p.row, p.column) for p in rejected.problems] == [(3, "name"), (4, "email")]
    assert rejected.details == {
        "dry_run": False,
        "rows": 3,
        "encoding": None,
        "errors": [
            {"row": 3, "column": "name", "problem": "the name is empty"},
            {"row": 4, "column": "email", "problem": "not an e-mail address"},
        ],
        "warnings": [],
        "created": 0,
    }


def test_messages_of_rejected_imports() -> None:
    assert bad_rows_message(1, 5, dry_run=True) == "1 of the 5 rows is bad (dry run: nothing was written)."
    assert bad_rows_message(3, 9, more=2).startswith("3 of the 9 rows are bad (and 2 more problems); nothing")
    whole = ImportRejected.of_file("The file is empty.")
    assert [(p.row, p.column, p.problem) for p in whole.problems] == [(None, None, "The file is empty.")]


def test_a_refusal_while_only_checking_says_it_was_a_dry_run() -> None:
    with pytest.raises(ImportRejected) as checked, reported_as_dry_run(True):
        read_sheet(b"", needs="a name")
    assert checked.value.report.dry_run is True and checked.value.details["dry_run"] is True
    assert checked.value.message.startswith("The file is empty")
    assert isinstance(checked.value.__cause__, ImportRejected)
    with pytest.raises(ImportRejected) as imported, reported_as_dry_run(False):
        read_sheet(b"", needs="a name")
    assert imported.value.report.dry_run is False and imported.value.details["dry_run"] is False
    marked = ImportRejected("2 rows are bad", _Report(dry_run=True, rows=2, created=0))
    with pytest.raises(ImportRejected) as already, reported_as_dry_run(True):
        raise marked
    assert already.value is marked  # a report that says so already goes as it is


def test_columns_match_by_name_alias_or_map() -> None:
    header = [" Customer ", "Learned By", "when", "ts", "notes", "", "customer"]
    match = match_columns(header, ["customer", "learned_by", "ts"], aliases={"when": "ts"})
    assert match.sources == {"customer": 0, "learned_by": 1, "ts": 3}
    assert match.repeated == ["customer", "when"]
    assert match.ignored == ["notes"]
    mapped = match_columns(header, ["customer", "ts"], mapping={"ts": "when"}, exact=True)
    assert mapped.names(header) == {"ts": "when", "customer": "customer"}


def test_mapping_mistakes_are_refused() -> None:
    with pytest.raises(Invalid, match="Unknown event field 'colour' in the column mapping"):
        match_columns(["a"], ["customer"], mapping={"colour": "a"}, noun="event field")
    with pytest.raises(Invalid, match="names column 'b', which the input does not have"):
        match_columns(["a"], ["customer"], mapping={"customer": "b"})
    with pytest.raises(Invalid, match=r"column 'a\+c', which the input does not have \(its columns: 'a'\)"):
        match_columns(["a"], ["customer"], mapping={"customer": "a+c"})  # no joins for events


def test_a_mapped_column_is_found_as_written_else_without_case_and_spaces() -> None:
    header = ["Email", " email ", "First Name", "Last Name", "A+B"]
    assert column_positions(header, " email ") == (1,)
    assert column_positions(header, "EMAIL") == (0,)
    assert column_positions(header, "first name + last name", joins=True) == (2, 3)
    assert column_positions(header, "A+B", joins=True) == (4,)  # a column titled so wins over a join
    with pytest.raises(Invalid, match="names column 'Surname'"):
        column_positions(header, "First Name+Surname", joins=True)


def test_mapped_sources_join_columns_and_leave_out_those_a_field_shadows() -> None:
    header = ["Record ID", "First Name", "Last Name", "Name", "City", ""]
    sources, shadowed = mapped_sources(header, {"name": "First Name+Last Name", "id": "Record ID"})
    assert [(s.name, s.label, s.positions) for s in sources] == [
        ("name", "First Name+Last Name", (1, 2)),
        ("id", "Record ID", (0,)),
        ("City", "City", (4,)),
        ("", "", (5,)),
    ]
    assert shadowed == [3]
    assert sources[0].cells(["1", " Zoë ", "", "x", "Leeds", ""]) == ["Zoë"]
    unmapped, none = mapped_sources(header, None)
    assert [s.name for s in unmapped] == header and none == []


def test_a_mapping_is_written_as_field_equals_column_pairs() -> None:
    assert parse_mapping("customer=cust_id, timestamp = date") == {"customer": "cust_id", "timestamp": "date"}
    assert parse_mapping("") is None
    with pytest.raises(Invalid, match="field=column pairs"):
        parse_mapping("customer")
