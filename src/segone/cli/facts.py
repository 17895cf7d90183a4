"""``segone facts``: differentiators, the facts that make a customer different."""

from __future__ import annotations

from typing import Annotated

import typer

from segone.cli.common import JsonOption, actor_named, print_json, runtime_of
from segone.customers import service as customers
from segone.encounters.schemas import Channel
from segone.knowledge import service as knowledge
from segone.knowledge.schemas import AcknowledgeRequest, DifferentiatorCreate

app = typer.Typer(help="Differentiators: what makes each customer different.", no_args_is_help=True)


@app.command()
def add(
    ctx: typer.Context,
    customer: Annotated[
        str, typer.Argument(metavar="CUSTOMER", help="The customer's id or any identity (crm:B00042).")
    ],
    text: Annotated[
        str,
        typer.Argument(metavar="TEXT", help="The fact, e.g. 'Opening a second store in Leeds in spring'."),
    ],
    category: Annotated[str, typer.Option(help="e.g. growth_plans, family, worries (see docs/cli.md).")],
    by: Annotated[str, typer.Option("--by", help="E-mail of the employee who learned it; acts as them.")],
    confidence: Annotated[float, typer.Option(min=0.0, max=1.0, help="How sure we are, 0 to 1.")] = 0.8,
    channel: Annotated[
        Channel | None, typer.Option(help="Where it was learned.", case_sensitive=False)
    ] = None,
    acknowledged: Annotated[
        bool, typer.Option("--acknowledged", help="The customer already knows that we know this.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Record a differentiator on a customer's easel sheet, learned by an employee."""
    data = DifferentiatorCreate(text=text, category=category, confidence=confidence, channel=channel)
    runtime = runtime_of(ctx)
    with runtime.session() as db:
        actor = actor_named(db, by)
        found = customers.resolve(db, actor=actor, reference=customer)
        fact = knowledge.add(db, actor=actor, customer_id=found.id, data=data, categories=runtime.categories)
        if acknowledged:
            knowledge.acknowledge(db, actor=actor, differentiator_id=fact.id, data=AcknowledgeRequest())
        out = knowledge.to_out_many(db, [fact], runtime.categories)[0]
        name = found.name
    if as_json:
        print_json(out)
        return
    known = " The customer knows we know it." if out.acknowledgement else ""
    typer.echo(
        f"Fact {out.id} on {name}'s sheet ({out.category_label}), learned by {out.learned_by}: "
        f"{out.text}.{known}"
    )
