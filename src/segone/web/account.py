"""Your account: who you are, and the API tokens you use from scripts (the secret is shown once)."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import Response

from segone.accounts import service as accounts
from segone.accounts.schemas import TokenCreate, TokenCreated
from segone.web import session as web_session
from segone.web.deps import Form, RuntimeDep, TokenOwner, Viewer, field_errors, see_other, web_router
from segone.web.render import render

router = web_router()


def _account_page(
    request: Request,
    runtime: RuntimeDep,
    viewer: Viewer,
    *,
    status: int = 200,
    new_token: TokenCreated | None = None,
    errors: dict[str, str] | None = None,
    values: dict[str, Any] | None = None,
) -> Response:
    with runtime.session() as db:
        tokens = accounts.list_tokens(db, actor=viewer.actor, user_id=viewer.user_id)
    return render(
        request,
        "account/account.html",
        status=status,
        tokens=sorted(tokens, key=lambda t: (t.revoked_at is not None, -t.id)),
        new_token=new_token,
        errors=errors or {},
        values=values or {},
    )


@router.get("/account")
def account(request: Request, viewer: TokenOwner, runtime: RuntimeDep) -> Response:
    return _account_page(request, runtime, viewer)


@router.post("/account/tokens")
def create_token(request: Request, viewer: TokenOwner, form: Form, runtime: RuntimeDep) -> Response:
    try:
        data = TokenCreate(name=form.get("name"))
    except ValidationError as exc:
        return _account_page(
            request, runtime, viewer, status=422, errors=field_errors(exc), values=form.values()
        )
    with runtime.session() as db:
        created = accounts.create_token(db, actor=viewer.actor, user_id=viewer.user_id, name=data.name)
    return _account_page(request, runtime, viewer, new_token=created)


@router.post("/account/tokens/{token_id}/revoke")
def revoke_token(request: Request, token_id: int, viewer: TokenOwner, runtime: RuntimeDep) -> Response:
    with runtime.session() as db:
        token = accounts.revoke_token(db, actor=viewer.actor, token_id=token_id)
    web_session.load(request).flash(f"Token '{token.name}' ({token.prefix}…) is revoked; it no longer works.")
    return see_other("/account")
