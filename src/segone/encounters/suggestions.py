"""Fact suggestions: the sentences of an encounter's notes that may be differentiators.

``suggest`` splits the notes, what the customer cares and worries about into sentences, leaves out small
talk and the business of the visit ("Came in for new strings.", "Quote to follow by Friday."), the
sentences already on the customer's easel sheet and those an employee rejected before, and gives each of
the rest a category from the classifier. The employee then confirms one (``confirm``: a differentiator
learned in that encounter, with the text and category as suggested or as edited) or rejects it
(``reject``: remembered, and never proposed again for that customer). A sentence confirmed in other
words is remembered the same way, linked to the fact it became.

A suggestion's id is the SHA-256 of its normalised text, so it stays the same across page views.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from pydantic import BaseModel, Field, field_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from segone.accounts.schemas import Actor, AuditAction, Permission
from segone.accounts.service import record_audit, require
from segone.channels import Channel
from segone.clock import utcnow
from segone.customers import service as customers
from segone.encounters.models import Encounter, RejectedSuggestion
from segone.errors import Conflict, NotFound
from segone.inputs import InputModel
from segone.knowledge.categories.schemas import DEFAULT_CATEGORIES, CategoryList
from segone.knowledge.categories.service import normalise, suggest_category
from segone.knowledge.facts import service as knowledge
from segone.knowledge.facts.schemas import DifferentiatorCreate

MIN_WORDS = 3
MAX_TEXT = 2000

# A sentence ends at . ! ? or a line break, when what follows starts like a new sentence.
_SPLIT = re.compile(r"(?<=[.!?])[\"')\]]*\s+(?=[\"'(\[]?[A-Z0-9£$€])|\n+|\s*[•·]\s*|\s+-\s+(?=[A-Z])")
# How busy notes introduce what was learned: the lead-in is not part of the fact.
_LEAD_IN = re.compile(
    r"^(?:(?:mentioned|told (?:me|us)|came up(?: in conversation)?|worth knowing|note|nb|fyi|apparently|"
    r"by the way|btw|learned|learnt|found out|turns out|said)\s*[:,\u2013\u2014-]\s*|"
    r"(?:mentioned|said|told (?:me|us)|found out|learned|learnt) that\s+)",
    re.IGNORECASE,
)
# Small talk and the business of the contact itself: what they came for, what happens next.
_SMALL_TALK = re.compile(
    r"^(?:hi|hello|hey|thanks|thank you|cheers|bye|good (?:morning|afternoon|evening)|nice to|"
    r"lovely to|great to|how are|ok|okay|no worries)\b|"
    r"\b(?:the weather|rain(?:ing|ed)?|sunny|cold today|hot today)\b|"
    r"^(?:came in|came back to|popped in|browsing|called|rang|returned (?:their|his|her) call|follow-up|"
    r"follow up|e-?mail (?:asking|thread|about)|replied|chat (?:on|about)|asked in chat|site visit|"
    r"meeting with|walked the room|quarterly review|bumped into|left with|will call|no sale|ordered|"
    r"didn'?t push|asked to be told|promised|sent (?:the|them|a|an)|quote to follow|agreed a trial|"
    r"needs sign-off|booked|happy with the service|new caller|sounds like|check for|"
    r"collect(?:ion|ed|ing)? on|picked up|paid|refund(?:ed)?|invoice sent|chase)\b",
    re.IGNORECASE,
)


class Suggestion(BaseModel):
    """A sentence of the encounter that may be a differentiator, with the category we would give it."""

    id: str = Field(description="Stable id of the suggestion: SHA-256 of its normalised text.")
    text: str = Field(description="The fact as it would go on the easel sheet.")
    source: str = Field(description="Where it was heard: notes, cares_about or worries_about.")
    category: str
    category_label: str
    confidence: float = Field(description="How sure the classifier is of the category, 0 to 1.")


class SuggestionConfirm(InputModel):
    id: str = Field(min_length=64, max_length=64, description="The suggestion's id.")
    text: str | None = Field(
        default=None, min_length=1, max_length=MAX_TEXT, description="The text, if edited."
    )
    category: str | None = Field(
        default=None, min_length=1, max_length=60, description="The category, if not the suggested one."
    )

    @field_validator("text")
    @classmethod
    def _text(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = " ".join(value.split())
        if not value:
            raise ValueError("the text may not be blank")
        return value


class SuggestionReject(InputModel):
    id: str = Field(min_length=64, max_length=64, description="The suggestion's id.")


def sentence_id(text: str) -> str:
    return hashlib.sha256(normalise(text).encode()).hexdigest()


def _clean(sentence: str) -> str:
    sentence = " ".join(sentence.split()).strip(" \t-\u2013\u2014\u2022\u00b7")
    previous = None
    while previous != sentence:  # "Mentioned: apparently, ..." loses both lead-ins
        previous = sentence
        sentence = _LEAD_IN.sub("", sentence).strip()
    sentence = sentence.rstrip(".!?;:, ").strip()
    if sentence[:1].islower():
        sentence = sentence[0].upper() + sentence[1:]
    return sentence[:MAX_TEXT]


def sentences(text: str) -> list[str]:
    """The sentences of a text, without lead-ins ('Mentioned: ...') and final punctuation."""
    parts = (_clean(part) for part in _SPLIT.split(text or ""))
    return [part for part in parts if part]


def is_small_talk(sentence: str) -> bool:
    return len(sentence.split()) < MIN_WORDS or bool(_SMALL_TALK.search(sentence))


def _phrase(field: str, value: str) -> list[str]:
    """What they care or worry about, as facts: 'a fair price' -> 'Cares about a fair price'."""
    result = []
    for part in sentences(value):
        if part[:1].isupper() and not part[1:2].isupper() and part.split()[0].lower() in _FRAGMENT_STARTS:
            part = part[0].lower() + part[1:]
        if part[:1].islower() or part.split()[0].lower() in _FRAGMENT_STARTS:
            lead = "Cares about" if field == "cares_about" else "Worried about"
            part = f"{lead} {part[0].lower()}{part[1:]}"
        result.append(part)
    return result


# Words a fragment like "a fair price" or "getting it before the exam" starts with.
_FRAGMENT_STARTS = {
    "a",
    "an",
    "the",
    "their",
    "his",
    "her",
    "our",
    "being",
    "getting",
    "having",
    "not",
    "whether",
    "how",
    "what",
    "when",
    "something",
    "fast",
    "one",
    "kit",
    "cash",
    "noise",
    "downtime",
    "staff",
    "delivery",
    "installation",
    "sound",
    "honest",
    "setting",
    "looking",
}


def _candidates(encounter: Encounter) -> list[tuple[str, str]]:
    """(text, source) of every sentence worth proposing, each once, in the order heard."""
    found: list[tuple[str, str]] = []
    seen: set[str] = set()
    pieces = [(s, "notes") for s in sentences(encounter.notes)]
    pieces += [(s, "cares_about") for s in _phrase("cares_about", encounter.cares_about)]
    pieces += [(s, "worries_about") for s in _phrase("worries_about", encounter.worries_about)]
    for text, source in pieces:
        key = normalise(text)
        if not key or key in seen or (source == "notes" and is_small_talk(text)):
            continue
        if source != "notes" and len(key.split()) < 2:
            continue
        seen.add(key)
        found.append((text, source))
    return found


def _known(db: Session, customer_id: int) -> set[str]:
    """Normalised texts of every fact on the customer's sheet (outdated ones too: not news)."""
    return {normalise(text) for text in knowledge.texts_of(db, customer_id=customer_id)}


