"""What the views give out: read models that combine several domains' schemas."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from segone.behaviour.schemas import BehaviourOut
from segone.channels import Channel
from segone.customer_service.promises.schemas import PromiseOut
from segone.customer_service.recovery.schemas import CaseOut, CasePage
from segone.customer_service.strategy.schemas import StrategyOut
from segone.customers.schemas import ConsentOut, CustomerKind, CustomerOut
from segone.encounters.schemas import EncounterOut
from segone.knowledge.categories.schemas import CategoryOut
from segone.knowledge.distinguishability.schemas import LookAlike, Question
from segone.knowledge.facts.schemas import DifferentiatorOut, RecognitionOut
from segone.personalisation.messages.schemas import MessageRef
from segone.segmentation.schemas import AudienceEditOut, SegmentOut, StandingOut


class CustomerSummary(BaseModel):
    """One customer of a list, with how much we know about them."""

    id: int
    kind: CustomerKind
    name: str
    identities: list[str]
    differentiators: int = Field(description="Current differentiators on the easel sheet.")
    acknowledged: int = Field(description="Of those, how many the customer knows we know.")
    last_encounter_at: datetime | None


class CustomerPage(BaseModel):
    items: list[CustomerSummary]
    total: int
    offset: int
    limit: int


class SheetFact(DifferentiatorOut):
    """A current differentiator with what the last knowledge refresh found about it."""

    trait: str | None = Field(description="The trait the fact belongs to, in its most frequent wording.")
    holders: int | None = Field(description="Customers holding the trait; null until the next refresh.")
    population: int | None = Field(
        description="Customers we know something about in the fact's category at the last refresh: the "
        "denominator of rarity."
    )
    rarity: float | None = Field(description="holders / population.")
    rare: bool
    stale: bool = Field(description="Not confirmed for the configured number of months.")
    through_message: MessageRef | None = Field(
        default=None, description="The message that showed them we know it, when a message did."
    )


class FactGroup(BaseModel):
    category: CategoryOut
    facts: list[SheetFact] = Field(description="Most recently learned first.")


class SheetKnowledge(BaseModel):
    """How well the sheet tells this customer apart (rarity and look-alikes as of the last refresh)."""

    refreshed_at: datetime | None
    distinguishability: int | None = Field(
        description="Customers holding every trait we know of this one (itself too); 1 = a segment of one."
    )
    look_alikes: list[LookAlike]
    next_question: Question | None
    show_them_you_know: list[int] = Field(description="Rare facts the customer has not been shown we know.")
    stale_facts: int


class MergedRecord(BaseModel):
    id: int = Field(description="The merged record's id; it still resolves to this customer.")
    name: str
    merged_at: datetime
    identities: list[str]


class CustomerSheet(BaseModel):
    """The easel sheet of one customer: everything the customer page shows, in one read."""

    customer: CustomerOut
    recognition: RecognitionOut
    categories: list[CategoryOut] = Field(description="The fact categories that fit this kind of customer.")
    groups: list[FactGroup] = Field(description="Current facts by category, in the categories' order.")
    gaps: list[CategoryOut] = Field(description="Categories of this kind with no current fact: ask next.")
    outdated: list[DifferentiatorOut] = Field(description="Facts no longer true, most recent first.")
    knowledge: SheetKnowledge
    encounters: list[EncounterOut] = Field(description="The most recent encounters, newest first.")
    more_encounters: bool = Field(description="True when there are older encounters than those listed.")
    behaviour: BehaviourOut
    merged_from: list[MergedRecord]
    segment_path: list[SegmentOut] = Field(
        default_factory=list,
        description="The customer's segments in the latest segmentation, from all customers down to theirs "
        "(the last is their segment); empty before the first build.",
    )
    standing: list[StandingOut] = Field(
        default_factory=list,
        description="How the customer differs from the average customer of the latest segmentation: the "
        "variables on which they are rarest, with their words; empty before the first build.",
    )
    recovery: list[CaseOut] = Field(
        default_factory=list,
        description="Their open recovery cases first (high priority, then the longest waiting), then "
        "the last few closed.",
    )
    consent: ConsentOut | None = Field(
        default=None,
        description="Their consent per purpose and its history; its notice says what they are left out of.",
    )
    promises: list[PromiseOut] = Field(
        default_factory=list,
        description="Promises made to them: the open ones first (overdue, then by due day), then the "
        "last few marked kept or broken.",
    )

    def facts(self) -> list[SheetFact]:
        """Every current fact, most recently learned first."""
        every = [fact for group in self.groups for fact in group.facts]
        return sorted(every, key=lambda fact: (-fact.learned_at.timestamp(), fact.id))


class MergePreview(BaseModel):
    """What merging ``duplicate`` into ``customer`` would move, and the details that differ."""

    customer: CustomerOut
    duplicate: CustomerOut
    differentiators: int
    acknowledged: int
    encounters: int
    conflicts: dict[str, tuple[Any, Any]] = Field(
        description="Detail: (this record's value, the duplicate's)."
    )


class EncounterLine(BaseModel):
    encounter: EncounterOut
    customer_name: str


class HomePage(BaseModel):
    recent: list[CustomerSummary] = Field(description="Customers whose records changed most recently.")
    my_encounters: list[EncounterLine]
    total_customers: int
    recovery: CasePage | None = Field(
        default=None,
        description="The open recovery cases of the viewer's backlog (theirs, their team's for a manager, "
        "everyone's for analysts and administrators, and those nobody has taken), in priority order.",
    )
    promises_due: list[PromiseOut] = Field(
        default_factory=list, description="The viewer's own open promises due within a week, overdue first."
    )
    strategy: StrategyOut | None = Field(
        default=None, description="The service strategy in force; null while none is on record."
    )


class MemberOut(BaseModel):
    """A customer of a segment or an audience, named for a campaign or a personalisation feed."""

    customer_id: int
    name: str
    identity: str | None = Field(
        description="The customer's first identity (`crm:C001`, `email:ann@example.com`): their id elsewhere."
    )
    leaf: int | None = Field(
        default=None, description="A segment's member: the node id of their leaf in the version."
    )


class SegmentMemberPage(BaseModel):
    """A page of a segment's customers by id. The segment's stable id is ``version_id`` with ``node_id``."""

    version_id: int
    node_id: int
    items: list[MemberOut]
    total: int
    offset: int
    limit: int


class AudienceMemberOut(MemberOut):
    added_by_hand: bool = Field(description="In the audience by a hand addition.")


class AudienceMemberPage(BaseModel):
    """A page of an audience's members as last evaluated, by customer id."""

    audience_id: int
    items: list[AudienceMemberOut]
    total: int
    offset: int
    limit: int


