"""Use cases of the messages: templates by purpose, drafts in the customer's own facts, the "about them"
check, and marking a message sent, which records the facts it revealed as known to the customer.

Who may do what: anybody who may mark what a customer knows we know (``acknowledge``: every role) may read
the templates, draft, check and send; changing a template takes the settings permission (administrators).
Reading the messages sent to a customer takes looking up customers. Every change is in the audit trail.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from segone.accounts import service as accounts
from segone.accounts.schemas import Actor, AuditAction, Permission
from segone.accounts.service import record_audit, require
from segone.behaviour import service as behaviour
from segone.behaviour.schemas import BehaviourOut
from segone.clock import utcnow
from segone.customers import service as customers
from segone.customers.schemas import ConsentPurpose, CustomerKind, CustomerOut
from segone.errors import Conflict, Invalid, NotFound
from segone.knowledge.categories.schemas import CategoryList
from segone.knowledge.distinguishability import service as insights
from segone.knowledge.distinguishability.schemas import FactInsight
from segone.knowledge.facts import service as knowledge
from segone.knowledge.facts.schemas import AcknowledgeRequest, DifferentiatorStatus
from segone.personalisation import service as offerings
from segone.personalisation.messages import about_them, rendering
from segone.personalisation.messages.defaults import DEFAULTS, made_up_customers
from segone.personalisation.messages.models import Message, MessageTemplate
from segone.personalisation.messages.rendering import (
    Cadence,
    Context,
    CustomerItem,
    FactItem,
    Moment,
    OfferItem,
    SenderItem,
)
from segone.personalisation.messages.schemas import (
    AboutThemCheck,
    CheckOut,
    CheckRequest,
    Draft,
    DraftRequest,
    MessageChannel,
    MessageOut,
    MessageRef,
    Purpose,
    RevealedFact,
    SendRequest,
    SentOut,
    TemplateIn,
    TemplateOut,
)
from segone.personalisation.messages.wording import mentions
from segone.personalisation.schemas import price_band_label
from segone.storage.subject import Rows, delete_about, rows_about

DRAFT = Permission.ACKNOWLEDGE
EDIT = Permission.MANAGE_SETTINGS
READ = Permission.READ_CUSTOMERS
CLOCK_SKEW = timedelta(minutes=5)  # a "sent at" this far ahead of the server's clock is still now
OFFERING_NAMES = 500  # the catalogue's names the check reads as "about us"
_NO_OFFERING = "An offering goes with an offer; a {purpose} message has none."


# ---- templates -------------------------------------------------------------------------------------------


def _stored(db: Session, purpose: Purpose) -> MessageTemplate | None:
    return db.scalars(select(MessageTemplate).where(MessageTemplate.purpose == purpose.value)).first()


def _template_out(db: Session, purpose: Purpose, stored: MessageTemplate | None) -> TemplateOut:
    by = accounts.people_by_id(db, [stored.updated_by_id]) if stored else {}
    person = by.get(stored.updated_by_id) if stored and stored.updated_by_id else None
    return TemplateOut(
        purpose=purpose,
        label=purpose.label,
        template=stored.body if stored else DEFAULTS[purpose],
        is_default=stored is None,
        default_template=DEFAULTS[purpose],
        updated_at=stored.updated_at if stored else None,
        updated_by=person.email if person else None,
    )


def list_templates(db: Session, *, actor: Actor) -> list[TemplateOut]:
    """Every purpose's template: the business's own, or segone's default."""
    require(actor, DRAFT)
    stored = {row.purpose: row for row in db.scalars(select(MessageTemplate))}
    return [_template_out(db, purpose, stored.get(purpose.value)) for purpose in Purpose]


def get_template(db: Session, *, actor: Actor, purpose: Purpose) -> TemplateOut:
    require(actor, DRAFT)
    return _template_out(db, purpose, _stored(db, purpose))


def check_template(purpose: Purpose, body: str) -> None:
    """Refuse, with its line, a template that would fail: its syntax, a name it may not use, or a render
    of two made-up customers (one with everything known, one with nothing) that fails."""
    rendering.parse(body)
    for made_up in made_up_customers(purpose):
        rendering.render(body, made_up)


def previews(purpose: Purpose, body: str) -> list[tuple[str, str]]:
    """The template rendered for the two made-up customers ``check_template`` tries: (who, text)."""
    shown = []
    for made_up in made_up_customers(purpose):
        who = made_up.customer.name + (", everything known" if made_up.facts else ", nothing known yet")
        shown.append((who, rendering.render(body, made_up).text))
    return shown


