"""``segone tokens``: API tokens for scripts and other systems."""

from __future__ import annotations

from typing import Annotated

import typer

from segone.accounts import service as accounts
from segone.accounts.schemas import SYSTEM
from segone.cli.common import JsonOption, print_json, runtime_of

app = typer.Typer(name="tokens", help="API tokens: the REST API's credentials.", no_args_is_help=True)


@app.command()
def create(
    ctx: typer.Context,
    email: Annotated[str, typer.Argument(metavar="EMAIL", help="The user the token acts as.")],
    name: Annotated[str, typer.Option(help="What the token is for, e.g. 'crm-sync'.")] = "api",
    as_json: JsonOption = False,
) -> None:
    """Create an API token acting as a user; the secret is printed this once."""
    runtime = runtime_of(ctx)
    with runtime.session() as db:
        user = accounts.get_by_email(db, email=email)
        created = accounts.create_token(db, actor=SYSTEM, user_id=user.id, name=name)
        user_email = user.email
    if as_json:
        print_json({**created.model_dump(mode="json"), "user": user_email})
        return
    typer.echo(f"API token '{created.name}' for {user_email}:")
    typer.echo(created.token)
    typer.echo("It is shown this once. Send it as 'Authorization: Bearer <token>'.")
