"""What every web page depends on: the signed-in viewer, the permission it needs, the posted form.

Pages are thin: they parse the form, call a service, and render. ``WebRoute`` turns whatever goes wrong
into a page a person can act on: a sign-in redirect, a 403 that says what is missing, a friendly 404/409.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import quote, urlsplit

from fastapi import APIRouter, Depends
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import APIRoute
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request
from starlette.responses import Response

from segone.accounts import service as accounts
from segone.accounts.schemas import ROLE_PERMISSIONS, Actor, Permission, Role
from segone.accounts.service import require
from segone.errors import Forbidden, NotFound, SegoneError, Unauthenticated
from segone.jobs import Jobs
from segone.knowledge.categories.schemas import CategoryList
from segone.knowledge.categories.service import in_force as categories_in_force
from segone.runtime import Runtime
from segone.web import session as web_session
from segone.web.render import render

ROLE_LABELS = {
    Role.FRONTLINE: "front-line employee",
    Role.MANAGER: "manager",
    Role.ANALYST: "analyst",
    Role.ADMIN: "administrator",
}

PERMISSION_LABELS = {
    Permission.READ_CUSTOMERS: "look up customers",
    Permission.WRITE_CUSTOMERS: "add and change customers",
    Permission.ADD_DIFFERENTIATORS: "add differentiators",
    Permission.ADD_ENCOUNTERS: "log encounters",
    Permission.ACKNOWLEDGE: "mark what a customer knows we know",
    Permission.VIEW_TEAM_DASHBOARDS: "see team dashboards",
    Permission.MERGE_CUSTOMERS: "merge duplicate customer records",
    Permission.IMPORT_DATA: "import data",
    Permission.EXPORT_DATA: "export data",
    Permission.RUN_ANALYTICS: "run analytics",
    Permission.MANAGE_USERS: "manage users",
    Permission.MANAGE_SETTINGS: "change settings",
    Permission.MANAGE_OWN_TOKENS: "manage your API tokens",
    Permission.RATE_SERVICE: "see and rate your team's report cards",
    Permission.MANAGE_REPORT_CARDS: "set up report cards and action plans",
}


class LoginRequired(Exception):
    """Nobody is signed in (or the session ended): go to the sign-in page and come back."""


class CsrfRejected(Exception):
    """A form arrived without the token of this session."""


@dataclass(frozen=True)
class Viewer:
    """Who is looking at the page."""

    actor: Actor
    name: str
    team: str | None

    @property
    def user_id(self) -> int:
        assert self.actor.user_id is not None
        return self.actor.user_id

    @property
    def email(self) -> str:
        return self.actor.email

    @property
    def role_label(self) -> str:
        return ROLE_LABELS[self.actor.role]

    def can(self, permission: Permission) -> bool:
        return self.actor.can(permission)


def runtime_of(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


# Dependencies that only read the application's state are coroutines: a plain function would take a turn
# of the thread pool (and of the interpreter lock) on every page.
async def get_runtime(request: Request) -> Runtime:
    return runtime_of(request)


async def get_categories(request: Request) -> CategoryList:
    return categories_in_force(runtime_of(request).settings)


def load_viewer(request: Request) -> Viewer | None:
    session = web_session.load(request)
    if session.user_id is None:
        return None
    runtime = runtime_of(request)
    try:
        with runtime.reading() as db:
            user = accounts.session_user(db, user_id=session.user_id, session_version=session.session_version)
            return Viewer(
                actor=accounts.actor_for(user), name=user.name, team=user.team.name if user.team else None
            )
    except Unauthenticated:
        session.sign_out()
        return None


async def check_csrf(request: Request) -> None:
    form = await request.form()
    sent = form.get(web_session.CSRF_FIELD)
    if not web_session.load(request).csrf_ok(sent if isinstance(sent, str) else None):
        raise CsrfRejected()


def requires(permission: Permission | None) -> Callable[[Request], Awaitable[Viewer]]:
    """A signed-in viewer who holds ``permission``; every POST must also carry the session's form token."""

    async def signed_in(request: Request) -> Viewer:
        viewer = await run_in_threadpool(load_viewer, request)
        if viewer is None:
            raise LoginRequired()
        request.state.viewer = viewer
        if permission is not None:
            require(viewer.actor, permission)
        if request.method == "POST":
            await check_csrf(request)
        return viewer

    signed_in.__name__ = f"requires_{permission.value if permission else 'sign_in'}"
    return signed_in


SignedIn = Annotated[Viewer, Depends(requires(None))]
Reader = Annotated[Viewer, Depends(requires(Permission.READ_CUSTOMERS))]
CustomerWriter = Annotated[Viewer, Depends(requires(Permission.WRITE_CUSTOMERS))]
FactWriter = Annotated[Viewer, Depends(requires(Permission.ADD_DIFFERENTIATORS))]
EncounterWriter = Annotated[Viewer, Depends(requires(Permission.ADD_ENCOUNTERS))]
Acknowledger = Annotated[Viewer, Depends(requires(Permission.ACKNOWLEDGE))]
Merger = Annotated[Viewer, Depends(requires(Permission.MERGE_CUSTOMERS))]
Importer = Annotated[Viewer, Depends(requires(Permission.IMPORT_DATA))]
TokenOwner = Annotated[Viewer, Depends(requires(Permission.MANAGE_OWN_TOKENS))]
UserAdmin = Annotated[Viewer, Depends(requires(Permission.MANAGE_USERS))]
SettingsAdmin = Annotated[Viewer, Depends(requires(Permission.MANAGE_SETTINGS))]
Categories = Annotated[CategoryList, Depends(get_categories)]
RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