def set_template(db: Session, *, actor: Actor, purpose: Purpose, data: TemplateIn) -> TemplateOut:
    """Save the business's template for a purpose, once it renders (``check_template``)."""
    require(actor, EDIT)
    check_template(purpose, data.template)
    stored = _stored(db, purpose)
    before = stored.body if stored else DEFAULTS[purpose]
    if before == data.template and stored is not None:
        return _template_out(db, purpose, stored)
    if stored is None:
        stored = MessageTemplate(purpose=purpose.value, body=data.template)
        db.add(stored)
    stored.body = data.template
    stored.updated_by_id = actor.user_id
    stored.updated_at = utcnow()
    db.flush()
    record_audit(
        db,
        actor=actor,
        action=AuditAction.MESSAGE_TEMPLATE_CHANGED,
        summary=f"Message template '{purpose.label}' changed",
        details={"purpose": purpose.value, "from": before, "to": data.template},
    )
    return _template_out(db, purpose, stored)


def reset_template(db: Session, *, actor: Actor, purpose: Purpose) -> TemplateOut:
    """Go back to segone's default for a purpose."""
    require(actor, EDIT)
    stored = _stored(db, purpose)
    if stored is not None:
        before = stored.body
        db.delete(stored)
        db.flush()
        record_audit(
            db,
            actor=actor,
            action=AuditAction.MESSAGE_TEMPLATE_CHANGED,
            summary=f"Message template '{purpose.label}' back to segone's default",
            details={"purpose": purpose.value, "from": before, "to": DEFAULTS[purpose]},
        )
    return _template_out(db, purpose, None)


# ---- drafts ----------------------------------------------------------------------------------------------


def _day(moment: date | None) -> Moment | None:
    if moment is None:
        return None
    on = moment.date() if isinstance(moment, datetime) else moment
    return Moment(date=rendering.day(on), days_ago=max((utcnow().date() - on).days, 0))


def _rarest_first(facts: list[FactInsight]) -> list[FactInsight]:
    """Measured facts by rarity (fewest holders on a tie), then the unmeasured as listed (newest first)."""
    order = {fact.id: n for n, fact in enumerate(facts)}
    return sorted(
        facts,
        key=lambda f: (f.rarity is None, f.rarity or 0.0, f.holders or 0, order[f.id]),
    )


def _first_name(customer: CustomerOut) -> str:
    if customer.kind is CustomerKind.PERSON and customer.name.split():
        return customer.name.split()[0]
    return customer.name


def _cadence(read: BehaviourOut) -> Cadence | None:
    profile = read.profile
    if profile is None or not profile.purchases:
        return None
    gap = profile.median_gap_days
    return Cadence(
        purchase_days=profile.purchases,
        usual_gap_days=round(gap) if gap is not None else None,
        days_since=profile.recency_days,
    )


OFFERS_IN_CONTEXT = 3


def _offer(db: Session, actor: Actor, key: str | None, currency: str) -> OfferItem | None:
    if not key:
        return None
    found = offerings.get_by_key(db, actor=actor, key=key)
    if not found.active:
        raise Invalid.of_field("offering", f"{found.name} ({found.key}) is no longer offered.")
    return OfferItem(
        key=found.key,
        name=found.name,
        description=found.description,
        needs=tuple(found.needs),
        price_band=price_band_label(found.price_band, currency) if found.price_band else "",
    )


def _offers(db: Session, actor: Actor, customer_id: int, currency: str) -> tuple[OfferItem, ...]:
    """The customer's stored offers (the last offers refresh), best first: what a template may propose."""
    stored = offerings.customer_offers(db, actor=actor, customer_id=customer_id, limit=OFFERS_IN_CONTEXT)
    return tuple(
        OfferItem(
            key=item.offering.key,
            name=item.offering.name,
            description=item.offering.description,
            needs=tuple(item.offering.needs),
            price_band=price_band_label(item.offering.price_band, currency)
            if item.offering.price_band
            else "",
        )
        for item in stored.items
    )


def _offering_names(db: Session, actor: Actor) -> list[str]:
    page = offerings.list_offerings(db, actor=actor, limit=OFFERING_NAMES)
    return [item.name for item in page.items]


