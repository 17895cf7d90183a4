"""One problem type, one refusal, column matching and chunks: what every import shares."""

from __future__ import annotations

import pytest

from segone.errors import Invalid
from segone.importing import (
    ImportProblem,
    ImportRejected,
    ImportReport,
    bad_rows_message,
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
        "errors": [
            {"row": 3, "column": "name", "problem": "the name is empty"},
            {"row": 4, "column": "email", "problem": "not an e-mail address"},
        ],
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


def test_a_mapping_is_written_as_field_equals_column_pairs() -> None:
    assert parse_mapping("customer=cust_id, timestamp = date") == {"customer": "cust_id", "timestamp": "date"}
    assert parse_mapping("") is None
    with pytest.raises(Invalid, match="field=column pairs"):
        parse_mapping("customer")
