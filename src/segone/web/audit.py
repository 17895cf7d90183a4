"""The audit log for administrators: who read or changed which customer's data, filtered, and its CSV."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from urllib.parse import urlencode

from fastapi.responses import StreamingResponse
from starlette.requests import Request
from starlette.responses import Response

from segone.accounts import service as accounts
from segone.accounts.schemas import AuditAction, AuditFilter
from segone.clock import utcnow
from segone.exporting import Format, content_disposition, media_type, stream
from segone.views import exports
from segone.web.deps import RuntimeDep, UserAdmin, web_router
from segone.web.paging import page_within
from segone.web.render import render

router = web_router()

PER_PAGE = 100
ACTION_LABELS = {action.value: action.label for action in AuditAction}


def _day(text: str) -> date | None:
    """A day typed in the filter ("2026-12-01"); anything else is no filter (the form says the format)."""
    try:
        return date.fromisoformat(text.strip()) if text.strip() else None
    except ValueError:
        return None


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def _filter(customer: str, user: str, action: str, since: str, until: str) -> AuditFilter:
    first, last = _day(since), _day(until)
    return AuditFilter(
        customer_id=int(customer) if customer.strip().isdigit() and len(customer.strip()) < 11 else None,
        user=user.strip() or None,
        action=action if action in ACTION_LABELS else None,
        since=_start_of(first) if first else None,
        until=_start_of(last + timedelta(days=1)) if last else None,  # the whole of the last day
    )


@router.get("/admin/audit")
def audit_log(
    request: Request,
    viewer: UserAdmin,
    runtime: RuntimeDep,
    customer: str = "",
    user: str = "",
    action: str = "",
    since: str = "",
    until: str = "",
    page: str = "",
) -> Response:
    wanted = _filter(customer, user, action, since, until)
    with runtime.session() as db:
        total = accounts.audit_log(db, actor=viewer.actor, wanted=wanted, limit=1).total
        shown, pages = page_within(page, total, PER_PAGE)
        found = accounts.audit_log(
            db, actor=viewer.actor, wanted=wanted, offset=(shown - 1) * PER_PAGE, limit=PER_PAGE
        )
    values = {"customer": customer, "user": user, "action": action, "since": since, "until": until}
    return render(
        request,
        "admin/audit.html",
        entries=found.entries,
        total=found.total,
        page=shown,
        pages=pages,
        values=values,
        labels=ACTION_LABELS,
        query=urlencode({name: value for name, value in values.items() if value}),
    )


@router.get("/admin/audit/export")
def export_audit_log(
    request: Request,
    viewer: UserAdmin,
    runtime: RuntimeDep,
    customer: str = "",
    user: str = "",
    action: str = "",
    since: str = "",
    until: str = "",
) -> Response:
    """The entries the page's filters select, as CSV through the exports' writer; recorded in the log."""
    wanted = _filter(customer, user, action, since, until)
    with runtime.session() as db:  # the audit entry is committed before the download starts
        started = exports.start_audit_log(db, actor=viewer.actor, wanted=wanted, fmt=Format.CSV)
    return StreamingResponse(
        stream(started, Format.CSV, runtime.session),
        media_type=media_type(Format.CSV),
        headers={"Content-Disposition": content_disposition(started.name, Format.CSV, utcnow())},
    )
