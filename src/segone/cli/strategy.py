"""``segone strategy``: the service strategy on record, what the front line reads and may grant."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from segone import formatting
from segone.accounts.schemas import Role
from segone.cli.common import JsonOption, actor_named, print_json, runtime_of, stdout
from segone.customer_service.strategy import service as strategies
from segone.customer_service.strategy.schemas import ExceptionRule, StrategyIn, StrategyOut
from segone.errors import Invalid

app = typer.Typer(
    name="strategy",
    help="The service strategy: what customers get, how they feel, the exceptions staff may grant.",
    no_args_is_help=True,
)


@app.command()
def show(
    ctx: typer.Context,
    history: Annotated[bool, typer.Option("--history", help="Every version, the newest first.")] = False,
    as_json: JsonOption = False,
) -> None:
    """The strategy in force (or every version with --history)."""
    runtime = runtime_of(ctx)
    with runtime.session() as db:
        actor = actor_named(db, None)
        found: Any = strategies.history(db, actor=actor) if history else strategies.current(db, actor=actor)
    if as_json:
        print_json(found)
        return
    if history:
        if not found:
            typer.echo("No service strategy on record yet.")
        for version in found:
            who = version.changed_by or "the operator"
            changed = ", ".join(version.changed) or "nothing"
            note = f" ({version.note})" if version.note else ""
            typer.echo(
                f"Version {version.version}, {version.changed_at:%d %b %Y %H:%M} UTC, {who}: {changed}{note}"
            )
        return
    for line in strategy_lines(found, runtime.settings.currency):
        stdout().print(line, markup=False)


def strategy_lines(strategy: StrategyOut, currency: str) -> list[str]:
    targets = (
        f"Recovery targets: high priority {strategy.target_hours_high} h, "
        f"normal {strategy.target_hours_normal} h."
    )
    if not strategy.on_record:
        return [
            "No service strategy on record yet: an administrator sets it with 'segone strategy set' or on "
            "/admin/strategy.",
            targets,
        ]
    by = strategy.changed_by or "the operator"
    lines = [f"Service strategy, version {strategy.version} ({strategy.changed_at:%d %b %Y}, {by})"]
    lines += ["What customers get (core service):", *(f"  {s}" for s in strategy.core_service)]
    lines += ["How they feel (service experience):", *(f"  {s}" for s in strategy.service_experience)]
    lines.append("Exceptions front-line staff may grant without asking (limit per case):")
    for rule in strategy.exceptions:
        limits = ", ".join(
            f"{role.value} {formatting.money(rule.limit_for(role), currency)}" for role in Role
        )
        lines.append(f"  {rule.label} ({rule.key}): {limits}")
    if not strategy.exceptions:
        lines.append("  none: every exception needs asking")
    lines.append(targets)
    return lines


def parse_exception(spec: str) -> ExceptionRule:
    """``refund:frontline=50,manager=500`` or ``free-delivery=Free delivery:frontline=15``."""
    head, sep, limits_text = spec.rpartition(":")
    if not sep or not head.strip():
        raise Invalid(
            f"--exception '{spec}': write KEY[=LABEL]:ROLE=AMOUNT,... (refund:frontline=50,manager=500)."
        )
    key, _, label = head.partition("=")
    limits: dict[str, float] = {}
    for part in filter(None, (p.strip() for p in limits_text.split(","))):
        role, eq, amount = part.partition("=")
        try:
            limits[Role(role.strip().lower()).value] = float(amount)
        except ValueError as exc:
            roles = ", ".join(r.value for r in Role)
            raise Invalid(f"--exception '{spec}': '{part}' is not ROLE=AMOUNT (roles: {roles}).") from exc
        if not eq:
            raise Invalid(f"--exception '{spec}': '{part}' is not ROLE=AMOUNT.")
    key = key.strip()
    return ExceptionRule.model_validate(
        {"key": key, "label": label.strip() or key.replace("-", " ").capitalize(), "limits": limits}
    )


@app.command("set")
def set_strategy(
    ctx: typer.Context,
    core: Annotated[
        list[str] | None, typer.Option("--core", help="A core service statement (what they get); repeat.")
    ] = None,
    experience: Annotated[
        list[str] | None,
        typer.Option("--experience", help="A service experience statement (how they feel); repeat."),
    ] = None,
    exception: Annotated[
        list[str] | None,
        typer.Option(
            "--exception",
            metavar="KEY[=LABEL]:ROLE=AMOUNT,...",
            help="An exception staff may grant without asking, with limits per role "
            "(refund:frontline=50,manager=500); repeat. Replaces the exceptions in force.",
        ),
    ] = None,
    no_exceptions: Annotated[bool, typer.Option("--no-exceptions", help="Remove every exception.")] = False,
    target_high: Annotated[
        int | None, typer.Option(min=1, help="Hours to put a high-priority case right.")
    ] = None,
    target_normal: Annotated[
        int | None, typer.Option(min=1, help="Hours to put a normal case right.")
    ] = None,
    from_file: Annotated[
        Path | None,
        typer.Option("--from", metavar="FILE.json", help="The whole strategy as the API takes it."),
    ] = None,
    note: Annotated[str, typer.Option(help="Why it changes, for the history.")] = "",
    as_user: Annotated[str | None, typer.Option("--as", help="Act as this user (an administrator).")] = None,
    as_json: JsonOption = False,
) -> None:
    """Set a new version of the strategy: the options given replace those fields of the one in force
    (or of the file given with --from); the rest stays."""
    runtime = runtime_of(ctx)
    with runtime.session() as db:
        actor = actor_named(db, as_user)
        if from_file is not None:
            try:
                values: dict[str, Any] = json.loads(from_file.read_text(encoding="utf-8"))
            except json.JSONDecodeError as exc:
                raise Invalid(f"{from_file.name} is not JSON: {exc}") from exc
        else:
            current = strategies.current(db, actor=actor)
            values = current.model_dump(mode="json", include=set(StrategyIn.model_fields) - {"note"})
        if core is not None:
            values["core_service"] = core
        if experience is not None:
            values["service_experience"] = experience
        if no_exceptions:
            values["exceptions"] = []
        elif exception is not None:
            values["exceptions"] = [parse_exception(spec).model_dump(mode="json") for spec in exception]
        if target_high is not None:
            values["target_hours_high"] = target_high
        if target_normal is not None:
            values["target_hours_normal"] = target_normal
        if note:
            values["note"] = note
        out = strategies.set_strategy(db, actor=actor, data=StrategyIn.model_validate(values))
    if as_json:
        print_json(out)
        return
    typer.echo(f"The service strategy in force is version {out.version}.")
