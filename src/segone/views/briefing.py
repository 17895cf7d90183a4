"""The briefing before an encounter: the customer sheet cut down to what to know in 30 seconds.

Composed from the customer sheet (one read of stored results: the last knowledge refresh, the last
behaviour refresh, the latest segmentation), so the briefing and the sheet never disagree. What changed in
the customer's behaviour is read from their stored behaviour profile against their last encounter:

- **cadence slowing**: days since the last purchase beyond ``SLOW_FACTOR`` times their median gap between
  purchase days (from ``CADENCE_MIN_PURCHASES`` purchase days, below which a median gap means little);
- **buying less**: fewer purchase days in the last 90 days than in the 90 before;
- **P(alive) falling**: the purchase models' P(alive) only falls while no purchase comes, so with no
  purchase between the last encounter and the profile's day it has fallen since that encounter (shown with
  its level when the customer is at risk or lapsed);
- **a complaint or a return since the last encounter** (ever, before a first encounter), by its time.

The customer's open recovery cases and open promises come from the sheet too (``service_lines``), and
the statements of the service strategy in force close the briefing.

Each refresh replaces the profile, so P(alive) at a past encounter is not stored: its fall is stated, not
sized. A profile older than the last encounter sees nothing after it: every entry point shows the profile's
day next to the changes.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from sqlalchemy.orm import Session

from segone import formatting
from segone.accounts import service as accounts
from segone.accounts.schemas import Actor, AuditAction
from segone.behaviour.schemas import BehaviourOut
from segone.customer_service.promises.schemas import PromiseState, PromiseStatus
from segone.customer_service.recovery.schemas import CaseStatus
from segone.customer_service.strategy import service as strategies
from segone.customers import service as customers
from segone.encounters.schemas import EncounterOut
from segone.knowledge.categories.schemas import CategoryList
from segone.personalisation import service as personalisation
from segone.segmentation.schemas import SegmentOut, StandingOut
from segone.views.customer_sheet import badge, customer_sheet, next_ask
from segone.views.schemas import (
    BehaviourChange,
    Briefing,
    BriefingEncounter,
    BriefingOffer,
    CustomerSheet,
    OfferReason,
    OffersSection,
    ServiceSection,
    SheetFact,
)

UNIQUE_SHOWN = 5
OFFERS_SHOWN = 3
ENCOUNTERS_SHOWN = 3
SEGMENT_CONDITIONS_SHOWN = 4
CADENCE_MIN_PURCHASES = 5
SLOW_FACTOR = 1.5
LINE_CHARACTERS = 90

# The sections in the order a reader needs them, most important first.
TITLES = {
    "unique": "What makes them unique",
    "bring_up": "They do not know we know: bring it up",
    "changes": "What changed in their behaviour",
    "ask": "What to ask",
    "reconfirm": "Re-confirm: not confirmed for a while",
    "service": "Open recovery cases and promises due",
    "offers": "Offers",
    "encounters": "Last encounters",
    "standing": "Unlike most customers",
    "segment": "Their segment",
}
STRATEGY_TITLE = "Our service strategy"
EMPTY = {
    "unique": "Nothing known yet: ask what makes them different.",
    "standing": "Not measured: no segmentation has been built yet.",
    "bring_up": "Nothing rare left to show them.",
    "reconfirm": "Every fact is fresh.",
    "changes": "No change seen in their behaviour.",
    "service": "No open recovery case and no open promise: nothing to put right.",
    "ask": "Nothing to ask: no other customer looks like them and every topic is known.",
    "offers": "No offers matched yet.",
    "encounters": "No encounter yet: this is the first.",
    "segment": "No segment yet: the customer is placed at the next segmentation build.",
}


def briefing(
    db: Session,
    *,
    actor: Actor,
    customer_id: int,
    categories: CategoryList,
    freshness_months: int,
    currency: str,
    consent_default: bool | None = None,
) -> Briefing:
    """The briefing of a customer (a merged record's id gives the survivor's), from their sheet; with
    ``consent_default``, what their consent leaves them out of."""
    # Held until the end: the session keeps a row only while it is referenced, and the offers and the
    # sheet's parts would read the customer again otherwise.
    customer = customers.get(db, actor=actor, customer_id=customer_id)
    accounts.record_read(
        db,
        actor=actor,
        action=AuditAction.BRIEFING_VIEWED,
        customer_id=customer.id,
        summary=f"Read the briefing on {customer.name}",
    )
    sheet = customer_sheet(
        db,
        actor=actor,
        customer_id=customer.id,
        categories=categories,
        freshness_months=freshness_months,
        currency=currency,
        audited=False,
        consent_default=consent_default,
    )
    facts = sheet.facts()
    unique = sorted(facts, key=_rarest_first)[:UNIQUE_SHOWN]
    shown = set(sheet.knowledge.show_them_you_know)
    last = sheet.encounters[0].occurred_at if sheet.encounters else None
    reading = sheet.behaviour.reading
    return Briefing(
        customer=sheet.customer,
        recognition=sheet.recognition,
        consent_notice=sheet.consent.notice if sheet.consent else None,
        last_encounter_at=last,
        unique=unique,
        more_facts=len(facts) - len(unique),
        standing=own_standing(sheet.standing, facts),
        bring_up=[fact for fact in facts if fact.id in shown],
        reconfirm=[fact for fact in facts if fact.stale],
        behaviour_as_of=sheet.behaviour.as_of,
        behaviour_headline=reading.headline if reading else None,
        changes=changes(sheet.behaviour, last_encounter_at=last),
        service=ServiceSection(available=True, note=EMPTY["service"], items=service_lines(sheet)),
        ask=next_ask(sheet),
        gaps=sheet.gaps,
        offers=offers(db, actor=actor, customer_id=customer.id),
        encounters=[_line(e) for e in sheet.encounters[:ENCOUNTERS_SHOWN]],
        more_encounters=sheet.more_encounters or len(sheet.encounters) > ENCOUNTERS_SHOWN,
        segment_path=sheet.segment_path,
        segment_conditions=own_conditions(sheet.segment_path, facts),
        strategy=_strategy(db, actor),
    )


def service_lines(sheet: CustomerSheet) -> list[str]:
    """The customer's open recovery cases (priority order: recovery comes first), then their open promises
    (overdue first), one line each."""
    cases = [
        f"Recovery case {c.id}, {c.priority.value} priority, "
        + (
            f"overdue since {c.target_at:%d %b %Y %H:%M} UTC"
            if c.overdue
            else f"to put right by {c.target_at:%d %b %Y %H:%M} UTC"
        )
        + f": {_cut(c.summary)} (owner: {c.owner or 'nobody yet'})."
        for c in sheet.recovery
        if c.status == CaseStatus.OPEN
    ]
    promised = [
        f"Promise due {p.due_on:%d %b %Y}{' (overdue)' if p.state == PromiseState.OVERDUE else ''}: "
        f"{_cut(p.text)} (made by {p.made_by or 'the operator'})."
        for p in sheet.promises
        if p.status == PromiseStatus.OPEN
    ]
    return cases + promised


def _strategy(db: Session, actor: Actor) -> list[str]:
    """The statements of the service strategy in force: what they get, then how they should feel."""
    strategy = strategies.current(db, actor=actor)
    return [*strategy.core_service, *strategy.service_experience]


def offers(db: Session, *, actor: Actor, customer_id: int) -> OffersSection:
    """The first offers the last refresh stored for the customer, each with its reasons (every one citing
    a fact or a purchase of theirs); the labelled empty section when none is stored."""
    stored = personalisation.customer_offers(db, actor=actor, customer_id=customer_id, limit=OFFERS_SHOWN)
    return OffersSection(
        available=stored.run_id is not None,
        note=EMPTY["offers"],
        items=[
            BriefingOffer(
                offering=item.offering.name,
                key=item.offering.key,
                reasons=[
                    OfferReason(text=reason.text, fact_id=reason.fact_id, event_id=reason.event_id)
                    for reason in item.reasons
                ],
            )
            for item in stored.items
        ],
    )


TRAIT = "trait: "


def _own_words(label: str, facts: list[SheetFact]) -> str | None:
    """The customer's own fact behind a trait variable's label: a trait is named in its most frequent
    wording, often another customer's ("plays double bass in Pudsey" for "plays cello in Ripon")."""
    wording = label.removeprefix(TRAIT).casefold()
    return next((f.text for f in facts if f.trait and f.trait.casefold() == wording), None)


