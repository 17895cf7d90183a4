"""``segone knowledge``: search what we know; traits, rarity and distinguishability."""

from __future__ import annotations

from typing import Annotated

import typer

from segone import formatting
from segone.accounts.schemas import SYSTEM
from segone.cli.common import JsonOption, print_json, progress_bar, runtime_of
from segone.customers import service as customers
from segone.knowledge.categories.service import in_force as categories_in_force
from segone.knowledge.distinguishability import service as insights
from segone.knowledge.distinguishability.schemas import FactInsight
from segone.search import service as knowledge_search
from segone.search.schemas import SEARCH_MARK_END, SEARCH_MARK_START, SearchKind

app = typer.Typer(
    name="knowledge",
    help="Knowledge: search what we know; traits, rarity and distinguishability.",
    no_args_is_help=True,
)


@app.command()
def search(
    ctx: typer.Context,
    text: Annotated[
        str,
        typer.Argument(
            metavar="TEXT", help="Words or a question, e.g. 'who is expanding into new markets?'."
        ),
    ],
    limit: Annotated[
        int, typer.Option(min=1, max=knowledge_search.MAX_LIMIT, help="How many hits to show.")
    ] = 20,
    as_json: JsonOption = False,
) -> None:
    """Search differentiators and encounter notes, most relevant first."""
    runtime = runtime_of(ctx)
    with runtime.session() as db:
        page = knowledge_search.search(
            db, actor=SYSTEM, query=text, limit=limit, categories=categories_in_force(runtime.settings)
        )
    if as_json:
        print_json(page)
        return
    if not page.hits:
        typer.echo(f"Nothing matches {', '.join(page.terms)}.")
        return
    for hit in page.hits:
        snippet = hit.snippet.replace(SEARCH_MARK_START, "*").replace(SEARCH_MARK_END, "*")
        if hit.kind is SearchKind.DIFFERENTIATOR:
            where = f"fact {hit.id}, {hit.category_label}" + (", no longer true" if hit.outdated else "")
        else:
            where = f"encounter {hit.id}, {hit.channel}"
        typer.echo(f"{hit.customer_name} (customer {hit.customer_id}; {where}; {hit.date:%Y-%m-%d})")
        typer.echo(f"  {snippet}")
    shown = f"{len(page.hits)} of {page.total}" if page.more else str(len(page.hits))
    typer.echo(f"{shown} matches for: {', '.join(page.terms)}.")


@app.command()
def refresh(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """Group facts into traits; measure rarity, look-alikes and the next best question of every customer."""
    # Here, not at the top: grouping needs NumPy, SciPy and scikit-learn; --help does without them.
    from segone.knowledge.distinguishability import refresh as knowledge_refresh

    runtime = runtime_of(ctx)
    with progress_bar() as progress:
        report = knowledge_refresh.refresh(
            runtime.sessions, runtime.settings, actor=SYSTEM, progress=progress
        )
    if as_json:
        print_json(report.as_dict())
        return
    seconds = sum(report.seconds.values())
    typer.echo(
        f"Measured {formatting.count(report.customers)} customers in {seconds:.1f} s: "
        f"{formatting.count(report.differentiators)} facts in {formatting.count(report.traits)} traits; "
        f"{formatting.count(report.segments_of_one)} customers are segments of one."
    )
    spread = ", ".join(f"{size}: {formatting.count(n)}" for size, n in report.distribution.items())
    typer.echo(f"  Customers by how many look alike to us (itself included): {spread}")


@app.command()
def show(
    ctx: typer.Context,
    customer: Annotated[str, typer.Argument(metavar="CUSTOMER", help="An id or any identity, e.g. crm:42.")],
    as_json: JsonOption = False,
) -> None:
    """What we know of a customer: each fact's rarity, its look-alikes, gaps and the next best question."""
    runtime = runtime_of(ctx)
    with runtime.session() as db:
        found = customers.resolve(db, actor=SYSTEM, reference=customer)
        result = insights.knowledge_of(
            db,
            actor=SYSTEM,
            customer_id=found.id,
            categories=categories_in_force(runtime.settings),
            freshness_months=runtime.settings.freshness_months,
        )
    if as_json:
        print_json(result)
        return
    if result.distinguishability is None:
        typer.echo("Not measured yet: run 'segone knowledge refresh'.")
    elif result.distinguishability == 1:
        typer.echo("A segment of one: no other customer has everything we know of this one.")
    else:
        names = ", ".join(f"{a.name} (No. {a.id})" for a in result.look_alikes)
        others = formatting.count(result.distinguishability - 1)
        typer.echo(f"{others} other customers look like this one to us: {names}")
    for fact in result.facts:
        typer.echo(_fact_line(fact))
    if result.next_question:
        q = result.next_question
        typer.echo(f"Ask next: {q.label}: {q.prompt} (leaves about {q.expected_look_alikes:.1f} look-alikes)")
    to_show = [fact for fact in result.facts if fact.id in set(result.show_them_you_know)]
    if to_show:
        typer.echo("Show them you know:")
        for fact in to_show:
            typer.echo(_fact_line(fact))


def _fact_line(fact: FactInsight) -> str:
    """``  Free time: Keeps bees (1 of 412 customers we know about in free time) [rare]``: the fact, its
    category and how rare it is among the customers we know something about in that category."""
    held = (
        "not measured yet"
        if fact.holders is None or fact.population is None
        else f"{formatting.count(fact.holders)} of {formatting.plural(fact.population, 'customer')} we "
        f"know about in {fact.category_label.lower()}"
    )
    marks = " [rare]" if fact.rare else ""
    marks += " [they know we know]" if fact.acknowledged else ""
    marks += " [stale]" if fact.stale else ""
    return f"  {fact.category_label}: {fact.text} ({held}){marks}"
