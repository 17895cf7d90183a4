"""Audiences (managers and analysts): the segments saved under a name from the explorer, each with its
conditions, counts, stale warning, members a page at a time and hand changes. Analysts add and remove
customers by hand, evaluate an audience again and delete it; those who may export download its members as
the API does (docs/segmentation.md, "Audiences")."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path
from starlette.requests import Request
from starlette.responses import Response

from segone import formatting
from segone.accounts.schemas import Permission
from segone.customers import service as customers
from segone.errors import Invalid, NotFound
from segone.exporting import Format
from segone.runtime import Runtime
from segone.segmentation import service
from segone.segmentation.schemas import AudienceOut
from segone.views import exports
from segone.views.members import audience_edits, audience_members
from segone.web import session as web_session
from segone.web.deps import Form, RuntimeDep, Viewer, requires, see_other, web_router
from segone.web.exports import Exporter, streamed
from segone.web.paging import page_within
from segone.web.render import render

router = web_router()
Manager = Annotated[Viewer, Depends(requires(Permission.VIEW_TEAM_DASHBOARDS))]
Analyst = Annotated[Viewer, Depends(requires(Permission.RUN_ANALYTICS))]
MAX_ID = 2**31 - 1
AudienceId = Annotated[int, Path(ge=1, le=MAX_ID)]
CustomerId = Annotated[int, Path(ge=1, le=MAX_ID)]
MEMBERS_PER_PAGE = 25
SHOWN_EDITS = 50  # the latest hand changes on the page; the API and the CLI's --json give them all


@router.get("/audiences")
def audience_list(request: Request, viewer: Manager, runtime: RuntimeDep) -> Response:
    with runtime.session() as db:
        found = service.list_audiences(db, actor=viewer.actor)
    return render(request, "audiences/list.html", audiences=found)


@router.get("/audiences/{audience_id}")
def audience_page(
    request: Request, viewer: Manager, runtime: RuntimeDep, audience_id: AudienceId, page: str = "1"
) -> Response:
    return _audience_page(request, viewer, runtime, audience_id, page)


def _audience_page(
    request: Request,
    viewer: Viewer,
    runtime: Runtime,
    audience_id: int,
    page: str,
    *,
    status: int = 200,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
) -> Response:
    actor = viewer.actor
    with runtime.session() as db:
        audience = service.get_audience(db, actor=actor, audience_id=audience_id)
        page_number, pages = page_within(page, audience.size, MEMBERS_PER_PAGE)
        members = audience_members(
            db,
            actor=actor,
            audience_id=audience_id,
            offset=(page_number - 1) * MEMBERS_PER_PAGE,
            limit=MEMBERS_PER_PAGE,
        )
        edits = audience_edits(db, actor=actor, audience_id=audience_id)
    return render(
        request,
        "audiences/audience.html",
        status=status,
        errors=errors or {},
        values=values or {},
        audience=audience,
        members=members,
        page=page_number,
        pages=pages,
        edits=edits[:SHOWN_EDITS],
        more_edits=max(len(edits) - SHOWN_EDITS, 0),
    )


def _back(audience_id: int, page: str = "") -> Response:
    """Back to the audience's page, at the page of members the form was sent from."""
    text = page.strip()
    at = f"?page={text}" if text.isdigit() and len(text) < 11 and text != "1" else ""
    return see_other(f"/audiences/{audience_id}{at}#members")


@router.post("/audiences/{audience_id}/members")
def add_member(
    request: Request, viewer: Analyst, runtime: RuntimeDep, form: Form, audience_id: AudienceId
) -> Response:
    """Add a customer, named by number or by one of their ids (crm:C042), by hand."""
    reference = form.get("customer")
    try:
        if not reference:
            raise Invalid("Give the customer's number or one of their ids, such as crm:C042.")
        with runtime.session() as db:
            customer = customers.resolve(db, actor=viewer.actor, reference=reference[:400])
            changed = service.add_to_audience(
                db, actor=viewer.actor, audience_id=audience_id, customer_id=customer.id
            )
            done = f"Added {customer.name} (No. {customer.id}) by hand"
    except (Invalid, NotFound) as exc:
        with runtime.session() as db:  # an unknown audience is the page's own 404, not the form's
            service.get_audience(db, actor=viewer.actor, audience_id=audience_id)
        return _audience_page(
            request,
            viewer,
            runtime,
            audience_id,
            form.get("page"),
            status=exc.http_status,
            errors={"customer": exc.message},
            values={"customer": reference},
        )
    _flash_change(request, changed, done)
    return _back(audience_id, form.get("page"))


@router.post("/audiences/{audience_id}/members/{customer_id}/remove")
def remove_member(
    request: Request,
    viewer: Analyst,
    runtime: RuntimeDep,
    form: Form,
    audience_id: AudienceId,
    customer_id: CustomerId,
) -> Response:
    """Remove a customer by hand: out of the audience whatever the conditions say, until added again."""
    with runtime.session() as db:
        name = customers.get(db, actor=viewer.actor, customer_id=customer_id).name
        changed = service.remove_from_audience(
            db, actor=viewer.actor, audience_id=audience_id, customer_id=customer_id
        )
    _flash_change(request, changed, f"Removed {name} (No. {customer_id}) by hand")
    return _back(audience_id, form.get("page"))


def _flash_change(request: Request, audience: AudienceOut, done: str) -> None:
    web_session.load(request).flash(
        f"{done}: {audience.name} has {formatting.plural(audience.size, 'customer')}."
    )


@router.post("/audiences/{audience_id}/refresh")
def refresh(request: Request, viewer: Analyst, runtime: RuntimeDep, audience_id: AudienceId) -> Response:
    """Evaluate the conditions on today's values now, as every build does."""
    with runtime.session() as db:
        found = service.refresh_audience(db, runtime.settings, actor=viewer.actor, audience_id=audience_id)
    session = web_session.load(request)
    if found.stale:
        session.flash(f"{found.name} could not be evaluated: {found.stale} It keeps its members.")
    else:
        session.flash(f"Evaluated {found.name} again: {formatting.plural(found.size, 'customer')}.")
    return see_other(f"/audiences/{audience_id}")


@router.post("/audiences/{audience_id}/delete")
def delete(request: Request, viewer: Analyst, runtime: RuntimeDep, audience_id: AudienceId) -> Response:
    """Delete the audience with its members and hand changes; the segment it came from stays."""
    with runtime.session() as db:
        gone = service.delete_audience(db, actor=viewer.actor, audience_id=audience_id)
    web_session.load(request).flash(
        f"Deleted the audience {gone.name} ({formatting.plural(gone.size, 'customer')}); the segment it "
        "came from stays."
    )
    return see_other("/audiences")


@router.get("/audiences/{audience_id}/export")
def export_audience(
    viewer: Exporter, runtime: RuntimeDep, audience_id: AudienceId, format: Format = Format.CSV
) -> Response:
    """The members as last evaluated, as the API's export gives them, recorded in the audit trail."""
    with runtime.session() as db:  # the audit entry is committed before the download starts
        started = exports.start_audience(db, actor=viewer.actor, audience_id=audience_id, fmt=format)
    return streamed(started, format, runtime)