def own_standing(standing: list[StandingOut], facts: list[SheetFact]) -> list[StandingOut]:
    """The sheet's standing with each trait in the customer's own words; a trait they do not hold (or no
    longer do) is left out, as it can only be told in someone else's words."""
    kept = []
    for entry in standing:
        if not entry.label.startswith(TRAIT):
            kept.append(entry)
        elif entry.value == "yes" and (text := _own_words(entry.label, facts)) is not None:
            words = entry.words.replace(entry.label, text, 1)
            kept.append(entry.model_copy(update={"label": text, "words": words}))
    return kept


def own_conditions(path: list[SegmentOut], facts: list[SheetFact]) -> list[str]:
    """Their segment's conditions from the top down, traits in their own words (those they lack left out)."""
    if len(path) < 2:
        return []
    kept = []
    for condition in path[-1].conditions:
        if not condition.startswith(TRAIT):
            kept.append(condition)
        elif condition.endswith(": yes") and (text := _own_words(condition[: -len(": yes")], facts)):
            kept.append(text)
    return kept


def _rarest_first(fact: SheetFact) -> tuple[int, float, float, int]:
    """Measured facts by rarity (fewest holders on a tie), then the unmeasured, newest first."""
    if fact.rarity is None:
        return (1, 0.0, -fact.learned_at.timestamp(), fact.id)
    return (0, fact.rarity, float(fact.holders or 0), fact.id)


