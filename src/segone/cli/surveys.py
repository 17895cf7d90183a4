"""``segone surveys``: the differentiation survey and the perception gap (docs/quality.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from segone import formatting
from segone.cli.common import (
    DryRunOption,
    ImportAsOption,
    JsonOption,
    actor_named,
    imported_line,
    print_json,
    run_import,
    runtime_of,
    stdout,
)
from segone.quality import service as quality
from segone.quality.schemas import DEFAULT_QUESTION, AnswerCreate, SurveyCreate, SurveyGroup
from segone.views import perception

app = typer.Typer(
    name="surveys",
    help="The differentiation survey: set one up, record answers, the perception gap of the three groups.",
    no_args_is_help=True,
)

SurveyArgument = Annotated[str, typer.Argument(metavar="SURVEY", help="The survey's id or name.")]
AsOption = Annotated[
    str | None,
    typer.Option("--as", metavar="EMAIL", help="Act as this user (their permissions, their answer)."),
]


@app.command()
def create(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(metavar="NAME")],
    question: Annotated[str, typer.Option("--question")] = DEFAULT_QUESTION,
    as_user: AsOption = None,
    as_json: JsonOption = False,
) -> None:
    """Set up a survey: one question, agreement 1-5, asked of executives, front-line staff and customers."""
    runtime = runtime_of(ctx)
    with runtime.session() as db:
        made = quality.create_survey(
            db, actor=actor_named(db, as_user), data=SurveyCreate(name=name, question=question)
        )
    if as_json:
        print_json(made)
        return
    typer.echo(f"Survey {made.id}: '{made.name}': {made.question}")


@app.command("list")
def list_surveys(ctx: typer.Context, as_user: AsOption = None, as_json: JsonOption = False) -> None:
    """Every survey, the newest first."""
    runtime = runtime_of(ctx)
    with runtime.session() as db:
        found = quality.list_surveys(db, actor=actor_named(db, as_user))
    if as_json:
        print_json(found)
        return
    for survey in found:
        typer.echo(f"{survey.id}  {survey.name}: {survey.question}")


@app.command()
def answer(
    ctx: typer.Context,
    survey: SurveyArgument,
    agreement: Annotated[int, typer.Option("--agreement", min=1, max=5, help="1 disagree ... 5 agree.")],
    statement: Annotated[
        str, typer.Option("--statement", help="Front-line staff: what makes us different, in your words.")
    ] = "",
    user: Annotated[str | None, typer.Option("--user", metavar="EMAIL", help="A colleague's answer.")] = None,
    customer: Annotated[
        str | None, typer.Option("--customer", metavar="ID|IDENTITY", help="A customer's answer.")
    ] = None,
    group: Annotated[
        SurveyGroup | None, typer.Option("--group", help="executives or frontline; default by role.")
    ] = None,
    as_user: AsOption = None,
    as_json: JsonOption = False,
) -> None:
    """Record one answer: yours (--as), a colleague's (--user) or a customer's (--customer)."""
    runtime = runtime_of(ctx)
    with runtime.session() as db:
        actor = actor_named(db, as_user)
        found = quality.resolve_survey(db, actor=actor, reference=survey)
        data = AnswerCreate(
            agreement=agreement, statement=statement, user=user, customer=customer, group=group
        )
        made = quality.answer_survey(db, actor=actor, survey_id=found.id, data=data)
    if as_json:
        print_json(made)
        return
    typer.echo(f"Answer {made.id} to '{found.name}': {made.agreement} of 5 ({made.group.label}).")


@app.command()
def gap(
    ctx: typer.Context, survey: SurveyArgument, as_user: AsOption = None, as_json: JsonOption = False
) -> None:
    """The perception gap: each group's share agreeing (4 or 5) and the front line's strategy check."""
    runtime = runtime_of(ctx)
    with runtime.session() as db:
        actor = actor_named(db, as_user)
        found = quality.resolve_survey(db, actor=actor, reference=survey)
        result = perception.gap(db, actor=actor, survey_id=found.id)
    if as_json:
        print_json(result)
        return
    typer.echo(f"{result.survey.name}: {result.survey.question}")
    table = Table("group", "answers", "agreeing", "share", box=None)
    for row in result.groups:
        share = "-" if row.share is None else f"{round(row.share * 100)}%"
        table.add_row(row.label, str(row.answers), str(row.agreeing), share)
    stdout().print(table, markup=False)
    check = result.strategy_check
    rate = "-" if check.pass_rate is None else f"{round(check.pass_rate * 100)}%"
    typer.echo(
        f"Strategy check: {check.passed} of {check.checked} front-line statements match the strategy "
        f"({rate}; similarity {check.threshold} or more)."
    )


@app.command("import")
def import_file(
    ctx: typer.Context,
    survey: SurveyArgument,
    file: Annotated[
        Path, typer.Argument(metavar="FILE.csv", help="Columns customer (id or identity), agreement.")
    ],
    encoding: Annotated[
        str | None,
        typer.Option("--encoding", help="The file's encoding (windows-1252, latin-1...); default: detected."),
    ] = None,
    dry_run: DryRunOption = False,
    as_user: ImportAsOption = None,
    as_json: JsonOption = False,
) -> None:
    """Import customers' answers from a CSV file: all or nothing."""
    runtime = runtime_of(ctx)
    with runtime.session() as db:
        found = quality.resolve_survey(db, actor=actor_named(db, as_user), reference=survey)
    report = run_import(
        ctx,
        file,
        as_user=as_user,
        as_json=as_json,
        load=lambda db, actor, data, progress: quality.import_answers(
            db, actor=actor, survey_id=found.id, data=data, dry_run=dry_run, encoding=encoding
        ),
    )
    if report is None:
        return
    typer.echo(
        imported_line(
            file.name,
            f"{formatting.plural(report.rows, 'row')}; {formatting.plural(report.created, 'answer')}",
            dry_run=dry_run,
        )
    )
