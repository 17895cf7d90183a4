"""Messages on the web: a draft from the briefing (edit it, check it, mark it sent), the messages sent to a
customer, and the administration of the templates by purpose."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any

from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import Response

from segone.clock import utcnow
from segone.customers import service as customers
from segone.errors import Invalid
from segone.personalisation import service as offerings
from segone.personalisation.messages import service as messages
from segone.personalisation.messages.rendering import TemplateFailed
from segone.personalisation.messages.schemas import (
    CheckOut,
    CheckRequest,
    DraftRequest,
    MessageChannel,
    Purpose,
    SendRequest,
    TemplateIn,
)
from segone.runtime import Runtime
from segone.web import session as web_session
from segone.web.customers import redirect_if_merged
from segone.web.deps import (
    Acknowledger,
    Categories,
    Form,
    FormFields,
    Reader,
    RuntimeDep,
    SettingsAdmin,
    Viewer,
    field_errors,
    see_other,
    web_router,
)
from segone.web.render import render

router = web_router()

ADMIN = "/admin/message-templates"
PURPOSES = [(purpose.value, purpose.label) for purpose in Purpose]
CHANNELS = [(channel.value, channel.label.capitalize()) for channel in MessageChannel]


def _purpose(value: str) -> Purpose:
    try:
        return Purpose(value or Purpose.FOLLOW_UP.value)
    except ValueError:
        raise Invalid.of_field("purpose", f"'{value}' is not a purpose of a message.") from None


def _draft_page(
    request: Request,
    runtime: Runtime,
    viewer: Viewer,
    *,
    customer_id: int,
    purpose: Purpose,
    offering: str | None,
    text: str,
    checked: CheckOut,
    status: int = 200,
    error: str | None = None,
    values: dict[str, str] | None = None,
) -> Response:
    with runtime.session() as db:
        customer = customers.to_out(customers.get(db, actor=viewer.actor, customer_id=customer_id))
        catalogue = offerings.list_offerings(db, actor=viewer.actor, limit=500).items
    return render(
        request,
        "messages/draft.html",
        status=status,
        customer=customer,
        purpose=purpose,
        purposes=PURPOSES,
        offering=offering or "",
        catalogue=catalogue,
        channels=CHANNELS,
        text=text,
        checked=checked,
        error=error,
        values=values or {"channel": MessageChannel.EMAIL.value, "sent_on": utcnow().date().isoformat()},
    )


@router.get("/customers/{customer_id}/messages/draft")
def draft_page(
    request: Request,
    customer_id: int,
    viewer: Acknowledger,
    runtime: RuntimeDep,
    categories: Categories,
    purpose: str = "",
    offering: str = "",
) -> Response:
    """The purpose's template filled in for the customer, ready to edit, check and mark sent."""
    chosen = _purpose(purpose)
    settings = runtime.settings
    with runtime.session() as db:
        found = customers.get(db, actor=viewer.actor, customer_id=customer_id).id
        suffix = f"/messages/draft?purpose={chosen.value}"
        if (moved := redirect_if_merged(request, found, customer_id, suffix)) is not None:
            return moved
        made = messages.draft(
            db,
            actor=viewer.actor,
            customer_id=found,
            # No key holds a NUL: shown as U+FFFD, it is an unknown offering, said so on the page.
            request=DraftRequest(
                purpose=chosen, offering=offering.strip()[:300].replace("\x00", "\ufffd") or None
            ),
            categories=categories,
            freshness_months=settings.freshness_months,
            currency=settings.currency,
            default_granted=settings.consent_granted_by_default,
        )
    return _draft_page(
        request,
        runtime,
        viewer,
        customer_id=found,
        purpose=chosen,
        offering=made.offering,
        text=made.text,
        checked=made,
    )


def _fact_ids(form: FormFields) -> list[int]:
    return [int(value) for value in form.getlist("fact") if value.isdigit() and len(value) < 10]


def _check(
    runtime: Runtime, viewer: Viewer, categories: Categories, customer_id: int, text: str, fact_ids: list[int]
) -> CheckOut:
    with runtime.session() as db:
        return messages.check(
            db,
            actor=viewer.actor,
            customer_id=customer_id,
            data=CheckRequest(text=text, revealed_fact_ids=fact_ids),
            categories=categories,
            freshness_months=runtime.settings.freshness_months,
        )


@router.post("/customers/{customer_id}/messages/draft")
def check_draft(
    request: Request,
    customer_id: int,
    viewer: Acknowledger,
    form: Form,
    runtime: RuntimeDep,
    categories: Categories,
) -> Response:
    """The edited draft checked again: which facts it still mentions, and how much is about them."""
    purpose = _purpose(form.get("purpose"))
    text = form.raw("text").replace("\r\n", "\n")
    if not text.strip():
        checked = _check(runtime, viewer, categories, customer_id, " ", [])
        return _draft_page(
            request,
            runtime,
            viewer,
            customer_id=customer_id,
            purpose=purpose,
            offering=form.get("offering") or None,
            text=text,
            checked=checked,
            status=422,
            error="The message is empty.",
            values=form.values(),
        )
    checked = _check(runtime, viewer, categories, customer_id, text, _fact_ids(form))
    return _draft_page(
        request,
        runtime,
        viewer,
        customer_id=customer_id,
        purpose=purpose,
        offering=form.get("offering") or None,
        text=text,
        checked=checked,
        values=form.values(),
    )


def _sent_at(value: str) -> datetime | None:
    """The day it went: today is now; an earlier day is taken at noon UTC."""
    if not value:
        return None
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise Invalid.of_field("sent_on", f"'{value[:20]}' is not a date (YYYY-MM-DD).") from None
    if day == utcnow().date():
        return None
    return datetime.combine(day, time(12), tzinfo=UTC)


