"""The Export buttons: customers, facts and encounters as CSV or Parquet downloads, streamed as the API's.
A segment's and an audience's downloads (web/segments.py, web/audiences.py) go out the same way."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends
from starlette.responses import Response, StreamingResponse

from segone.accounts.schemas import Permission
from segone.clock import utcnow
from segone.exporting import Export, Format, content_disposition, media_type, stream
from segone.runtime import Runtime
from segone.views import exports
from segone.views.exports import ExportKind
from segone.web.deps import RuntimeDep, Viewer, requires, web_router

router = web_router()
Exporter = Annotated[Viewer, Depends(requires(Permission.EXPORT_DATA))]


def streamed(started: Export, fmt: Format, runtime: Runtime) -> StreamingResponse:
    """The started export's rows as a download, read in a session of their own as the API streams them."""
    return StreamingResponse(
        stream(started, fmt, runtime.session),
        media_type=media_type(fmt),
        headers={"Content-Disposition": content_disposition(started.name, fmt, utcnow())},
    )


@router.get("/exports/{what}")
def download(
    what: ExportKind, viewer: Exporter, runtime: RuntimeDep, format: Format = Format.CSV
) -> Response:
    with runtime.session() as db:  # the audit entry is committed before the download starts
        started = exports.start(db, actor=viewer.actor, what=what, fmt=format)
    return streamed(started, format, runtime)
