"""Times in UTC: the one clock of the product and the normalisation of times it is given."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime

_fixed: ContextVar[datetime | None] = ContextVar("segone_clock_fixed", default=None)


def utcnow() -> datetime:
    fixed = _fixed.get()
    return fixed if fixed is not None else datetime.now(UTC)


@contextmanager
def fixed_at(moment: datetime) -> Iterator[None]:
    """Within this block (in this thread or task), ``utcnow()`` is ``moment``.

    For a load that must not depend on when it runs (the demo writes the same store all day long) and for
    tests that need a given time. Durations are measured with ``time.perf_counter``, so none reads 0 here.
    """
    moment = as_utc(moment) or moment
    token = _fixed.set(moment)
    try:
        yield
    finally:
        _fixed.reset(token)


def as_utc(value: datetime | None) -> datetime | None:
    """A time in UTC; a time without a zone is taken to be UTC already."""
    if value is None:
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC)
    except OverflowError as exc:
        raise ValueError("the time is out of range") from exc