class NamedAudienceEdit(AudienceEditOut):
    """A customer added to or removed from an audience by hand, named."""

    name: str = Field(description="The customer's name (as stored: a merged record keeps its own).")


class Ask(BaseModel):
    """What to ask next: the question that best tells the customer apart from their look-alikes, or the
    first category we know nothing about."""

    key: str = Field(description="A fact category, or attribute:<name> for a customer detail.")
    label: str
    prompt: str
    why: str = Field(description="Why this question: the look-alikes it leaves, or that nothing is known.")


class BehaviourChange(BaseModel):
    """One change in the customer's behaviour, read from their stored profile (never from the raw events
    at request time)."""

    kind: Literal["cadence", "trend", "p_alive", "complaint", "return"]
    text: str = Field(description="The change in words.")
    measured: str = Field(description="What was compared, plainly.")
    at: date | datetime | None = Field(
        description="The moment it rests on: the last purchase, the last complaint or return."
    )


class BriefingEncounter(BaseModel):
    """A past encounter in one line."""

    id: int
    customer_id: int
    occurred_at: datetime
    channel: Channel
    employee_name: str | None
    line: str = Field(description="What they cared or worried about, else the start of the notes.")


class ServiceSection(BaseModel):
    """Open recovery cases (priority order) and open promises (overdue first), one line each."""

    available: bool = Field(default=False, description="True: recovery cases and promises are recorded.")
    note: str
    items: list[str] = Field(default_factory=list)


class OfferReason(BaseModel):
    text: str = Field(description="The reason in the customer's terms.")
    fact_id: int | None = Field(default=None, description="The customer's fact it cites.")
    event_id: str | None = Field(default=None, description="The customer's purchase event it cites.")


