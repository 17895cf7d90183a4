"""Every error the API returns has the same JSON shape: {"error": {"code", "message", "details"}}.

Besides mapping the services' errors, this module guards the API against input that no backend can
store the same way (NUL characters, unpaired surrogates, NaN and Infinity), so that bad input is a 422 on
SQLite and PostgreSQL alike, never a 500 on one of them.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import unquote_to_bytes

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy.exc import DataError, InterfaceError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from segone.errors import (
    STORE_UNAVAILABLE_MESSAGE,
    STORE_UNAVAILABLE_RETRY_AFTER,
    SegoneError,
    TooManyAttempts,
    Unauthenticated,
)

log = logging.getLogger(__name__)

STORE_UNAVAILABLE = (OperationalError, InterfaceError)
"""What the database driver raises when the connection is lost (a restart of PostgreSQL, a backend ended)
or the store is locked: the request can be repeated, so the answer is 503 with ``Retry-After``."""

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class ErrorDetail(BaseModel):
    code: str = Field(description="Stable, machine-readable: invalid, not_found, conflict, forbidden...")
    message: str = Field(description="What is wrong, in words meant for people.")
    details: Any = Field(default=None, description="More about it, e.g. the fields at fault.")


class ErrorOut(BaseModel):
    """The body of every error response."""

    error: ErrorDetail


_RESPONSES: dict[int, str] = {
    401: "No API token, or an unknown or revoked one.",
    403: "Your role does not have the permission this needs.",
    404: "Something named in the path does not exist.",
    409: "The request conflicts with the record's current state.",
    422: "The request is not valid; `details` lists each problem.",
    503: (
        "The database is not reachable just now (restarting, or busy): try again after the number of "
        "seconds in the `Retry-After` header."
    ),
    429: (
        "Too many failed token checks from this address: every call is refused until the number of "
        "seconds in the `Retry-After` header has passed."
    ),
}


def responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI documentation of the error responses a route can give.

    A route that checks the API token (401) can also refuse a caller who failed that check too often (429),
    and, as it reads the token from the database, answer 503 while the database cannot be reached.
    """
    documented = sorted({*codes, 429, 503} if 401 in codes else set(codes))
    return {code: {"model": ErrorOut, "description": _RESPONSES[code]} for code in documented}


def error_body(code: str, message: str, details: Any = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": details}}


def _location(loc: tuple[Any, ...] | list[Any]) -> str:
    if list(loc) == ["body"]:
        return "body"
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "")]
    return ".".join(parts) or "request"


def validation_details(exc: RequestValidationError) -> list[dict[str, Any]]:
    details = []
    for e in exc.errors():
        # A schema's own check says what is wrong in words; pydantic's prefix is not for people (the web
        # and the CLI drop it too, so every entry point shows the same message).
        problem = str(e.get("msg", "is not valid")).removeprefix("Value error, ")
        if e.get("type") == "json_invalid" and e.get("ctx", {}).get("error"):
            problem = f"{problem}: {e['ctx']['error']}"
        details.append({"field": _location(e.get("loc", ())), "problem": problem})
    return details


async def _segone_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, SegoneError)
    headers: dict[str, str] | None = None
    if isinstance(exc, Unauthenticated):
        headers = {"WWW-Authenticate": "Bearer"}
    elif isinstance(exc, TooManyAttempts):
        headers = {"Retry-After": str(exc.retry_after)}
    return JSONResponse(
        error_body(exc.code, exc.message, exc.details), status_code=exc.http_status, headers=headers
    )


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    details = validation_details(exc)
    message = "; ".join(f"{d['field']}: {d['problem']}" for d in details)
    return JSONResponse(error_body("invalid", message, details), status_code=422)


async def _http_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    codes = {
        404: "not_found",
        405: "method_not_allowed",
        401: "unauthenticated",
        403: "forbidden",
        413: "too_large",
    }
    return JSONResponse(
        error_body(codes.get(exc.status_code, "http_error"), str(exc.detail)),
        status_code=exc.status_code,
        headers=getattr(exc, "headers", None),
    )


async def _server_error(_request: Request, _exc: Exception) -> JSONResponse:
    # What went wrong is in the server's log; the caller gets the API's error shape, not plain text.
    return JSONResponse(
        error_body("internal", "Something went wrong on the server; it has been logged. Try again later."),
        status_code=500,
    )


async def _data_error(_request: Request, exc: Exception) -> JSONResponse:
    # A safety net: input is validated before it reaches the database, so this means a value slipped
    # through that the database refuses (a number out of range, text it cannot hold).
    return JSONResponse(
        error_body("invalid", "The database cannot store a value of this request; check numbers and text."),
        status_code=422,
    )


