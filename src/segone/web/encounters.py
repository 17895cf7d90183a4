"""Encounters: log one in a few taps (with what was learned in it), list them, read one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import ValidationError
from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import Response

from segone.accounts.schemas import Permission
from segone.channels import Channel
from segone.customers import service as customers
from segone.customers.schemas import CustomerOut
from segone.encounters import service as encounters
from segone.encounters import suggestions
from segone.encounters.schemas import EncounterCreate, NewFact
from segone.encounters.suggestions import SuggestionConfirm, SuggestionReject
from segone.errors import Conflict, Invalid, NotFound
from segone.knowledge.categories.schemas import CategoryList
from segone.knowledge.facts import service as knowledge
from segone.quality import service as quality
from segone.runtime import Runtime
from segone.web import session as web_session
from segone.web.deps import (
    Categories,
    EncounterWriter,
    FactWriter,
    Form,
    FormFields,
    Reader,
    RuntimeDep,
    Viewer,
    field_errors,
    see_other,
    web_router,
)
from segone.web.labels import CHANNEL_LABELS, channel_label
from segone.web.render import render

router = web_router()
DURATION_CHIPS = (5, 15, 30, 60)


def _form_context(
    db: Session, viewer: Viewer, customer: CustomerOut, categories: CategoryList
) -> dict[str, Any]:
    facts = knowledge.to_out_many(
        db, knowledge.list_for_customer(db, actor=viewer.actor, customer_id=customer.id), categories
    )
    return {
        "customer": customer,
        "channels": CHANNEL_LABELS,
        "choices": categories.for_kind(customer.kind.value),
        "not_yet_known": [f for f in facts if f.acknowledgement is None],
        "durations": DURATION_CHIPS,
    }


@router.get("/customers/{customer_id}/encounters/new")
def new_encounter_form(
    request: Request, customer_id: int, viewer: EncounterWriter, runtime: RuntimeDep, categories: Categories
) -> Response:
    with runtime.session() as db:
        customer = customers.to_out(customers.get(db, actor=viewer.actor, customer_id=customer_id))
        if customer.id != customer_id:
            return see_other(f"/customers/{customer.id}/encounters/new")
        return render(
            request,
            "encounters/new.html",
            values={"listening_share": "50"},
            fact_rows=[("", "")],
            acked=set(),
            errors={},
            **_form_context(db, viewer, customer, categories),
        )


def _when(form: FormFields, errors: dict[str, str]) -> datetime | None:
    raw = form.get("occurred_at")
    if not raw:
        return None
    offset = form.get("tz_offset")
    minutes = int(offset) if offset.lstrip("-").isdigit() and abs(int(offset)) <= 24 * 60 else 0
    try:
        local = datetime.fromisoformat(raw)
        if local.tzinfo is not None:
            return local.astimezone(UTC)
        return (local + timedelta(minutes=minutes)).replace(tzinfo=UTC)
    except (ValueError, OverflowError):  # not a time, or one at the very edge of the calendar
        errors["occurred_at"] = "Give the date and time like 2026-03-01 14:30."
        return None


def _duration(form: FormFields, errors: dict[str, str]) -> int | None:
    raw = form.get("duration_minutes")
    if not raw:
        return None
    if not raw.isdigit() or int(raw) > 24 * 60:
        errors["duration_minutes"] = "Give the minutes as a whole number, at most 1440."
        return None
    return int(raw)


def _listening(form: FormFields, errors: dict[str, str]) -> float | None:
    if form.get("listening_touched") != "1":
        return None
    raw = form.get("listening_share")
    if not raw.isdigit() or int(raw) > 100:
        errors["listening_share"] = "Move the slider between 0 and 100%."
        return None
    return int(raw) / 100


def _predicted(form: FormFields, errors: dict[str, str]) -> int | None:
    raw = form.get("predicted_rating")
    if not raw:
        return None
    if raw not in {"1", "2", "3", "4", "5"}:
        errors["predicted_rating"] = "Choose a rating from 1 to 5, or leave it for now."
        return None
    return int(raw)


def _facts(form: FormFields, errors: dict[str, str]) -> tuple[list[NewFact], list[tuple[str, str]]]:
    texts, cats = form.getlist("fact_text"), form.getlist("fact_category")
    rows = [(t.strip(), cats[i].strip() if i < len(cats) else "") for i, t in enumerate(texts)]
    facts: list[NewFact] = []
    for text, category in rows:
        if not text:
            continue
        if not category:
            errors["facts"] = "Choose a category for every fact you learned."
            continue
        try:
            facts.append(NewFact(text=" ".join(text.split())[:2000], category=category))
        except ValidationError:
            errors["facts"] = "Each fact needs some text and a category."
    return facts, [r for r in rows if r[0] or r[1]] or [("", "")]


@router.post("/customers/{customer_id}/encounters")
def log_encounter(
    request: Request,
    customer_id: int,
    viewer: EncounterWriter,
    form: Form,
    runtime: RuntimeDep,
    categories: Categories,
) -> Response:
    errors: dict[str, str] = {}
    channel = form.get("channel")
    if channel not in {c.value for c in Channel}:
        errors["channel"] = "Choose how you met."
    occurred_at = _when(form, errors)
    if "occurred_at" not in errors:
        # The service's own rule, asked early so the date is marked together with the other fields.
        try:
            encounters.check_when(occurred_at, date_floor=runtime.settings.encounter_date_floor)
        except Invalid as exc:
            errors["occurred_at"] = exc.message
    duration = _duration(form, errors)
    listening = _listening(form, errors)
    predicted = _predicted(form, errors)
    facts, fact_rows = _facts(form, errors)
    acked = {int(v) for v in form.getlist("acknowledge") if v.isdigit() and len(v) < 12}
    status = 422
    with runtime.session() as db:
        customer = customers.to_out(customers.get(db, actor=viewer.actor, customer_id=customer_id))
        data: EncounterCreate | None = None
        if not errors:
            try:
                data = EncounterCreate(
                    channel=Channel(channel),
                    occurred_at=occurred_at,
                    duration_minutes=duration,
                    notes=form.raw("notes"),
                    cares_about=form.get("cares_about"),
                    worries_about=form.get("worries_about"),
                    listening_share=listening,
                    facts=facts,
                    acknowledge=sorted(acked),
                )
            except ValidationError as exc:
                errors.update(field_errors(exc))
        if data is not None and not errors:
            try:
                encounter_id = encounters.record(
                    db,
                    actor=viewer.actor,
                    customer_id=customer.id,
                    data=data,
                    categories=categories,
                    date_floor=runtime.settings.encounter_date_floor,
                ).id
                if predicted is not None and viewer.actor.can(Permission.RATE_SERVICE):
                    quality.record_prediction(
                        db, actor=viewer.actor, encounter_id=encounter_id, data=predicted
                    )
            except (Invalid, Conflict) as exc:
                field = exc.field if isinstance(exc, Invalid) else None
                errors[field or ("facts" if "categor" in exc.message else "form")] = exc.message
                status = exc.http_status
        if errors:
            db.rollback()
            return render(
                request,
                "encounters/new.html",
                status=status,
                values=form.values(),
                fact_rows=fact_rows,
                acked=acked,
                errors=errors,
                **_form_context(db, viewer, customer, categories),
            )
    learned = (
        f" {len(facts)} new differentiator{'s' if len(facts) != 1 else ''} on the easel sheet."
        if facts
        else ""
    )
    web_session.load(request).flash(f"Encounter logged.{learned}")
    return see_other(f"/customers/{customer.id}?logged={encounter_id}")


@router.get("/customers/{customer_id}/encounters")
def encounter_list(request: Request, customer_id: int, viewer: Reader, runtime: RuntimeDep) -> Response:
    with runtime.session() as db:
        customer = customers.get(db, actor=viewer.actor, customer_id=customer_id)
        if customer.id != customer_id:
            return see_other(f"/customers/{customer.id}/encounters")
        rows = encounters.list_for_customer(db, actor=viewer.actor, customer_id=customer.id, limit=500)
        return render(
            request,
            "encounters/list.html",
            customer=customers.to_out(customer),
            encounters=encounters.to_out_many(db, rows),
        )


def _detail(
    request: Request,
    db: Session,
    viewer: Viewer,
    runtime: Runtime,
    categories: CategoryList,
    encounter_id: int,
    status: int = 200,
    suggestion_error: str | None = None,
    failed: str | None = None,
) -> Response:
    """The encounter page; after a failed confirm or reject, with the message beside that suggestion."""
    encounter = encounters.get(db, actor=viewer.actor, encounter_id=encounter_id)
    customer = customers.get(db, actor=viewer.actor, customer_id=encounter.customer_id)
    out = encounters.to_out_many(db, [encounter])[0]
    all_facts = knowledge.to_out_many(
        db,
        knowledge.list_for_customer(db, actor=viewer.actor, customer_id=customer.id, include_outdated=True),
        categories,
    )
    learned = [f for f in all_facts if f.id in out.differentiator_ids]
    shown = [f for f in all_facts if f.acknowledgement and f.acknowledgement.encounter_id == encounter.id]
    heard = (
        suggestions.suggest(
            db,
            actor=viewer.actor,
            encounter_id=encounter.id,
            categories=categories,
            data_dir=runtime.settings.data_dir,
        )
        if viewer.can(Permission.ADD_DIFFERENTIATORS)
        else []
    )
    return render(
        request,
        "encounters/detail.html",
        status=status,
        customer=customers.to_out(customer),
        encounter=out,
        channel=channel_label(out.channel),
        learned=learned,
        shown=shown,
        suggestions=heard,
        choices=categories.for_kind(customer.kind),
        suggestion_error=suggestion_error,
        failed=failed,
    )


@router.get("/encounters/{encounter_id}")
def encounter_detail(
    request: Request, encounter_id: int, viewer: Reader, runtime: RuntimeDep, categories: Categories
) -> Response:
    with runtime.session() as db:
        return _detail(request, db, viewer, runtime, categories, encounter_id)


@router.post("/encounters/{encounter_id}/suggestions/confirm")
@router.post("/encounters/{encounter_id}/suggestions/reject")
def act_on_suggestion(
    request: Request,
    encounter_id: int,
    viewer: FactWriter,
    form: Form,
    runtime: RuntimeDep,
    categories: Categories,
) -> Response:
    """Confirm one suggestion (as suggested, or as edited in the form: it goes on the easel sheet), or
    reject it (it is not proposed again): the last part of the path says which. On bad input the
    encounter is shown again with the problem beside the suggestion, and nothing is written."""
    action = request.url.path.rsplit("/", 1)[-1]
    suggestion_id = form.get("suggestion")
    with runtime.session() as db:
        try:
            if action == "confirm":
                data = SuggestionConfirm(
                    id=suggestion_id, text=form.get("text") or None, category=form.get("category") or None
                )
                fact = suggestions.confirm(
                    db,
                    actor=viewer.actor,
                    encounter_id=encounter_id,
                    data=data,
                    categories=categories,
                    data_dir=runtime.settings.data_dir,
                )
                said = f"On the easel sheet: {fact.text}"
            else:
                suggestions.reject(
                    db,
                    actor=viewer.actor,
                    encounter_id=encounter_id,
                    data=SuggestionReject(id=suggestion_id),
                    categories=categories,
                    data_dir=runtime.settings.data_dir,
                )
                said = "Rejected: it will not be suggested again."
        except ValidationError as exc:
            db.rollback()
            message = (
                next(iter(field_errors(exc).values()), "Check the text and the category.")
                if action == "confirm"
                else "That suggestion is not known."
            )
            return _detail(
                request, db, viewer, runtime, categories, encounter_id, 422, message, suggestion_id
            )
        except (Invalid, Conflict, NotFound) as exc:
            db.rollback()
            return _detail(
                request,
                db,
                viewer,
                runtime,
                categories,
                encounter_id,
                exc.http_status,
                exc.message,
                suggestion_id,
            )
    web_session.load(request).flash(said)
    return see_other(f"/encounters/{encounter_id}#suggestions")
