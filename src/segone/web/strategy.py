"""The service strategy's admin page: the statements, the exceptions with their limits per role, the
recovery targets, and every version with who changed what and when."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import Response

from segone.accounts.schemas import Role
from segone.customer_service.strategy import service as strategies
from segone.customer_service.strategy.schemas import StrategyIn, StrategyOut
from segone.runtime import Runtime
from segone.web import session as web_session
from segone.web.deps import Form, FormFields, RuntimeDep, SettingsAdmin, Viewer, see_other, web_router
from segone.web.render import render

router = web_router()

PAGE = "/admin/strategy"
SPARE_ROWS = 2
FIELD_NAMES = {
    "core_service": "core_service",
    "service_experience": "service_experience",
    "target_hours_high": "target_hours_high",
    "target_hours_normal": "target_hours_normal",
    "note": "note",
}


def _values(strategy: StrategyOut) -> dict[str, Any]:
    """The form's fields for the strategy in force."""
    return {
        "core_service": "\n".join(strategy.core_service),
        "service_experience": "\n".join(strategy.service_experience),
        "target_hours_high": str(strategy.target_hours_high),
        "target_hours_normal": str(strategy.target_hours_normal),
        "note": "",
        "exceptions": [
            {
                "key": rule.key,
                "label": rule.label,
                **{role.value: _amount(rule.limits.get(role)) for role in Role},
            }
            for rule in strategy.exceptions
        ],
    }


def _amount(value: float | None) -> str:
    if value is None:
        return ""
    return f"{value:.0f}" if value == round(value) else f"{value:.2f}"


def _page(
    request: Request, runtime: Runtime, viewer: Viewer, *, status: int = 200, **context: Any
) -> Response:
    with runtime.session() as db:
        current = strategies.current(db, actor=viewer.actor)
        history = strategies.history(db, actor=viewer.actor)
    values = context.pop("values", None) or _values(current)
    rows = values["exceptions"] + [{"key": "", "label": ""} for _ in range(SPARE_ROWS)]
    return render(
        request,
        "admin/strategy.html",
        status=status,
        current=current,
        history=history,
        values=values,
        rows=rows,
        roles=list(Role),
        errors=context.pop("errors", {}),
        **context,
    )


@router.get(PAGE)
def strategy_page(request: Request, viewer: SettingsAdmin, runtime: RuntimeDep) -> Response:
    return _page(request, runtime, viewer)


def _read(form: FormFields) -> tuple[dict[str, Any], dict[str, Any]]:
    """The form as the schema takes it, and as the page shows it again."""
    rows = []
    index = 0
    while f"exception-{index}-key" in form.values():
        prefix = f"exception-{index}-"
        row = {"key": form.get(prefix + "key"), "label": form.get(prefix + "label")}
        row.update({role.value: form.get(prefix + role.value) for role in Role})
        if any(row.values()):
            rows.append(row)
        index += 1
    shown = {
        "core_service": form.raw("core_service"),
        "service_experience": form.raw("service_experience"),
        "target_hours_high": form.get("target_hours_high"),
        "target_hours_normal": form.get("target_hours_normal"),
        "note": form.get("note"),
        "exceptions": rows,
    }
    data = {
        "core_service": [line.strip() for line in form.raw("core_service").splitlines() if line.strip()],
        "service_experience": [
            line.strip() for line in form.raw("service_experience").splitlines() if line.strip()
        ],
        "target_hours_high": _number(form.get("target_hours_high")),
        "target_hours_normal": _number(form.get("target_hours_normal")),
        "note": form.get("note"),
        "exceptions": [
            {
                "key": row["key"],
                "label": row["label"] or row["key"].replace("-", " ").capitalize(),
                "limits": {role.value: _number(row[role.value]) for role in Role if row[role.value]},
            }
            for row in rows
        ],
    }
    return {k: v for k, v in data.items() if v is not None}, shown


def _number(text: str) -> int | float | str | None:
    """A number typed in the form as the strict schema takes it; other text as it is, for the schema to
    refuse with its own words; nothing for an empty field."""
    text = text.strip()
    if not text:
        return None
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def _errors(exc: ValidationError) -> dict[str, str]:
    """Each complaint under its field; an exception row's under ``exceptions`` with its line."""
    found: dict[str, str] = {}
    for error in exc.errors():
        loc = [str(part) for part in error.get("loc", ())]
        message = str(error.get("msg", "is not valid")).removeprefix("Value error, ")
        if loc and loc[0] == "exceptions" and len(loc) > 1:
            key = "exceptions"
            message = f"Exception {int(loc[1]) + 1}: {' '.join(loc[2:3])} {message}".replace("  ", " ")
        else:
            key = FIELD_NAMES.get(loc[0], "form") if loc else "form"
        found.setdefault(key, message[:1].upper() + message[1:])
    return found


@router.post(PAGE)
def set_strategy(request: Request, viewer: SettingsAdmin, form: Form, runtime: RuntimeDep) -> Response:
    data, shown = _read(form)
    try:
        strategy = StrategyIn.model_validate(data)
    except ValidationError as exc:
        return _page(request, runtime, viewer, status=422, values=shown, errors=_errors(exc))
    with runtime.session() as db:
        before = strategies.current(db, actor=viewer.actor).version
        out = strategies.set_strategy(db, actor=viewer.actor, data=strategy)
    message = (
        f"Version {out.version} of the service strategy is in force."
        if out.version != before
        else "Nothing changed: that is the strategy in force."
    )
    web_session.load(request).flash(message)
    return see_other(PAGE)
