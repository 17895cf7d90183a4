"""The demo's one timeline: its day, CDNOW moved forward to end on it, and its record in the data directory.

The demo's encounters and facts are dated back from the day it is loaded; the CDNOW purchases (1997-01-01
to 1998-06-30) are moved forward by a whole number of days so that their last day is that day too, so a
sheet's last encounter and last purchase are of the same years. Everything the demo writes is dated from
the start of its day (00:00 UTC): two loads on one day give the same store, and nothing lies after the
moment of loading. The published checks (docs/benchmarks.md, tests/behaviour) read the unshifted files.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from pydantic import BaseModel, ValidationError

CDNOW_FIRST_DAY = date(1997, 1, 1)
CDNOW_LAST_DAY = date(1998, 6, 30)
RECORD_FILE = "demo.json"


def demo_moment(day: date) -> datetime:
    """The demo's "now" for a load on ``day``: the start of that day, UTC."""
    return datetime.combine(day, time(0), tzinfo=UTC)


def cdnow_shift(day: date) -> timedelta:
    """How far the demo moves the CDNOW purchases forward so that 30 June 1998 falls on ``day``."""
    return day - CDNOW_LAST_DAY


class DemoRecord(BaseModel):
    """What the data directory's demo was loaded with: its seed, its day, the days CDNOW was moved by."""

    seed: int
    day: date
    shift_days: int

    cdnow_first_day: date = CDNOW_FIRST_DAY
    cdnow_last_day: date = CDNOW_LAST_DAY

    @property
    def first_purchase_day(self) -> date:
        return CDNOW_FIRST_DAY + timedelta(days=self.shift_days)

    @property
    def last_purchase_day(self) -> date:
        return CDNOW_LAST_DAY + timedelta(days=self.shift_days)


def write_record(data_dir: Path, *, seed: int, day: date) -> DemoRecord:
    record = DemoRecord(seed=seed, day=day, shift_days=cdnow_shift(day).days)
    data_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / RECORD_FILE).write_text(record.model_dump_json(indent=2) + "\n", encoding="utf-8")
    return record


def read_record(data_dir: Path) -> DemoRecord | None:
    """The demo loaded into this data directory, or None when there is none (or its record is unreadable:
    then the pages only leave out what they would have said about the demo)."""
    try:
        return DemoRecord.model_validate(json.loads((data_dir / RECORD_FILE).read_text(encoding="utf-8")))
    except (OSError, ValueError, ValidationError):
        return None


def remove_record(data_dir: Path) -> None:
    (data_dir / RECORD_FILE).unlink(missing_ok=True)
