"""The formula guard: what a spreadsheet would run is written inert, and reads back as it was."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from segone.exporting import escape, unescape


@pytest.mark.parametrize(
    ("text", "cell"),
    [
        ('=HYPERLINK("http://evil.example","click")', '\'=HYPERLINK("http://evil.example","click")'),
        ("+44 113 496 0000", "'+44 113 496 0000"),
        ("-2+3+cmd|' /C calc'!A0", "'-2+3+cmd|' /C calc'!A0"),
        ("@SUM(A1:A9)", "'@SUM(A1:A9)"),
        ("\t=1+1", "'\t=1+1"),
        ("\r=1+1", "'\r=1+1"),
        ("'=already quoted", "''=already quoted"),
        ("''-twice", "'''-twice"),
    ],
)
def test_a_formula_like_cell_gets_a_quote(text: str, cell: str) -> None:
    assert escape(text) == cell
    assert unescape(cell) == text


@pytest.mark.parametrize("text", ["Ann Patel", "", "'", "'quoted", "''", "a=b", " =x", "1-2", "€=5"])
def test_other_text_is_left_alone(text: str) -> None:
    assert escape(text) == text
    assert unescape(text) == text


def test_a_quote_a_person_typed_before_a_formula_is_taken_off_like_a_spreadsheet_does() -> None:
    assert unescape("'=SUM(A1:A2)") == "=SUM(A1:A2)"


@given(st.text(alphabet=st.sampled_from("'=+-@\t\rab ;\"\n"), max_size=12))
def test_every_text_reads_back_exactly(text: str) -> None:
    cell = escape(text)
    assert unescape(cell) == text
    assert cell[:1] not in {"=", "+", "-", "@", "\t", "\r"}
