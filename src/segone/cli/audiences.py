"""``segone audiences``: save a segment as a named audience, evaluated again after every build; add or
remove customers by hand; list, show, refresh, export and delete audiences."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import typer

from segone import formatting
from segone.cli.common import JsonOption, actor_named, print_json, progress_bar, runtime_of
from segone.customers import service as customers
from segone.exporting import Format
from segone.segmentation import service
from segone.segmentation.schemas import AudienceOut

app = typer.Typer(
    name="audiences",
    help="Audiences: segments saved under a name, evaluated again after every build, changed by hand.",
    no_args_is_help=True,
)

NameArgument = Annotated[str, typer.Argument(metavar="NAME", help="The audience's name (audiences list).")]
CustomerArgument = Annotated[
    str, typer.Argument(metavar="CUSTOMER", help="The customer's id or one of their identities (crm:C001).")
]
AsOption = Annotated[
    str | None,
    typer.Option("--as", metavar="EMAIL", help="Act as this user (their permissions, their name kept)."),
]
# How many hand changes `show` lists: the latest; --json gives them all.
SHOWN_EDITS = 20


def _when(moment: datetime | None) -> str:
    return "never" if moment is None else f"{moment:%Y-%m-%d %H:%M}"


def _evaluated(audience: AudienceOut) -> str:
    after = (
        f"after build {audience.evaluated_version_id}"
        if audience.evaluated_version_id is not None
        else "by hand"
    )
    return f"evaluated {_when(audience.evaluated_at)} {after}"


def _line(audience: AudienceOut) -> str:
    """``gold: 5 customers (1 added, 1 removed by hand), evaluated 2026-12-06 14:02 after build 3``."""
    hand = (
        f" ({audience.added} added, {audience.removed} removed by hand)"
        if audience.added or audience.removed
        else ""
    )
    line = f"{audience.name}: {formatting.plural(audience.size, 'customer')}{hand}, {_evaluated(audience)}"
    if audience.stale:
        line += f"; STALE: {audience.stale}"
    return line


@app.command()
def save(
    ctx: typer.Context,
    name: NameArgument,
    version_id: Annotated[int, typer.Option("--version", metavar="V", help="A finished version's id.")],
    node_id: Annotated[int, typer.Option("--segment", metavar="S", help="A segment's id in that version.")],
    as_user: AsOption = None,
    as_json: JsonOption = False,
) -> None:
    """Save a segment as a named audience: its conditions from the root, evaluated on today's values now
    and after every build."""
    runtime = runtime_of(ctx)
    with runtime.session() as db:
        audience = service.save_audience(
            db,
            runtime.settings,
            actor=actor_named(db, as_user),
            name=name,
            version_id=version_id,
            node_id=node_id,
        )
    if as_json:
        print_json(audience)
        return
    words = " AND ".join(audience.conditions) or "all customers"
    typer.echo(
        f"Saved audience {audience.name} from segment {node_id} of version {version_id} ({words}): "
        f"{formatting.plural(audience.size, 'customer')}."
    )
    if audience.stale:
        typer.echo(f"  It could not be evaluated: {audience.stale}")


@app.command("list")
def list_audiences(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """Every audience by name: its size, its hand changes, when it was evaluated, whether it is stale."""
    runtime = runtime_of(ctx)
    with runtime.session() as db:
        found = service.list_audiences(db, actor=actor_named(db, None))
    if as_json:
        print_json(found)
        return
    if not found:
        typer.echo(
            "No audience yet: save a segment with 'segone audiences save NAME --version V --segment S'."
        )
        return
    for audience in found:
        typer.echo(_line(audience))


@app.command()
def show(ctx: typer.Context, name: NameArgument, as_json: JsonOption = False) -> None:
    """An audience: its conditions, size, hand changes and when it was evaluated."""
    runtime = runtime_of(ctx)
    with runtime.session() as db:
        actor = actor_named(db, None)
        audience = service.audience_named(db, actor=actor, name=name)
        edits = service.audience_edits(db, actor=actor, audience_id=audience.id)
        names = customers.names_by_id(db, (e.customer_id for e in edits[:SHOWN_EDITS]))
    if as_json:
        print_json({"audience": audience, "edits": edits})
        return
    typer.echo(f"Audience {audience.name}: {formatting.plural(audience.size, 'customer')}")
    source = (
        f"segment {audience.node_id} of version {audience.version_id}"
        if audience.version_id is not None
        else f"segment {audience.node_id} of a version since deleted"
    )
    typer.echo(
        f"  Saved from {source} by {audience.created_by or 'the operator'}, {_when(audience.created_at)}"
    )
    typer.echo("  Conditions:")
    for line in audience.conditions or ["all customers"]:
        typer.echo(f"    {line}")
    typer.echo(
        f"  {formatting.count(audience.matched)} met the conditions; "
        f"{formatting.count(audience.added)} added and {formatting.count(audience.removed)} removed by hand"
    )
    typer.echo(f"  {_evaluated(audience).capitalize()}")
    if audience.stale:
        typer.echo(
            f"  STALE since {_when(audience.checked_at)}: {audience.stale} The members are those evaluated "
            f"{_when(audience.evaluated_at)}."
        )
    if edits:
        typer.echo("By hand:")
        for edit in edits[:SHOWN_EDITS]:
            verb = "added" if edit.added else "removed"
            who = edit.by or "the operator"
            called = names.get(edit.customer_id)
            customer = f"{edit.customer_id} ({called})" if called else str(edit.customer_id)
            typer.echo(f"  {verb} {customer} by {who}, {_when(edit.at)}")
        if len(edits) > SHOWN_EDITS:
            typer.echo(f"  … and {formatting.count(len(edits) - SHOWN_EDITS)} more (--json lists them all)")


def _change(
    ctx: typer.Context, name: str, customer: str, as_user: str | None, *, add: bool, as_json: bool
) -> None:
    runtime = runtime_of(ctx)
    with runtime.session() as db:
        actor = actor_named(db, as_user)
        audience = service.audience_named(db, actor=actor, name=name)
        customer_id = customers.resolve(db, actor=actor, reference=customer).id
        change = service.add_to_audience if add else service.remove_from_audience
        changed = change(db, actor=actor, audience_id=audience.id, customer_id=customer_id)
    if as_json:
        print_json(changed)
        return
    done = f"Added customer {customer} to" if add else f"Removed customer {customer} from"
    typer.echo(f"{done} {changed.name} by hand: {formatting.plural(changed.size, 'customer')}.")


@app.command()
def add(
    ctx: typer.Context,
    name: NameArgument,
    customer: CustomerArgument,
    as_user: AsOption = None,
    as_json: JsonOption = False,
) -> None:
    """Add a customer by hand: a member whatever the conditions say, after every build too."""
    _change(ctx, name, customer, as_user, add=True, as_json=as_json)


@app.command()
def remove(
    ctx: typer.Context,
    name: NameArgument,
    customer: CustomerArgument,
    as_user: AsOption = None,
    as_json: JsonOption = False,
) -> None:
    """Remove a customer by hand: never a member, whatever the conditions say, after every build too."""
    _change(ctx, name, customer, as_user, add=False, as_json=as_json)


@app.command()
def refresh(
    ctx: typer.Context,
    name: Annotated[
        str | None, typer.Argument(metavar="[NAME]", help="One audience; every audience without it.")
    ] = None,
    as_user: AsOption = None,
    as_json: JsonOption = False,
) -> None:
    """Evaluate an audience, or every one, on today's values now (every build does it too)."""
    runtime = runtime_of(ctx)
    if name is None:
        with runtime.session() as db:
            actor = actor_named(db, as_user)
        with progress_bar() as progress:
            found = service.refresh_audiences(
                runtime.sessions, runtime.settings, actor=actor, progress=progress
            )
    else:
        with runtime.session() as db:
            actor = actor_named(db, as_user)
            audience = service.audience_named(db, actor=actor, name=name)
            found = [service.refresh_audience(db, runtime.settings, actor=actor, audience_id=audience.id)]
    if as_json:
        print_json(found if name is None else found[0])
        return
    if not found:
        typer.echo(
            "No audience yet: save a segment with 'segone audiences save NAME --version V --segment S'."
        )
    for audience in found:
        typer.echo(_line(audience))