def _rejected(db: Session, customer_id: int) -> set[str]:
    """Ids of the sentences rejected in any encounter with this customer."""
    return set(
        db.scalars(
            select(RejectedSuggestion.sentence_hash)
            .join(Encounter, Encounter.id == RejectedSuggestion.encounter_id)
            .where(Encounter.customer_id == customer_id)
        )
    )


def _encounter(db: Session, actor: Actor, encounter_id: int) -> Encounter:
    require(actor, Permission.READ_CUSTOMERS)
    encounter = db.get(Encounter, encounter_id)
    if encounter is None:
        raise NotFound(f"There is no encounter {encounter_id}.")
    return encounter


def suggest(
    db: Session,
    *,
    actor: Actor,
    encounter_id: int,
    categories: CategoryList | None = None,
    data_dir: Path | None = None,
) -> list[Suggestion]:
    """The candidate differentiators heard in an encounter, not yet known and not rejected."""
    categories = categories or CategoryList(DEFAULT_CATEGORIES)
    encounter = _encounter(db, actor, encounter_id)
    customer = customers.get(db, actor=actor, customer_id=encounter.customer_id)
    known, rejected = _known(db, customer.id), _rejected(db, customer.id)
    fresh = [
        (text, source)
        for text, source in _candidates(encounter)
        if normalise(text) not in known and sentence_id(text) not in rejected
    ]
    guesses = suggest_category(
        [text for text, _ in fresh], customer.kind, categories=categories, data_dir=data_dir
    )
    labels = {c.name: c.label for c in categories.all}
    return [
        Suggestion(
            id=sentence_id(text),
            text=text,
            source=source,
            category=category,
            category_label=labels.get(category, category.replace("_", " ")),
            confidence=confidence,
        )
        for (text, source), (category, confidence) in zip(fresh, guesses, strict=True)
    ]


