"""The API's reference pages: /docs (Swagger UI) and /redoc (ReDoc), every file served by segone itself.

The viewers' builds come from the fastapi-standalone-docs package (docs/decisions.md, 2026-12-06): no CDN
is asked for anything, so the pages work on a machine without internet access and tell no third party who
reads them. Each viewer's files are served beneath its page (``/docs/swagger-ui-bundle.js``,
``/redoc/redoc.standalone.js``) because the package's ReDoc build loads its logo from the page's own path
instead of Redocly's CDN.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from fastapi import APIRouter, FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.staticfiles import StaticFiles
from starlette.responses import HTMLResponse

SWAGGER_UI = "/docs"
REDOC = "/redoc"
# Swagger UI 5 and ReDoc 2 with their licences (LICENSE, redoc.standalone.js.LICENSE.txt) beside them.
ASSETS = Path(str(files("fastapi_standalone_docs") / "static"))
FAVICON = "/static/img/icon.svg"

router = APIRouter(include_in_schema=False)


def _root(request: Request) -> str:
    """The prefix a reverse proxy serves segone under ('' when at the root)."""
    return str(request.scope.get("root_path", "")).rstrip("/")


def _openapi_url(request: Request) -> str:
    return _root(request) + str(request.app.openapi_url)


@router.get(SWAGGER_UI)
def swagger_ui(request: Request) -> HTMLResponse:
    root = _root(request)
    return get_swagger_ui_html(
        openapi_url=_openapi_url(request),
        title=f"{request.app.title} API - Swagger UI",
        swagger_js_url=f"{root}{SWAGGER_UI}/swagger-ui-bundle.js",
        swagger_css_url=f"{root}{SWAGGER_UI}/swagger-ui.css",
        swagger_favicon_url=root + FAVICON,
        # Tokens are pasted in as bearer tokens; there is no OAuth2 flow to come back from.
        oauth2_redirect_url=None,
        swagger_ui_parameters=request.app.swagger_ui_parameters,
    )


@router.get(REDOC)
def redoc(request: Request) -> HTMLResponse:
    return get_redoc_html(
        openapi_url=_openapi_url(request),
        title=f"{request.app.title} API - ReDoc",
        redoc_js_url=f"{_root(request)}{REDOC}/redoc.standalone.js",
        redoc_favicon_url=_root(request) + FAVICON,
        with_google_fonts=False,
    )


def mount_assets(app: FastAPI) -> None:
    """Serve each viewer's files beneath its page; the pages themselves are ``router``'s routes."""
    app.mount(SWAGGER_UI, StaticFiles(directory=ASSETS / "swagger"), name="swagger-ui")
    app.mount(REDOC, StaticFiles(directory=ASSETS / "redoc"), name="redoc")
