"""The periods ratings are collected for: months (``2026-11``) by default, or quarters (``2026-Q4``).

A period is written the same way everywhere (files, the API, the command line, addresses): ``YYYY-MM`` for
a month, ``YYYY-Qn`` for a quarter. Pure functions, no clock: the caller says what today is.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from datetime import date, timedelta

MONTH_NAMES = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
FIRST_YEAR = 1900
LAST_YEAR = 9999
_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")
_QUARTER = re.compile(r"^(\d{4})-[Qq]([0-9]+)$")


class PeriodLength(enum.StrEnum):
    MONTH = "month"
    QUARTER = "quarter"

    @property
    def per_year(self) -> int:
        return 12 if self is PeriodLength.MONTH else 4

    @property
    def pattern(self) -> str:
        """How a period of this length is written, for messages."""
        return "YYYY-MM" if self is PeriodLength.MONTH else "YYYY-Qn"


@dataclass(frozen=True, order=True)
class Period:
    """A month (``index`` 1-12) or a quarter (``index`` 1-4) of a year."""

    year: int
    index: int
    length: PeriodLength = PeriodLength.MONTH

    def __str__(self) -> str:
        if self.length is PeriodLength.MONTH:
            return f"{self.year:04d}-{self.index:02d}"
        return f"{self.year:04d}-Q{self.index}"

    @property
    def label(self) -> str:
        """``November 2026``, ``Q4 2026``: how pages name it."""
        if self.length is PeriodLength.MONTH:
            return f"{MONTH_NAMES[self.index - 1]} {self.year}"
        return f"Q{self.index} {self.year}"

    @property
    def short_label(self) -> str:
        """``Nov 2026``, ``Q4 2026``: how a chart's axis names it."""
        if self.length is PeriodLength.MONTH:
            return f"{MONTH_NAMES[self.index - 1][:3]} {self.year}"
        return self.label

    @property
    def start(self) -> date:
        months = 1 if self.length is PeriodLength.MONTH else 3
        return date(self.year, (self.index - 1) * months + 1, 1)

    @property
    def end(self) -> date:
        """The period's last day."""
        following = self.shifted(1)
        return following.start - timedelta(days=1) if following.year <= LAST_YEAR else date(LAST_YEAR, 12, 31)

    def shifted(self, periods: int) -> Period:
        """The period ``periods`` later (earlier when negative)."""
        per_year = self.length.per_year
        position = self.year * per_year + (self.index - 1) + periods
        return Period(position // per_year, position % per_year + 1, self.length)

    def previous(self) -> Period:
        return self.shifted(-1)

    def last(self, count: int) -> list[Period]:
        """The ``count`` periods ending with this one, the oldest first."""
        return [self.shifted(-back) for back in range(count - 1, -1, -1)]

    def contains(self, day: date) -> bool:
        return self.start <= day <= self.end


def parse(text: str, length: PeriodLength = PeriodLength.MONTH) -> Period:
    """A period as written (``2026-11``, ``2026-Q4``). Raises ValueError saying what is wrong and how to
    write one."""
    raw = text.strip()
    example = "2026-11" if length is PeriodLength.MONTH else "2026-Q4"
    month, quarter = _MONTH.match(raw), _QUARTER.match(raw)
    if not raw:
        raise ValueError(f"the period is empty; write {length.pattern}, e.g. {example}")
    if length is PeriodLength.MONTH and quarter:
        raise ValueError(
            f"'{raw}' is a quarter, but this card's periods are months: write YYYY-MM, e.g. 2026-11"
        )
    if length is PeriodLength.QUARTER and month:
        raise ValueError(
            f"'{raw}' is a month, but this card's periods are quarters: write YYYY-Qn, e.g. 2026-Q4"
        )
    found = month if length is PeriodLength.MONTH else quarter
    if found is None:
        raise ValueError(f"'{raw}' is not a period; write {length.pattern}, e.g. {example}")
    year, index = int(found.group(1)), int(found.group(2))
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise ValueError(f"'{raw}' is not a period: the year {year} is out of range")
    if not 1 <= index <= length.per_year:
        what = "month" if length is PeriodLength.MONTH else "quarter"
        raise ValueError(f"'{raw}' is not a period: there is no {what} {index} (1 to {length.per_year})")
    return Period(year, index, length)


def of_day(day: date, length: PeriodLength = PeriodLength.MONTH) -> Period:
    """The period that holds ``day``."""
    if length is PeriodLength.MONTH:
        return Period(day.year, day.month, length)
    return Period(day.year, (day.month - 1) // 3 + 1, length)


def check_not_future(period: Period, today: date) -> Period:
    """The period, unless it starts after ``today``: nobody rates a month that has not begun."""
    if period.start > today:
        current = of_day(today, period.length)
        raise ValueError(f"{period} is in the future; the latest period that may be rated is {current}")
    return period
