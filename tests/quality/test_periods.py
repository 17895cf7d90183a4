"""Periods as written in files, the API and on the command line: months by default, or quarters."""

from __future__ import annotations

from datetime import date

import pytest

from segone.quality.periods import Period, PeriodLength, check_not_future, of_day, parse

Q = PeriodLength.QUARTER


def test_months_parse_print_and_step() -> None:
    november = parse("2026-11")
    assert november == Period(2026, 11)
    assert str(november) == "2026-11" and november.label == "November 2026"
    assert (november.start, november.end) == (date(2026, 11, 1), date(2026, 11, 30))
    assert str(november.shifted(2)) == "2027-01" and str(parse("2026-1").previous()) == "2025-12"
    assert [str(p) for p in november.last(3)] == ["2026-09", "2026-10", "2026-11"]
    assert parse("2024-02").end == date(2024, 2, 29)
    assert of_day(date(2026, 12, 6)) == Period(2026, 12)


def test_quarters_parse_print_and_step() -> None:
    q4 = parse("2026-q4", Q)
    assert str(q4) == "2026-Q4" and q4.label == "Q4 2026"
    assert (q4.start, q4.end) == (date(2026, 10, 1), date(2026, 12, 31))
    assert str(q4.shifted(1)) == "2027-Q1" and str(q4.shifted(-4)) == "2025-Q4"
    assert of_day(date(2026, 5, 31), Q) == Period(2026, 2, Q)


@pytest.mark.parametrize(
    ("text", "length", "says"),
    [
        ("2026-13", PeriodLength.MONTH, "there is no month 13"),
        ("2026-00", PeriodLength.MONTH, "there is no month 0"),
        ("Nov 2026", PeriodLength.MONTH, "not a period; write YYYY-MM"),
        ("", PeriodLength.MONTH, "the period is empty"),
        ("2026-Q4", PeriodLength.MONTH, "is a quarter, but this card's periods are months"),
        ("2026-11", Q, "is a month, but this card's periods are quarters"),
        ("2026-Q5", Q, "there is no quarter 5"),
        ("0999-01", PeriodLength.MONTH, "the year 999 is out of range"),
    ],
)
def test_a_malformed_period_says_what_is_wrong(text: str, length: PeriodLength, says: str) -> None:
    with pytest.raises(ValueError, match=says):
        parse(text, length)


def test_the_current_period_may_be_rated_and_a_future_one_not() -> None:
    today = date(2026, 12, 6)
    assert check_not_future(parse("2026-12"), today) == Period(2026, 12)
    with pytest.raises(
        ValueError, match="2027-01 is in the future; the latest period that may be rated is 2026-12"
    ):
        check_not_future(parse("2027-01"), today)
    with pytest.raises(ValueError, match="2027-Q1 is in the future"):
        check_not_future(parse("2027-Q1", Q), today)