def context_of(
    db: Session,
    *,
    actor: Actor,
    customer_id: int,
    purpose: Purpose,
    offering: str | None,
    categories: CategoryList,
    freshness_months: int,
    currency: str,
    default_granted: bool,
) -> Context:
    """What a template sees of this customer (``rendering``'s docstring lists it); without their
    personalisation consent, none of their facts and no offers."""
    customer = customers.to_out(customers.get(db, actor=actor, customer_id=customer_id))
    personal = customers.has_consent(
        db, customer_id=customer.id, purpose=ConsentPurpose.PERSONALISATION, default_granted=default_granted
    )
    known = insights.knowledge_of(
        db, actor=actor, customer_id=customer.id, categories=categories, freshness_months=freshness_months
    )
    facts = (
        ()
        if not personal
        else tuple(
            FactItem(
                id=f.id,
                text=f.text,
                category=f.category,
                label=f.category_label,
                rare=f.rare,
                known=f.acknowledged,
            )
            for f in _rarest_first(known.facts)
        )
    )
    sender = accounts.people_by_id(db, [actor.user_id]).get(actor.user_id) if actor.user_id else None
    if offering and purpose is not Purpose.OFFER:
        raise Invalid.of_field("offering", _NO_OFFERING.format(purpose=purpose.label.lower()))
    read = behaviour.behaviour_of(db, actor=actor, customer_id=customer.id, currency=currency)
    profile = read.profile
    return Context(
        customer=CustomerItem(
            id=customer.id, name=customer.name, first_name=_first_name(customer), kind=customer.kind.value
        ),
        facts=facts,
        today=rendering.day(utcnow().date()),
        offer=_offer(db, actor, offering, currency),
        offers=_offers(db, actor, customer.id, currency) if personal else (),
        sender=SenderItem(name=sender.name if sender else ""),
        last_purchase=_day(profile.last_purchase) if profile else None,
        cadence=_cadence(read),
        last_complaint=_day(profile.last_complaint_at) if profile else None,
        last_return=_day(profile.last_return_at) if profile else None,
    )


def _checked(
    db: Session, actor: Actor, context_customer: CustomerItem, facts: Iterable[str], text: str
) -> AboutThemCheck:
    first = context_customer.first_name if context_customer.kind == CustomerKind.PERSON.value else None
    who = about_them.Customer(name=context_customer.name, first_name=first, facts=list(facts))
    return about_them.check(text, who, _offering_names(db, actor))


def draft(
    db: Session,
    *,
    actor: Actor,
    customer_id: int,
    request: DraftRequest,
    categories: CategoryList,
    freshness_months: int,
    currency: str,
    default_granted: bool,
) -> Draft:
    """The purpose's template filled in for the customer: the text, the facts it reveals, its check.
    Refused (409) for a customer without contact consent: a draft is the start of contacting them."""
    require(actor, DRAFT)
    found = customers.get(db, actor=actor, customer_id=customer_id)
    _require_contact_consent(db, found.id, found.name, default_granted, "no message is drafted")
    context = context_of(
        db,
        actor=actor,
        customer_id=customer_id,
        purpose=request.purpose,
        offering=request.offering,
        categories=categories,
        freshness_months=freshness_months,
        currency=currency,
        default_granted=default_granted,
    )
    template = get_template(db, actor=actor, purpose=request.purpose)
    rendered = rendering.render(template.template, context)
    revealed = [RevealedFact(id=f.id, text=f.text) for f in rendered.mentioned]
    return Draft(
        customer_id=context.customer.id,
        customer_name=context.customer.name,
        purpose=request.purpose,
        offering=context.offer.key if context.offer else None,
        text=rendered.text,
        template_is_default=template.is_default,
        revealed=revealed,
        dropped=[],
        check=_checked(db, actor, context.customer, [f.text for f in context.facts], rendered.text),
    )


def _require_contact_consent(
    db: Session, customer_id: int, name: str, default_granted: bool, consequence: str
) -> None:
    if not customers.has_consent(
        db, customer_id=customer_id, purpose=ConsentPurpose.CONTACT, default_granted=default_granted
    ):
        raise Conflict(
            f"No contact consent: {name} has not agreed to be contacted, so {consequence}. "
            "Record their consent first if they have given it."
        )


