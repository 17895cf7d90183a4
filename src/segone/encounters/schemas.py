"""What the encounters domain takes in and gives out."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field, field_validator

from segone.channels import Channel
from segone.clock import as_utc


class NewFact(BaseModel):
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


class EncounterCreate(BaseModel):
    channel: Channel
    occurred_at: datetime | None = Field(default=None, description="Defaults to now.")
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

    _occurred_at = field_validator("occurred_at")(as_utc)


class EncounterOut(BaseModel):
    id: int
    customer_id: int
    employee: str | None
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
