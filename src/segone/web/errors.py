"""Errors that happen outside any page's own handling: an address nobody serves, a method a page does not
take, a failure nobody caught. A browser gets a page in the product's look, with a way back; the API and
every client that does not ask for HTML keep the API's JSON (installed first, by ``api.errors``).
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI
from sqlalchemy.exc import InterfaceError, OperationalError
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import Response

from segone.errors import STORE_UNAVAILABLE_RETRY_AFTER
from segone.web import session as web_session
from segone.web.deps import load_viewer
from segone.web.render import render

Handler = Callable[[Request, Any], Response | Awaitable[Response]]

_PAGES = {
    403: ("Not allowed", "This page is not open to you."),
    404: ("Not found", "There is no such page. The address may be mistyped, or what it showed is gone."),
    405: ("Not this way", "This address does not take that kind of request; open it from a page instead."),
}


def wants_page(request: Request) -> bool:
    """A browser asking for a page: not the API, and HTML among what it accepts."""
    if request.url.path.startswith("/api/"):
        return False
    return "text/html" in request.headers.get("accept", "")


async def _http_error_page(request: Request, exc: StarletteHTTPException) -> Response:
    # Named in the top bar when signed in, so the way on is the usual menu.
    request.state.viewer = await run_in_threadpool(load_viewer, request)
    title, message = _PAGES.get(exc.status_code, ("Something is not right", str(exc.detail)))
    response = render(request, "errors/error.html", status=exc.status_code, title=title, message=message)
    for name, value in (exc.headers or {}).items():
        response.headers.setdefault(name, value)
    web_session.save(request, response)
    return response


def _server_error_page(request: Request) -> Response:
    # No viewer and no store here: the failure may be the store itself.
    return render(
        request,
        "errors/error.html",
        status=500,
        title="Something went wrong",
        message="The page could not be shown; the error has been logged. Try again in a moment.",
    )


def _store_unavailable_page(request: Request) -> Response:
    # No viewer here either: the store is what cannot be reached.
    response = render(
        request,
        "errors/error.html",
        status=503,
        title="Not reachable just now",
        message="The database is not answering (it may be restarting); what you sent was not saved. Try "
        "again in a few seconds.",
    )
    response.headers["Retry-After"] = str(STORE_UNAVAILABLE_RETRY_AFTER)
    return response


async def _answer(handler: Handler, request: Request, exc: Exception) -> Response:
    answer = handler(request, exc)
    return await answer if inspect.isawaitable(answer) else answer


def install(app: FastAPI) -> None:
    """Answer browsers with pages; leave everyone else to the handlers installed before."""
    api_http_error: Handler = app.exception_handlers[StarletteHTTPException]
    api_server_error: Handler = app.exception_handlers[Exception]

    async def http_error(request: Request, exc: Exception) -> Response:
        if isinstance(exc, StarletteHTTPException) and wants_page(request):
            return await _http_error_page(request, exc)
        return await _answer(api_http_error, request, exc)

    async def server_error(request: Request, exc: Exception) -> Response:
        if wants_page(request):
            return _server_error_page(request)
        return await _answer(api_server_error, request, exc)

    api_store_unavailable: Handler = app.exception_handlers[OperationalError]

    async def store_unavailable(request: Request, exc: Exception) -> Response:
        if wants_page(request):
            return _store_unavailable_page(request)
        return await _answer(api_store_unavailable, request, exc)

    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(Exception, server_error)
    for unavailable in (OperationalError, InterfaceError):
        app.add_exception_handler(unavailable, store_unavailable)
