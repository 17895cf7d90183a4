"""``segone promises``: promises made to customers, kept or broken, and the promise-kept rate."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

import typer
from rich.table import Table

from segone import formatting
from segone.cli.common import JsonOption, actor_named, print_json, runtime_of, stdout
from segone.clock import utcnow
from segone.customer_service.promises import service as promises
from segone.customer_service.promises.schemas import PromiseCreate, PromiseMark, PromiseOut, RateGroup
from segone.customers import service as customers

app = typer.Typer(
    name="promises",
    help="Promises made to customers: record them, mark them kept or broken, the promise-kept rate.",
    no_args_is_help=True,
)

PERIOD_DAYS = 90
PromiseArgument = Annotated[int, typer.Argument(metavar="PROMISE", help="The promise's number.", min=1)]
AsOption = Annotated[
    str | None, typer.Option("--as", help="Act as this user (the one who made or marks it).")
]
OnOption = Annotated[
    datetime | None,
    typer.Option("--on", formats=["%Y-%m-%d"], metavar="DATE", help="The day it happened (default: today)."),
]
NoteOption = Annotated[str, typer.Option(help="What happened, if worth saying.")]


def _line(promise: PromiseOut) -> str:
    due = f"{promise.due_on:%d %b %Y}"
    return f"Promise {promise.id} to {promise.customer_name}, due {due}: {promise.state.value}."


@app.command()
def add(
    ctx: typer.Context,
    customer: Annotated[str, typer.Argument(metavar="CUSTOMER", help="The customer's number or any id.")],
    text: Annotated[str, typer.Option("--text", help="What was promised.")],
    due: Annotated[
        datetime, typer.Option("--due", formats=["%Y-%m-%d"], metavar="DATE", help="The day it is due.")
    ],
    as_user: AsOption = None,
    as_json: JsonOption = False,
) -> None:
    """Record a promise made to a customer (by the user named with --as)."""
    runtime = runtime_of(ctx)
    with runtime.session() as db:
        actor = actor_named(db, as_user)
        found = customers.resolve(db, actor=actor, reference=customer)
        out = promises.make(
            db, actor=actor, data=PromiseCreate(customer_id=found.id, text=text, due_on=due.date())
        )
    if as_json:
        print_json(out)
        return
    typer.echo(f"Recorded promise {out.id} to {out.customer_name}, due {out.due_on:%d %b %Y}: {out.text}")


@app.command("list")
def list_promises(
    ctx: typer.Context,
    customer: Annotated[str | None, typer.Option(help="One customer's promises (number or any id).")] = None,
    open_only: Annotated[bool, typer.Option("--open", help="Only those not yet marked.")] = False,
    limit: Annotated[int, typer.Option(min=1, max=500, help="How many to show.")] = 50,
    offset: Annotated[int, typer.Option(min=0, help="How many to skip.")] = 0,
    as_user: AsOption = None,
    as_json: JsonOption = False,
) -> None:
    """Open promises first (overdue ones lead), then the marked; a user's with --as (their team's for a
    manager), everybody's without."""
    runtime = runtime_of(ctx)
    with runtime.session() as db:
        actor = actor_named(db, as_user)
        customer_id = customers.resolve(db, actor=actor, reference=customer).id if customer else None
        page = promises.list_promises(
            db, actor=actor, customer_id=customer_id, open_only=open_only, offset=offset, limit=limit
        )
    if as_json:
        print_json(page)
        return
    if not page.items:
        typer.echo("No promises.")
        return
    table = Table("promise", "due", "state", "customer", "made by", "what", box=None)
    for p in page.items:
        table.add_row(
            str(p.id), f"{p.due_on:%d %b %Y}", p.state.value, p.customer_name, p.made_by or "operator", p.text
        )
    console = stdout()
    console.print(table, markup=False)
    console.print(f"{formatting.plural(page.total, 'promise')}.", markup=False)


@app.command()
def keep(
    ctx: typer.Context,
    promise: PromiseArgument,
    on: OnOption = None,
    note: NoteOption = "",
    as_user: AsOption = None,
    as_json: JsonOption = False,
) -> None:
    """Mark a promise kept (after its due day it shows as kept late)."""
    runtime = runtime_of(ctx)
    with runtime.session() as db:
        out = promises.keep(
            db,
            actor=actor_named(db, as_user),
            promise_id=promise,
            data=PromiseMark(on=on.date() if on else None, note=note),
        )
    if as_json:
        print_json(out)
        return
    typer.echo(_line(out))


@app.command("break")
def break_(
    ctx: typer.Context,
    promise: PromiseArgument,
    on: OnOption = None,
    note: NoteOption = "",
    as_user: AsOption = None,
    as_json: JsonOption = False,
) -> None:
    """Mark a promise broken."""
    runtime = runtime_of(ctx)
    with runtime.session() as db:
        out = promises.mark_broken(
            db,
            actor=actor_named(db, as_user),
            promise_id=promise,
            data=PromiseMark(on=on.date() if on else None, note=note),
        )
    if as_json:
        print_json(out)
        return
    typer.echo(_line(out))


@app.command()
def rates(
    ctx: typer.Context,
    start: Annotated[datetime | None, typer.Option("--from", formats=["%Y-%m-%d"], metavar="DATE")] = None,
    end: Annotated[datetime | None, typer.Option("--to", formats=["%Y-%m-%d"], metavar="DATE")] = None,
    by: Annotated[RateGroup, typer.Option(help="team or employee.")] = RateGroup.TEAM,
    as_user: AsOption = None,
    as_json: JsonOption = False,
) -> None:
    """The promise-kept rate of the promises due in a period (default: 90 days to today), per team or
    employee; overdue ones count as broken, those not yet due are left out."""
    runtime = runtime_of(ctx)
    last = end.date() if end else utcnow().date()
    first = start.date() if start else last - timedelta(days=PERIOD_DAYS - 1)
    with runtime.session() as db:
        found = promises.rates(db, actor=actor_named(db, as_user), start=first, end=last, by=by)
    if as_json:
        print_json(found)
        return
    table = Table(by.value, "kept", "late", "broken", "overdue", "rate", "not yet due", box=None)
    for row in [*found.rows, found.total]:
        rate = formatting.NO_VALUE if row.rate is None else f"{row.rate:.0%}"
        table.add_row(
            row.label,
            str(row.kept),
            str(row.kept_late),
            str(row.broken),
            str(row.overdue),
            rate,
            str(row.pending),
        )
    console = stdout()
    console.print(
        f"Promises due {found.start:%d %b %Y} to {found.end:%d %b %Y} ({found.scope}), as of "
        f"{found.as_of:%d %b %Y}:",
        markup=False,
    )
    console.print(table, markup=False)
