"""Jinja2 templates and the small formatting helpers the pages share."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup, escape
from starlette.requests import Request
from starlette.responses import HTMLResponse

from segone.accounts.schemas import Permission
from segone.customers.schemas import attribute_text
from segone.web import labels
from segone.web import session as web_session

TEMPLATES_DIR = Path(__file__).parent / "templates"

SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; "
        "frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
    ),
}


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def day(value: datetime | None) -> str:
    if value is None:
        return ""
    value = _aware(value).astimezone(UTC)
    return f"{value.day} {value:%b %Y}"


def moment(value: datetime | None) -> str:
    if value is None:
        return ""
    value = _aware(value).astimezone(UTC)
    return f"{value.day} {value:%b %Y}, {value:%H:%M} UTC"


def ago(value: datetime | None, now: datetime | None = None) -> str:
    """'today', 'yesterday', '3 days ago', '5 weeks ago', '2 years ago'."""
    if value is None:
        return "never"
    now = now or datetime.now(UTC)
    days = (now.date() - _aware(value).astimezone(UTC).date()).days
    if days <= 0:
        return "today"
    if days == 1:
        return "yesterday"
    if days < 14:
        return f"{days} days ago"
    if days < 60:
        return f"{days // 7} weeks ago"
    if days < 730:
        return f"{days // 30} months ago"
    return f"{days // 365} years ago"


def time_tag(value: datetime | None, style: str = "moment") -> Markup:
    """A <time> element; the browser rewrites its text in the reader's own time zone."""
    if value is None:
        return Markup("")
    text = day(value) if style == "day" else moment(value)
    iso = _aware(value).astimezone(UTC).isoformat()
    return Markup('<time datetime="{}" data-local="{}">{}</time>').format(iso, style, text)


_BREAK_BEFORE = re.compile(r"(?=[.@])")
_BREAK_AFTER = re.compile(r"(?<=[:/])(?!/)")


def breakable(value: object) -> Markup:
    """An e-mail address or an id, escaped, that may end a line before a dot or an @ and after a colon or
    a slash (``ann<wbr>@example<wbr>.com``) rather than in the middle of a word."""
    html = _BREAK_AFTER.sub("<wbr>", _BREAK_BEFORE.sub("<wbr>", str(escape(value))))
    return Markup(html.removeprefix("<wbr>"))


def percent(value: float | None) -> str:
    return "\u2013" if value is None else f"{round(value * 100)}%"


def plural(count: int, singular: str, many: str | None = None) -> str:
    return f"{count} {singular if count == 1 else (many or singular + 's')}"


env = Environment(
    loader=FileSystemLoader(TEMPLATES_DIR),
    autoescape=select_autoescape(["html"]),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
env.filters.update(
    day=day, moment=moment, ago=ago, percent=percent, attribute=attribute_text, breakable=breakable
)
env.globals.update(
    time_tag=time_tag,
    plural=plural,
    P=Permission,
    channel_label=labels.channel_label,
    confidence_label=labels.confidence_label,
    confidence_choice=labels.confidence_choice,
    confidence_choices=labels.CONFIDENCE_CHOICES,
    encounter_preview=labels.encounter_preview,
)


def render(request: Request, template: str, *, status: int = 200, **context: Any) -> HTMLResponse:
    """A full page; the signed-in viewer, the form token and pending messages are always available."""
    session = web_session.load(request)
    html = env.get_template(template).render(
        viewer=getattr(request.state, "viewer", None),
        csrf_token=session.csrf_token,
        csrf_field=web_session.CSRF_FIELD,
        flashes=session.pop_flashes(),
        path=request.url.path,
        **context,
    )
    return HTMLResponse(html, status_code=status, headers=SECURITY_HEADERS)
