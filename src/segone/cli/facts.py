"""``segone facts``: differentiators, the facts that make a customer different."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from segone.channels import Channel
from segone.cli.common import (
    DryRunOption,
    ImportAsOption,
    JsonOption,
    actor_named,
    imported_line,
    print_json,
    run_import,
    runtime_of,
)
from segone.customers import service as customers
from segone.knowledge.categories import classifier
from segone.knowledge.categories import service as categories
from segone.knowledge.categories.service import in_force as categories_in_force
from segone.knowledge.facts import importer as facts_importer
from segone.knowledge.facts.schemas import AcknowledgeRequest, DifferentiatorCreate
from segone.views import facts

app = typer.Typer(
    name="facts", help="Differentiators: what makes each customer different.", no_args_is_help=True
)


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
        out = facts.add(
            db, actor=actor, customer_id=found.id, data=data, categories=categories_in_force(runtime.settings)
        )
        if acknowledged:
            out = facts.acknowledge(
                db,
                actor=actor,
                differentiator_id=out.id,
                data=AcknowledgeRequest(),
                categories=categories_in_force(runtime.settings),
            )
        name = found.name
    if as_json:
        print_json(out)
        return
    known = " The customer knows we know it." if out.acknowledgement else ""
    typer.echo(
        f"Fact {out.id} on {name}'s sheet ({out.category_label}), learned by {out.learned_by}: "
        f"{out.text}.{known}"
    )


@app.command("import")
def import_file(
    ctx: typer.Context,
    file: Annotated[
        Path,
        typer.Argument(
            metavar="FILE.csv",
            help="The CSV file: customer, text, category, learned_by, learned_at (docs/import.md).",
        ),
    ],
    dry_run: DryRunOption = False,
    as_user: ImportAsOption = None,
    as_json: JsonOption = False,
) -> None:
    """Import facts the business already knows (e.g. a CRM's notes); all or nothing."""
    settings = runtime_of(ctx, migrated=False).settings  # run_import checks the schema
    report = run_import(
        ctx,
        file,
        as_user=as_user,
        as_json=as_json,
        load=lambda db, actor, data, progress: facts_importer.import_facts(
            db,
            actor=actor,
            data=data,
            categories=categories_in_force(settings),
            data_dir=settings.data_dir,
            dry_run=dry_run,
            progress=progress,
        ),
    )
    if report is None:
        return
    typer.echo(
        imported_line(
            file.name,
            f"{report.rows} rows; {report.created} facts added, {report.unchanged} already known",
            dry_run=dry_run,
        )
    )
    if report.suggested:
        typer.echo(f"{len(report.suggested)} rows had no category; the classifier chose:")
        for row in report.suggested:
            typer.echo(f"  row {row.row}: {row.category} ({row.confidence:.0%} sure)")
    if report.ignored_columns:
        typer.echo("Columns not read: " + ", ".join(report.ignored_columns))


@app.command()
def train(
    ctx: typer.Context,
    as_user: Annotated[
        str | None, typer.Option("--as", help="Train as this user (needs the analytics permission).")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Teach the category classifier from the confirmed facts; measures it on held-out facts."""
    runtime = runtime_of(ctx)
    with runtime.session() as db:
        actor = actor_named(db, as_user)
    with runtime.session() as db:
        report = classifier.train(
            db,
            actor=actor,
            categories=categories.in_force(runtime.settings),
            data_dir=runtime.settings.data_dir,
            progress=lambda message, _done, _total: typer.echo(f"{message}…", err=True),
        )
    if as_json:
        print_json(report)
        return
    typer.echo(
        f"Trained on {report.facts} facts in {len(report.categories)} categories in {report.seconds:.1f} s. "
        f"On {report.held_out} held-out facts it chose the right category for {report.accuracy:.0%} "
        f"(the keyword rules: {report.rule_accuracy:.0%})."
    )
    if report.left_to_rules:
        typer.echo(
            "Too few facts yet, left to the keyword rules: "
            + ", ".join(f"{c.name} ({c.facts})" for c in report.left_to_rules)
        )
    typer.echo(f"Saved to {report.model_path}.")
