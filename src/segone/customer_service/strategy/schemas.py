"""What the service strategy takes in and gives out.

The strategy has two kinds of statements: the **core service** (what customers get) and the **service
experience** (how they feel), each a short list the front line reads on its home page and in the briefing.
Its **exceptions** are what front-line staff may grant without asking (a refund, a replacement at no
charge, free delivery), each with a limit in money per role. Roles are cumulative, so a role without a
limit of its own has the limit of the nearest role below it that has one, and a role with none at or below
it may grant nothing without asking (limit 0). The **target times** say how soon a recovery case of each
priority should be put right.
"""

from __future__ import annotations

import enum
import math
import re
from datetime import datetime
from typing import Annotated

from pydantic import ConfigDict, Field, StringConstraints, field_validator, model_validator

from segone.accounts.schemas import Role
from segone.inputs import InputModel, Name

STATEMENT_MAX = 300
STATEMENTS_MAX = 20
EXCEPTIONS_MAX = 30
LABEL_MAX = 200
KEY_MAX = 60
NOTE_MAX = 1000
AMOUNT_MAX = 1_000_000_000.0
HOURS_MAX = 24 * 365
DEFAULT_TARGET_HOURS_HIGH = 24
DEFAULT_TARGET_HOURS_NORMAL = 72
_KEY = re.compile(r"^[a-z][a-z0-9-]*$")

Statement = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=STATEMENT_MAX)]


class Priority(enum.StrEnum):
    """A recovery case's priority: high ones are put right first, and sooner."""

    HIGH = "high"
    NORMAL = "normal"


class ExceptionRule(InputModel):
    """Something front-line staff may grant without asking, up to a limit per role."""

    model_config = ConfigDict(extra="forbid")

    key: str = Field(
        min_length=1,
        max_length=KEY_MAX,
        description="How actions name it: lower case letters, digits and hyphens (`refund`).",
        examples=["refund"],
    )
    label: Name = Field(max_length=LABEL_MAX, description="What people call it.")
    limits: dict[Role, float] = Field(
        default_factory=dict,
        description="The most it may cost per case, in the configured currency, by role; a role left out "
        "has the limit of the nearest role below it, and 0 when none below has one.",
        examples=[{"frontline": 50, "manager": 500}],
    )

    @field_validator("key")
    @classmethod
    def _key(cls, value: str) -> str:
        value = value.strip()
        if not _KEY.match(value):
            raise ValueError(f"'{value}' is not a key: use lower case letters, digits and hyphens (refund)")
        return value

    @field_validator("label")
    @classmethod
    def _label(cls, value: str) -> str:
        value = " ".join(value.split())
        if not value:
            raise ValueError("the label may not be blank")
        return value

    @field_validator("limits")
    @classmethod
    def _limits(cls, value: dict[Role, float]) -> dict[Role, float]:
        for role, amount in value.items():
            if not math.isfinite(amount) or amount < 0 or amount > AMOUNT_MAX:
                raise ValueError(f"the {role.value} limit must be an amount from 0 to {AMOUNT_MAX:,.0f}")
        return {role: float(value[role]) for role in Role if role in value}

    def limit_for(self, role: Role) -> float:
        """The role's limit: its own, else the nearest lower role's, else 0 (nothing without asking)."""
        ranks = list(Role)
        for lower in reversed(ranks[: ranks.index(role) + 1]):
            if lower in self.limits:
                return self.limits[lower]
        return 0.0


class StrategyIn(InputModel):
    """The whole strategy as an administrator sets it: every field replaces the one in force."""

    model_config = ConfigDict(extra="forbid")

    core_service: list[Statement] = Field(
        default_factory=list,
        max_length=STATEMENTS_MAX,
        description="What customers get: statements the front line reads, in this order.",
        examples=[["We provide and support quality solutions.", "We make promises and always keep them."]],
    )
    service_experience: list[Statement] = Field(
        default_factory=list,
        max_length=STATEMENTS_MAX,
        description="How customers feel: statements the front line reads, in this order.",
        examples=[["We are easy to do business with.", "We care.", "Recovery is our #1 priority."]],
    )
    exceptions: list[ExceptionRule] = Field(
        default_factory=list,
        max_length=EXCEPTIONS_MAX,
        description="What front-line staff may grant without asking, with limits per role.",
    )
    target_hours_high: int = Field(
        default=DEFAULT_TARGET_HOURS_HIGH,
        ge=1,
        le=HOURS_MAX,
        description="Hours from the customer's report to putting a high-priority case right.",
    )
    target_hours_normal: int = Field(
        default=DEFAULT_TARGET_HOURS_NORMAL,
        ge=1,
        le=HOURS_MAX,
        description="Hours from the customer's report to putting a normal case right.",
    )
    note: str = Field(default="", max_length=NOTE_MAX, description="Why it changed, for the history.")

    @model_validator(mode="after")
    def _consistent(self) -> StrategyIn:
        keys = [rule.key for rule in self.exceptions]
        twice = sorted({key for key in keys if keys.count(key) > 1})
        if twice:
            raise ValueError(f"each exception once: {', '.join(twice)} is named twice")
        if self.target_hours_high > self.target_hours_normal:
            raise ValueError(
                f"high priority may not wait longer than normal ({self.target_hours_high} hours against "
                f"{self.target_hours_normal})"
            )
        self.note = self.note.strip()
        return self

    def exception(self, key: str) -> ExceptionRule | None:
        return next((rule for rule in self.exceptions if rule.key == key), None)

    def target_hours(self, priority: Priority) -> int:
        return self.target_hours_high if priority == Priority.HIGH else self.target_hours_normal


class StrategyOut(StrategyIn):
    """The strategy in force: its version (0 before an administrator first sets one) and who set it."""

    version: int = Field(description="1 for the first strategy set; 0 while none is on record.")
    on_record: bool = Field(description="False until an administrator sets the first strategy.")
    changed_at: datetime | None
    changed_by: str | None = Field(description="Who set this version (null for the operator at the CLI).")


class StrategyVersionOut(StrategyOut):
    """A version of the strategy and what it changed from the one before."""

    changed: list[str] = Field(description="The fields that differ from the version before.")
