"""The web session: a signed cookie that holds who is signed in, the form token, and one-time messages.

Nothing secret is kept in it (it is signed, not encrypted): a user id, the user's session version (raised
by sign-out, a new password or deactivation, which so ends every session of that user: a copied cookie
stops working though no cookie is stored), a random token every form must send back (CSRF protection) and
the short messages shown once on the next page. The cookie is Secure when the request came over HTTPS
(directly, or through a proxy uvicorn trusts) or when ``cookie_secure`` says so.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass, field
from typing import Any

from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.requests import Request
from starlette.responses import Response

from segone.runtime import Runtime

COOKIE_NAME = "segone_session"
CSRF_FIELD = "csrf_token"
_SALT = "segone.web.session"


@dataclass
class WebSession:
    user_id: int | None = None
    session_version: int = -1
    csrf_token: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    flashes: list[str] = field(default_factory=list)
    modified: bool = False

    def flash(self, message: str) -> None:
        self.flashes.append(message)
        self.modified = True

    def pop_flashes(self) -> list[str]:
        messages, self.flashes = self.flashes, []
        if messages:
            self.modified = True
        return messages

    def sign_in(self, user_id: int, session_version: int) -> None:
        """A fresh session for this user: the form token changes, so a planted one is worthless."""
        self.user_id = user_id
        self.session_version = session_version
        self.csrf_token = secrets.token_urlsafe(32)
        self.modified = True

    def sign_out(self) -> None:
        self.user_id = None
        self.session_version = -1
        self.csrf_token = secrets.token_urlsafe(32)
        self.modified = True

    def csrf_ok(self, sent: str | None) -> bool:
        return bool(sent) and hmac.compare_digest(self.csrf_token.encode(), (sent or "").encode())


def _serializer(runtime: Runtime) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(runtime.settings.resolved_secret_key(), salt=_SALT)


def _runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


def load(request: Request) -> WebSession:
    """This request's session, read once from the cookie; a new, empty one when absent or tampered."""
    cached = getattr(request.state, "web_session", None)
    if isinstance(cached, WebSession):
        return cached
    session = _decode(request)
    request.state.web_session = session
    return session


def _decode(request: Request) -> WebSession:
    raw = request.cookies.get(COOKIE_NAME)
    if not raw:
        return WebSession(modified=True)
    runtime = _runtime(request)
    try:
        data: Any = _serializer(runtime).loads(raw, max_age=runtime.settings.session_max_age_seconds)
    except BadSignature:
        return WebSession(modified=True)
    if not isinstance(data, dict) or not isinstance(data.get("c"), str):
        return WebSession(modified=True)
    user_id = data.get("u")
    flashes = data.get("f")
    version = data.get("v")
    return WebSession(
        user_id=user_id if isinstance(user_id, int) else None,
        session_version=version if isinstance(version, int) else -1,
        csrf_token=data["c"],
        flashes=[str(f) for f in flashes] if isinstance(flashes, list) else [],
    )


def save(request: Request, response: Response) -> None:
    """Write the session back onto the response if this request changed it."""
    session = getattr(request.state, "web_session", None)
    if not isinstance(session, WebSession) or not session.modified:
        return
    runtime = _runtime(request)
    settings = runtime.settings
    value = _serializer(runtime).dumps(
        {"u": session.user_id, "v": session.session_version, "c": session.csrf_token, "f": session.flashes}
    )
    response.set_cookie(
        COOKIE_NAME,
        value,
        max_age=settings.session_max_age_seconds,
        path="/",
        httponly=True,
        samesite="lax",
        secure=settings.cookie_secure or request.url.scheme == "https",
    )