def _facts_named(
    db: Session, actor: Actor, customer: CustomerOut, fact_ids: list[int]
) -> dict[int, tuple[str, bool]]:
    """``{id: (text, current)}`` of the customer's facts among ``fact_ids``; any other id is refused,
    each named, and so is an outdated fact (it is no longer true: nothing to show them)."""
    own = {
        fact.id: (fact.text, fact.status == DifferentiatorStatus.CURRENT.value)
        for fact in knowledge.list_for_customer(
            db, actor=actor, customer_id=customer.id, include_outdated=True
        )
    }
    others = [fact_id for fact_id in fact_ids if fact_id not in own]
    if others:
        named = ", ".join(str(n) for n in others)
        raise Invalid.of_field(
            "revealed_fact_ids",
            f"{'Fact' if len(others) == 1 else 'Facts'} {named} {'is' if len(others) == 1 else 'are'} not "
            f"{customer.name}'s: a message to them can only reveal their own facts.",
            fact_ids=others,
        )
    outdated = [fact_id for fact_id in fact_ids if not own[fact_id][1]]
    if outdated:
        named = "; ".join(f"{n} ({own[n][0]})" for n in outdated)
        raise Invalid.of_field(
            "revealed_fact_ids",
            f"No longer true, so not to be shown to them as what we know: {named}. Draft the message again.",
            fact_ids=outdated,
        )
    return {fact_id: own[fact_id] for fact_id in fact_ids}


def check(
    db: Session,
    *,
    actor: Actor,
    customer_id: int,
    data: CheckRequest,
    categories: CategoryList,
    freshness_months: int,
) -> CheckOut:
    """An edited draft checked again: which of its facts the text still mentions, and its check."""
    require(actor, DRAFT)
    customer = customers.to_out(customers.get(db, actor=actor, customer_id=customer_id))
    named = _facts_named(db, actor, customer, list(dict.fromkeys(data.revealed_fact_ids)))
    kept, dropped = _split(named, data.text)
    known = insights.knowledge_of(
        db, actor=actor, customer_id=customer.id, categories=categories, freshness_months=freshness_months
    )
    who = CustomerItem(
        id=customer.id, name=customer.name, first_name=_first_name(customer), kind=customer.kind.value
    )
    return CheckOut(
        revealed=kept,
        dropped=dropped,
        check=_checked(db, actor, who, [f.text for f in known.facts], data.text),
    )


def _split(named: dict[int, tuple[str, bool]], text: str) -> tuple[list[RevealedFact], list[RevealedFact]]:
    """The facts the text still mentions, and those it no longer does."""
    kept: list[RevealedFact] = []
    dropped: list[RevealedFact] = []
    for fact_id, (fact_text, _current) in named.items():
        (kept if mentions(text, fact_text) else dropped).append(RevealedFact(id=fact_id, text=fact_text))
    return kept, dropped


def send(
    db: Session,
    *,
    actor: Actor,
    customer_id: int,
    data: SendRequest,
    categories: CategoryList,
    freshness_months: int,
    default_granted: bool,
) -> SentOut:
    """Mark a message sent: stored as sent, and exactly the facts it still mentions of those its draft
    revealed recorded as known to the customer, through this message. Facts they knew we knew keep their
    first record; another customer's fact or an outdated one refuses the whole message, and so does a
    customer without contact consent (409), as their draft would have been refused."""
    require(actor, DRAFT)
    customer = customers.to_out(customers.get(db, actor=actor, customer_id=customer_id))
    _require_contact_consent(
        db, customer.id, customer.name, default_granted, "no message is recorded as sent"
    )
    now = utcnow()
    sent_at = data.sent_at or now
    if sent_at > now + CLOCK_SKEW:
        raise Invalid.of_field(
            "sent_at", f"{sent_at:%d %b %Y %H:%M} UTC is in the future: mark it sent once it is."
        )
    if data.offering and data.purpose is not Purpose.OFFER:
        raise Invalid.of_field("offering", _NO_OFFERING.format(purpose=data.purpose.label.lower()))
    if data.offering:
        offerings.get_by_key(db, actor=actor, key=data.offering)
    named = _facts_named(db, actor, customer, list(data.revealed_fact_ids))
    kept, dropped = _split(named, data.text)
    result = check(
        db,
        actor=actor,
        customer_id=customer.id,
        data=CheckRequest(text=data.text, revealed_fact_ids=[]),
        categories=categories,
        freshness_months=freshness_months,
    )
    message = Message(
        customer_id=customer.id,
        purpose=data.purpose.value,
        channel=data.channel.value,
        text=data.text,
        offering=data.offering,
        revealed=[fact.model_dump() for fact in kept],
        acknowledged=[],
        score=result.check.score,
        sent_at=sent_at,
        sent_by_id=actor.user_id,
    )
    db.add(message)
    db.flush()
    already = {
        fact.id
        for fact in knowledge.list_for_customer(db, actor=actor, customer_id=customer.id)
        if fact.acknowledgement is not None and fact.id in named
    }
    how = f"Through a {data.purpose.label.lower()} message ({data.channel.label}) of {sent_at:%d %b %Y}"
    knowledge.acknowledge_shown(
        db,
        actor=actor,
        customer_id=customer.id,
        differentiator_ids=[fact.id for fact in kept],
        data=AcknowledgeRequest(how=how),
        message_id=message.id,
        at=sent_at,
    )
    message.acknowledged = [fact.id for fact in kept if fact.id not in already]
    db.flush()
    record_audit(
        db,
        actor=actor,
        action=AuditAction.MESSAGE_SENT,
        customer_id=customer.id,
        summary=f"{data.purpose.label} message sent ({data.channel.label}); "
        f"{len(message.acknowledged)} fact(s) now known to them",
        details={
            "message_id": message.id,
            "purpose": data.purpose.value,
            "channel": data.channel.value,
            "revealed": [fact.id for fact in kept],
            "acknowledged": message.acknowledged,
            "dropped": [fact.id for fact in dropped],
        },
    )
    out = _message_out(db, [message])[0]
    return SentOut(
        **out.model_dump(),
        dropped=dropped,
        already_known=sorted(already & {fact.id for fact in kept}),
    )


