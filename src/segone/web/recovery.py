"""Recovery and promises in the browser: the backlog (open cases first), a case with its actions and its
close form, and the forms of the customer sheet that open a case and make, keep or break a promise."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from urllib.parse import urlencode

from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import Response

from segone import formatting
from segone.accounts import service as accounts
from segone.clock import utcnow
from segone.customer_service.promises import service as promises
from segone.customer_service.promises.schemas import PromiseCreate, PromiseMark, RateGroup
from segone.customer_service.recovery import service as recovery
from segone.customer_service.recovery.schemas import (
    DEFAULT_RETENTION_DAYS,
    VERDICT_LABELS,
    ActionCreate,
    CaseClose,
    CaseOpen,
    CaseStatus,
    CaseUpdate,
    Priority,
    Verdict,
)
from segone.customer_service.strategy import service as strategies
from segone.errors import Conflict, Forbidden, Invalid, NotFound
from segone.runtime import Runtime
from segone.web import session as web_session
from segone.web.deps import (
    EncounterWriter,
    Form,
    Reader,
    RuntimeDep,
    Viewer,
    field_errors,
    see_other,
    web_router,
)
from segone.web.paging import page_within
from segone.web.render import render

router = web_router()
PAGE_SIZE = 25
PERIOD_DAYS = 90
STATUSES = {"open": CaseStatus.OPEN, "closed": CaseStatus.CLOSED, "all": None}


def _sheet(customer_id: int, anchor: str) -> str:
    return f"/customers/{customer_id}#{anchor}"


# ------------------------------------------------------------------------------------------ the backlog


@router.get("/recovery")
def recovery_list(
    request: Request, viewer: Reader, runtime: RuntimeDep, status: str = "open", page: str = "1"
) -> Response:
    chosen = status if status in STATUSES else "open"
    settings = runtime.settings
    with runtime.session() as db:
        total = recovery.list_cases(db, actor=viewer.actor, status=STATUSES[chosen], limit=1).total
        number, pages = page_within(page, total, PAGE_SIZE)
        found = recovery.list_cases(
            db, actor=viewer.actor, status=STATUSES[chosen], offset=(number - 1) * PAGE_SIZE, limit=PAGE_SIZE
        )
        measured = rates = None
        if viewer.can(recovery.ASSIGN):
            end = utcnow().date()
            start = end - timedelta(days=PERIOD_DAYS - 1)
            measured = recovery.measures(
                db,
                actor=viewer.actor,
                start=start,
                end=end,
                days=DEFAULT_RETENTION_DAYS,
                data_dir=settings.data_dir,
                analytics_url=settings.analytics_url,
            )
            rates = promises.rates(db, actor=viewer.actor, start=start, end=end, by=RateGroup.TEAM)
    return render(
        request,
        "recovery/list.html",
        found=found,
        chosen=chosen,
        page=number,
        pages=pages,
        measured=measured,
        rates=rates,
        verdicts=VERDICT_LABELS,
        hours=_hours,
        page_link=lambda n: "/recovery?" + urlencode({"status": chosen, "page": n}),
    )


def _hours(value: float | None) -> str:
    """``25 min``, ``3.5 h``, ``1 day 4 h``, ``12 days``: a time to recover as people say it."""
    if value is None:
        return formatting.NO_VALUE
    if value < 1:
        return f"{max(round(value * 60), 1)} min"
    if value < 24:
        return f"{formatting.decimal(value, 1)} h"
    days, rest = divmod(round(value), 24)
    return formatting.plural(days, "day") + (f" {rest} h" if rest and days < 7 else "")


# ------------------------------------------------------------------------------------------- a case


def _case_page(
    request: Request,
    runtime: Runtime,
    viewer: Viewer,
    case_id: int,
    *,
    status: int = 200,
    **context: Any,
) -> Response:
    page: dict[str, Any] = {"errors": {}, "values": {}, "close_errors": {}, "close_values": {}}
    page.update(context)
    with runtime.session() as db:
        detail = recovery.get_case(db, actor=viewer.actor, case_id=case_id)
        strategy = strategies.current(db, actor=viewer.actor)
    return render(
        request,
        "recovery/case.html",
        status=status,
        case=detail,
        strategy=strategy,
        role=viewer.actor.role,
        verdicts=VERDICT_LABELS,
        hours=_hours,
        **page,
    )


@router.get("/recovery/{case_id}")
def case_page(request: Request, case_id: int, viewer: Reader, runtime: RuntimeDep) -> Response:
    return _case_page(request, runtime, viewer, case_id)


@router.post("/customers/{customer_id}/recovery")
def open_case(
    request: Request, customer_id: int, viewer: EncounterWriter, form: Form, runtime: RuntimeDep
) -> Response:
    priority = form.get("priority") or Priority.NORMAL.value
    try:
        data = CaseOpen(
            customer_id=customer_id,
            summary=form.get("summary"),
            priority=Priority(priority) if priority in {p.value for p in Priority} else Priority.NORMAL,
        )
        with runtime.session() as db:
            made = recovery.open_case(db, actor=viewer.actor, data=data)
    except ValidationError as exc:
        message = field_errors(exc).get("summary", "Say what went wrong.")
        web_session.load(request).flash(f"The recovery case was not opened: {message}")
        return see_other(_sheet(customer_id, "recovery"))
    web_session.load(request).flash(
        f"Recovery case {made.id} is open and yours: put it right by {made.target_at:%d %b %Y, %H:%M} UTC."
    )
    return see_other(f"/recovery/{made.id}")


@router.post("/recovery/{case_id}/actions")
def act(request: Request, case_id: int, viewer: EncounterWriter, form: Form, runtime: RuntimeDep) -> Response:
    exception = form.get("exception") or None
    cost_text = form.get("cost").replace(",", "")
    values = form.values()
    try:
        cost = float(cost_text) if cost_text else None
    except ValueError:
        errors = {"cost": f"'{form.get('cost')}' is not an amount."}
        return _case_page(request, runtime, viewer, case_id, status=422, errors=errors, values=values)
    try:
        data = ActionCreate(text=form.get("text"), exception=exception, cost=cost)
    except ValidationError as exc:
        errors = field_errors(exc, {"form": "cost"})
        return _case_page(request, runtime, viewer, case_id, status=422, errors=errors, values=values)
    try:
        with runtime.session() as db:
            recovery.act(
                db, actor=viewer.actor, case_id=case_id, data=data, currency=runtime.settings.currency
            )
    except (Forbidden, Invalid, Conflict) as exc:
        field = "cost" if isinstance(exc, Forbidden) else (getattr(exc, "field", None) or "text")
        return _case_page(
            request,
            runtime,
            viewer,
            case_id,
            status=exc.http_status,
            errors={field: exc.message},
            values=values,
        )
    web_session.load(request).flash("Recorded.")
    return see_other(f"/recovery/{case_id}#actions")


@router.post("/recovery/{case_id}/close")
def close(
    request: Request, case_id: int, viewer: EncounterWriter, form: Form, runtime: RuntimeDep
) -> Response:
    verdict = form.get("verdict")
    values = form.values()
    errors: dict[str, str] = {}
    if verdict not in {v.value for v in Verdict}:
        errors["verdict"] = "Ask the customer: are they satisfied with how it was put right?"
    if not form.get("resolution"):
        errors["resolution"] = "Say how it was put right."
    if errors:
        return _case_page(
            request, runtime, viewer, case_id, status=422, close_errors=errors, close_values=values
        )
    try:
        with runtime.session() as db:
            out = recovery.close_case(
                db,
                actor=viewer.actor,
                case_id=case_id,
                data=CaseClose(resolution=form.get("resolution"), verdict=Verdict(verdict)),
            )
    except ValidationError as exc:
        errors = field_errors(exc)
        return _case_page(
            request, runtime, viewer, case_id, status=422, close_errors=errors, close_values=values
        )
    except Conflict as exc:
        errors = {"resolution": exc.message}
        return _case_page(
            request, runtime, viewer, case_id, status=409, close_errors=errors, close_values=values
        )
    web_session.load(request).flash(
        f"Case {out.id} is closed: recovered in {_hours(out.hours_to_recover)}, the customer "
        f"{VERDICT_LABELS[Verdict(verdict)]}."
    )
    return see_other(f"/recovery/{out.id}")


@router.post("/recovery/{case_id}/change")
def change(
    request: Request, case_id: int, viewer: EncounterWriter, form: Form, runtime: RuntimeDep
) -> Response:
    """Take the case (owner: me), hand it on (owner: an e-mail address; managers), or change its priority."""
    changes: dict[str, Any] = {}
    if form.get("priority") in {p.value for p in Priority}:
        changes["priority"] = form.get("priority")
    owner = form.get("owner")
    try:
        with runtime.session() as db:
            if owner == "me":
                changes["owner_id"] = viewer.user_id
            elif owner:
                changes["owner_id"] = accounts.get_by_email(db, email=owner).id
            recovery.update_case(
                db, actor=viewer.actor, case_id=case_id, data=CaseUpdate.model_validate(changes)
            )
    except (NotFound, Invalid, Conflict) as exc:
        return _case_page(
            request, runtime, viewer, case_id, status=exc.http_status, errors={"owner": exc.message}
        )
    web_session.load(request).flash("Saved.")
    return see_other(f"/recovery/{case_id}")


# -------------------------------------------------------------------------------------------- promises


@router.post("/customers/{customer_id}/promises")
def make_promise(
    request: Request, customer_id: int, viewer: EncounterWriter, form: Form, runtime: RuntimeDep
) -> Response:
    try:
        due = date.fromisoformat(form.get("due_on"))
    except ValueError:
        web_session.load(request).flash("The promise was not recorded: choose the day it is due.")
        return see_other(_sheet(customer_id, "promises"))
    try:
        data = PromiseCreate(customer_id=customer_id, text=form.get("text"), due_on=due)
        with runtime.session() as db:
            made = promises.make(db, actor=viewer.actor, data=data)
    except ValidationError:
        web_session.load(request).flash("The promise was not recorded: say what you promised.")
        return see_other(_sheet(customer_id, "promises"))
    except Invalid as exc:
        web_session.load(request).flash(f"The promise was not recorded: {exc.message}")
        return see_other(_sheet(customer_id, "promises"))
    web_session.load(request).flash(f"Promise recorded, due {made.due_on:%d %b %Y}. Keep it.")
    return see_other(_sheet(made.customer_id, "promises"))


def _mark(
    request: Request, runtime: Runtime, viewer: Viewer, promise_id: int, form_note: str, kept: bool
) -> Response:
    try:
        with runtime.session() as db:
            mark = promises.keep if kept else promises.mark_broken
            out = mark(db, actor=viewer.actor, promise_id=promise_id, data=PromiseMark(note=form_note[:1000]))
    except Conflict as exc:
        with runtime.session() as db:
            customer_id = promises.get(db, actor=viewer.actor, promise_id=promise_id).customer_id
        web_session.load(request).flash(exc.message)
        return see_other(_sheet(customer_id, "promises"))
    web_session.load(request).flash(f"Promise {out.state.value}: {out.text}")
    return see_other(_sheet(out.customer_id, "promises"))


@router.post("/promises/{promise_id}/keep")
def keep_promise(
    request: Request, promise_id: int, viewer: EncounterWriter, form: Form, runtime: RuntimeDep
) -> Response:
    return _mark(request, runtime, viewer, promise_id, form.get("note"), kept=True)


@router.post("/promises/{promise_id}/break")
def break_promise(
    request: Request, promise_id: int, viewer: EncounterWriter, form: Form, runtime: RuntimeDep
) -> Response:
    return _mark(request, runtime, viewer, promise_id, form.get("note"), kept=False)
