"""Request bodies are capped before they are read whole: a 413 instead of memory spent on a body that
would be refused anyway (the JSON guard and the imports read bodies into memory).

A pure ASGI middleware, outside every other: it refuses a declared ``Content-Length`` over the cap at
once, and counts the bytes of a body that comes without one (chunked) as they arrive, stopping at the
cap. File imports (a CSV body or a multipart upload to an import path) have a cap of their own
(SEGONE_MAX_UPLOAD_MB); every other body has SEGONE_MAX_BODY_MB.
"""

from __future__ import annotations

from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from segone.api.errors import ASGIApp, Message, Receive, Scope, Send, error_body

MB = 1024 * 1024

# File imports are posted to an "import" path (/api/v1/customers/import, /customers/import/check...).
_IMPORT_SEGMENT = "import"


class _TooLarge(HTTPException):
    """Raised while the app reads the body. An HTTP error, so that code which turns any other failure
    to read a body into a 400 (FastAPI's form parsing) lets it through to the error handlers."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, _message(limit))


def _header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return bytes(value)
    return None


class BodySizeLimit:
    def __init__(self, app: ASGIApp, *, max_body: int, max_upload: int) -> None:
        self.app = app
        self.max_body = max_body
        self.max_upload = max_upload

    def limit_of(self, scope: Scope) -> int:
        segments = str(scope.get("path", "")).split("/")
        return self.max_upload if _IMPORT_SEGMENT in segments else self.max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_of(scope)
        declared = _header(scope, b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await _refuse(scope, receive, send, limit)
            return
        received = 0
        started = False

        async def counted_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise _TooLarge(limit)
            return message

        async def watched_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted_receive, watched_send)
        except _TooLarge:
            if started:  # a route that answered before reading its whole body: nothing more to say
                raise
            await _refuse(scope, receive, send, limit)


def _message(limit: int) -> str:
    size = f"{limit / MB:g} MB" if limit >= MB else f"{limit} bytes"
    return f"The request body is larger than this server accepts ({size})."


async def _refuse(scope: Scope, receive: Receive, send: Send, limit: int) -> None:
    response = JSONResponse(
        error_body("too_large", _message(limit), {"limit_bytes": limit}),
        status_code=413,
        # The rest of the body is not read: the client must not send it on this connection.
        headers={"Connection": "close"},
    )
    await response(scope, receive, send)