# ---- messages sent ---------------------------------------------------------------------------------------


def _message_out(db: Session, rows: list[Message]) -> list[MessageOut]:
    people = accounts.people_by_id(db, [row.sent_by_id for row in rows])
    result = []
    for row in rows:
        person = people.get(row.sent_by_id) if row.sent_by_id else None
        purpose = Purpose(row.purpose)
        result.append(
            MessageOut(
                id=row.id,
                customer_id=row.customer_id,
                purpose=purpose,
                purpose_label=purpose.label,
                channel=MessageChannel(row.channel),
                text=row.text,
                offering=row.offering,
                revealed=[RevealedFact.model_validate(fact) for fact in row.revealed],
                acknowledged=list(row.acknowledged),
                score=row.score,
                sent_at=row.sent_at,
                sent_by=person.email if person else None,
                sent_by_name=person.name if person else None,
            )
        )
    return result


def list_for_customer(db: Session, *, actor: Actor, customer_id: int, limit: int = 100) -> list[MessageOut]:
    """The messages sent to the customer (a merged record's id gives the survivor's), newest first."""
    require(actor, READ)
    customer = customers.get(db, actor=actor, customer_id=customer_id)
    rows = db.scalars(
        select(Message)
        .where(Message.customer_id == customer.id)
        .order_by(Message.sent_at.desc(), Message.id.desc())
        .limit(limit)
    )
    return _message_out(db, list(rows))


def get(db: Session, *, actor: Actor, message_id: int) -> MessageOut:
    require(actor, READ)
    row = db.get(Message, message_id)
    if row is None:
        raise NotFound(f"There is no message {message_id}.")
    return _message_out(db, [row])[0]


def refs(db: Session, message_ids: Iterable[int | None]) -> dict[int, MessageRef]:
    """The messages acknowledgements name, by id: what the customer sheet says a fact came through."""
    wanted = sorted({i for i in message_ids if i is not None})
    if not wanted:
        return {}
    rows = db.execute(
        select(Message.id, Message.customer_id, Message.purpose, Message.channel, Message.sent_at).where(
            Message.id.in_(wanted)
        )
    )
    return {
        row.id: MessageRef(
            id=row.id,
            customer_id=row.customer_id,
            purpose=Purpose(row.purpose),
            purpose_label=Purpose(row.purpose).label,
            channel=MessageChannel(row.channel),
            sent_at=row.sent_at,
        )
        for row in rows
    }


def move_to(db: Session, *, from_customer_id: int, to_customer_id: int) -> int:
    """Hand every message of one customer record to another (used by merge); returns how many."""
    result = db.execute(
        update(Message)
        .where(Message.customer_id == from_customer_id)
        .values(customer_id=to_customer_id)
        .execution_options(synchronize_session="fetch")
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def data_about(db: Session, *, customer_ids: Sequence[int]) -> dict[str, Rows]:
    """Every message drafted or sent to these customers, as stored."""
    return {"messages": rows_about(db, Message, "customer_id", customer_ids)}


def erase_about(db: Session, *, customer_ids: Sequence[int]) -> dict[str, int]:
    """Delete every message drafted or sent to these customers."""
    return {"messages": delete_about(db, Message, "customer_id", customer_ids)}
