"""``segone briefing``: what to know before meeting a customer, at the terminal."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer

from segone.accounts.schemas import SYSTEM
from segone.cli.common import JsonOption, print_json, runtime_of, stdout
from segone.customers import service as customers
from segone.knowledge.categories.service import in_force as categories_in_force
from segone.views.briefing import EMPTY, STRATEGY_TITLE, TITLES, briefing_lines
from segone.views.briefing import briefing as compose
from segone.views.schemas import Briefing

app = typer.Typer()


class Format(StrEnum):
    TEXT = "text"
    JSON = "json"


@app.command()
def briefing(
    ctx: typer.Context,
    customer: Annotated[
        str,
        typer.Argument(metavar="CUSTOMER", help="The customer's id (42) or any identity (email:ann@x.com)."),
    ],
    fmt: Annotated[
        Format, typer.Option("--format", case_sensitive=False, help="text (sections of short lines) or json.")
    ] = Format.TEXT,
    as_json: JsonOption = False,
) -> None:
    """What to know before meeting a customer: what makes them unique, what changed, what to ask."""
    runtime = runtime_of(ctx)
    with runtime.session() as db:
        found = customers.resolve(db, actor=SYSTEM, reference=customer)
        read = compose(
            db,
            actor=SYSTEM,
            customer_id=found.id,
            categories=categories_in_force(runtime.settings),
            freshness_months=runtime.settings.freshness_months,
            currency=runtime.settings.currency,
            consent_default=runtime.settings.consent_granted_by_default,
        )
    if as_json or fmt is Format.JSON:
        print_json(read)
        return
    _print(read)


def _print(read: Briefing) -> None:
    console = stdout()
    out = read.customer
    last = f"last seen {read.last_encounter_at:%d %b %Y}" if read.last_encounter_at else "never met yet"
    console.print(f"[bold]{out.name}[/bold]  (customer {out.id}, {last})")
    if read.consent_notice:
        console.print(read.consent_notice, markup=False)
    for section, lines in briefing_lines(read).items():
        console.print(f"\n[bold]{TITLES[section]}[/bold]")
        for line in lines or [EMPTY[section]]:
            console.print(f"  {line}", markup=False)
    if read.strategy:
        console.print(f"\n[bold]{STRATEGY_TITLE}[/bold]")
        for line in read.strategy:
            console.print(f"  {line}", markup=False)
