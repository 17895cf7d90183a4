"""Differentiators on the easel sheet: add one, circle it (the customer knows we know), edit, outdate.

Each action answers with a redirect to the sheet (so a plain form works); the page's script sends the
same form with fetch and swaps the sheet in place, so one tap does not reload the page.
"""

from __future__ import annotations

from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import Response

from segone.customers import service as customers
from segone.errors import Conflict, Invalid
from segone.knowledge.facts import service as knowledge
from segone.knowledge.facts.schemas import (
    AcknowledgeRequest,
    DifferentiatorCreate,
    DifferentiatorUpdate,
    OutdateRequest,
)
from segone.views import facts
from segone.web import session as web_session
from segone.web.customers import render_sheet
from segone.web.deps import (
    Acknowledger,
    Categories,
    FactWriter,
    Form,
    RuntimeDep,
    field_errors,
    see_other,
    web_router,
)

router = web_router()


def _confidence(value: str) -> float | None:
    try:
        number = float(value)
    except ValueError:
        return None
    return number if 0.0 <= number <= 1.0 else None


@router.post("/customers/{customer_id}/differentiators")
def add_differentiator(
    request: Request,
    customer_id: int,
    viewer: FactWriter,
    form: Form,
    runtime: RuntimeDep,
    categories: Categories,
) -> Response:
    errors: dict[str, str] = {}
    with runtime.session() as db:
        customer = customers.get(db, actor=viewer.actor, customer_id=customer_id)
        if not form.get("text"):
            errors["text"] = "Write what makes them different."
        if not form.get("category"):
            errors["category"] = "Choose what kind of fact this is."
        confidence = _confidence(form.get("confidence") or "0.8")
        if confidence is None:
            errors["confidence"] = "Choose how sure you are."
        try:
            data = DifferentiatorCreate(
                text=form.get("text"), category=form.get("category") or "?", confidence=confidence or 0.8
            )
        except ValidationError as exc:
            for key, message in field_errors(exc).items():
                errors.setdefault(key, message)
        if not errors:
            try:
                fact = facts.add(
                    db, actor=viewer.actor, customer_id=customer.id, data=data, categories=categories
                )
                fact_id = fact.id
            except Invalid as exc:
                errors["category"] = exc.message
        if errors:
            db.rollback()
            return render_sheet(
                request,
                db,
                viewer,
                customer.id,
                categories,
                status=422,
                add_errors=errors,
                add_values=form.values(),
            )
    web_session.load(request).flash("Added to the easel sheet.")
    return see_other(f"/customers/{customer.id}?added={fact_id}#fact-{fact_id}")


@router.post("/differentiators/{differentiator_id}/acknowledge")
def acknowledge(
    request: Request,
    differentiator_id: int,
    viewer: Acknowledger,
    runtime: RuntimeDep,
    categories: Categories,
) -> Response:
    with runtime.session() as db:
        fact = knowledge.get(db, actor=viewer.actor, differentiator_id=differentiator_id)
        customer_id = fact.customer_id
        try:
            facts.acknowledge(
                db,
                actor=viewer.actor,
                differentiator_id=fact.id,
                data=AcknowledgeRequest(),
                categories=categories,
            )
        except Conflict as exc:
            db.rollback()
            return render_sheet(request, db, viewer, customer_id, categories, status=409, error=exc.message)
    return see_other(f"/customers/{customer_id}?circled={differentiator_id}#fact-{differentiator_id}")


@router.post("/differentiators/{differentiator_id}/edit")
def edit_differentiator(
    request: Request,
    differentiator_id: int,
    viewer: FactWriter,
    form: Form,
    runtime: RuntimeDep,
    categories: Categories,
) -> Response:
    errors: dict[str, str] = {}
    with runtime.session() as db:
        fact = knowledge.get(db, actor=viewer.actor, differentiator_id=differentiator_id)
        customer = customers.get(db, actor=viewer.actor, customer_id=fact.customer_id)
        confidence = _confidence(form.get("confidence")) if form.get("confidence") else None
        if form.get("confidence") and confidence is None:
            errors["confidence"] = "Choose how sure you are."
        category = form.get("category") or None
        if category is not None:
            try:
                if not categories.get(category).applies_to(customer.kind):
                    errors["category"] = f"That category is not for a {customer.kind}."
            except Invalid as exc:
                errors["category"] = exc.message
        try:
            data = DifferentiatorUpdate(
                text=form.get("text"),
                category=category,
                confidence=confidence,
                confirmed=form.get("confirmed") == "yes",
                version=form.version(),
            )
        except ValidationError as exc:
            for key, message in field_errors(exc).items():
                errors.setdefault(key, message)
        status = 422
        if not errors:
            try:
                knowledge.edit(
                    db, actor=viewer.actor, differentiator_id=fact.id, data=data, categories=categories
                )
            except (Invalid, Conflict) as exc:
                errors["text"] = exc.message
                status = exc.http_status
        if errors:
            db.rollback()
            return render_sheet(
                request,
                db,
                viewer,
                customer.id,
                categories,
                status=status,
                fact_errors={differentiator_id: errors},
                open_fact=differentiator_id,
            )
    web_session.load(request).flash("Saved.")
    return see_other(f"/customers/{customer.id}#fact-{differentiator_id}")


@router.post("/differentiators/{differentiator_id}/outdate")
def outdate_differentiator(
    request: Request,
    differentiator_id: int,
    viewer: FactWriter,
    form: Form,
    runtime: RuntimeDep,
    categories: Categories,
) -> Response:
    with runtime.session() as db:
        fact = knowledge.get(db, actor=viewer.actor, differentiator_id=differentiator_id)
        customer_id = fact.customer_id
        try:
            result = knowledge.outdate(
                db,
                actor=viewer.actor,
                differentiator_id=fact.id,
                data=OutdateRequest(replacement=form.get("replacement")[:2000] or None),
            )
        except Conflict as exc:
            db.rollback()
            return render_sheet(request, db, viewer, customer_id, categories, status=409, error=exc.message)
        replaced = result.id != differentiator_id
        new_id = result.id
    session = web_session.load(request)
    if replaced:
        session.flash("Updated: the old fact is kept as no longer true.")
        return see_other(f"/customers/{customer_id}?added={new_id}#fact-{new_id}")
    session.flash("Marked as no longer true.")
    return see_other(f"/customers/{customer_id}")
