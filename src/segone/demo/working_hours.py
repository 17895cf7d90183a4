"""When things happen in the demo: the days and hours people work, shop and order, and no two moments in
one second.

A store is open six days and a short Sunday, busiest on Saturdays around lunch; calls, e-mail and chat are
answered on weekdays and Saturday mornings; Business Sales works office hours on weekdays; the web shop
takes orders all day, most in the evening. A moment is drawn in the hours of its schedule down to the
second, so encounters do not bunch on the hour or share a second.

Only the weekday of a date matters, never the date itself: a demo loaded a week later is the same demo a
week later.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

ATTEMPTS = 40


@dataclass(frozen=True)
class Hours:
    opens: float  # hour of the day, e.g. 9.5 for 9:30
    closes: float
    busiest: float


@dataclass(frozen=True)
class Schedule:
    """How busy each day of the week is (Monday first; 0: closed) and the hours of weekdays, Saturday
    and Sunday (a closed day's are never used)."""

    weights: tuple[float, float, float, float, float, float, float]
    weekday: Hours
    saturday: Hours
    sunday: Hours

    def hours(self, day: date) -> Hours:
        return {5: self.saturday, 6: self.sunday}.get(day.weekday(), self.weekday)


SHOP = Schedule(
    (0.8, 0.8, 0.9, 1.0, 1.2, 2.0, 0.5), Hours(9, 17.5, 13), Hours(9, 17.5, 12.5), Hours(10.5, 16, 13)
)
CONTACT = Schedule(
    (1.2, 1.1, 1.0, 1.0, 0.9, 0.3, 0.0), Hours(8.5, 19, 11), Hours(9, 13, 10.5), Hours(9, 9, 9)
)
OFFICE = Schedule(
    (1.0, 1.1, 1.1, 1.0, 0.8, 0.04, 0.0), Hours(8.5, 17.5, 11), Hours(9, 12.5, 10), Hours(9, 9, 9)
)
ONLINE = Schedule(
    (1.0, 1.0, 1.0, 1.0, 1.0, 1.1, 1.2), Hours(7, 23.9, 20.5), Hours(7, 23.9, 11), Hours(7, 23.9, 19)
)


def schedule_of(kind: str, channel: str | None) -> Schedule:
    """The working hours of an encounter (or of learning something) with a person or a business."""
    if kind == "business":
        return OFFICE
    return SHOP if channel in (None, "store") else CONTACT


class Clock:
    """Draws moments in working hours from one random generator, never the same second twice."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.taken: set[int] = set()

    def on(self, day: date, schedule: Schedule) -> datetime | None:
        """A moment of ``day`` in its hours, or None: always on a closed day, and the more often the
        quieter the day is than the busiest, so that the days drawn follow the weights."""
        weight = schedule.weights[day.weekday()]
        if weight <= 0 or self.rng.random() * max(schedule.weights) >= weight:
            return None
        hours = schedule.hours(day)
        hour = self.rng.triangular(hours.opens, hours.closes, hours.busiest)
        return datetime.combine(day, time(0), tzinfo=UTC) + timedelta(seconds=int(hour * 3600))

    def between(self, start: datetime, end: datetime, schedule: Schedule) -> datetime:
        """A moment from ``start`` to ``end`` in working hours (any second of the span if it has none)."""
        days = max((end.date() - start.date()).days, 0)
        for _ in range(ATTEMPTS):
            when = self.on(start.date() + timedelta(days=self.rng.randint(0, days)), schedule)
            if when is not None and start <= when <= end and self._claim(when):
                return when
        return self._any(start, end)

    def near(self, days: list[date], start: datetime, end: datetime, schedule: Schedule) -> datetime:
        """A moment on one of ``days`` or in the days after it (a call about an order, a visit to collect
        it), from ``start`` to ``end``."""
        for _ in range(ATTEMPTS):
            after = self.rng.choices((0, 1, 2, 3, 5, 8), weights=(40, 22, 14, 10, 8, 6))[0]
            when = self.on(self.rng.choice(days) + timedelta(days=after), schedule)
            if when is not None and start <= when <= end and self._claim(when):
                return when
        return self.between(start, end, schedule)

    def _claim(self, when: datetime) -> bool:
        second = int(when.timestamp())
        if second in self.taken:
            return False
        self.taken.add(second)
        return True

    def _any(self, start: datetime, end: datetime) -> datetime:
        span = max(int((end - start).total_seconds()), 1)
        for _ in range(ATTEMPTS):
            when = start + timedelta(seconds=self.rng.randrange(span))
            if self._claim(when):
                return when
        return when  # a span of a few seconds, all taken: share one
