"""``segone users``: the people who use segone, their roles and teams."""

from __future__ import annotations

import secrets
from typing import Annotated

import typer
from rich.table import Table

from segone.accounts import service as accounts
from segone.accounts.schemas import SYSTEM, Role, UserCreate
from segone.cli.common import JsonOption, print_json, runtime_of, stdout

app = typer.Typer(name="users", help="Users: create them and list them.", no_args_is_help=True)


@app.command()
def create(
    ctx: typer.Context,
    email: Annotated[
        str, typer.Argument(metavar="EMAIL", help="The user's e-mail address; they sign in with it.")
    ],
    role: Annotated[Role, typer.Option(help="What they may do.", case_sensitive=False)],
    name: Annotated[str, typer.Option(help="Their name as colleagues know it.")] = "",
    team: Annotated[str | None, typer.Option(help="Their team, e.g. 'Store Leeds'; made if new.")] = None,
    password: Annotated[
        str | None, typer.Option(help="At least 8 characters; without it one is generated and shown once.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Create a user who can sign in to the web UI (and get API tokens)."""
    generated = password is None
    data = UserCreate(
        email=email, name=name or None, role=role, team=team, password=password or secrets.token_urlsafe(12)
    )
    runtime = runtime_of(ctx)
    with runtime.session() as db:
        out = accounts.to_out(accounts.create(db, actor=SYSTEM, data=data))
    if as_json:
        print_json({**out.model_dump(mode="json"), **({"password": data.password} if generated else {})})
        return
    team_text = f" in team {out.team}" if out.team else ""
    typer.echo(f"Created {out.role.value} {out.email} (user {out.id}){team_text}.")
    if generated:
        typer.echo(f"Password: {data.password}")
        typer.echo("It is shown this once: pass it on safely.")


@app.command("list")
def list_users(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """Every user, with role, team and whether they are active."""
    runtime = runtime_of(ctx)
    with runtime.session() as db:
        users = [accounts.to_out(u) for u in accounts.list_users(db, actor=SYSTEM)]
    if as_json:
        print_json(users)
        return
    if not users:
        typer.echo("No users yet: create one with 'segone users create EMAIL --role admin'.")
        return
    table = Table("id", "e-mail", "name", "role", "team", "active", box=None)
    for user in users:
        table.add_row(
            str(user.id),
            user.email,
            user.name,
            user.role.value,
            user.team or "",
            "yes" if user.active else "no",
        )
    stdout().print(table)
