"""Customers: find them, add one, the easel sheet, their details, history, forecast and merging duplicates."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from pydantic import ValidationError
from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import Response

from segone.accounts.schemas import AuditAction
from segone.behaviour import service as profiles
from segone.customers import service as customers
from segone.customers.schemas import (
    ConsentChange,
    ConsentPurpose,
    ConsentSource,
    CustomerCreate,
    CustomerKind,
    CustomerOut,
    CustomerUpdate,
    attribute_from_text,
    attribute_text,
    parse_identity,
)
from segone.errors import Conflict, Invalid, NotFound, StaleVersion
from segone.knowledge.categories.schemas import CategoryList
from segone.views import erasure
from segone.views import merge as merging
from segone.views.customer_list import page as list_page
from segone.views.customer_sheet import customer_sheet
from segone.views.subject_export import subject_export
from segone.web import behaviour_panel
from segone.web import session as web_session
from segone.web.deps import (
    Categories,
    CustomerWriter,
    Form,
    FormFields,
    Merger,
    Reader,
    RuntimeDep,
    UserAdmin,
    Viewer,
    field_errors,
    see_other,
    web_router,
)
from segone.web.distinguish import distinguish
from segone.web.paging import page_count
from segone.web.render import render

router = web_router()
PAGE_SIZE = 25


def _int_or_none(value: str | None) -> int | None:
    return int(value) if value and value.strip().isdigit() and len(value.strip()) < 12 else None


# ---------------------------------------------------------------------------------------------- list


@router.get("/customers")
def customer_list(
    request: Request,
    viewer: Reader,
    runtime: RuntimeDep,
    q: str = "",
    kind: str = "",
    page: str = "1",
) -> Response:
    query = q.strip()[:200]
    kind_filter = CustomerKind(kind) if kind in ("person", "business") else None
    page_number = max(_int_or_none(page) or 1, 1)
    with runtime.session() as db:
        found = list_page(
            db,
            actor=viewer.actor,
            query=query or None,
            kind=kind_filter,
            offset=(page_number - 1) * PAGE_SIZE,
            limit=PAGE_SIZE,
        )
    pages = page_count(found.total, PAGE_SIZE)
    if page_number > pages:
        # A page past the end (an old link, a list that shrank): the last page there is.
        kept = {"q": query, "kind": kind_filter.value if kind_filter else "", "page": pages}
        return see_other(f"/customers?{urlencode(kept)}")
    return render(
        request,
        "customers/list.html",
        cards=found.items,
        q=query,
        kind=kind_filter.value if kind_filter else "",
        total=found.total,
        page=page_number,
        pages=pages,
        page_size=PAGE_SIZE,
    )


# ----------------------------------------------------------------------------------------- new / edit


def _identity_lines(text: str) -> list[str]:
    return [line.strip() for line in text.replace(",", "\n").splitlines() if line.strip()]


def _parse_identities(form: FormFields, errors: dict[str, str]) -> list[str]:
    """E-mail, phone and any other 'system:id' lines, each checked where the person typed it."""
    keys: list[str] = []
    for field, system in (("email", "email"), ("phone", "phone")):
        value = form.get(field)
        if not value:
            continue
        if field == "email" and ("@" not in value or " " in value):
            errors[field] = f"'{value}' does not look like an e-mail address."
            continue
        try:
            parsed = parse_identity(f"{system}:{value}")
        except ValueError as exc:
            errors[field] = str(exc)[:1].upper() + str(exc)[1:] + "."
            continue
        keys.append(f"{parsed[0]}:{parsed[1]}")
    for line in _identity_lines(form.raw("identities")):
        try:
            system, value = parse_identity(line)
        except ValueError as exc:
            errors["identities"] = str(exc)[:1].upper() + str(exc)[1:] + "."
            continue
        keys.append(f"{system}:{value}")
    if len(set(keys)) != len(keys):
        errors.setdefault("identities", "The same id is given twice.")
    return list(dict.fromkeys(keys))


def _parse_attributes(text: str, errors: dict[str, str]) -> dict[str, Any]:
    attributes: dict[str, Any] = {}
    for line in text.splitlines():
        if not line.strip():
            continue
        key, sep, value = line.partition(":")
        if not sep or not key.strip():
            errors["attributes"] = f"Write each detail as 'name: value' (the line '{line.strip()}' is not)."
            continue
        attributes[key.strip()[:100]] = value.strip()
    return attributes


def _attribute_text(attributes: dict[str, Any]) -> str:
    return "\n".join(f"{k}: {attribute_text(v)}" for k, v in attributes.items())


@router.get("/customers/new")
def new_customer_form(request: Request, viewer: CustomerWriter) -> Response:
    return render(request, "customers/new.html", values={"kind": "person"}, errors={})


@router.post("/customers")
def create_customer(request: Request, viewer: CustomerWriter, form: Form, runtime: RuntimeDep) -> Response:
    errors: dict[str, str] = {}
    identities = _parse_identities(form, errors)
    attributes = _parse_attributes(form.raw("attributes"), errors)
    kind = form.get("kind") or "person"
    if kind not in ("person", "business"):
        errors["kind"] = "Choose a person or a business."
    if not form.get("name"):
        errors["name"] = "The name may not be blank."
    data: CustomerCreate | None = None
    if not errors:
        try:
            data = CustomerCreate(
                name=form.get("name"), kind=CustomerKind(kind), identities=identities, attributes=attributes
            )
        except ValidationError as exc:
            errors.update(field_errors(exc))
    if data is not None and not errors:
        try:
            with runtime.session() as db:
                customer = customers.create(db, actor=viewer.actor, data=data)
                customer_id, name = customer.id, customer.name
        except Conflict as exc:
            errors["identities"] = exc.message
            return render(request, "customers/new.html", status=409, values=form.values(), errors=errors)
        web_session.load(request).flash(f"{name} is on file. Start the easel sheet with what you know.")
        return see_other(f"/customers/{customer_id}")
    return render(request, "customers/new.html", status=422, values=form.values(), errors=errors)


def redirect_if_merged(
    request: Request, customer_id: int, requested_id: int, suffix: str = ""
) -> Response | None:
    """A merged record's pages are its survivor's: redirect there, saying why."""
    if customer_id == requested_id:
        return None
    web_session.load(request).flash(
        f"Customer record {requested_id} was merged into this one; you are seeing the combined record."
    )
    return see_other(f"/customers/{customer_id}{suffix}")


@router.get("/customers/{customer_id}/edit")
def edit_customer_form(
    request: Request, customer_id: int, viewer: CustomerWriter, runtime: RuntimeDep
) -> Response:
    with runtime.session() as db:
        out = customers.to_out(customers.get(db, actor=viewer.actor, customer_id=customer_id))
    if (moved := redirect_if_merged(request, out.id, customer_id, "/edit")) is not None:
        return moved
    return render(
        request, "customers/edit.html", customer=out, values=_edit_values(out), errors={}, stale=None
    )


def _edit_values(out: CustomerOut) -> dict[str, str]:
    return {
        "name": out.name,
        "kind": out.kind.value,
        "attributes": _attribute_text(out.attributes),
        "version": str(out.version),
    }


@router.post("/customers/{customer_id}/edit")
def edit_customer(
    request: Request, customer_id: int, viewer: CustomerWriter, form: Form, runtime: RuntimeDep
) -> Response:
    errors: dict[str, str] = {}
    added = _parse_identities(form, errors)
    removed = form.getlist("remove_identity")
    attributes = _parse_attributes(form.raw("attributes"), errors)
    kind = form.get("kind")
    if kind not in ("person", "business"):
        errors["kind"] = "Choose a person or a business."
    with runtime.session() as db:
        customer = customers.get(db, actor=viewer.actor, customer_id=customer_id)
        out = customers.to_out(customer)
        if not errors:
            # A detail left as the form showed it keeps its value and type; an edited one keeps its type
            # when the new text reads as one (a number stays a number).
            changed = {
                k: attribute_from_text(v, like=out.attributes.get(k))
                for k, v in attributes.items()
                if k not in out.attributes or attribute_text(out.attributes[k]) != v
            }
            dropped: dict[str, Any] = {k: None for k in out.attributes if k not in attributes}
            try:
                data = CustomerUpdate(
                    name=form.get("name") or None,
                    kind=CustomerKind(kind),
                    attributes={**changed, **dropped} or None,
                    add_identities=[k for k in added if k not in out.identities],
                    remove_identities=[k for k in removed if k in out.identities],
                    version=form.version(),
                )
                if not form.get("name"):
                    errors["name"] = "The name may not be blank."
                else:
                    customers.update(db, actor=viewer.actor, customer_id=customer.id, data=data)
            except ValidationError as exc:
                errors.update(
                    field_errors(exc, {"add_identities": "identities", "remove_identities": "identities"})
                )
            except StaleVersion as exc:
                # Their form is refilled with the record as it is now, so what they redo starts from it.
                db.rollback()
                current = customers.to_out(customers.get(db, actor=viewer.actor, customer_id=customer.id))
                return render(
                    request,
                    "customers/edit.html",
                    status=409,
                    customer=current,
                    values=_edit_values(current),
                    errors={},
                    stale=exc.message,
                )
            except (Conflict, Invalid) as exc:
                errors["identities"] = exc.message
        if errors:
            db.rollback()
            return render(
                request,
                "customers/edit.html",
                status=422,
                customer=out,
                values=form.values(),
                errors=errors,
                stale=None,
            )
    web_session.load(request).flash("Details saved.")
    return see_other(f"/customers/{customer.id}")


# ------------------------------------------------------------------------------------------ the sheet


def render_sheet(
    request: Request,
    db: Session,
    viewer: Viewer,
    customer_id: int,
    categories: CategoryList,
    *,
    status: int = 200,
    **extra: Any,
) -> Response:
    """The customer page: the customer sheet, and what a form sent back (errors, the fact just added)."""
    context: dict[str, Any] = {
        "circled": None,
        "added": None,
        "logged": None,
        "add_errors": {},
        "add_values": {"confidence": "0.8"},
        "fact_errors": {},
        "open_fact": None,
        "error": None,
    }
    context.update(extra)
    sheet = customer_sheet(
        db,
        actor=viewer.actor,
        customer_id=customer_id,
        categories=categories,
        freshness_months=request.app.state.runtime.settings.freshness_months,
        currency=request.app.state.runtime.settings.currency,
        consent_default=request.app.state.runtime.settings.consent_granted_by_default,
    )
    return render(
        request,
        "customers/sheet.html",
        status=status,
        sheet=sheet,
        behaviour=behaviour_panel.panel(sheet.behaviour),
        known=distinguish(sheet),
        **context,
    )


@router.get("/customers/{customer_id}")
def customer_page(
    request: Request,
    customer_id: int,
    viewer: Reader,
    runtime: RuntimeDep,
    categories: Categories,
    circled: str = "",
    added: str = "",
    logged: str = "",
) -> Response:
    with runtime.reading() as db:
        # Held while the sheet is read: the session keeps a row only while it is referenced, and the
        # sheet would read the customer again.
        customer = customers.get(db, actor=viewer.actor, customer_id=customer_id)
        if (moved := redirect_if_merged(request, customer.id, customer_id)) is not None:
            return moved
        return render_sheet(
            request,
            db,
            viewer,
            customer.id,
            categories,
            circled=_int_or_none(circled),
            added=_int_or_none(added),
            logged=_int_or_none(logged),
        )


@router.get("/customers/{customer_id}/data-export")
def customer_data_export(
    request: Request, customer_id: int, viewer: UserAdmin, runtime: RuntimeDep
) -> Response:
    """Everything held about the customer as one JSON file, as the API gives it; recorded in the audit log."""
    with runtime.session() as db:  # the audit entry is committed with the read, before the download
        document = subject_export(
            db,
            actor=viewer.actor,
            customer_id=customer_id,
            data_dir=runtime.settings.data_dir,
            analytics_url=runtime.settings.analytics_url,
            currency=runtime.settings.currency,
        )
    name = f"segone-customer-{document.customer.id}-{document.exported_at:%Y%m%d-%H%M}.json"
    return Response(
        document.model_dump_json(indent=2),
        media_type="application/json",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get("/customers/{customer_id}/erase")
def erase_form(request: Request, customer_id: int, viewer: UserAdmin, runtime: RuntimeDep) -> Response:
    """What erasing the customer removes, and the confirmation it asks for."""
    with runtime.session() as db:
        customer = customers.to_out(customers.get(db, actor=viewer.actor, customer_id=customer_id))
        if (moved := redirect_if_merged(request, customer.id, customer_id, "/erase")) is not None:
            return moved
        return render(request, "customers/erase.html", customer=customer, error=None)


@router.post("/customers/{customer_id}/erase")
def erase(request: Request, customer_id: int, viewer: UserAdmin, form: Form, runtime: RuntimeDep) -> Response:
    """Erase once the customer's number is typed again: an admin's deliberate act, not a stray click."""
    if (form.get("confirm") or "").strip() != str(customer_id):
        with runtime.session() as db:
            customer = customers.to_out(customers.get(db, actor=viewer.actor, customer_id=customer_id))
            error = f"Type the customer's number, {customer_id}, to confirm."
            return render(request, "customers/erase.html", status=422, customer=customer, error=error)
    with runtime.session() as db:
        done = erasure.erase(
            db, actor=viewer.actor, customer_id=customer_id, data_dir=runtime.settings.data_dir
        )
    erasure.settle(runtime.engine)
    web_session.load(request).flash(
        f"Customer {done.customer_id} erased: {sum(done.rows.values()):,} rows and {done.events:,} events "
        "removed; the audit log keeps only who did what when."
    )
    return see_other("/customers")


# ---------------------------------------------------------------------------------------- history


ACTION_LABELS = {action.value: action.label for action in AuditAction}


@router.get("/customers/{customer_id}/history")
def customer_history(request: Request, customer_id: int, viewer: Reader, runtime: RuntimeDep) -> Response:
    with runtime.session() as db:
        customer = customers.get(db, actor=viewer.actor, customer_id=customer_id)
        if (moved := redirect_if_merged(request, customer.id, customer_id, "/history")) is not None:
            return moved
        entries = customers.history(db, actor=viewer.actor, customer_id=customer.id, limit=500)
        merges = customers.merges_into(db, customer_id=customer.id)
        return render(
            request,
            "customers/history.html",
            customer=customers.to_out(customer),
            entries=entries,
            merges=merges,
            labels=ACTION_LABELS,
        )


# --------------------------------------------------------------------------------------- forecast

FORECAST_LEVEL = 0.9


@router.get("/customers/{customer_id}/forecast")
def customer_forecast(request: Request, customer_id: int, viewer: Reader, runtime: RuntimeDep) -> Response:
    """The behaviour panel's scores with their 90% intervals, and P(alive) over the customer's past: a
    page of its own, linked from the panel, so that the customer page does not pay for them."""
    with runtime.session() as db:
        customer = customers.get(db, actor=viewer.actor, customer_id=customer_id)
        if (moved := redirect_if_merged(request, customer.id, customer_id, "/forecast")) is not None:
            return moved
        behaviour = profiles.behaviour_with_intervals(
            db,
            actor=viewer.actor,
            customer_id=customer.id,
            currency=runtime.settings.currency,
            level=FORECAST_LEVEL,
        )
        history = profiles.alive_history(db, actor=viewer.actor, customer_id=customer.id)
        return render(
            request,
            "customers/forecast.html",
            customer=customers.to_out(customer),
            forecast=behaviour_panel.forecast(behaviour, history),
        )


@router.get("/customers/{customer_id}/alive-history")
def customer_alive_history(
    request: Request, customer_id: int, viewer: Reader, runtime: RuntimeDep
) -> Response:
    """P(alive) over the customer's past, alone: the behaviour panel loads its chart from here after the
    customer page has shown (a few milliseconds of scoring the page itself does not wait for), and a
    browser without scripts links to it."""
    with runtime.session() as db:
        customer = customers.get(db, actor=viewer.actor, customer_id=customer_id)
        if (moved := redirect_if_merged(request, customer.id, customer_id, "/alive-history")) is not None:
            return moved
        history = profiles.alive_history(db, actor=viewer.actor, customer_id=customer.id)
        return render(
            request,
            "customers/alive_history.html",
            customer=customers.to_out(customer),
            history=history,
            chart=behaviour_panel.alive_chart(history.points, history.as_of) if history.as_of else None,
        )


# ------------------------------------------------------------------------------------------ merge


def _merge_page(
    request: Request,
    db: Session,
    viewer: Viewer,
    survivor: CustomerOut,
    reference: str,
    *,
    status: int = 200,
    error: str | None = None,
) -> Response:
    preview = None
    if reference and error is None:
        try:
            duplicate = customers.resolve(db, actor=viewer.actor, reference=reference)
            if duplicate.id == survivor.id:
                error = f"'{reference}' is this customer already ({survivor.name})."
            else:
                preview = merging.preview(
                    db, actor=viewer.actor, survivor_id=survivor.id, duplicate_id=duplicate.id
                )
        except (NotFound, Invalid) as exc:
            error, status = exc.message, exc.http_status
    same_name = list_page(db, actor=viewer.actor, query=survivor.name, limit=6).items
    return render(
        request,
        "customers/merge.html",
        status=status,
        customer=survivor,
        reference=reference,
        preview=preview,
        candidates=[c for c in same_name if c.id != survivor.id][:5],
        error=error,
    )


@router.get("/customers/{customer_id}/merge")
def merge_form(
    request: Request, customer_id: int, viewer: Merger, runtime: RuntimeDep, duplicate: str = ""
) -> Response:
    with runtime.session() as db:
        survivor = customers.to_out(customers.get(db, actor=viewer.actor, customer_id=customer_id))
        if (moved := redirect_if_merged(request, survivor.id, customer_id, "/merge")) is not None:
            return moved
        return _merge_page(request, db, viewer, survivor, duplicate.strip()[:300])


@router.post("/customers/{customer_id}/merge")
def merge(request: Request, customer_id: int, viewer: Merger, form: Form, runtime: RuntimeDep) -> Response:
    merged_id = _int_or_none(form.get("merged_id"))
    try:
        with runtime.session() as db:
            if merged_id is None:
                raise Invalid("Choose the duplicate record to merge into this one.")
            survivor, moved = merging.merge(
                db, actor=viewer.actor, survivor_id=customer_id, merged_id=merged_id
            )
    except (Invalid, Conflict, NotFound) as exc:
        with runtime.session() as db:
            current = customers.to_out(customers.get(db, actor=viewer.actor, customer_id=customer_id))
            return _merge_page(request, db, viewer, current, "", status=exc.http_status, error=exc.message)
    web_session.load(request).flash(
        f"Merged record {merged_id} into {survivor.name}: "
        f"{moved.get('differentiators', 0)} differentiators, {moved.get('encounters', 0)} encounters and "
        f"{moved.get('identities', 0)} ids moved over. Nothing was lost."
    )
    return see_other(f"/customers/{survivor.id}")


@router.post("/customers/{customer_id}/consent")
def record_consent(
    request: Request, customer_id: int, viewer: CustomerWriter, form: Form, runtime: RuntimeDep
) -> Response:
    """The sheet's consent form: each purpose granted, refused, or left as it is."""
    chosen = {purpose.value: form.get(purpose.value) for purpose in ConsentPurpose}
    try:
        change = ConsentChange(
            **{name: value == "granted" for name, value in chosen.items() if value in ("granted", "refused")},
            note=form.get("note") or None,
        )
        with runtime.session() as db:
            found = customers.get(db, actor=viewer.actor, customer_id=customer_id).id
            customers.record_consent(
                db,
                actor=viewer.actor,
                customer_id=found,
                change=change,
                source=ConsentSource.FORM,
                default_granted=runtime.settings.consent_granted_by_default,
            )
    except (Invalid, ValidationError) as exc:
        message = exc.message if isinstance(exc, Invalid) else "The note may be at most 500 characters."
        web_session.load(request).flash(message)
        return see_other(f"/customers/{customer_id}#consent")
    web_session.load(request).flash("Consent recorded.")
    return see_other(f"/customers/{found}#consent")
