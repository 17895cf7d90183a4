"""What recovery takes in and gives out: cases, their actions, the sync from events and the measures.

A case's clock starts when the customer told us (``reported_at``: the complaint's or the return's time, or
when it was opened by hand); its target is that time plus the strategy's hours for its priority. Open
cases sort first, high priority before normal, the longest waiting first; then the closed ones, the most
recently closed first. The measures are defined in docs/customer-service.md and in ``recovery.measures``.
"""

from __future__ import annotations

import enum
import math
from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator

from segone.customer_service.strategy.schemas import AMOUNT_MAX, KEY_MAX
from segone.customer_service.strategy.schemas import Priority as Priority
from segone.inputs import InputModel

TEXT_MAX = 2000
DEFAULT_RETENTION_DAYS = 30

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=TEXT_MAX)]


class CaseStatus(enum.StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class CaseSource(enum.StrEnum):
    """Where the case came from: a complaint or a return event, or a person who opened it."""

    COMPLAINT = "complaint"
    RETURN = "return"
    HAND = "hand"


class Verdict(enum.StrEnum):
    """The customer's own word on how it was put right."""

    SATISFIED = "satisfied"
    NOT_SATISFIED = "not_satisfied"


VERDICT_LABELS = {Verdict.SATISFIED: "satisfied", Verdict.NOT_SATISFIED: "not satisfied"}


class CaseOpen(InputModel):
    model_config = ConfigDict(extra="forbid")

    customer_id: int = Field(ge=1, description="The customer who was let down.")
    summary: Text = Field(description="What went wrong, in their words if possible.")
    priority: Priority = Field(default=Priority.NORMAL, description="high or normal.")
    owner_id: int | None = Field(
        default=None, ge=1, description="Who puts it right (a user id); the one who opens it if left out."
    )
    reported_at: datetime | None = Field(
        default=None, description="When the customer told us; now if left out (never a time to come)."
    )


class CaseUpdate(InputModel):
    """Only the fields sent change; ``owner_id: null`` leaves the case to nobody."""

    model_config = ConfigDict(extra="forbid")

    priority: Priority | None = None
    owner_id: int | None = Field(default=None, ge=1)


class ActionCreate(InputModel):
    """Something done for the customer; an exception granted names the strategy's key and its cost."""

    model_config = ConfigDict(extra="forbid")

    text: Text = Field(description="What was done.", examples=["Sent a replacement by courier"])
    exception: str | None = Field(
        default=None,
        max_length=KEY_MAX,
        description="The key of the strategy's exception granted (`refund`), if one was.",
    )
    cost: float | None = Field(
        default=None, ge=0, le=AMOUNT_MAX, description="What the exception costs, in the configured currency."
    )

    @field_validator("exception")
    @classmethod
    def _key(cls, value: str | None) -> str | None:
        return value.strip().lower() or None if value is not None else None

    @model_validator(mode="after")
    def _both_or_neither(self) -> ActionCreate:
        if self.cost is not None and not math.isfinite(self.cost):
            raise ValueError("the cost must be an amount")
        if self.exception is not None and self.cost is None:
            raise ValueError(f"say what the exception '{self.exception}' costs (0 if nothing)")
        if self.cost is not None and self.exception is None:
            raise ValueError("a cost belongs to an exception: name the exception granted")
        return self


class CaseClose(InputModel):
    model_config = ConfigDict(extra="forbid")

    resolution: Text = Field(description="How it was put right.")
    verdict: Verdict = Field(description="The customer's verdict: satisfied or not_satisfied.")


class ActionOut(BaseModel):
    id: int
    case_id: int
    at: datetime
    by: str | None = Field(description="Who did it (null for the operator at the CLI).")
    by_email: str
    role: str = Field(description="Their role then: the limit that applied is that role's.")
    text: str
    exception: str | None
    exception_label: str | None
    cost: float | None
    limit: float | None = Field(description="The role's limit for the exception in the strategy then.")
    strategy_version: int | None


class CaseOut(BaseModel):
    id: int
    customer_id: int
    customer_name: str
    summary: str
    source: CaseSource
    event_id: str | None = Field(description="The complaint or return event it was opened from.")
    priority: Priority
    status: CaseStatus
    owner_id: int | None
    owner: str | None = Field(description="Who puts it right; null while nobody has taken it.")
    opened_by: str | None
    reported_at: datetime = Field(description="When the customer told us: the clock starts here.")
    opened_at: datetime
    target_at: datetime = Field(description="reported_at plus the strategy's hours for its priority.")
    overdue: bool = Field(description="Open past its target time.")
    closed_at: datetime | None
    closed_by: str | None
    resolution: str
    verdict: Verdict | None
    hours_to_recover: float | None = Field(description="From reported_at to closed_at, once closed.")
    exceptions_cost: float = Field(description="What the exceptions granted on it cost, in all.")


class CaseDetail(CaseOut):
    actions: list[ActionOut] = Field(description="Oldest first.")


class CasePage(BaseModel):
    items: list[CaseOut] = Field(
        description="Open first (high priority, then the longest waiting), then closed."
    )
    total: int
    open: int = Field(description="Of the matching cases, how many are open.")
    overdue: int = Field(description="Of the open ones, how many are past their target.")
    scope: str = Field(description="Whose cases: every team, a team, yours, or one customer's.")
    offset: int
    limit: int


class SyncReport(BaseModel):
    since: datetime | None
    events: int = Field(description="Complaint and return events read.")
    opened: int = Field(description="Cases opened now, one per event that had none.")
    had_a_case: int = Field(description="Events that had a case already.")
    flushed: int = Field(description="API events moved into the dataset first.")
    case_ids: list[int] = Field(description="The cases opened, in the order of their events.")


class Cohort(BaseModel):
    """A group of customers and how many bought again within the window after their anchor moment."""

    customers: int = Field(description="Customers in the group.")
    measured: int = Field(description="Of them, those whose whole window has passed.")
    purchased: int = Field(description="Of the measured, those with a purchase event in their window.")
    share: float | None = Field(description="purchased / measured; null when none is measured.")


class Retention(BaseModel):
    """Retention after recovery against comparable customers without it (docs/customer-service.md)."""

    days: int = Field(description="The window after the anchor moment, in days.")
    recovered: Cohort = Field(
        description="Customers with a case closed in the period; anchor: their last close in it."
    )
    recovered_satisfied: Cohort = Field(
        description="Of those, the ones whose last case closed with the verdict satisfied."
    )
    without_case: Cohort = Field(
        description="Customers with a complaint in the period and no recovery case reported in it; anchor: "
        "their last complaint in it."
    )
    difference: float | None = Field(description="recovered.share - without_case.share (share points / 100).")


class RecoveryMeasures(BaseModel):
    start: date
    end: date
    as_of: datetime
    scope: str = Field(description="Whose cases: every team, a team, or yours.")
    reported: int = Field(description="Cases whose customer told us in the period.")
    closed: int = Field(description="Cases closed in the period: what the rest measures.")
    satisfied: int = Field(description="Of the closed, those with the verdict satisfied.")
    recovery_rate: float | None = Field(description="satisfied / closed.")
    within_target: int = Field(description="Of the closed, those closed by their target time.")
    median_hours: float | None = Field(description="Median time to recover of the closed, in hours.")
    p90_hours: float | None = Field(description="90th percentile of the time to recover, in hours.")
    exceptions: int = Field(description="Exceptions granted on the closed cases.")
    exceptions_cost: float = Field(description="What they cost, in all.")
    open_now: int
    overdue_now: int
    retention: Retention | None = Field(description="Null when not asked for (it reads the events).")
