"""``segone recovery``: recovery cases, the first priority when we fall short."""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum
from typing import Annotated

import typer
from rich.table import Table

from segone import formatting
from segone.accounts import service as accounts
from segone.cli.common import JsonOption, actor_named, print_json, progress_bar, runtime_of, stdout
from segone.clock import as_utc, utcnow
from segone.customer_service.recovery import service as recovery
from segone.customer_service.recovery.schemas import (
    DEFAULT_RETENTION_DAYS,
    VERDICT_LABELS,
    ActionCreate,
    CaseClose,
    CaseDetail,
    CaseOpen,
    CaseOut,
    CaseStatus,
    CaseUpdate,
    Priority,
    RecoveryMeasures,
    Verdict,
)
from segone.customers import service as customers

app = typer.Typer(
    name="recovery",
    help="Recovery cases: open them by hand or from complaint and return events, act, close; the measures.",
    no_args_is_help=True,
)

PERIOD_DAYS = 90

CaseArgument = Annotated[int, typer.Argument(metavar="CASE", help="The recovery case's number.", min=1)]
AsOption = Annotated[
    str | None, typer.Option("--as", help="Act as this user (their role's permissions and limits).")
]


class StatusChoice(StrEnum):
    OPEN = "open"
    CLOSED = "closed"
    ALL = "all"


def _moment(value: datetime) -> str:
    return f"{value:%d %b %Y %H:%M} UTC"


def _state(case: CaseOut) -> str:
    if case.status == CaseStatus.CLOSED:
        verdict = VERDICT_LABELS[case.verdict] if case.verdict else "no verdict"
        return f"closed ({verdict})"
    return "OVERDUE" if case.overdue else "open"


@app.command("open")
def open_case(
    ctx: typer.Context,
    customer: Annotated[str, typer.Argument(metavar="CUSTOMER", help="The customer's number or any id.")],
    summary: Annotated[str, typer.Option("--summary", help="What went wrong, in their words if possible.")],
    priority: Annotated[Priority, typer.Option(help="high or normal.")] = Priority.NORMAL,
    owner: Annotated[
        str | None, typer.Option(help="Who puts it right (an e-mail address); default: whoever opens it.")
    ] = None,
    as_user: AsOption = None,
    as_json: JsonOption = False,
) -> None:
    """Open a recovery case by hand; its target is now plus the strategy's hours for its priority."""
    runtime = runtime_of(ctx)
    with runtime.session() as db:
        actor = actor_named(db, as_user)
        found = customers.resolve(db, actor=actor, reference=customer)
        owner_id = accounts.get_by_email(db, email=owner).id if owner else None
        out = recovery.open_case(
            db,
            actor=actor,
            data=CaseOpen(customer_id=found.id, summary=summary, priority=priority, owner_id=owner_id),
        )
    if as_json:
        print_json(out)
        return
    typer.echo(
        f"Opened recovery case {out.id} for {out.customer_name} ({out.priority.value} priority): "
        f"put it right by {_moment(out.target_at)}."
    )


@app.command("list")
def list_cases(
    ctx: typer.Context,
    status: Annotated[StatusChoice, typer.Option(help="open, closed or all.")] = StatusChoice.OPEN,
    customer: Annotated[
        str | None, typer.Option(help="One customer's cases (number or any id), not a backlog.")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=500, help="How many to show.")] = 50,
    offset: Annotated[int, typer.Option(min=0, help="How many to skip.")] = 0,
    as_user: AsOption = None,
    as_json: JsonOption = False,
) -> None:
    """Open cases first (high priority, then the longest waiting), then the closed; a user's backlog with
    --as (theirs, their team's for a manager), everybody's without."""
    runtime = runtime_of(ctx)
    with runtime.session() as db:
        actor = actor_named(db, as_user)
        customer_id = customers.resolve(db, actor=actor, reference=customer).id if customer else None
        page = recovery.list_cases(
            db,
            actor=actor,
            status=None if status == StatusChoice.ALL else CaseStatus(status.value),
            customer_id=customer_id,
            offset=offset,
            limit=limit,
        )
    if as_json:
        print_json(page)
        return
    if not page.items:
        typer.echo("No recovery cases." if status != StatusChoice.OPEN else "No open recovery case.")
        return
    table = Table("case", "priority", "state", "customer", "owner", "reported", "target", "summary", box=None)
    for case in page.items:
        table.add_row(
            str(case.id),
            case.priority.value,
            _state(case),
            case.customer_name,
            case.owner or "nobody yet",
            f"{case.reported_at:%d %b %Y %H:%M}",
            f"{case.target_at:%d %b %Y %H:%M}",
            case.summary,
        )
    console = stdout()
    console.print(table, markup=False)
    console.print(
        f"{formatting.plural(page.total, 'case')} ({page.scope}): {formatting.count(page.open)} open, "
        f"{formatting.count(page.overdue)} overdue.",
        markup=False,
    )


