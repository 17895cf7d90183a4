"""What a search takes in and gives out."""

from __future__ import annotations

import enum
from datetime import datetime

from pydantic import BaseModel, Field

from segone.storage.fulltext import MARK_END, MARK_START

SEARCH_MARK_START = MARK_START  # ⟦ before each matched word in a snippet
SEARCH_MARK_END = MARK_END  # ⟧ after it


class SearchKind(enum.StrEnum):
    DIFFERENTIATOR = "differentiator"
    ENCOUNTER = "encounter"


class SearchHit(BaseModel):
    kind: SearchKind
    id: int = Field(description="The differentiator's or the encounter's id.")
    customer_id: int = Field(description="The customer it is about (the survivor, after a merge).")
    customer_name: str
    category: str | None = Field(description="A differentiator's category; null for an encounter.")
    category_label: str | None
    channel: str | None = Field(description="An encounter's channel (or where a fact was learned).")
    snippet: str = Field(
        description=(
            "A short extract with each matched word between '\u27e6' and '\u27e7' (plain text: escape it "
            "before putting it into HTML, then turn the marks into <mark>)."
        )
    )
    score: float = Field(description="Relevance: higher is better; comparable within one search.")
    matched_all_terms: bool = Field(description="Every search term (or its stem) occurs in it.")
    outdated: bool = Field(description="A differentiator that is no longer true.")
    date: datetime = Field(description="When the fact was learned, or when the encounter happened.")


class SearchPage(BaseModel):
    query: str
    terms: list[str] = Field(description="The words searched for, after dropping common words.")
    kind: SearchKind | None
    include_outdated: bool
    offset: int
    limit: int
    total: int = Field(
        description=(
            "Matches ranked for this page: at most 250 of each kind among those holding every word, and "
            "as many among those holding some words when the first group does not fill the page."
        )
    )
    more: bool = Field(description="More matches follow this page.")
    hits: list[SearchHit]
