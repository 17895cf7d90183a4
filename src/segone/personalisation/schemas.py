"""What the personalisation domain takes in and gives out: offerings, their price bands and needs, and the
report of a catalogue import.

A price band is one of three ordered bands (``PriceBand``), not free text, so that matching can compare
them; their words carry the configured currency (``price_band_label``). A CSV cell may name a band by its
value (``under_50``) or by its words with any currency symbol (``under $50``, ``50-200``, ``200+``).
"""

from __future__ import annotations

import enum
import re
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from segone import formatting
from segone.importing import ImportReport
from segone.inputs import InputModel, Name
from segone.personalisation import rules

KEY_MAX = 300  # the events' offering column holds as much
NAME_MAX = 300
DESCRIPTION_MAX = 5000
NEED_MAX = 100
NEEDS_MAX = 30
ATTRIBUTE_NAME_MAX = 100
ATTRIBUTE_VALUE_MAX = 2000

# A key travels in URLs (/offerings/{key}) and in event files: no slash, no control characters, no
# spaces at its ends.
_KEY = re.compile(r"^[^\s/\x00-\x1f\x7f](?:[^/\x00-\x1f\x7f]*[^\s/\x00-\x1f\x7f])?$")


class PriceBand(enum.StrEnum):
    UNDER_50 = "under_50"
    FROM_50_TO_200 = "50_200"
    FROM_200 = "200_plus"


# The bands in words without a currency symbol, as a CSV cell may name them (see parse_price_band).
_BAND_WORDS = {
    "under50": PriceBand.UNDER_50,
    "<50": PriceBand.UNDER_50,
    "50-200": PriceBand.FROM_50_TO_200,
    "50200": PriceBand.FROM_50_TO_200,
    "200+": PriceBand.FROM_200,
    "over200": PriceBand.FROM_200,
    "200plus": PriceBand.FROM_200,
}


def price_band_label(band: PriceBand | str | None, currency: str) -> str:
    """``under $50``, ``$50-200`` (an en dash), ``$200+`` in ``currency``; a dash for none."""
    if band is None:
        return formatting.NO_VALUE
    fifty = formatting.money(50, currency, whole=True)
    two_hundred = formatting.money(200, currency, whole=True)
    return {
        PriceBand.UNDER_50: f"under {fifty}",
        PriceBand.FROM_50_TO_200: f"{fifty}\u2013200",
        PriceBand.FROM_200: f"{two_hundred}+",
    }[PriceBand(band)]


def parse_price_band(text: str) -> PriceBand | None:
    """A band from its value or its words (``under $50``, ``€50-200``, ``200+``); None for an empty cell.

    Raises ValueError naming the bands.
    """
    raw = text.strip()
    if not raw:
        return None
    if raw.lower() in {band.value for band in PriceBand}:
        return PriceBand(raw.lower())
    words = re.sub(r"[^a-z0-9+<-]", "", raw.lower().replace("\u2013", "-").replace("_", ""))
    band = _BAND_WORDS.get(words)
    if band is None:
        raise ValueError(
            f"'{raw}' is not a price band; use under_50, 50_200 or 200_plus (or 'under $50', '$50-200', "
            "'$200+')"
        )
    return band


def check_key(value: str) -> str:
    """A key as stored; raises ValueError saying what is wrong."""
    value = value.strip()
    if not value:
        raise ValueError("the key is empty; every offering needs one")
    if len(value) > KEY_MAX:
        raise ValueError(f"the key is {len(value)} characters long; at most {KEY_MAX}")
    if not _KEY.match(value):
        raise ValueError(f"'{value}' is not a key: it may hold no '/' and no control characters")
    return value


def clean_needs(values: list[str]) -> list[str]:
    """Needs as stored: lower case, spaces collapsed, each once, in the order given."""
    needs: list[str] = []
    for value in values:
        need = " ".join(value.split()).lower()
        if not need:
            continue
        if len(need) > NEED_MAX:
            raise ValueError(f"the need '{need[:40]}…' is {len(need)} characters long; at most {NEED_MAX}")
        if need not in needs:
            needs.append(need)
    if len(needs) > NEEDS_MAX:
        raise ValueError(f"{len(needs)} needs; at most {NEEDS_MAX}")
    return needs