async def _store_unavailable(_request: Request, exc: Exception) -> JSONResponse:
    # Handled here, so not logged by the server's catch-all: a restart should still be seen in the log.
    log.warning("database unavailable: %s", str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
    return JSONResponse(
        error_body("unavailable", STORE_UNAVAILABLE_MESSAGE),
        status_code=503,
        headers={"Retry-After": str(STORE_UNAVAILABLE_RETRY_AFTER)},
    )


# --- input no backend stores the same way -------------------------------------------------------------


class _Unstorable(ValueError):
    pass


def _reject_constant(name: str) -> Any:
    raise _Unstorable(f"{name} is not a JSON number")


def _finite_float(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise _Unstorable(f"{text[:40]} is too large a number")
    return value


def _text_problem(value: str) -> str | None:
    if "\x00" in value:
        return "text may not contain the NUL character (\\u0000)"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "text may not contain unpaired surrogates (\\ud800-\\udfff)"
    return None


# What a JSON text must hold for one of its strings to have a NUL or half a surrogate pair: their escapes,
# or the bytes themselves (the parser passes surrogates encoded as UTF-8 through; a UTF-16 or UTF-32 body
# has NUL bytes). Without any, walking every string of the document finds nothing: an events batch is
# thousands of strings, a few milliseconds of the interpreter's lock.
_MAYBE_UNSTORABLE_TEXT = re.compile(rb"\\u(?:0000|[dD][89a-fA-F])|\xed[\xa0-\xbf]|\x00")


def json_body_problem(body: bytes) -> tuple[str, str] | None:
    """(field, problem) for a JSON body the API must refuse, or None when it may go on to validation."""
    try:
        document = json.loads(body, parse_constant=_reject_constant, parse_float=_finite_float)
    except json.JSONDecodeError as exc:
        return "body", f"is not valid JSON: {exc.msg}"
    except _Unstorable as exc:
        return "body", f"is not valid JSON: {exc}"
    except ValueError:  # Python's limit on the digits of an integer, or bytes that are not text
        return "body", "is not valid JSON: a number has too many digits, or the text is not UTF-8"
    except RecursionError:
        return "body", "is nested too deeply"
    if not _MAYBE_UNSTORABLE_TEXT.search(body):
        return None
    stack: list[tuple[str, Any]] = [("", document)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, str):
            problem = _text_problem(value)
            if problem:
                return path or "body", problem
        elif isinstance(value, dict):
            for key, item in value.items():
                problem = _text_problem(key)
                if problem:
                    return path or "body", f"a key: {problem}"
                stack.append((f"{path}.{key}" if path else key, item))
        elif isinstance(value, list):
            stack.extend((f"{path}.{n}" if path else str(n), item) for n, item in enumerate(value))
    return None


def _is_json(scope: Scope) -> bool:
    for name, value in scope.get("headers", []):
        if name == b"content-type":
            media = bytes(value).split(b";")[0].strip().lower()
            return media == b"application/json" or (
                media.startswith(b"application/") and media.endswith(b"+json")
            )
    return False


class InputGuard:
    """Refuses, with a 422, API requests carrying text or numbers that no backend stores faithfully."""

    def __init__(self, app: ASGIApp, prefix: str = "/api/") -> None:
        self.app = app
        self.prefix = prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not str(scope.get("path", "")).startswith(self.prefix):
            await self.app(scope, receive, send)
            return
        problem: tuple[str, str] | None = None
        if "\x00" in scope["path"] or b"\x00" in unquote_to_bytes(scope.get("query_string", b"")):
            problem = ("request", "the address may not contain the NUL character (%00)")
        if problem is None and _is_json(scope):
            body, receive = await _buffered(receive)
            problem = json_body_problem(body) if body else None
        if problem is not None:
            field, text = problem
            response = JSONResponse(
                error_body("invalid", f"{field}: {text}", [{"field": field, "problem": text}]),
                status_code=422,
            )
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


async def _buffered(receive: Receive) -> tuple[bytes, Receive]:
    """The whole request body, and a ``receive`` that hands it on again."""
    chunks: list[bytes] = []
    messages: list[Message] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            messages.append(message)
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    body = b"".join(chunks)
    pending: list[Message] = [{"type": "http.request", "body": body, "more_body": False}, *messages]

    async def replay() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()

    return body, replay


def install(app: FastAPI) -> None:
    app.add_exception_handler(SegoneError, _segone_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(DataError, _data_error)
    for unavailable in STORE_UNAVAILABLE:
        app.add_exception_handler(unavailable, _store_unavailable)
    app.add_exception_handler(Exception, _server_error)
    app.add_middleware(InputGuard)