def _find(
    db: Session,
    actor: Actor,
    encounter_id: int,
    suggestion_id: str,
    categories: CategoryList,
    data_dir: Path | None,
) -> Suggestion:
    for suggestion in suggest(
        db, actor=actor, encounter_id=encounter_id, categories=categories, data_dir=data_dir
    ):
        if suggestion.id == suggestion_id:
            return suggestion
    raise NotFound(
        f"Encounter {encounter_id} has no open suggestion {suggestion_id[:12]}…: it may have been confirmed "
        "or rejected already."
    )


def confirm(
    db: Session,
    *,
    actor: Actor,
    encounter_id: int,
    data: SuggestionConfirm,
    categories: CategoryList,
    data_dir: Path | None = None,
) -> knowledge.Differentiator:
    """The suggestion is a fact: it goes on the sheet as learned in the encounter, as edited if it was."""
    require(actor, Permission.ADD_DIFFERENTIATORS)
    suggestion = _find(db, actor, encounter_id, data.id, categories, data_dir)
    encounter = _encounter(db, actor, encounter_id)
    text = data.text or suggestion.text
    if data.text and normalise(data.text) in _known(db, encounter.customer_id):
        raise Conflict(f"'{data.text}' is on the easel sheet already.")
    fact = knowledge.add(
        db,
        actor=actor,
        customer_id=encounter.customer_id,
        data=DifferentiatorCreate(
            text=text,
            category=data.category or suggestion.category,
            learned_at=encounter.occurred_at,
            encounter_id=encounter.id,
            channel=Channel(encounter.channel),
        ),
        categories=categories,
        learned_by_id=actor.user_id if actor.user_id is not None else encounter.employee_id,
    )
    if normalise(text) != normalise(suggestion.text):
        # Confirmed in other words: the sentence as heard is not proposed again either.
        db.add(
            RejectedSuggestion(
                encounter_id=encounter.id,
                sentence_hash=suggestion.id,
                text=suggestion.text,
                rejected_by_id=actor.user_id,
                rejected_at=utcnow(),
                differentiator_id=fact.id,
            )
        )
        db.flush()
    return fact


def reject(
    db: Session,
    *,
    actor: Actor,
    encounter_id: int,
    data: SuggestionReject,
    categories: CategoryList | None = None,
    data_dir: Path | None = None,
) -> RejectedSuggestion:
    """Not a fact: remembered, so that it is not proposed again. Rejecting twice keeps the first record."""
    require(actor, Permission.ADD_DIFFERENTIATORS)
    encounter = _encounter(db, actor, encounter_id)
    existing = db.scalar(
        select(RejectedSuggestion).where(
            RejectedSuggestion.encounter_id == encounter.id, RejectedSuggestion.sentence_hash == data.id
        )
    )
    if existing is not None:
        return existing
    suggestion = _find(
        db, actor, encounter_id, data.id, categories or CategoryList(DEFAULT_CATEGORIES), data_dir
    )
    rejected = RejectedSuggestion(
        encounter_id=encounter.id,
        sentence_hash=suggestion.id,
        text=suggestion.text,
        rejected_by_id=actor.user_id,
        rejected_at=utcnow(),
    )
    db.add(rejected)
    db.flush()
    record_audit(
        db,
        actor=actor,
        action=AuditAction.SUGGESTION_REJECTED,
        customer_id=encounter.customer_id,
        summary=f"Not a fact: {suggestion.text}",
        details={"encounter_id": encounter.id, "suggestion_id": suggestion.id},
    )
    return rejected