def changes(behaviour: BehaviourOut, *, last_encounter_at: datetime | None) -> list[BehaviourChange]:
    """What changed in the stored profile, against the last encounter (module docstring)."""
    profile, as_of = behaviour.profile, behaviour.as_of
    if profile is None or as_of is None:
        return []
    found: list[BehaviourChange] = []
    since = last_encounter_at.date() if last_encounter_at else None
    gap = profile.median_gap_days
    if (
        gap
        and profile.purchases >= CADENCE_MIN_PURCHASES
        and profile.recency_days is not None
        and profile.recency_days > SLOW_FACTOR * gap
    ):
        found.append(
            BehaviourChange(
                kind="cadence",
                text=f"Slowing: no purchase for {formatting.plural(profile.recency_days, 'day')}, "
                f"against a usual gap of {formatting.plural(round(gap), 'day')}.",
                measured=f"Days from the last purchase to {as_of:%d %b %Y} against the median gap "
                f"between their {formatting.plural(profile.purchases, 'purchase day')}.",
                at=profile.last_purchase,
            )
        )
    if profile.purchases_last_90d < profile.purchases_prev_90d:
        found.append(
            BehaviourChange(
                kind="trend",
                text=f"Buying less: {formatting.plural(profile.purchases_last_90d, 'purchase day')} in the "
                f"last 90 days, {formatting.count(profile.purchases_prev_90d)} in the 90 before.",
                measured=f"Purchase days in the 90 days to {as_of:%d %b %Y} against the 90 before.",
                at=profile.last_purchase,
            )
        )
    found.extend(_p_alive(behaviour, since))
    found.extend(_complaints_and_returns(behaviour, last_encounter_at))
    return found


def _p_alive(behaviour: BehaviourOut, since: date | None) -> list[BehaviourChange]:
    profile, scores, reading = behaviour.profile, behaviour.scores, behaviour.reading
    if profile is None or scores is None or scores.p_alive is None or reading is None:
        return []
    level = f"P(alive) {_share(scores.p_alive)}"
    quiet = (
        since is not None
        and behaviour.as_of is not None
        and since <= behaviour.as_of
        and (profile.last_purchase is None or profile.last_purchase < since)
    )
    if quiet:
        text = f"{level} and falling: no purchase since the last encounter on {since:%d %b %Y}."
    elif reading.alive in ("risk", "lapsed"):
        text = f"{reading.headline}."
    else:
        return []
    return [
        BehaviourChange(
            kind="p_alive",
            text=text,
            measured=f"{scores.model or 'The purchase model'}'s P(alive) as of {behaviour.as_of:%d %b %Y}; "
            "it only falls while no purchase comes.",
            at=profile.last_purchase,
        )
    ]


def _share(p: float) -> str:
    """A probability in whole percent, never rounded up to a certain 100% nor down to 0%."""
    if 0.995 <= p < 1:
        return "above 99%"
    if 0 < p < 0.005:
        return "below 1%"
    return f"{p:.0%}"


