"""The audit log: who read or changed which customer's data, filtered, as a page or as a file."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse

from segone.accounts import service as accounts
from segone.accounts.schemas import AuditFilter, AuditPage
from segone.api.deps import MAX_ID, CurrentActor, Db, RuntimeDep
from segone.api.errors import responses
from segone.clock import utcnow
from segone.exporting import Format, content_disposition, media_type, stream
from segone.views import exports

router = APIRouter(prefix="/audit", tags=["audit"])


@router.get(
    "",
    response_model=AuditPage,
    summary="The audit log, filtered",
    responses=responses(401, 403, 422),
)
def audit_log(
    db: Db,
    actor: CurrentActor,
    customer: int | None = Query(default=None, ge=1, le=MAX_ID, description="Entries about this customer."),
    user: str | None = Query(default=None, max_length=320, description="Entries by this user: e-mail or id."),
    action: str | None = Query(default=None, max_length=60, description="One action, e.g. customer.viewed."),
    since: datetime | None = Query(default=None, description="From this moment on (a date: its start, UTC)."),
    until: datetime | None = Query(default=None, description="Before this moment (a date: its start, UTC)."),
    offset: int = Query(default=0, ge=0, le=MAX_ID),
    limit: int = Query(default=100, ge=1, le=1000),
) -> AuditPage:
    """Who read (a customer's sheet, briefing or data export) or changed which customer's data, and every
    other change, newest first: a page of the entries that match every filter given, with their total.
    The log is append-only. Administrators only."""
    wanted = AuditFilter(customer_id=customer, user=user, action=action, since=since, until=until)
    return accounts.audit_log(db, actor=actor, wanted=wanted, offset=offset, limit=limit)


@router.get(
    "/export",
    response_class=StreamingResponse,
    summary="The audit log, filtered, as a file",
    responses={
        200: {
            "description": "The file, streamed as it is read, oldest entry first.",
            "content": {
                media_type(fmt): {"schema": {"type": "string", "format": "binary"}} for fmt in Format
            },
        },
        **responses(401, 403, 422),
    },
)
def export_audit_log(
    db: Db,
    actor: CurrentActor,
    runtime: RuntimeDep,
    customer: int | None = Query(default=None, ge=1, le=MAX_ID, description="Entries about this customer."),
    user: str | None = Query(default=None, max_length=320, description="Entries by this user: e-mail or id."),
    action: str | None = Query(default=None, max_length=60, description="One action, e.g. customer.viewed."),
    since: datetime | None = Query(default=None, description="From this moment on (a date: its start, UTC)."),
    until: datetime | None = Query(default=None, description="Before this moment (a date: its start, UTC)."),
    format: Format = Query(default=Format.CSV, description="csv (UTF-8, RFC 4180) or parquet."),
) -> StreamingResponse:
    """The entries matching the same filters as `GET /audit`, through the exports' writer (text cells a
    spreadsheet would run as a formula start with `'`); the export is itself recorded in the log.
    Administrators only."""
    wanted = AuditFilter(customer_id=customer, user=user, action=action, since=since, until=until)
    started = exports.start_audit_log(db, actor=actor, wanted=wanted, fmt=format)
    return StreamingResponse(
        stream(started, format, runtime.session),
        media_type=media_type(format),
        headers={"Content-Disposition": content_disposition(started.name, format, utcnow())},
    )
