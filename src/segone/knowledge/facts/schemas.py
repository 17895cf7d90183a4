"""What the knowledge domain takes in and gives out."""

from __future__ import annotations

import enum
from datetime import datetime

from pydantic import BaseModel, Field, field_validator

from segone.channels import Channel
from segone.clock import as_utc
from segone.inputs import InputModel

MAX_ID = 2**31 - 1  # ids are 32-bit integers on PostgreSQL


class DifferentiatorStatus(enum.StrEnum):
    CURRENT = "current"
    OUTDATED = "outdated"


def _clean_text(value: str) -> str:
    value = " ".join(value.split())
    if not value:
        raise ValueError("the text may not be blank")
    return value


class DifferentiatorCreate(InputModel):
    text: str = Field(min_length=1, max_length=2000)
    category: str = Field(min_length=1, max_length=60)
    learned_at: datetime | None = Field(default=None, description="Defaults to now.")
    encounter_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    channel: Channel | None = None
    confidence: float = Field(default=0.8, ge=0.0, le=1.0, description="How sure we are, 0 to 1.")

    _text = field_validator("text")(_clean_text)
    _learned_at = field_validator("learned_at")(as_utc)


class DifferentiatorUpdate(InputModel):
    text: str | None = Field(default=None, min_length=1, max_length=2000)
    category: str | None = Field(default=None, min_length=1, max_length=60)
    confidence: float | None = Field(default=None, ge=0.0, le=1.0)
    confirmed: bool = Field(default=False, description="True re-confirms that the fact still holds.")
    version: int | None = Field(
        default=None,
        ge=1,
        le=MAX_ID,
        description="The version the change was made from (or send it as `If-Match`): if the fact has "
        "changed since, nothing is changed and the answer is 409 with the current version. Left out, the "
        "change is made whatever the version (the last writer wins).",
    )

    @field_validator("text")
    @classmethod
    def _text(cls, value: str | None) -> str | None:
        return None if value is None else _clean_text(value)


class OutdateRequest(InputModel):
    replacement: str | None = Field(
        default=None,
        max_length=2000,
        description="What is true now, if known; added as a new fact.",
    )


class AcknowledgeRequest(InputModel):
    encounter_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    how: str = Field(default="", max_length=500, description="e.g. 'mentioned their new store'.")


class AcknowledgementOut(BaseModel):
    acknowledged_at: datetime
    acknowledged_by: str | None = Field(description="The e-mail of the user who acknowledged it.")
    acknowledged_by_name: str | None = Field(
        default=None, description="Their name (their e-mail when they have none)."
    )
    encounter_id: int | None
    message_id: int | None = Field(
        default=None, description="The message that showed it to them, when a message did."
    )
    how: str


class DifferentiatorOut(BaseModel):
    id: int
    customer_id: int
    text: str
    category: str
    category_label: str
    learned_by: str | None = Field(description="The e-mail of the employee who learned it.")
    learned_by_name: str | None = Field(
        default=None, description="Their name (their e-mail when they have none)."
    )
    learned_at: datetime
    encounter_id: int | None
    channel: str | None
    confidence: float
    status: DifferentiatorStatus
    outdated_at: datetime | None
    replaced_by_id: int | None
    last_confirmed_at: datetime
    acknowledgement: AcknowledgementOut | None
    version: int = Field(description="Raised by every change; send it back with an edit (`version`).")


class OutdateOut(BaseModel):
    outdated: DifferentiatorOut = Field(description="The fact as it is now: outdated.")
    replacement: DifferentiatorOut | None = Field(
        description="The new fact holding what is true now, when a replacement was given."
    )


class RecognitionOut(BaseModel):
    current: int
    acknowledged: int
    ratio: float | None = Field(description="acknowledged / current; null when nothing is known yet")


class FactSearchHit(BaseModel):
    """A fact found by a full-text search (``service.fact_hits``); ``segone.search`` composes these."""

    id: int
    customer_id: int = Field(description="The customer record the fact is on (not followed through merges).")
    category: str
    channel: str | None
    snippet: str = Field(
        description="An extract with each matched word between the marks of storage.fulltext."
    )
    score: float = Field(description="Relevance: higher is better; comparable within one search.")
    matched_all_terms: bool
    outdated: bool
    learned_at: datetime
