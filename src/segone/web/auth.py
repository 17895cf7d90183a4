"""Signing in and out."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query
from starlette.requests import Request
from starlette.responses import Response

from segone.accounts import service as accounts
from segone.accounts.throttle import AuthThrottle
from segone.errors import TooManyAttempts, Unauthenticated
from segone.web import session as web_session
from segone.web.deps import (
    CsrfRejected,
    Form,
    RuntimeDep,
    SignedIn,
    load_viewer,
    safe_next,
    see_other,
    web_router,
)
from segone.web.render import render

router = web_router()


@router.get("/login")
def login_page(request: Request, next_url: Annotated[str, Query(alias="next")] = "/") -> Response:
    target = safe_next(next_url)
    if load_viewer(request) is not None:
        return see_other(target)
    return render(request, "auth/login.html", next_url=target, email="", error=None)


@router.post("/login")
def login(request: Request, form: Form, runtime: RuntimeDep) -> Response:
    session = web_session.load(request)
    if not session.csrf_ok(form.raw(web_session.CSRF_FIELD)):
        raise CsrfRejected()
    target = safe_next(form.get("next"))
    email = form.get("email")
    throttle = _throttle(request)
    address = request.client.host if request.client else "unknown"
    try:
        throttle.check(address=address, account=email)
        with runtime.session() as db:
            user = accounts.authenticate(db, email=email, password=form.raw("password"))
            session.sign_in(user.id, user.session_version)
            name = user.name
    except TooManyAttempts as exc:
        response = render(
            request, "auth/login.html", status=429, next_url=target, email=email, error=exc.message
        )
        response.headers["Retry-After"] = str(exc.retry_after)
        return response
    except Unauthenticated as exc:
        throttle.failed(address=address, account=email)
        return render(request, "auth/login.html", status=401, next_url=target, email=email, error=exc.message)
    throttle.succeeded(account=email)
    session.flash(f"Welcome, {name}.")
    return see_other(target)


@router.post("/logout")
def logout(request: Request, viewer: SignedIn, runtime: RuntimeDep) -> Response:
    with runtime.session() as db:
        accounts.sign_out(db, user_id=viewer.user_id)
    session = web_session.load(request)
    session.sign_out()
    session.flash("You are signed out.")
    return see_other("/login")


def _throttle(request: Request) -> AuthThrottle:
    throttle: AuthThrottle = request.app.state.auth_throttle
    return throttle
