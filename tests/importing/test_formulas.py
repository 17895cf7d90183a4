"""Cells that look like spreadsheet formulas: stored as text, named in the warnings."""

from __future__ import annotations

import pytest

from segone.importing import FORMULA_WARNING, formula_warnings, looks_like_formula


@pytest.mark.parametrize(
    "cell",
    [
        '=HYPERLINK("http://example.com","click")',
        "@SUM(A1:A2)",
        "=1+2",
        " =A1",
        "+cmd|' /C calc'!A0",
        "-2+3*A1",
        "@ann",
    ],
)
def test_formula_looking_cells(cell: str) -> None:
    assert looks_like_formula(cell)


@pytest.mark.parametrize(
    "cell",
    ["-12.5", "+44 20 7946 0000", "+1 (555) 010-0199", "=12", "=3,5", "-", "=", "", "Ann", "ann@example.com"],
)
def test_numbers_phone_numbers_and_text_are_not_formulas(cell: str) -> None:
    assert not looks_like_formula(cell)


def test_each_formula_cell_is_a_warning_with_its_row_and_column_up_to_a_limit() -> None:
    header = ["name", "website", ""]
    rows = [
        (2, ["Ann", '=HYPERLINK("x")', ""]),
        (3, ["-5", "plain", "=A1"]),
        (5, ["@SUM(1)", "+44 1632 960000", ""]),
    ]
    warnings = formula_warnings(header, rows)
    assert [(w.row, w.column, w.problem) for w in warnings] == [
        (2, "website", FORMULA_WARNING),
        (3, None, FORMULA_WARNING),
        (5, "name", FORMULA_WARNING),
    ]
    capped = formula_warnings(header, rows, limit=1)
    assert [(w.row, w.problem) for w in capped] == [
        (2, FORMULA_WARNING),
        (None, "2 more cells look like spreadsheet formulas; stored as text too"),
    ]