@router.post("/customers/{customer_id}/messages")
def mark_sent(
    request: Request,
    customer_id: int,
    viewer: Acknowledger,
    form: Form,
    runtime: RuntimeDep,
    categories: Categories,
) -> Response:
    """Store the message as sent and record the facts it still mentions as known to the customer."""
    purpose = _purpose(form.get("purpose"))
    text = form.raw("text").replace("\r\n", "\n")
    fact_ids = _fact_ids(form)
    error: str | None = None
    try:
        data = SendRequest.model_validate(
            {
                "purpose": purpose,
                "text": text,
                "channel": form.get("channel"),
                "revealed_fact_ids": fact_ids,
                "sent_at": _sent_at(form.get("sent_on")),
                "offering": form.get("offering") or None,
            }
        )
        with runtime.session() as db:
            sent = messages.send(
                db,
                actor=viewer.actor,
                customer_id=customer_id,
                data=data,
                categories=categories,
                freshness_months=runtime.settings.freshness_months,
                default_granted=runtime.settings.consent_granted_by_default,
            )
    except ValidationError as exc:
        error = "; ".join(field_errors(exc).values())
    except Invalid as exc:
        error = exc.message
    if error is not None:
        try:
            checked = _check(runtime, viewer, categories, customer_id, text or " ", fact_ids)
        except Invalid:  # a fact it may not reveal: the refusal says why; the check goes without them
            checked = _check(runtime, viewer, categories, customer_id, text or " ", [])
        return _draft_page(
            request,
            runtime,
            viewer,
            customer_id=customer_id,
            purpose=purpose,
            offering=form.get("offering") or None,
            text=text,
            checked=checked,
            status=422,
            error=error,
            values=form.values(),
        )
    known = [fact.text for fact in sent.revealed if fact.id in sent.acknowledged]
    said = f"The {purpose.label.lower()} message is marked sent ({sent.channel.label})."
    if known:
        said += " Now they know we know: " + "; ".join(known) + "."
    if sent.dropped:
        said += " Not recorded, no longer in the text: " + "; ".join(f.text for f in sent.dropped) + "."
    web_session.load(request).flash(said)
    return see_other(f"/customers/{sent.customer_id}")


@router.get("/customers/{customer_id}/messages")
def sent_messages(request: Request, customer_id: int, viewer: Reader, runtime: RuntimeDep) -> Response:
    """The messages sent to a customer, newest first."""
    with runtime.session() as db:
        customer = customers.get(db, actor=viewer.actor, customer_id=customer_id)
        if (moved := redirect_if_merged(request, customer.id, customer_id, "/messages")) is not None:
            return moved
        sent = messages.list_for_customer(db, actor=viewer.actor, customer_id=customer.id)
        out = customers.to_out(customer)
    return render(request, "messages/list.html", customer=out, sent=sent, purposes=PURPOSES)


# ---- administration of the templates ---------------------------------------------------------------------


@router.get(ADMIN)
def template_list(request: Request, viewer: SettingsAdmin, runtime: RuntimeDep) -> Response:
    with runtime.session() as db:
        templates = messages.list_templates(db, actor=viewer.actor)
    return render(request, "admin/message_templates.html", templates=templates)


def _template_page(
    request: Request,
    runtime: Runtime,
    viewer: Viewer,
    purpose: Purpose,
    *,
    body: str | None = None,
    status: int = 200,
    errors: dict[str, str] | None = None,
    problem_line: int | None = None,
) -> Response:
    with runtime.session() as db:
        template = messages.get_template(db, actor=viewer.actor, purpose=purpose)
    shown = template.template if body is None else body
    previews: list[dict[str, Any]] = []
    if not errors:
        previews = [{"title": title, "text": text} for title, text in messages.previews(purpose, shown)]
    return render(
        request,
        "admin/message_template.html",
        status=status,
        message_template=template,
        body=shown,
        errors=errors or {},
        problem_line=problem_line,
        previews=previews,
    )


@router.get(ADMIN + "/{purpose}")
def template_form(request: Request, purpose: Purpose, viewer: SettingsAdmin, runtime: RuntimeDep) -> Response:
    return _template_page(request, runtime, viewer, purpose)


@router.post(ADMIN + "/{purpose}")
def save_template(
    request: Request, purpose: Purpose, viewer: SettingsAdmin, form: Form, runtime: RuntimeDep
) -> Response:
    body = form.raw("template").replace("\r\n", "\n")
    try:
        data = TemplateIn(template=body)
    except ValidationError as exc:
        return _template_page(
            request, runtime, viewer, purpose, body=body, status=422, errors=field_errors(exc)
        )
    try:
        with runtime.session() as db:
            saved = messages.set_template(db, actor=viewer.actor, purpose=purpose, data=data)
    except TemplateFailed as exc:
        return _template_page(
            request,
            runtime,
            viewer,
            purpose,
            body=body,
            status=422,
            errors={"template": exc.message},
            problem_line=exc.problem.line,
        )
    web_session.load(request).flash(f"Saved the {saved.label.lower()} template.")
    return see_other(f"{ADMIN}/{purpose.value}")


@router.post(ADMIN + "/{purpose}/reset")
def reset_template(
    request: Request, purpose: Purpose, viewer: SettingsAdmin, runtime: RuntimeDep
) -> Response:
    with runtime.session() as db:
        saved = messages.reset_template(db, actor=viewer.actor, purpose=purpose)
    web_session.load(request).flash(f"The {saved.label.lower()} template is segone's default again.")
    return see_other(f"{ADMIN}/{purpose.value}")