@app.command("export")
def export_audience(
    ctx: typer.Context,
    name: NameArgument,
    fmt: Annotated[
        Format, typer.Option("--format", case_sensitive=False, help="csv (UTF-8) or parquet.")
    ] = Format.CSV,
    output: Annotated[
        str | None,
        typer.Option(
            "--output", "-o", metavar="PATH", help="The file to write, or '-' for stdout (CSV's default)."
        ),
    ] = None,
    as_user: AsOption = None,
) -> None:
    """The audience's members as last evaluated, as CSV or Parquet, in the layout 'customers import' reads
    back. Recorded in the audit trail like every export."""
    # Here, not at the top: the export writers load pyarrow, which the other audiences commands do without.
    from segone.cli.export import check_output, deliver
    from segone.views import exports

    check_output(fmt, output)
    runtime = runtime_of(ctx)
    with runtime.session() as db:  # the audit entry is committed before any row is written
        actor = actor_named(db, as_user)
        audience = service.audience_named(db, actor=actor, name=name)
        started = exports.start_audience(db, actor=actor, audience_id=audience.id, fmt=fmt)
    deliver(runtime, started, fmt, output)


@app.command()
def delete(
    ctx: typer.Context, name: NameArgument, as_user: AsOption = None, as_json: JsonOption = False
) -> None:
    """Delete an audience with its members and hand changes (the segment it came from stays)."""
    runtime = runtime_of(ctx)
    with runtime.session() as db:
        actor = actor_named(db, as_user)
        audience = service.audience_named(db, actor=actor, name=name)
        gone = service.delete_audience(db, actor=actor, audience_id=audience.id)
    if as_json:
        print_json(gone)
        return
    typer.echo(f"Deleted audience {gone.name} ({formatting.plural(gone.size, 'customer')}).")
