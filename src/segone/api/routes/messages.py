"""Messages: templates by purpose, drafts in the customer's own facts, and messages marked sent."""

from __future__ import annotations

from fastapi import APIRouter, Query, status

from segone.api.deps import Categories, CurrentActor, CustomerId, Db, RuntimeDep
from segone.api.errors import responses
from segone.personalisation.messages import service as messages
from segone.personalisation.messages.schemas import (
    CheckOut,
    CheckRequest,
    Draft,
    DraftRequest,
    MessageOut,
    Purpose,
    SendRequest,
    SentOut,
    TemplateIn,
    TemplateOut,
)

router = APIRouter(tags=["messages"])


@router.get(
    "/message-templates",
    response_model=list[TemplateOut],
    summary="List the message templates",
    responses=responses(401, 403),
)
def list_templates(db: Db, actor: CurrentActor) -> list[TemplateOut]:
    """Every purpose's template (follow-up, offer, thank-you, recovery, check-in): the business's own, or
    segone's default while it has none (`is_default`). Anybody who may mark what a customer knows we know
    may read them."""
    return messages.list_templates(db, actor=actor)


@router.get(
    "/message-templates/{purpose}",
    response_model=TemplateOut,
    summary="Get a message template",
    responses=responses(401, 403, 422),
)
def get_template(db: Db, actor: CurrentActor, purpose: Purpose) -> TemplateOut:
    """The template of one purpose, with segone's default beside it."""
    return messages.get_template(db, actor=actor, purpose=purpose)


@router.put(
    "/message-templates/{purpose}",
    response_model=TemplateOut,
    summary="Change a message template",
    responses=responses(401, 403, 422),
)
def set_template(db: Db, actor: CurrentActor, purpose: Purpose, data: TemplateIn) -> TemplateOut:
    """Save the business's template for a purpose (Jinja2, rendered in a sandbox; the names it may use are
    in docs/personalisation.md). It is tried on two made-up customers first: a syntax error, a name it may
    not use, an attribute a sandbox refuses (`''.__class__`) or a failing render is a 422 whose `details`
    give the template's `line` and the `problem`. Needs the settings permission (administrators)."""
    return messages.set_template(db, actor=actor, purpose=purpose, data=data)


@router.delete(
    "/message-templates/{purpose}",
    response_model=TemplateOut,
    summary="Go back to segone's default template",
    responses=responses(401, 403, 422),
)
def reset_template(db: Db, actor: CurrentActor, purpose: Purpose) -> TemplateOut:
    """Forget the business's template for a purpose: segone's default is used again. Needs the settings
    permission (administrators)."""
    return messages.reset_template(db, actor=actor, purpose=purpose)


@router.post(
    "/customers/{customer_id}/messages/draft",
    response_model=Draft,
    summary="Draft a message to a customer",
    responses=responses(401, 403, 404, 422),
)
def draft_message(
    db: Db,
    actor: CurrentActor,
    customer_id: CustomerId,
    data: DraftRequest,
    categories: Categories,
    runtime: RuntimeDep,
) -> Draft:
    """The purpose's template filled in with the customer's facts (rarest first) and behaviour, and for an
    offer the offering named by `offering`: the `text` to edit, the facts it reveals (`revealed`: send
    their ids back when marking it sent), and its "about them, not about us" `check` (each sentence, the
    score). A template that fails on this customer is a 422 naming its line. Nothing is stored."""
    return messages.draft(
        db,
        actor=actor,
        customer_id=customer_id,
        request=data,
        categories=categories,
        freshness_months=runtime.settings.freshness_months,
        currency=runtime.settings.currency,
        default_granted=runtime.settings.consent_granted_by_default,
    )


@router.post(
    "/customers/{customer_id}/messages/check",
    response_model=CheckOut,
    summary="Check an edited draft",
    responses=responses(401, 403, 404, 422),
)
def check_message(
    db: Db,
    actor: CurrentActor,
    customer_id: CustomerId,
    data: CheckRequest,
    categories: Categories,
    runtime: RuntimeDep,
) -> CheckOut:
    """An edited draft checked again: which of the facts its draft revealed the text still mentions
    (`revealed`) and which it no longer does (`dropped`: those would not be recorded as known to them),
    and its "about them" check. Nothing is stored."""
    return messages.check(
        db,
        actor=actor,
        customer_id=customer_id,
        data=data,
        categories=categories,
        freshness_months=runtime.settings.freshness_months,
    )


@router.post(
    "/customers/{customer_id}/messages",
    response_model=SentOut,
    status_code=status.HTTP_201_CREATED,
    summary="Mark a message sent",
    responses=responses(401, 403, 404, 409, 422),
)
def send_message(
    db: Db,
    actor: CurrentActor,
    customer_id: CustomerId,
    data: SendRequest,
    categories: Categories,
    runtime: RuntimeDep,
) -> SentOut:
    """Store the message as sent (its text, purpose, channel, when) and record the facts it revealed as
    known to the customer, with this message as how they learned we know: exactly those of
    `revealed_fact_ids` the text still mentions (the others are listed in `dropped`). Facts they already
    knew we knew keep their first record (`already_known`). Another customer's fact, or a fact no longer
    true, refuses the whole message (422); so does a customer without contact consent (409)."""
    return messages.send(
        db,
        actor=actor,
        customer_id=customer_id,
        data=data,
        categories=categories,
        freshness_months=runtime.settings.freshness_months,
        default_granted=runtime.settings.consent_granted_by_default,
    )


@router.get(
    "/customers/{customer_id}/messages",
    response_model=list[MessageOut],
    summary="The messages sent to a customer",
    responses=responses(401, 403, 404, 422),
)
def list_messages(
    db: Db,
    actor: CurrentActor,
    customer_id: CustomerId,
    limit: int = Query(default=100, ge=1, le=1000, description="How many to return."),
) -> list[MessageOut]:
    """The messages marked sent to the customer, newest first, each with the facts it revealed and those it
    made known to them. The id of a merged record gives the surviving record's messages."""
    return messages.list_for_customer(db, actor=actor, customer_id=customer_id, limit=limit)