class BriefingOffer(BaseModel):
    offering: str = Field(description="The offering's name.")
    key: str | None = Field(default=None, description="The offering's key.")
    reasons: list[OfferReason]


class OffersSection(BaseModel):
    """Offers matched to the customer by the last `segone offers refresh`, each with its reasons; empty
    and labelled when none is stored."""

    available: bool = Field(default=False, description="False until offers are matched to customers.")
    note: str
    items: list[BriefingOffer] = Field(default_factory=list)


class Briefing(BaseModel):
    """What to know before meeting the customer, most important first, read in 30 seconds: who they are
    and what makes them unique, what changed, what to ask. Composed from the customer sheet (stored
    results only)."""

    customer: CustomerOut
    recognition: RecognitionOut
    consent_notice: str | None = Field(
        default=None,
        description="What their consent leaves them out of (segments, scores, offers, facts in messages).",
    )
    last_encounter_at: datetime | None
    unique: list[SheetFact] = Field(
        description="Current facts, rarest first (facts not yet measured by a knowledge refresh after "
        "them, most recently learned first); at most five."
    )
    more_facts: int = Field(description="Current facts not listed in ``unique``.")
    standing: list[StandingOut] = Field(
        description="How they differ from the average customer of the latest segmentation, each trait in "
        "their own words (the fact of theirs it groups); traits they lack are left out."
    )
    bring_up: list[SheetFact] = Field(description="Rare facts they do not know we know: bring them up.")
    reconfirm: list[SheetFact] = Field(description="Facts not confirmed for a while: re-confirm them.")
    behaviour_as_of: date | None = Field(description="The day of the behaviour profile the changes read.")
    behaviour_headline: str | None
    changes: list[BehaviourChange]
    service: ServiceSection
    ask: Ask | None
    gaps: list[CategoryOut] = Field(description="Categories of their kind with no current fact.")
    offers: OffersSection
    encounters: list[BriefingEncounter] = Field(description="The last three, newest first.")
    more_encounters: bool
    segment_path: list[SegmentOut] = Field(
        description="Their segments in the latest segmentation, from all customers down to theirs."
    )
    segment_conditions: list[str] = Field(
        description="Their segment's conditions from the top down, each trait in their own words (traits "
        "they lack, named in other customers' words, left out)."
    )
    strategy: list[str] = Field(
        default_factory=list,
        description="The service strategy in force: its core service, then its service experience "
        "statements.",
    )


class SubjectExport(BaseModel):
    """Everything held about one customer, for a data-subject access request: the record as the API shows
    it, the behaviour profile and model scores as the sheet reads them, every stored row about them (their
    own and those of the records merged into them), table by table, and their events."""

    customer: CustomerOut
    exported_at: datetime
    exported_by: str
    record_ids: list[int] = Field(description="This customer's id and those of the records merged into it.")
    behaviour: BehaviourOut
    tables: dict[str, list[dict[str, Any]]] = Field(
        description="Every row about the customer, as stored, by table: the record, identities, "
        "differentiators (with who learned them, when and where), acknowledgements, encounters, scores, "
        "segment and audience memberships, ratings, recovery cases, promises, predictions, survey answers, "
        "messages, offers and the audit entries about them."
    )
    events: list[dict[str, Any]] = Field(description="Their events in the events dataset, oldest first.")


class ErasureOut(BaseModel):
    """What an erasure removed: counts only, nothing about the customer but the ids their records had."""

    customer_id: int
    record_ids: list[int] = Field(
        description="The ids of the records erased (the customer's and those merged into it)."
    )
    erased_at: datetime
    erased_by: str
    rows: dict[str, int] = Field(
        description="Rows deleted per table; for audit_log, the entries redacted (kept, without their "
        "summary and details)."
    )
    events: int = Field(description="Events removed from the events dataset.")
    category_model_removed: bool = Field(
        description="Whether the trained fact-category model was removed (train it again with "
        "`segone facts train`)."
    )
    uploads_removed: int = Field(
        default=0,
        description="Files uploaded to be checked before an import, not imported yet: all dropped, as any "
        "of them may hold the customer (upload them again).",
    )