def _complaints_and_returns(
    behaviour: BehaviourOut, last_encounter_at: datetime | None
) -> list[BehaviourChange]:
    profile = behaviour.profile
    assert profile is not None
    found = []
    events: list[tuple[Literal["complaint", "return"], datetime | None, int]] = [
        ("complaint", profile.last_complaint_at, profile.complaints),
        ("return", profile.last_return_at, profile.returns),
    ]
    for kind, moment, total in events:
        if moment is None or (last_encounter_at is not None and moment <= last_encounter_at):
            continue
        when = "since the last encounter" if last_encounter_at else "on record"
        noun = "A complaint" if kind == "complaint" else "A return"
        found.append(
            BehaviourChange(
                kind=kind,
                text=f"{noun} {when}, on {moment:%d %b %Y} ({formatting.plural(total, kind)} in all).",
                measured=f"The time of their last {kind} against their last encounter.",
                at=moment,
            )
        )
    return found


def _line(encounter: EncounterOut) -> BriefingEncounter:
    return BriefingEncounter(
        id=encounter.id,
        customer_id=encounter.customer_id,
        occurred_at=encounter.occurred_at,
        channel=encounter.channel,
        employee_name=encounter.employee_name or encounter.employee,
        line=one_line(encounter),
    )


def one_line(encounter: EncounterOut) -> str:
    """What they cared and worried about, else the first line of the notes, cut to one short line."""
    said = [
        f"{label} {text.strip()}"
        for label, text in (
            ("cares about", encounter.cares_about),
            ("worries about", encounter.worries_about),
        )
        if text.strip()
    ]
    text = "; ".join(said) or (encounter.notes.strip().splitlines() or ["no notes"])[0]
    return _cut(text)


def _cut(text: str) -> str:
    """One short line: spaces collapsed, cut at ``LINE_CHARACTERS`` with an ellipsis."""
    text = " ".join(text.split())
    return text if len(text) <= LINE_CHARACTERS else text[: LINE_CHARACTERS - 1].rstrip() + "…"


def briefing_lines(read: Briefing) -> dict[str, list[str]]:
    """Each section's short lines, in ``TITLES`` order (empty: show ``EMPTY``), the same words on the page,
    in print and at the terminal."""
    more = [f"… and {formatting.plural(read.more_facts, 'more fact')} on the sheet."][: read.more_facts]
    lines = {
        "unique": [_unique(fact) for fact in read.unique] + more,
        "standing": [s.words for s in read.standing],
        "bring_up": [f"{fact.text} (learned {fact.learned_at:%b %Y})" for fact in read.bring_up],
        "reconfirm": [f"{f.text} (confirmed {f.last_confirmed_at:%d %b %Y})" for f in read.reconfirm],
        "changes": [change.text for change in read.changes]
        + ([f"From their behaviour as of {read.behaviour_as_of:%d %b %Y}."] if read.changes else []),
        "service": list(read.service.items),
        "ask": _ask(read),
        "offers": [f"{o.offering}: {' '.join(r.text for r in o.reasons)}" for o in read.offers.items],
        "encounters": [
            f"{e.occurred_at:%d %b %Y}, {e.channel.value}, {e.employee_name or 'unknown'}: {e.line}"
            for e in read.encounters
        ],
        "segment": _segment(read),
    }
    return {section: lines[section] for section in TITLES}


def _unique(fact: SheetFact) -> str:
    found = badge(fact)
    return f"{fact.text} ({found.text[0].lower() + found.text[1:]})" if found else fact.text


def _ask(read: Briefing) -> list[str]:
    """The next question and why, then the other categories we know nothing about."""
    asked = [f"{read.ask.label}: “{read.ask.prompt}”", read.ask.why] if read.ask else []
    others = [gap.label for gap in read.gaps if read.ask is None or gap.name != read.ask.key]
    return asked + ([f"Not known yet: {', '.join(others)}."] if others else [])


def _segment(read: Briefing) -> list[str]:
    """The first conditions of their segment (the widest cuts), then how many share it."""
    if len(read.segment_path) < 2:
        return []
    leaf, shown = read.segment_path[-1], read.segment_conditions[:SEGMENT_CONDITIONS_SHOWN]
    more = len(read.segment_conditions) - len(shown)
    alike = "a segment of one" if leaf.size == 1 else f"{formatting.plural(leaf.size, 'customer')} alike"
    return [*shown, *([f"… and {formatting.plural(more, 'more condition')}"] if more else []), f"({alike})"]
