"""Small helpers of the API tests."""

from __future__ import annotations

import itertools
from typing import Any

import httpx
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts

from segone.accounts import service as accounts
from segone.accounts.schemas import SYSTEM, Role, UserCreate
from segone.runtime import Runtime
from tests.factories import MadeUser

_counter = itertools.count(1)


def api_user(runtime: Runtime, role: Role = Role.FRONTLINE, team: str | None = None) -> MadeUser:
    """A user with an API token and no password (hashing one is slow, and the API does not need it)."""
    n = next(_counter)
    email = f"api-{role.value}{n}@example.com"
    with runtime.session() as db:
        user = accounts.create(db, actor=SYSTEM, data=UserCreate(email=email, role=role, team=team))
        token = accounts.create_token(db, actor=SYSTEM, user_id=user.id, name="tests").token
        return MadeUser(user.id, email, role, accounts.actor_for(user), token)


def error_of(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """The error of a response that must be an error of this status and code, in the API's one shape."""
    assert response.status_code == status, (response.status_code, response.text)
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert set(body) == {"error"}, body
    assert set(body["error"]) == {"code", "message", "details"}, body
    assert body["error"]["code"] == code, body
    assert isinstance(body["error"]["message"], str) and body["error"]["message"], body
    error: dict[str, Any] = body["error"]
    return error


def fields_at_fault(response: httpx.Response) -> set[str]:
    """The fields a 422 names."""
    return {d["field"] for d in error_of(response, 422, "invalid")["details"]}


def api_routes(app: FastAPI) -> set[tuple[str, str]]:
    """(method, path) of every route of the app under /api/v1, however deeply its router is included."""
    return {
        (method, context.path)
        for context in iter_route_contexts(app.routes)
        if context.path and context.path.startswith("/api/v1") and context.methods
        for method in context.methods
    }
