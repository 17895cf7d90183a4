"""The Export buttons: customers, facts and encounters as CSV or Parquet downloads, streamed as the API's."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends
from starlette.responses import Response, StreamingResponse

from segone.accounts.schemas import Permission
from segone.clock import utcnow
from segone.exporting import Format, content_disposition, media_type, stream
from segone.views import exports
from segone.views.exports import ExportKind
from segone.web.deps import RuntimeDep, Viewer, requires, web_router

router = web_router()
Exporter = Annotated[Viewer, Depends(requires(Permission.EXPORT_DATA))]


@router.get("/exports/{what}")
def download(
    what: ExportKind, viewer: Exporter, runtime: RuntimeDep, format: Format = Format.CSV
) -> Response:
    with runtime.session() as db:  # the audit entry is committed before the download starts
        started = exports.start(db, actor=viewer.actor, what=what, fmt=format)
    return StreamingResponse(
        stream(started, format, runtime.session),
        media_type=media_type(format),
        headers={"Content-Disposition": content_disposition(started.name, format, utcnow())},
    )
