"""Administration: who may use Segment of One, with which role and in which team."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import Response

from segone.accounts import service as accounts
from segone.accounts.schemas import Role, UserCreate, UserUpdate
from segone.errors import Conflict
from segone.web import session as web_session
from segone.web.deps import (
    ROLE_LABELS,
    Form,
    RuntimeDep,
    UserAdmin,
    Viewer,
    field_errors,
    see_other,
    web_router,
)
from segone.web.render import render

router = web_router()


def _users_page(
    request: Request,
    runtime: RuntimeDep,
    viewer: Viewer,
    *,
    status: int = 200,
    errors: dict[str, str] | None = None,
    values: dict[str, Any] | None = None,
) -> Response:
    with runtime.session() as db:
        users = [accounts.to_out(u) for u in accounts.list_users(db, actor=viewer.actor)]
    return render(
        request,
        "admin/users.html",
        status=status,
        users=users,
        roles=ROLE_LABELS,
        errors=errors or {},
        values=values or {"role": Role.FRONTLINE.value},
    )


@router.get("/admin/users")
def users(request: Request, viewer: UserAdmin, runtime: RuntimeDep) -> Response:
    return _users_page(request, runtime, viewer)


@router.post("/admin/users")
def create_user(request: Request, viewer: UserAdmin, form: Form, runtime: RuntimeDep) -> Response:
    try:
        data = UserCreate(
            email=form.get("email"),
            name=form.get("name") or None,
            role=form.get("role"),  # validated into a Role
            team=form.get("team") or None,
            password=form.raw("password") or None,
        )
    except ValidationError as exc:
        return _users_page(
            request, runtime, viewer, status=422, errors=field_errors(exc), values=form.values()
        )
    try:
        with runtime.session() as db:
            user = accounts.create(db, actor=viewer.actor, data=data)
            email = user.email
    except Conflict as exc:
        return _users_page(
            request, runtime, viewer, status=409, errors={"email": exc.message}, values=form.values()
        )
    web_session.load(request).flash(
        f"{email} can now sign in."
        if data.password
        else f"{email} is added; set a password so they can sign in."
    )
    return see_other("/admin/users")


def _user_page(
    request: Request,
    runtime: RuntimeDep,
    viewer: Viewer,
    user_id: int,
    *,
    status: int = 200,
    errors: dict[str, str] | None = None,
    values: dict[str, Any] | None = None,
) -> Response:
    with runtime.session() as db:
        user = accounts.to_out(accounts.get(db, actor=viewer.actor, user_id=user_id))
        tokens = accounts.list_tokens(db, actor=viewer.actor, user_id=user_id)
    return render(
        request,
        "admin/user.html",
        status=status,
        user=user,
        tokens=tokens,
        roles=ROLE_LABELS,
        errors=errors or {},
        values=values or {"name": user.name, "role": user.role.value, "team": user.team or ""},
    )


@router.get("/admin/users/{user_id}")
def user_detail(request: Request, user_id: int, viewer: UserAdmin, runtime: RuntimeDep) -> Response:
    return _user_page(request, runtime, viewer, user_id)


@router.post("/admin/users/{user_id}")
def update_user(
    request: Request, user_id: int, viewer: UserAdmin, form: Form, runtime: RuntimeDep
) -> Response:
    errors: dict[str, str] = {}
    if user_id == viewer.user_id and form.get("role") != viewer.actor.role.value:
        errors["role"] = "You cannot change your own role; ask another administrator."
    data: UserUpdate | None = None
    try:
        data = UserUpdate(
            name=form.get("name") or None,
            role=form.get("role") or None,  # validated into a Role
            team=form.get("team") or None,
            password=form.raw("password") or None,
        )
    except ValidationError as exc:
        errors.update(field_errors(exc))
    if errors or data is None:
        return _user_page(request, runtime, viewer, user_id, status=422, errors=errors, values=form.values())
    with runtime.session() as db:
        user = accounts.update(db, actor=viewer.actor, user_id=user_id, data=data)
        email = user.email
    web_session.load(request).flash(f"Saved {email}.")
    return see_other(f"/admin/users/{user_id}")


@router.post("/admin/users/{user_id}/deactivate")
def deactivate_user(request: Request, user_id: int, viewer: UserAdmin, runtime: RuntimeDep) -> Response:
    if user_id == viewer.user_id:
        raise Conflict("You cannot deactivate yourself; ask another administrator.")
    with runtime.session() as db:
        user = accounts.update(db, actor=viewer.actor, user_id=user_id, data=UserUpdate(active=False))
        email = user.email
    web_session.load(request).flash(
        f"{email} is deactivated: they are signed out and their API tokens stop working."
    )
    return see_other(f"/admin/users/{user_id}")


@router.post("/admin/users/{user_id}/activate")
def activate_user(request: Request, user_id: int, viewer: UserAdmin, runtime: RuntimeDep) -> Response:
    with runtime.session() as db:
        user = accounts.update(db, actor=viewer.actor, user_id=user_id, data=UserUpdate(active=True))
        email = user.email
    web_session.load(request).flash(f"{email} can sign in again.")
    return see_other(f"/admin/users/{user_id}")
