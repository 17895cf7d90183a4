"""The distinguishability of a customer: rarity of each fact, look-alikes, gaps, the next question."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from segone.knowledge.facts.schemas import RecognitionOut


class FactInsight(BaseModel):
    id: int
    text: str
    category: str
    category_label: str
    acknowledged: bool
    trait: str | None = Field(description="The trait the fact belongs to, in its most frequent wording.")
    trait_id: int | None = Field(
        default=None,
        description="The trait's id (the segmentation variable trait:ID); null until the next refresh.",
    )
    holders: int | None = Field(description="Customers holding the trait; null until the next refresh.")
    population: int | None = Field(
        description="Customers we know something about in the fact's category (at least one current fact "
        "in it) at the last refresh: the denominator of rarity."
    )
    rarity: float | None = Field(description="holders / population.")
    rare: bool
    stale: bool = Field(description="Not confirmed for the configured number of months.")
    last_confirmed_at: datetime


class LookAlike(BaseModel):
    id: int
    name: str


class Question(BaseModel):
    key: str = Field(description="A fact category, or attribute:<name> for a customer detail.")
    label: str
    prompt: str
    expected_look_alikes: float = Field(description="Look-alikes expected to remain after the answer.")


class Gap(BaseModel):
    category: str
    label: str
    prompt: str


class KnowledgeOut(BaseModel):
    customer_id: int
    refreshed_at: datetime | None
    distinguishability: int | None = Field(
        description="Customers holding every trait we know of this one (itself too); 1 = a segment of one."
    )
    look_alikes: list[LookAlike]
    recognition: RecognitionOut
    facts: list[FactInsight]
    stale_facts: int
    gaps: list[Gap]
    next_question: Question | None
    show_them_you_know: list[int] = Field(description="Rare facts the customer has not been shown we know.")


class FactTraitOut(BaseModel):
    """A trait of the last knowledge refresh grouped from facts: several wordings of one fact, as held by
    several customers ("Opening a second store")."""

    id: int = Field(description="The trait's id in the last refresh (a new refresh numbers them anew).")
    label: str = Field(description="The fact in its most frequent wording.")
    category: str
    holders: int = Field(description="Customers holding it at the last refresh.")
