"""Exports: customers, facts and encounters as CSV or Parquet, streamed as they are read."""

from __future__ import annotations

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse

from segone.api.deps import CurrentActor, Db, RuntimeDep
from segone.api.errors import responses
from segone.clock import utcnow
from segone.exporting import Format, content_disposition, media_type, stream
from segone.views import exports
from segone.views.exports import ExportKind

router = APIRouter(prefix="/exports", tags=["exports"])


@router.get(
    "/{what}",
    response_class=StreamingResponse,
    summary="Export customers, facts or encounters",
    responses={
        200: {
            "description": "The file, streamed (chunked) as it is read: a chunk per 10,000 rows.",
            "content": {
                media_type(fmt): {"schema": {"type": "string", "format": "binary"}} for fmt in Format
            },
        },
        **responses(401, 403, 422),
    },
)
def export(
    what: ExportKind,
    db: Db,
    actor: CurrentActor,
    runtime: RuntimeDep,
    format: Format = Query(default=Format.CSV, description="csv (UTF-8, RFC 4180) or parquet."),
) -> StreamingResponse:
    """Every customer (in the layout `POST /customers/import` reads back: `id`, `kind`, `name`,
    `identities`, a column per attribute), every fact (with who learned it, where, and whether the
    customer knows we know) or every encounter (with the facts learned in it), as an attachment. Text
    cells of a CSV that a spreadsheet would run as a formula (starting with `= + - @`, tab or carriage
    return) start with a `'`. Needs the export permission (analysts and administrators); each export is
    recorded in the audit trail. `audit-log` is the whole audit log (administrators only; filtered:
    `GET /audit/export`)."""
    started = exports.start(db, actor=actor, what=what, fmt=format)
    return StreamingResponse(
        stream(started, format, runtime.session),
        media_type=media_type(format),
        headers={"Content-Disposition": content_disposition(started.name, format, utcnow())},
    )
