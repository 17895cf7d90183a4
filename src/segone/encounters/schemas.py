"""What the encounters domain takes in and gives out."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator

from segone.channels import Channel
from segone.clock import as_utc
from segone.inputs import InputModel
from segone.knowledge.facts.schemas import MAX_ID


class NewFact(InputModel):
    text: str = Field(min_length=1, max_length=2000)
    category: str = Field(min_length=1, max_length=60)
    confidence: float = Field(default=0.8, ge=0.0, le=1.0)

    @field_validator("text")
    @classmethod
    def _text(cls, value: str) -> str:
        value = " ".join(value.split())
        if not value:
            raise ValueError("the text may not be blank")
        return value


class EncounterCreate(InputModel):
    # A misspelt field is refused rather than dropped: "acknowledged" for "acknowledge" must not pass
    # as an encounter that showed the customer nothing.
    model_config = ConfigDict(extra="forbid")

    channel: Channel
    occurred_at: datetime | None = Field(
        default=None,
        description="Defaults to now; not in the future (beyond a few minutes of clock skew) and not "
        "before the configured earliest day (SEGONE_ENCOUNTER_DATE_FLOOR, 1900-01-01 by default).",
    )
    duration_minutes: int | None = Field(default=None, ge=0, le=24 * 60)
    notes: str = Field(default="", max_length=20000)
    cares_about: str = Field(default="", max_length=2000)
    worries_about: str = Field(default="", max_length=2000)
    listening_share: float | None = Field(
        default=None,
        ge=0.0,
        le=1.0,
        description="Share of the time spent listening and asking, vs talking about our products.",
    )
    facts: list[NewFact] = Field(
        default_factory=list, description="Differentiators learned in this encounter."
    )
    acknowledge: list[Annotated[int, Field(ge=1, le=MAX_ID)]] = Field(
        default_factory=list,
        max_length=1000,
        description="Ids of the customer's current differentiators shown to them in this encounter: each "
        "is acknowledged with it. Any other id refuses the encounter, naming the ids.",
    )

    _occurred_at = field_validator("occurred_at")(as_utc)


class EncounterOut(BaseModel):
    id: int
    customer_id: int
    employee: str | None = Field(description="The e-mail of the employee who held it.")
    employee_name: str | None = Field(
        default=None, description="Their name (their e-mail when they have none)."
    )
    channel: Channel
    occurred_at: datetime
    duration_minutes: int | None
    notes: str
    cares_about: str
    worries_about: str
    listening_share: float | None
    differentiator_ids: list[int]
    created_at: datetime


class NoteSearchHit(BaseModel):
    """An encounter whose notes a full-text search found (``service.note_hits``); ``segone.search``
    composes these."""

    id: int
    customer_id: int = Field(description="The customer record it is on (not followed through merges).")
    channel: str
    snippet: str = Field(
        description="An extract with each matched word between the marks of storage.fulltext."
    )
    score: float = Field(description="Relevance: higher is better; comparable within one search.")
    matched_all_terms: bool
    occurred_at: datetime
