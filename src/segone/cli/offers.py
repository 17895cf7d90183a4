"""``segone offers``: offerings matched to every customer with their reasons; a customer's offers; how well
they foretell purchases."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from segone import formatting
from segone.accounts.schemas import SYSTEM
from segone.cli.common import JsonOption, actor_named, print_json, progress_bar, runtime_of, stdout
from segone.customers import service as customers
from segone.personalisation import evaluation, refresh
from segone.personalisation import service as personalisation
from segone.personalisation.schemas import AdviceRequest, CustomerOffers, EvaluationOut

app = typer.Typer(
    name="offers",
    help="Offers: offerings matched to each customer with reasons in their terms; refresh, show, evaluate.",
    no_args_is_help=True,
)

AsOption = Annotated[
    str | None, typer.Option("--as", help="Act as this user (needs the analytics permission).")
]


@app.command("refresh")
def refresh_offers(ctx: typer.Context, as_user: AsOption = None, as_json: JsonOption = False) -> None:
    """Match offerings to every customer (purchases, facts, the catalogue's rules) and store the offers."""
    runtime = runtime_of(ctx)
    with runtime.session() as db:
        actor = actor_named(db, as_user)
    with progress_bar() as progress:
        run = refresh.refresh(runtime.sessions, runtime.settings, actor=actor, progress=progress)
    if as_json:
        print_json(run)
        return
    seconds = sum(float(value) for value in run.seconds.values())
    typer.echo(
        f"Refreshed offers (run {run.id}): {formatting.plural(run.recommendations or 0, 'offer')} for "
        f"{formatting.plural(run.customers or 0, 'customer')}, from "
        f"{formatting.plural(run.purchases or 0, 'purchase')} of "
        f"{formatting.plural(run.offerings or 0, 'active offering')} and "
        f"{formatting.plural(run.facts or 0, 'fact')}, in {seconds:.1f} s."
    )
    if run.message:
        typer.echo(run.message, err=True)


@app.command()
def recommend(
    ctx: typer.Context,
    customer: Annotated[
        str,
        typer.Argument(metavar="CUSTOMER", help="The customer's id (42) or any identity (email:ann@x.com)."),
    ],
    k: Annotated[int, typer.Option("--k", min=1, max=100, help="How many offers at most.")] = 10,
    as_json: JsonOption = False,
) -> None:
    """A customer's offers as the last refresh stored them, best first, each with its reasons."""
    runtime = runtime_of(ctx)
    with runtime.session() as db:
        found = customers.resolve(db, actor=SYSTEM, reference=customer)
        offers = personalisation.customer_offers(db, actor=SYSTEM, customer_id=found.id, limit=k)
        name = found.name
    if as_json:
        print_json(offers)
        return
    _print_offers(name, offers)


def _print_offers(name: str, offers: CustomerOffers) -> None:
    console = stdout()
    if offers.run_id is None:
        console.print("No offers stored yet: run 'segone offers refresh'.", markup=False)
        return
    when = f"{offers.computed_at:%d %b %Y %H:%M} UTC" if offers.computed_at else "unknown"
    console.print(
        f"{name} (customer {offers.customer_id}): offers of run {offers.run_id}, {when}", markup=False
    )
    if not offers.items:
        console.print(
            "  Nothing to offer: no purchase of an offering and no fact that fits one.", markup=False
        )
    for item in offers.items:
        scores = item.scores
        console.print(
            f"{item.rank}. {item.offering.name} ({item.offering.key})  score {item.score:.3f} "
            f"(collaborative {scores.collaborative:.2f}, content {scores.content:.2f}, "
            f"popularity {scores.popularity:.2f})",
            markup=False,
        )
        for reason in item.reasons:
            console.print(f"   - {reason.text}", markup=False)


@app.command()
def advise(
    ctx: typer.Context,
    customer: Annotated[
        str,
        typer.Argument(metavar="CUSTOMER", help="The customer's id (42) or any identity (email:ann@x.com)."),
    ],
    question: Annotated[str, typer.Argument(metavar="QUESTION", help='e.g. "Which lessons suit me?"')],
    as_json: JsonOption = False,
) -> None:
    """ "It depends": which of our offerings the question is about, and for each why it fits this
    customer or not, citing their facts and purchases."""
    runtime = runtime_of(ctx)
    asked = AdviceRequest(question=question)
    with runtime.session() as db:
        found = customers.resolve(db, actor=SYSTEM, reference=customer)
        answer = personalisation.advise(db, runtime.settings, actor=SYSTEM, customer_id=found.id, data=asked)
        name = found.name
    if as_json:
        print_json(answer)
        return
    console = stdout()
    console.print(f"{name} (customer {answer.customer_id}) asks: {answer.question}", markup=False)
    console.print(answer.answer, markup=False)
    for option in answer.options:
        console.print(
            f"- {option.offering.name} ({option.offering.key}): {option.verdict.label}", markup=False
        )
        for reason in option.reasons:
            console.print(f"    because {reason.text}", markup=False)
        for caveat in option.caveats:
            console.print(f"    but {caveat}", markup=False)
        if option.ask:
            console.print(f"    {option.ask}", markup=False)


@app.command()
def evaluate(
    ctx: typer.Context,
    holdout_days: Annotated[
        int,
        typer.Option(
            "--holdout-days", min=1, help="Hide the purchases of the last N days and foretell them."
        ),
    ] = 90,
    k: Annotated[int, typer.Option("--k", min=1, max=100, help="Offers per customer scored.")] = 10,
    as_user: AsOption = None,
    as_json: JsonOption = False,
) -> None:
    """Precision@k, recall@k, MAP@k and coverage of the offers against a popularity baseline, on the
    purchases of the last N days (everything before is what the models learn from)."""
    runtime = runtime_of(ctx)
    with runtime.session() as db:
        actor = actor_named(db, as_user)
    with progress_bar() as progress:
        found = evaluation.evaluate(
            runtime.sessions, runtime.settings, actor=actor, holdout_days=holdout_days, k=k, progress=progress
        )
    if as_json:
        print_json(found)
        return
    _print_evaluation(found)


def _print_evaluation(found: EvaluationOut) -> None:
    console = stdout()
    console.print(
        f"Hidden: the {formatting.plural(found.holdout_purchases, 'purchase')} after "
        f"{found.cutoff:%d %b %Y %H:%M} UTC (the last {formatting.plural(found.holdout_days, 'day')} to "
        f"{found.end:%d %b %Y}); learned from the {formatting.count(found.training_purchases)} before.",
        markup=False,
    )
    console.print(
        f"Test customers: {formatting.count(found.customers_evaluated)} of the "
        f"{formatting.count(found.customers_with_holdout)} who then took an offering they could be offered "
        f"(the others were unknown before); {formatting.plural(found.offerings, 'active offering')}.",
        markup=False,
    )
    k = found.k
    table = Table("method", f"precision@{k}", f"recall@{k}", f"MAP@{k}", "coverage", box=None)
    for row in found.methods:
        table.add_row(
            row.method, f"{row.precision:.4f}", f"{row.recall:.4f}", f"{row.map:.4f}", f"{row.coverage:.1%}"
        )
    lift = found.lift
    table.add_row(
        "blend / popularity",
        *(f"{lift[name]:.2f}x" if lift[name] is not None else "-" for name in ("precision", "recall", "map")),
        f"{lift['coverage']:.2f}x" if lift["coverage"] is not None else "-",
    )
    console.print(table, markup=False)