@app.command()
def show(ctx: typer.Context, case: CaseArgument, as_json: JsonOption = False) -> None:
    """One case with every action taken on it."""
    runtime = runtime_of(ctx)
    with runtime.session() as db:
        detail = recovery.get_case(db, actor=actor_named(db, None), case_id=case)
    if as_json:
        print_json(detail)
        return
    _print_detail(detail, runtime.settings.currency)


def _print_detail(detail: CaseDetail, currency: str) -> None:
    console = stdout()
    lines = [
        f"Recovery case {detail.id}: {detail.summary}",
        f"Customer: {detail.customer_name} (No. {detail.customer_id})",
        f"Priority: {detail.priority.value}; {_state(detail)}",
        f"Owner: {detail.owner or 'nobody yet'}",
        f"Reported: {_moment(detail.reported_at)}; target: {_moment(detail.target_at)}",
    ]
    if detail.closed_at is not None:
        hours = formatting.decimal(detail.hours_to_recover, 1)
        lines.append(
            f"Closed: {_moment(detail.closed_at)} by {detail.closed_by or 'the operator'}, {hours} h"
        )
        lines.append(f"Resolution: {detail.resolution}")
    for action in detail.actions:
        granted = ""
        if action.exception:
            granted = (
                f" [{action.exception_label}: {formatting.money(action.cost, currency)} of a "
                f"{formatting.money(action.limit, currency)} limit]"
            )
        lines.append(f"  {action.at:%d %b %Y %H:%M} {action.by or action.by_email}: {action.text}{granted}")
    for line in lines:
        console.print(line, markup=False)


@app.command()
def act(
    ctx: typer.Context,
    case: CaseArgument,
    text: Annotated[str, typer.Option("--text", help="What was done.")],
    exception: Annotated[
        str | None, typer.Option(help="The strategy's exception granted (its key, e.g. refund).")
    ] = None,
    cost: Annotated[float | None, typer.Option(min=0, help="What the exception costs.")] = None,
    as_user: AsOption = None,
    as_json: JsonOption = False,
) -> None:
    """Record what was done; an exception over the role's limit (with what was granted on the case
    before) is refused, naming the limit."""
    runtime = runtime_of(ctx)
    with runtime.session() as db:
        action = recovery.act(
            db,
            actor=actor_named(db, as_user),
            case_id=case,
            data=ActionCreate(text=text, exception=exception, cost=cost),
            currency=runtime.settings.currency,
        )
    if as_json:
        print_json(action)
        return
    granted = ""
    if action.exception_label:
        granted = f" ({action.exception_label}, {formatting.money(action.cost, runtime.settings.currency)})"
    typer.echo(f"Recorded on case {case}: {action.text}{granted}.")


@app.command()
def change(
    ctx: typer.Context,
    case: CaseArgument,
    priority: Annotated[Priority | None, typer.Option(help="high or normal (the target moves).")] = None,
    owner: Annotated[str | None, typer.Option(help="The new owner's e-mail address.")] = None,
    as_user: AsOption = None,
    as_json: JsonOption = False,
) -> None:
    """Change a case's priority or hand it to someone (handing on takes a manager)."""
    runtime = runtime_of(ctx)
    with runtime.session() as db:
        changes: dict[str, object] = {}
        if priority is not None:
            changes["priority"] = priority
        if owner is not None:
            changes["owner_id"] = accounts.get_by_email(db, email=owner).id
        out = recovery.update_case(
            db, actor=actor_named(db, as_user), case_id=case, data=CaseUpdate.model_validate(changes)
        )
    if as_json:
        print_json(out)
        return
    typer.echo(
        f"Case {out.id}: {out.priority.value} priority, owner {out.owner or 'nobody yet'}, target "
        f"{_moment(out.target_at)}."
    )


@app.command()
def close(
    ctx: typer.Context,
    case: CaseArgument,
    resolution: Annotated[str, typer.Option("--resolution", help="How it was put right.")],
    verdict: Annotated[
        Verdict, typer.Option("--verdict", help="The customer's: satisfied or not_satisfied.")
    ],
    as_user: AsOption = None,
    as_json: JsonOption = False,
) -> None:
    """Close a case with its resolution and the customer's verdict."""
    runtime = runtime_of(ctx)
    with runtime.session() as db:
        out = recovery.close_case(
            db,
            actor=actor_named(db, as_user),
            case_id=case,
            data=CaseClose(resolution=resolution, verdict=verdict),
        )
    if as_json:
        print_json(out)
        return
    hours = formatting.decimal(out.hours_to_recover, 1)
    typer.echo(f"Closed case {out.id}, the customer {VERDICT_LABELS[verdict]}: recovered in {hours} hours.")