def check_attributes(values: dict[str, Any]) -> dict[str, Any]:
    """Text, numbers or true/false by name (no lists or objects: a CSV cell could not hold them); the
    rules ``repeatable`` and ``eligible_if`` must be readable (``rules``)."""
    checked: dict[str, Any] = {}
    for name, value in values.items():
        key = name.strip()
        if not key or len(key) > ATTRIBUTE_NAME_MAX:
            raise ValueError(f"an attribute name must be 1 to {ATTRIBUTE_NAME_MAX} characters long")
        if isinstance(value, str) and len(value) > ATTRIBUTE_VALUE_MAX:
            raise ValueError(f"the attribute '{key}' is longer than {ATTRIBUTE_VALUE_MAX} characters")
        if value is not None and not isinstance(value, str | int | float | bool):
            raise ValueError(f"the attribute '{key}' must be text, a number or true/false")
        if value is not None:
            checked[key] = value
    rules.check(checked)
    return checked


class OfferingCreate(InputModel):
    key: str = Field(
        max_length=KEY_MAX,
        description="Stable and unique: the value events carry in their `offering` field, e.g. "
        "`guitar-lessons-10`. No `/`.",
    )
    name: Name = Field(max_length=NAME_MAX)
    description: str = Field(default="", max_length=DESCRIPTION_MAX)
    attributes: dict[str, Any] = Field(
        default_factory=dict, description='Text, numbers or true/false by name, e.g. {"lessons": 10}.'
    )
    price_band: PriceBand | None = Field(default=None, description="under_50, 50_200 or 200_plus.")
    needs: list[str] = Field(
        default_factory=list,
        description="The needs it serves, as short tags: ['learn an instrument']; stored in lower case.",
    )
    active: bool = True

    _key = field_validator("key")(check_key)
    _needs = field_validator("needs")(clean_needs)
    _attributes = field_validator("attributes")(check_attributes)

    @field_validator("name")
    @classmethod
    def _strip_name(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise ValueError("the name may not be blank")
        return value


class OfferingUpdate(InputModel):
    """Only the fields sent change, and a field sent as null does not (except `price_band`, which null
    clears); the key never changes (events name it)."""

    name: Name | None = Field(default=None, max_length=NAME_MAX)
    description: str | None = Field(default=None, max_length=DESCRIPTION_MAX)
    attributes: dict[str, Any] | None = Field(
        default=None, description="The whole set of attributes, replacing the stored one."
    )
    price_band: PriceBand | None = Field(default=None, description="Sent as null: no band.")
    needs: list[str] | None = Field(default=None, description="The whole list, replacing the stored one.")
    active: bool | None = None

    _needs = field_validator("needs")(lambda value: None if value is None else clean_needs(value))
    _attributes = field_validator("attributes")(
        lambda value: None if value is None else check_attributes(value)
    )

    @field_validator("name")
    @classmethod
    def _strip_name(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = value.strip()
        if not value:
            raise ValueError("the name may not be blank")
        return value


class OfferingOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    key: str
    name: str
    description: str
    attributes: dict[str, Any]
    price_band: PriceBand | None
    needs: list[str]
    active: bool
    created_at: datetime
    updated_at: datetime


class OfferingDetail(OfferingOut):
    purchases: int = Field(
        description="Purchase events in the events dataset whose `offering` is this key (each event_id "
        "once); events received through the API count once they are flushed."
    )


class OfferingPage(BaseModel):
    items: list[OfferingOut]
    total: int
    offset: int
    limit: int


class ImportOutcome(enum.StrEnum):
    CREATE = "create"
    UPDATE = "update"
    UNCHANGED = "unchanged"
    BAD = "bad"


class OfferingPreviewRow(BaseModel):
    """One row of the file as the import reads it, and what it does."""

    row: int = Field(description="Line of the file where the row starts.")
    key: str
    name: str
    outcome: ImportOutcome


class OfferingImportReport(ImportReport):
    """What a catalogue import did (or, in a dry run or when rows are bad, would do)."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    attributes: list[str] = Field(
        default_factory=list, description="Columns read as attributes (every column that is no field)."
    )
    preview: list[OfferingPreviewRow] = Field(
        default_factory=list, description="The first rows of the file as they are imported."
    )


class ReasonKind(enum.StrEnum):
    FACT = "fact"
    PURCHASE = "purchase"
    REPEAT = "repeat"


class OfferReasonOut(BaseModel):
    """Why an offering is offered, in the customer's terms, citing what it rests on: one of the
    customer's facts (``fact_id``) or purchase events (``event_id``), never another customer's."""

    kind: ReasonKind = Field(
        description="fact: a fact of theirs fits the offering; purchase: customers who bought what they "
        "bought took it; repeat: they bought it before (a repeatable offering)."
    )
    text: str = Field(description="The reason in words, as said to the customer.")
    fact_id: int | None = Field(default=None, description="The customer's fact it cites.")
    event_id: str | None = Field(default=None, description="The customer's purchase event it cites.")
    offering: str | None = Field(default=None, description="The key of the offering that purchase bought.")
    at: datetime | None = Field(default=None, description="When the fact was learned, the purchase made.")


class OfferScores(BaseModel):
    """The parts of an offer's score, each between 0 and 1 (docs/personalisation.md, "Matching")."""

    collaborative: float = Field(description="What customers who bought alike went on to buy (ALS).")
    content: float = Field(description="How well the offering fits the customer's facts (cosine).")
    popularity: float = Field(description="Buyers of the offering over the most bought one's.")


class RecommendationOut(BaseModel):
    rank: int = Field(description="Its place in the customer's list, 1 first.")
    offering: OfferingOut
    score: float = Field(description="The blend of the parts by the configured weights.")
    scores: OfferScores
    reasons: list[OfferReasonOut]


class CustomerOffers(BaseModel):
    """The offers stored for a customer by the last refresh, best first."""

    customer_id: int
    run_id: int | None = Field(description="The refresh they come from; null before the first.")
    computed_at: datetime | None = Field(description="When that refresh finished.")
    items: list[RecommendationOut]


class RecommendationRunOut(BaseModel):
    """One refresh of every customer's offers."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    status: str = Field(description="running, done or failed.")
    started_at: datetime
    finished_at: datetime | None
    customers: int | None = Field(description="Customers given at least one offer.")
    recommendations: int | None
    offerings: int | None = Field(description="Active offerings.")
    purchases: int | None = Field(description="Purchase events naming an offering of a known customer.")
    facts: int | None = Field(description="Current facts of known customers read.")
    settings: dict[str, Any] = Field(description="The blend's weights and the models' settings.")
    seconds: dict[str, Any]
    message: str | None = Field(
        description="Notes (an audience a rule names that does not exist), or why it failed."
    )


class MethodFigures(BaseModel):
    method: str = Field(description="blend, or popularity (the baseline).")
    precision: float = Field(description="Mean precision@k: offers taken out of k.")
    recall: float = Field(description="Mean recall@k: of the offerings they took, the share offered.")
    map: float = Field(description="MAP@k: mean average precision at k.")
    coverage: float = Field(description="Share of the active offerings offered to at least one customer.")


class EvaluationOut(BaseModel):
    """How well the offers of the purchases before the holdout foretold the purchases in it."""

    holdout_days: int
    k: int
    cutoff: datetime = Field(description="Purchases after this moment are hidden and foretold.")
    end: datetime = Field(description="The latest purchase naming an offering.")
    training_purchases: int
    holdout_purchases: int
    customers_with_holdout: int = Field(
        description="Customers who took, in the holdout, an offering they could be offered at the cutoff."
    )
    customers_evaluated: int = Field(
        description="Of those, the customers we knew something of at the cutoff (a purchase or a fact)."
    )
    offerings: int = Field(description="Active offerings.")
    methods: list[MethodFigures]
    lift: dict[str, float | None] = Field(
        description="The blend over popularity, per figure (1.5 = 50% better); null when popularity is 0."
    )


class AdviceRequest(InputModel):
    """A question about our offerings, asked for one customer ("which plan suits me?")."""

    model_config = ConfigDict(extra="forbid")

    question: str = Field(
        min_length=1, max_length=500, description="In the customer's words, up to 500 characters."
    )

    @field_validator("question")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        value = " ".join(value.split())
        if not value:
            raise ValueError("the question is empty")
        return value


class AdviceVerdict(enum.StrEnum):
    FITS = "fits"
    DEPENDS = "depends"
    HAS_IT = "has_it"
    NOT_FOR_THEM = "not_for_them"

    @property
    def label(self) -> str:
        return {
            "fits": "fits them",
            "depends": "it depends",
            "has_it": "they have it",
            "not_for_them": "not for them",
        }[self.value]


class AdviceOption(BaseModel):
    """One offering the question is about, judged for this customer."""

    offering: OfferingOut
    verdict: AdviceVerdict = Field(
        description="fits: a fact or purchase of theirs speaks for it; depends: nothing we know of them "
        "speaks for or against it (see `ask`); has_it: they bought it and it is not repeatable; "
        "not_for_them: not offered any more, or a rule of the catalogue leaves them out."
    )
    reasons: list[OfferReasonOut] = Field(description="Each citing one of their facts or purchase events.")
    caveats: list[str] = Field(description="What speaks against it or limits it, in words.")
    ask: str | None = Field(description="What to ask them first when the verdict is depends.")
    relevance: float = Field(description="How alike the offering is to the question (0 to 1).")


class Advice(BaseModel):
    """ "It depends": the answer to a question about our offerings, for one customer."""

    customer_id: int
    question: str
    answer: str = Field(description="The answer's first sentence.")
    asked_about_none: bool = Field(
        description="True when the question named none of our offerings: the options are their stored offers."
    )
    options: list[AdviceOption]
