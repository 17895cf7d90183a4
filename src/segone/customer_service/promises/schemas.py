"""What promises take in and give out, and the promise-kept rate.

A promise is **kept** when it is marked kept on or before the day it was due; marked kept after that day
it was **kept late**, which counts as not kept. An open promise whose day has passed is **overdue**: shown
so, and counted as broken until someone marks it. The promise-kept rate over a period is, of the promises
due in the period whose outcome is known (kept, kept late, broken or overdue), the share kept; promises
still open and not yet due are left out (``pending``).
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from segone.inputs import InputModel

TEXT_MAX = 1000
NOTE_MAX = 1000

PromiseText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=TEXT_MAX)]


class PromiseStatus(enum.StrEnum):
    """What is stored: open until someone marks it kept or broken."""

    OPEN = "open"
    KEPT = "kept"
    BROKEN = "broken"


class PromiseState(enum.StrEnum):
    """What a page shows: the stored status read against the due day and today."""

    OPEN = "open"
    OVERDUE = "overdue"
    KEPT = "kept"
    KEPT_LATE = "kept late"
    BROKEN = "broken"


class PromiseCreate(InputModel):
    model_config = ConfigDict(extra="forbid")

    customer_id: int = Field(ge=1, description="The customer it was made to.")
    text: PromiseText = Field(description="What was promised, in a line.", examples=["Call back by Friday"])
    due_on: date = Field(description="The day it is due (today or later).")


class PromiseMark(InputModel):
    """Marking a promise kept or broken."""

    model_config = ConfigDict(extra="forbid")

    on: date | None = Field(
        default=None, description="The day it was kept or broken; today if left out (never a day to come)."
    )
    note: str = Field(default="", max_length=NOTE_MAX, description="What happened, if worth saying.")


class PromiseOut(BaseModel):
    id: int
    customer_id: int
    customer_name: str
    text: str
    made_by_id: int | None
    made_by: str | None = Field(description="Who made it (null for the operator at the CLI).")
    made_at: datetime
    due_on: date
    status: PromiseStatus
    state: PromiseState = Field(description="open, overdue (open past its day), kept, kept late or broken.")
    resolved_on: date | None
    resolved_by: str | None
    note: str


class PromisePage(BaseModel):
    items: list[PromiseOut] = Field(description="Overdue first, then open by due day, then the marked.")
    total: int
    offset: int
    limit: int


class RateGroup(enum.StrEnum):
    TEAM = "team"
    EMPLOYEE = "employee"


class PromiseRate(BaseModel):
    """The promises of one team or one employee that were due in the period."""

    key: str = Field(description="The team's name, or the employee's e-mail address.")
    label: str = Field(description="The team's name, or the employee's name.")
    kept: int = Field(description="Marked kept on or before their day.")
    kept_late: int
    broken: int = Field(description="Marked broken.")
    overdue: int = Field(description="Open past their day: broken until marked.")
    pending: int = Field(description="Open and not yet due: not counted.")
    counted: int = Field(description="kept + kept_late + broken + overdue.")
    rate: float | None = Field(description="kept / counted; null when nothing is counted.")


class PromiseRates(BaseModel):
    start: date
    end: date
    as_of: date = Field(description="The day overdue is read against (today).")
    by: RateGroup
    scope: str = Field(description="Whose promises: every team, a team, or yours.")
    rows: list[PromiseRate] = Field(description="By rate, lowest first (the ones to help first).")
    total: PromiseRate