@app.command()
def sync(
    ctx: typer.Context,
    since: Annotated[
        datetime | None,
        typer.Option(formats=["%Y-%m-%d"], metavar="DATE", help="Only the events from this day on."),
    ] = None,
    as_user: AsOption = None,
    as_json: JsonOption = False,
) -> None:
    """Open a case for each complaint (high priority) and return (normal) event that has none; again, it
    opens nothing new."""
    runtime = runtime_of(ctx)
    settings = runtime.settings
    with runtime.session() as db:
        actor = actor_named(db, as_user)
    with progress_bar() as progress:
        report = recovery.sync_from_events(
            runtime.sessions,
            actor=actor,
            data_dir=settings.data_dir,
            analytics_url=settings.analytics_url,
            currency=settings.currency,
            since=as_utc(since),
            progress=progress,
        )
    if as_json:
        print_json(report)
        return
    typer.echo(
        f"Read {formatting.plural(report.events, 'complaint or return event')}: opened "
        f"{formatting.plural(report.opened, 'recovery case')}, "
        f"{formatting.count(report.had_a_case)} had one already."
    )


@app.command()
def measures(
    ctx: typer.Context,
    start: Annotated[datetime | None, typer.Option("--from", formats=["%Y-%m-%d"], metavar="DATE")] = None,
    end: Annotated[datetime | None, typer.Option("--to", formats=["%Y-%m-%d"], metavar="DATE")] = None,
    days: Annotated[
        int, typer.Option(min=1, max=3650, help="The retention window after recovery, in days.")
    ] = DEFAULT_RETENTION_DAYS,
    retention: Annotated[
        bool, typer.Option("--retention/--no-retention", help="Measure retention (reads the events).")
    ] = True,
    as_user: AsOption = None,
    as_json: JsonOption = False,
) -> None:
    """Time to recover, recovery rate and retention after recovery over a period (default: 90 days to
    today), of a user's scope with --as (their team's for a manager), everybody's without."""
    runtime = runtime_of(ctx)
    settings = runtime.settings
    last = end.date() if end else utcnow().date()
    first = start.date() if start else last - timedelta(days=PERIOD_DAYS - 1)
    with runtime.session() as db:
        found = recovery.measures(
            db,
            actor=actor_named(db, as_user),
            start=first,
            end=last,
            days=days,
            data_dir=settings.data_dir if retention else None,
            analytics_url=settings.analytics_url,
        )
    if as_json:
        print_json(found)
        return
    for line in measure_lines(found, settings.currency):
        typer.echo(line)


def measure_lines(found: RecoveryMeasures, currency: str) -> list[str]:
    def share(value: float | None) -> str:
        return formatting.NO_VALUE if value is None else f"{value:.0%}"

    def hours(value: float | None) -> str:
        return formatting.NO_VALUE if value is None else f"{formatting.decimal(value, 1)} h"

    lines = [
        f"Recovery {found.start:%d %b %Y} to {found.end:%d %b %Y} ({found.scope}):",
        f"  reported {formatting.count(found.reported)}, closed {formatting.count(found.closed)}, "
        f"satisfied {formatting.count(found.satisfied)}: recovery rate {share(found.recovery_rate)}",
        f"  time to recover: median {hours(found.median_hours)}, 90th percentile {hours(found.p90_hours)}; "
        f"within target {formatting.count(found.within_target)} of {formatting.count(found.closed)}",
        f"  exceptions granted: {formatting.count(found.exceptions)}, "
        f"{formatting.money(found.exceptions_cost, currency)}",
        f"  open now {formatting.count(found.open_now)}, overdue {formatting.count(found.overdue_now)}",
    ]
    if found.retention is not None:
        r = found.retention
        for label, group in (
            ("after recovery", r.recovered),
            ("after recovery, satisfied", r.recovered_satisfied),
            ("after a complaint with no case", r.without_case),
        ):
            lines.append(
                f"  bought again within {r.days} days {label}: {share(group.share)} "
                f"({formatting.count(group.purchased)} of {formatting.count(group.measured)} measured, "
                f"{formatting.count(group.customers)} in all)"
            )
    return lines
