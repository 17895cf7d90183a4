"""What the messages take in and give out: templates by purpose, drafts with the facts they reveal and
their "about them" check, and messages marked sent."""

from __future__ import annotations

import enum
from datetime import datetime

from pydantic import BaseModel, Field, field_validator

from segone.clock import as_utc
from segone.inputs import InputModel

MAX_ID = 2**31 - 1  # ids are 32-bit integers on PostgreSQL
TEMPLATE_MAX = 20_000
TEXT_MAX = 20_000
FACTS_MAX = 100


class Purpose(enum.StrEnum):
    """What a message is for; each has its own template."""

    FOLLOW_UP = "follow-up"
    OFFER = "offer"
    THANK_YOU = "thank-you"
    RECOVERY = "recovery"
    CHECK_IN = "check-in"

    @property
    def label(self) -> str:
        return _PURPOSE_LABELS[self]


_PURPOSE_LABELS = {
    Purpose.FOLLOW_UP: "Follow-up",
    Purpose.OFFER: "Offer",
    Purpose.THANK_YOU: "Thank-you",
    Purpose.RECOVERY: "Recovery apology",
    Purpose.CHECK_IN: "Check-in",
}


class MessageChannel(enum.StrEnum):
    """How a message reached the customer."""

    EMAIL = "email"
    LETTER = "letter"
    PHONE = "phone"
    IN_PERSON = "in_person"

    @property
    def label(self) -> str:
        return "in person" if self is MessageChannel.IN_PERSON else self.value


class About(enum.StrEnum):
    THEM = "them"
    US = "us"
    NEUTRAL = "neutral"


# ---- templates -------------------------------------------------------------------------------------------


class TemplateProblem(BaseModel):
    """Why a template cannot be used: where (its line) and what."""

    field: str = "template"
    line: int | None = Field(description="The template's line (1 is the first); null when not known.")
    problem: str


class TemplateIn(InputModel):
    template: str = Field(
        max_length=TEMPLATE_MAX,
        description="The template in Jinja2 syntax, rendered in a sandbox: see docs/personalisation.md, "
        "'Messages', for the names it may use.",
    )

    @field_validator("template")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("the template is empty")
        return value.replace("\r\n", "\n")


class TemplateOut(BaseModel):
    purpose: Purpose
    label: str = Field(description="The purpose in words.")
    template: str
    is_default: bool = Field(description="True while the business has not changed segone's default.")
    default_template: str = Field(description="segone's default for this purpose, to go back to.")
    updated_at: datetime | None = Field(
        description="When the business last changed it; null for the default."
    )
    updated_by: str | None = Field(description="Who changed it last (an e-mail); null for the default.")


# ---- drafts ----------------------------------------------------------------------------------------------


class DraftRequest(InputModel):
    purpose: Purpose
    offering: str | None = Field(
        default=None,
        max_length=300,
        description="For an offer: the key of the offering to propose (the template's `offer`).",
    )


class RevealedFact(BaseModel):
    """A fact of the customer a message shows them we know."""

    id: int
    text: str


class SentenceCheck(BaseModel):
    text: str
    about: About
    them: list[str] = Field(default_factory=list, description="The words or facts that are about them.")
    us: list[str] = Field(default_factory=list, description="The words or offerings that are about us.")
    why: str = Field(description="The rule that decided, in words.")


class AboutThemCheck(BaseModel):
    """The "about them, not about us" check of a text (rules: docs/personalisation.md)."""

    sentences: list[SentenceCheck]
    about_them: int
    about_us: int
    neutral: int = Field(description="Greetings, sign-offs and sentences about neither.")
    score: float | None = Field(
        description="about_them / (about_them + about_us), 0 to 1; null when no sentence is about anyone."
    )
    verdict: str


def _fact_ids(values: list[int]) -> list[int]:
    for value in values:
        if not 1 <= value <= MAX_ID:
            raise ValueError(f"{value} is not a fact id")
    return list(dict.fromkeys(values))


class CheckRequest(InputModel):
    """An edited draft to check again before it is sent."""

    text: str = Field(min_length=1, max_length=TEXT_MAX)
    revealed_fact_ids: list[int] = Field(
        default_factory=list,
        max_length=FACTS_MAX,
        description="The facts the draft revealed (its `revealed`).",
    )

    _ids = field_validator("revealed_fact_ids")(_fact_ids)


class CheckOut(BaseModel):
    revealed: list[RevealedFact] = Field(description="Facts of the list the text still mentions.")
    dropped: list[RevealedFact] = Field(
        description="Facts of the list the text no longer mentions: not counted as revealed."
    )
    check: AboutThemCheck


class Draft(CheckOut):
    """A message drafted from the purpose's template, to edit and send."""

    customer_id: int
    customer_name: str
    purpose: Purpose
    offering: str | None = Field(description="The key of the offering proposed, for an offer.")
    text: str
    template_is_default: bool


# ---- messages sent ---------------------------------------------------------------------------------------


class SendRequest(InputModel):
    purpose: Purpose
    text: str = Field(min_length=1, max_length=TEXT_MAX, description="The message as it was sent.")
    channel: MessageChannel
    revealed_fact_ids: list[int] = Field(
        default_factory=list,
        max_length=FACTS_MAX,
        description="The facts the draft revealed; those the text no longer mentions are not acknowledged.",
    )
    sent_at: datetime | None = Field(default=None, description="When it was sent; defaults to now.")
    offering: str | None = Field(default=None, max_length=300, description="For an offer: its key.")

    _sent_at = field_validator("sent_at")(as_utc)
    _ids = field_validator("revealed_fact_ids")(_fact_ids)

    @field_validator("text")
    @classmethod
    def _text(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("the message is empty")
        return value.replace("\r\n", "\n").strip()


class MessageOut(BaseModel):
    id: int
    customer_id: int
    purpose: Purpose
    purpose_label: str
    channel: MessageChannel
    text: str
    offering: str | None
    revealed: list[RevealedFact] = Field(description="The facts the message showed them we know.")
    acknowledged: list[int] = Field(
        description="Of those, the facts this message made known to them (the others were already)."
    )
    score: float | None = Field(description="Its 'about them' score when it was sent.")
    sent_at: datetime
    sent_by: str | None = Field(description="The e-mail of who sent it; null for the operator at the CLI.")
    sent_by_name: str | None


class SentOut(MessageOut):
    dropped: list[RevealedFact] = Field(
        description="Facts of the draft the text no longer mentions: not acknowledged."
    )
    already_known: list[int] = Field(description="Revealed facts they knew we knew already (kept as were).")


class MessageRef(BaseModel):
    """A message as an acknowledgement names it: "through message of 3 Mar 2026 (follow-up)"."""

    id: int
    customer_id: int
    purpose: Purpose
    purpose_label: str
    channel: MessageChannel
    sent_at: datetime