class FormFields:
    """A posted form, read as text: missing fields are empty strings, never errors."""

    def __init__(self, data: FormData) -> None:
        self._data = data

    def get(self, name: str) -> str:
        value = self._data.get(name)
        return value.strip() if isinstance(value, str) else ""

    def raw(self, name: str) -> str:
        value = self._data.get(name)
        return value if isinstance(value, str) else ""

    def upload(self, name: str) -> UploadFile | None:
        """The file sent in a file field, or None when none was chosen."""
        value = self._data.get(name)
        return value if isinstance(value, UploadFile) and value.filename else None

    def getlist(self, name: str) -> list[str]:
        return [v for v in self._data.getlist(name) if isinstance(v, str)]

    def version(self) -> int | None:
        """The record's version an edit form was opened on (its hidden ``version`` field), if it sent one."""
        value = self.get("version")
        return int(value) if value.isascii() and value.isdigit() and 0 < int(value) < 2**31 else None

    def values(self) -> dict[str, str]:
        """Every text field, for re-filling a form that needs correcting."""
        return {k: v for k, v in self._data.items() if isinstance(v, str) and k != web_session.CSRF_FIELD}


async def read_form(request: Request) -> FormFields:
    return FormFields(await request.form())


Form = Annotated[FormFields, Depends(read_form)]


def field_errors(exc: ValidationError, names: dict[str, str] | None = None) -> dict[str, str]:
    """Pydantic's complaints keyed by form field, in plain words (first complaint per field)."""
    errors: dict[str, str] = {}
    for error in exc.errors():
        loc = [str(part) for part in error.get("loc", ())]
        key = loc[0] if loc else "form"
        key = (names or {}).get(key, key)
        message = str(error.get("msg", "is not valid"))
        message = message.removeprefix("Value error, ")
        if error.get("type") == "missing":
            message = "This is needed."
        elif error.get("type") == "string_too_short":
            message = "This may not be empty."
        errors.setdefault(key, message[:1].upper() + message[1:])
    return errors


def see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def safe_next(value: str | None) -> str:
    """Only a path on this site: a sign-in link cannot send anybody elsewhere."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return "/"
    return value


def _login_redirect(request: Request) -> RedirectResponse:
    if request.method == "GET":
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    else:
        referer = urlsplit(request.headers.get("referer", ""))
        same_site = referer.netloc == request.url.netloc
        target = (referer.path + (f"?{referer.query}" if referer.query else "")) if same_site else "/"
    return see_other("/login?next=" + quote(safe_next(target), safe="/"))


def _forbidden_page(request: Request, exc: Forbidden) -> HTMLResponse:
    details = exc.details if isinstance(exc.details, dict) else {}
    named = str(details.get("permission", ""))
    permission = Permission(named) if named in {p.value for p in Permission} else None
    roles = [ROLE_LABELS[r] for r in Role if permission in ROLE_PERMISSIONS[r]] if permission else []
    return render(
        request,
        "errors/forbidden.html",
        status=403,
        message=exc.message,
        needs=PERMISSION_LABELS.get(permission) if permission else None,
        roles=roles,
    )


def error_page(request: Request, exc: SegoneError) -> HTMLResponse:
    titles = {404: "Not found", 409: "That clashes with what is there", 422: "That did not work"}
    return render(
        request,
        "errors/error.html",
        status=exc.http_status,
        title=titles.get(exc.http_status, "Something is not right"),
        message=exc.message,
    )


class WebRoute(APIRoute):
    """Runs a page and maps every failure to something a person can act on; saves the session cookie."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def web_handler(request: Request) -> Response:
            response: Response
            try:
                response = await handler(request)
            except (LoginRequired, Unauthenticated):
                response = _login_redirect(request)
            except CsrfRejected:
                response = render(request, "errors/csrf.html", status=403)
            except Forbidden as exc:
                response = _forbidden_page(request, exc)
            except SegoneError as exc:
                response = error_page(request, exc)
            except RequestValidationError as exc:
                in_path = any(e.get("loc", ("",))[0] == "path" for e in exc.errors())
                if in_path:
                    response = error_page(request, NotFound("There is no such page."))
                else:
                    problems = "; ".join(str(e.get("msg", "")) for e in exc.errors())
                    response = render(
                        request,
                        "errors/error.html",
                        status=422,
                        title="That address is not quite right",
                        message=problems,
                    )
            finally:
                await request.close()  # closes the files a posted form spooled to disk
            web_session.save(request, response)
            return response

        return web_handler


def web_router() -> APIRouter:
    """A router for pages: HTML by default, kept out of the API's OpenAPI document."""
    return APIRouter(route_class=WebRoute, include_in_schema=False, default_response_class=HTMLResponse)


async def get_jobs(request: Request) -> Jobs:
    """The server's background jobs: a page starts a long task there, as the API does."""
    jobs: Jobs = request.app.state.jobs
    return jobs


JobsDep = Annotated[Jobs, Depends(get_jobs)]
