"""What the self-assessment reads as, month by month."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class Month(BaseModel):
    month: str = Field(description="YYYY-MM; values are as at the end of the month.")
    customers: int
    known_share: float = Field(description="Share of customers we know at least one fact about.")
    facts_per_customer: float
    categories_per_customer: float = Field(description="Distinct categories known, per customer with a fact.")
    recognition_ratio: float | None
    contributors_share: float | None = Field(
        description="Share of today's active employees who recorded a fact in the month."
    )
    listening_share: float | None = Field(description="Mean listening share of the month's encounters.")


class RefreshPoint(BaseModel):
    at: datetime
    customers: int
    segments_of_one: int
    distribution: dict[str, int]


class TeamRecognition(BaseModel):
    team: str = Field(description="The team of the employees who learned the facts; 'No team' for the rest.")
    facts: int = Field(description="Current facts its members learned.")
    acknowledged: int
    ratio: float | None


class Assessment(BaseModel):
    months: list[Month]
    teams: list[TeamRecognition] = Field(description="Recognition ratio of the facts each team learned.")
    fresh_share: float | None = Field(description="Current facts confirmed within the freshness months.")
    freshness_months: int
    refreshes: list[RefreshPoint]
