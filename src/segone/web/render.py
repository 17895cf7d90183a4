"""Jinja2 templates and the small formatting helpers the pages share."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, pass_context, select_autoescape
from jinja2.runtime import Context
from markupsafe import Markup, escape
from starlette.requests import Request
from starlette.responses import HTMLResponse

from segone import formatting
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


def ago(value: datetime | None, now: datetime | None = None) -> Markup:
    """'today', 'yesterday', '3 days ago', '5 weeks ago', '2 years ago': counted from today, with the day
    itself in the element (a <time> whose title gives the date, for anyone who wants it exactly)."""
    if value is None:
        return Markup("never")
    now = now or datetime.now(UTC)
    moment_utc = _aware(value).astimezone(UTC)
    days = (now.date() - moment_utc.date()).days
    if days <= 0:
        text = "today"
    elif days == 1:
        text = "yesterday"
    elif days < 14:
        text = f"{days} days ago"
    elif days < 60:
        text = f"{days // 7} weeks ago"
    elif days < 730:
        text = f"{days // 30} months ago"
    else:
        text = f"{days // 365} years ago"
    return Markup('<time datetime="{}" title="{}">{}</time>').format(
        moment_utc.isoformat(), f"{day(moment_utc)}, counted from today", text
    )


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


@pass_context
def money(context: Context, value: float | None) -> str:
    """An amount in the currency of the settings (``SEGONE_CURRENCY``), as everywhere else."""
    return formatting.money(value, context.get("currency") or "USD")


env = Environment(
    loader=FileSystemLoader(TEMPLATES_DIR),
    autoescape=select_autoescape(["html"]),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    # The templates ship with the package and do not change while it runs: without this every page would
    # stat each template it uses (and those it includes) to see whether it changed.
    auto_reload=False,
)
env.filters.update(
    day=day,
    moment=moment,
    ago=ago,
    percent=percent,
    attribute=attribute_text,
    breakable=breakable,
    money=money,
    count=formatting.count,
    decimal=formatting.decimal,
)
env.globals.update(
    time_tag=time_tag,
    plural=formatting.plural,
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
    runtime = getattr(request.app.state, "runtime", None)
    html = env.get_template(template).render(
        currency=runtime.settings.currency if runtime is not None else "USD",
        viewer=getattr(request.state, "viewer", None),
        csrf_token=session.csrf_token,
        csrf_field=web_session.CSRF_FIELD,
        flashes=session.pop_flashes(),
        path=request.url.path,
        **context,
    )
    return HTMLResponse(html, status_code=status, headers=SECURITY_HEADERS)
