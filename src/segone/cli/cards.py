"""``segone cards``: report cards, their ratings, a period's review, action plans and the bonus-plan export
(docs/quality.md)."""

from __future__ import annotations

from datetime import date
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
from segone.cli.export import check_output, deliver
from segone.errors import Invalid
from segone.exporting import Format
from segone.quality import importer
from segone.quality import service as quality
from segone.quality.measures import shown
from segone.quality.periods import PeriodLength
from segone.quality.schemas import (
    ADVOCACY_AT_LEAST,
    ADVOCACY_DAYS,
    ActionPlanCreate,
    ActionPlanOut,
    ActionPlanUpdate,
    CardCreate,
    CardKind,
    CardOut,
    CardReview,
    CardUpdate,
    EmpathyReport,
    PlanStatus,
    RatingCreate,
    parse_scores,
)
from segone.views import exports

app = typer.Typer(
    name="cards",
    help="Report cards: set them up, rate them, review a period with its shortfalls and action plans, "
    "export the scores for the bonus plan.",
    no_args_is_help=True,
)
plans = typer.Typer(name="plan", help="Action plans for a review's shortfalls: add one, change one.")
app.add_typer(plans)

CardArgument = Annotated[str, typer.Argument(metavar="CARD", help="The card's id or name.")]
AsOption = Annotated[
    str | None,
    typer.Option(
        "--as", metavar="EMAIL", help="Act as this user (their permissions, their name in history)."
    ),
]
PeriodOption = Annotated[
    str,
    typer.Option("--period", metavar="YYYY-MM", help="The period: YYYY-MM (YYYY-Qn for quarterly cards)."),
]


def _deliverables(text: str) -> list[str]:
    return [part for part in text.split(";") if part.strip()]


@app.command()
def create(
    ctx: typer.Context,
    supplier: Annotated[
        str,
        typer.Option("--supplier", metavar="S", help="The team that delivers, or 'company' (our company)."),
    ],
    customer: Annotated[
        str,
        typer.Option(
            "--customer",
            metavar="C",
            help="The team that rates it, or 'customers' for external customers (then --touch-point).",
        ),
    ],
    deliverables: Annotated[
        str,
        typer.Option(
            "--deliverables", metavar="A;B;...", help="What is rated 1-5, separated by ';' (about six)."
        ),
    ],
    touch_point: Annotated[
        str | None, typer.Option("--touch-point", help="External cards: store, phone, web, delivery...")
    ] = None,
    target: Annotated[float, typer.Option("--target", help="The mean score wanted, 1 to 5.")] = 4.0,
    name: Annotated[str | None, typer.Option("--name", help="Default: '<supplier> for <customer>'.")] = None,
    periods: Annotated[
        PeriodLength, typer.Option("--periods", case_sensitive=False, help="month (default) or quarter.")
    ] = PeriodLength.MONTH,
    as_user: AsOption = None,
    as_json: JsonOption = False,
) -> None:
    """Set up a report card: who delivers, who rates, what is rated, and the target."""
    data = CardCreate(
        supplier_team=quality.team_or_word(supplier, supplier=True),
        customer_team=quality.team_or_word(customer, supplier=False),
        touch_point=touch_point,
        deliverables=_deliverables(deliverables),
        target=target,
        name=name,
        period_length=periods,
    )
    runtime = runtime_of(ctx)
    with runtime.session() as db:
        card = quality.create(db, actor=actor_named(db, as_user), data=data)
    if as_json:
        print_json(card)
        return
    typer.echo(
        f"Card {card.id}: {card.name}, {len(card.deliverables)} deliverables, target {shown(card.target)}."
    )


@app.command("list")
def list_cards(
    ctx: typer.Context,
    team: Annotated[
        str | None, typer.Option("--team", help="A team's cards (as supplier or customer).")
    ] = None,
    all_: Annotated[bool, typer.Option("--all", help="Cards no longer in use too.")] = False,
    as_user: AsOption = None,
    as_json: JsonOption = False,
) -> None:
    """The report cards, by name: who delivers, who rates, the target."""
    runtime = runtime_of(ctx)
    with runtime.session() as db:
        found = quality.list_cards(db, actor=actor_named(db, as_user), team=team, include_inactive=all_)
    if as_json:
        print_json(found)
        return
    if not found.items:
        typer.echo("No report cards yet. Set one up with 'segone cards create'.")
        return
    table = Table("id", "card", "supplier", "customer", "deliverables", "target", box=None)
    for card in found.items:
        customer = f"{card.customer} ({card.touch_point})" if card.touch_point else card.customer
        state = "" if card.active else " (no longer in use)"
        table.add_row(
            str(card.id),
            card.name + state,
            card.supplier,
            customer,
            str(len(card.current_deliverables)),
            shown(card.target),
        )
    stdout().print(table, markup=False)


@app.command()
def show(
    ctx: typer.Context, card: CardArgument, as_user: AsOption = None, as_json: JsonOption = False
) -> None:
    """One card: its supplier, customer, deliverables and target."""
    runtime = runtime_of(ctx)
    with runtime.session() as db:
        found = quality.resolve(db, actor=actor_named(db, as_user), reference=card)
    if as_json:
        print_json(found)
        return
    _print_card(found)


def _print_card(card: CardOut) -> None:
    console = stdout()
    state = "" if card.active else "  (no longer in use)"
    console.print(f"{card.name}  (card {card.id}, {card.kind.value}){state}", markup=False)
    customer = f"{card.customer}, at the {card.touch_point}" if card.touch_point else card.customer
    console.print(f"Supplier: {card.supplier}. Customer: {customer}.", markup=False)
    console.print(f"Target: {shown(card.target)}; rated every {card.period_length.value}.", markup=False)
    for deliverable in card.current_deliverables:
        console.print(f"  - {deliverable.name}", markup=False)
    if card.kind is CardKind.EXTERNAL:
        console.print("Customers also answer NPS (0-10) and CSAT (1-5).", markup=False)


@app.command()
def update(
    ctx: typer.Context,
    card: CardArgument,
    name: Annotated[str | None, typer.Option("--name")] = None,
    target: Annotated[float | None, typer.Option("--target", help="The mean score wanted, 1 to 5.")] = None,
    deliverables: Annotated[
        str | None,
        typer.Option(
            "--deliverables",
            metavar="A;B;...",
            help="The whole list: new ones are added, those left out retired (their scores stay).",
        ),
    ] = None,
    active: Annotated[
        bool | None, typer.Option("--active/--inactive", help="In use, or no longer (no ratings taken).")
    ] = None,
    as_user: AsOption = None,
    as_json: JsonOption = False,
) -> None:
    """Change a card: its name, target, deliverables, or whether it is in use."""
    data = CardUpdate(
        name=name,
        target=target,
        active=active,
        deliverables=_deliverables(deliverables) if deliverables is not None else None,
    )
    runtime = runtime_of(ctx)
    with runtime.session() as db:
        actor = actor_named(db, as_user)
        found = quality.resolve(db, actor=actor, reference=card)
        changed = quality.update(db, actor=actor, card_id=found.id, data=data)
    if as_json:
        print_json(changed)
        return
    _print_card(changed)


@app.command()
def rate(
    ctx: typer.Context,
    card: CardArgument,
    by: Annotated[
        str,
        typer.Option(
            "--by",
            metavar="EMAIL",
            help="Who rates: a member of the customer team (internal cards), or the customer by e-mail, id "
            "or identity (external cards).",
        ),
    ],
    period: PeriodOption,
    scores: Annotated[
        str, typer.Option("--scores", metavar='"A=4,B=5,..."', help="Deliverable=score pairs, scores 1 to 5.")
    ] = "",
    nps: Annotated[int | None, typer.Option("--nps", help="External cards: 0 to 10.")] = None,
    csat: Annotated[int | None, typer.Option("--csat", help="External cards: 1 to 5.")] = None,
    comment: Annotated[str, typer.Option("--comment")] = "",
    as_user: AsOption = None,
    as_json: JsonOption = False,
) -> None:
    """Record one rating of a card for a period; a rater rates a card once per period."""
    try:
        given = parse_scores(scores)
    except ValueError as exc:
        raise Invalid(f"--scores: {exc}") from exc
    runtime = runtime_of(ctx)
    with runtime.session() as db:
        actor = actor_named(db, as_user)
        found = quality.resolve(db, actor=actor, reference=card)
        rater, customer = quality.rater_reference(found.kind, by)
        data = RatingCreate(
            period=period, scores=given, nps=nps, csat=csat, comment=comment, rater=rater, customer=customer
        )
        made = quality.rate(db, actor=actor, card_id=found.id, data=data, source="cli")
    if as_json:
        print_json(made)
        return
    given_words = ", ".join(f"{name} {score}" for name, score in made.scores.items())
    typer.echo(f"Rating {made.id}: {made.rater} rated {found.name} for {made.period}: {given_words}.")


@app.command("import")
def import_file(
    ctx: typer.Context,
    file: Annotated[
        Path,
        typer.Argument(
            metavar="FILE.csv",
            help="card, period, rater, nps, csat, comment, and a column per deliverable (docs/quality.md).",
        ),
    ],
    skip_bad_rows: Annotated[
        bool, typer.Option("--skip-bad-rows", help="Import the good rows and report the bad ones.")
    ] = False,
    encoding: Annotated[
        str | None,
        typer.Option("--encoding", help="The file's encoding (windows-1252, latin-1...); default: detected."),
    ] = None,
    dry_run: DryRunOption = False,
    as_user: ImportAsOption = None,
    as_json: JsonOption = False,
) -> None:
    """Import ratings from a CSV file: all or nothing, or with --skip-bad-rows the good rows."""
    report = run_import(
        ctx,
        file,
        as_user=as_user,
        as_json=as_json,
        load=lambda db, actor, data, progress: importer.import_ratings(
            db,
            actor=actor,
            data=data,
            dry_run=dry_run,
            skip_bad_rows=skip_bad_rows,
            encoding=encoding,
            progress=progress,
        ),
    )
    if report is None:
        return
    read_as = f" (read as {report.encoding})" if report.encoding else ""
    typer.echo(
        imported_line(
            file.name,
            f"{formatting.plural(report.rows, 'row')}{read_as}; "
            f"{formatting.plural(report.created, 'rating')}",
            dry_run=dry_run,
        )
    )
    if report.errors:
        typer.echo(f"{report.skipped} bad rows were left out:", err=True)
        for problem in report.errors:
            column = f", column {problem.column}" if problem.column else ""
            typer.echo(f"  row {problem.row}{column}: {problem.problem}", err=True)


@app.command()
def review(
    ctx: typer.Context,
    card: CardArgument,
    period: Annotated[
        str | None,
        typer.Option("--period", metavar="YYYY-MM", help="The period reviewed; default: the latest rated."),
    ] = None,
    as_user: AsOption = None,
    as_json: JsonOption = False,
) -> None:
    """A period's review: each deliverable's mean, count, distribution and trend, shortfalls and why,
    NPS and CSAT, action plans and the follow-up of earlier ones."""
    runtime = runtime_of(ctx)
    with runtime.session() as db:
        actor = actor_named(db, as_user)
        found = quality.resolve(db, actor=actor, reference=card)
        result = quality.review(db, actor=actor, card_id=found.id, period=period)
    if as_json:
        print_json(result)
        return
    _print_review(result)


def _mean(value: float | None) -> str:
    return formatting.NO_VALUE if value is None else shown(value)


def _print_review(result: CardReview) -> None:
    console = stdout()
    card = result.card
    console.print(
        f"{card.name}: {result.period_label}. {formatting.plural(result.raters, 'rating')}; target "
        f"{shown(card.target)}; card mean {_mean(result.mean)} of "
        f"{formatting.plural(result.scores, 'score')}.",
        markup=False,
    )
    table = Table("deliverable", "mean", "n", "1", "2", "3", "4", "5", "last three", "", box=None)
    for d in result.deliverables:
        table.add_row(
            d.name,
            _mean(d.mean),
            str(d.count),
            *(str(d.distribution[str(score)]) for score in range(1, 6)),
            " ".join(_mean(m) for m in d.trend[-3:]),
            "shortfall" if d.shortfall else "",
        )
    console.print(table, markup=False)
    short = [d for d in result.deliverables if d.shortfall]
    if short:
        console.print(f"Shortfalls ({len(short)}):", markup=False)
        for d in short:
            assert d.shortfall is not None
            console.print(f"  {d.name}: {d.shortfall.why}", markup=False)
    if result.nps is not None and result.csat is not None:
        nps = result.nps
        score = formatting.NO_VALUE if nps.score is None else f"{nps.score:+.0f}"
        share = formatting.NO_VALUE if result.csat.share is None else f"{round(result.csat.share * 100)}%"
        console.print(
            f"NPS {score} ({nps.promoters} promoters, {nps.passives} passives, {nps.detractors} detractors "
            f"of {nps.answers}); CSAT {_mean(result.csat.mean)} ({share} satisfied of "
            f"{result.csat.answers}).",
            markup=False,
        )
    made = [plan for d in result.deliverables for plan in d.plans]
    if made:
        console.print("Action plans:", markup=False)
        for plan in made:
            console.print(f"  {_plan_line(plan)}", markup=False)
    if result.follow_up:
        console.print("Follow-up of earlier plans:", markup=False)
        for follow in result.follow_up:
            console.print(
                f"  {_plan_line(follow)}; {_mean(follow.mean_then)} in {follow.period}, "
                f"{_mean(follow.mean_now)} now",
                markup=False,
            )
    if result.comments:
        console.print(f"Comments ({result.comments_total}):", markup=False)
        for comment in result.comments:
            console.print(f'  "{comment.text}" ({comment.rater})', markup=False)


def _plan_line(plan: ActionPlanOut) -> str:
    late = ", overdue" if plan.overdue else ""
    notes = f": {plan.notes}" if plan.notes else ""
    return (
        f"#{plan.id} {plan.deliverable} ({plan.period}): {plan.owner.name}, due {plan.due.isoformat()}, "
        f"{plan.status.label}{late}{notes}"
    )


@app.command()
def export(
    ctx: typer.Context,
    period: PeriodOption,
    team: Annotated[str | None, typer.Option("--team", help="One supplier team's scores only.")] = None,
    fmt: Annotated[
        Format, typer.Option("--format", case_sensitive=False, help="csv (UTF-8) or parquet.")
    ] = Format.CSV,
    output: Annotated[
        str | None,
        typer.Option(
            "--output", "-o", metavar="PATH", help="The file to write, or '-' for stdout (default)."
        ),
    ] = None,
    as_user: AsOption = None,
) -> None:
    """The scores each team received in a period, a row per card and deliverable, for the bonus plan."""
    check_output(fmt, output)
    runtime = runtime_of(ctx)
    with runtime.session() as db:
        started = exports.start_card_scores(
            db, actor=actor_named(db, as_user), period=period, team=team, fmt=fmt
        )
    deliver(runtime, started, fmt, output)


@app.command()
def link(
    ctx: typer.Context,
    card: CardArgument,
    customer: Annotated[
        str, typer.Option("--customer", metavar="C", help="The customer: id or identity (email:ann@x.com).")
    ],
    period: PeriodOption,
    as_user: AsOption = None,
    as_json: JsonOption = False,
) -> None:
    """The address of the form on which one external customer rates the card for the period."""
    runtime = runtime_of(ctx)
    with runtime.session() as db:
        actor = actor_named(db, as_user)
        found = quality.resolve(db, actor=actor, reference=card)
        made = quality.make_link(
            db,
            actor=actor,
            card_id=found.id,
            customer=customer,
            period=period,
            secret=runtime.settings.resolved_secret_key(),
        )
    if as_json:
        print_json(made)
        return
    settings = runtime.settings
    typer.echo(f"http://{settings.host}:{settings.port}{made.path}")
    typer.echo(
        f"For {made.customer}, {made.period}; it opens the form until {made.valid_until.isoformat()}.",
        err=True,
    )


@plans.command("add")
def add_plan(
    ctx: typer.Context,
    card: CardArgument,
    deliverable: Annotated[str, typer.Option("--deliverable", help="The deliverable, by name.")],
    period: Annotated[
        str, typer.Option("--period", metavar="YYYY-MM", help="The period whose review found the shortfall.")
    ],
    owner: Annotated[str, typer.Option("--owner", metavar="EMAIL", help="Who sees it through.")],
    due: Annotated[str, typer.Option("--due", metavar="YYYY-MM-DD", help="By when.")],
    notes: Annotated[str, typer.Option("--notes", help="What will be done.")] = "",
    status: Annotated[PlanStatus, typer.Option("--status", case_sensitive=False)] = PlanStatus.OPEN,
    as_user: AsOption = None,
    as_json: JsonOption = False,
) -> None:
    """An action plan for a deliverable's shortfall."""
    data = ActionPlanCreate(
        deliverable=deliverable, period=period, owner=owner, due=_day(due), notes=notes, status=status
    )
    runtime = runtime_of(ctx)
    with runtime.session() as db:
        actor = actor_named(db, as_user)
        found = quality.resolve(db, actor=actor, reference=card)
        made = quality.add_plan(db, actor=actor, card_id=found.id, data=data)
    if as_json:
        print_json(made)
        return
    typer.echo(f"Action plan {_plan_line(made)}")


@plans.command("update")
def update_plan(
    ctx: typer.Context,
    plan: Annotated[int, typer.Argument(metavar="PLAN", help="The action plan's id.")],
    status: Annotated[PlanStatus | None, typer.Option("--status", case_sensitive=False)] = None,
    due: Annotated[str | None, typer.Option("--due", metavar="YYYY-MM-DD")] = None,
    notes: Annotated[str | None, typer.Option("--notes")] = None,
    owner: Annotated[str | None, typer.Option("--owner", metavar="EMAIL")] = None,
    as_user: AsOption = None,
    as_json: JsonOption = False,
) -> None:
    """Change an action plan: its status (open, in_progress, done), due date, notes or owner."""
    data = ActionPlanUpdate(status=status, due=_day(due) if due else None, notes=notes, owner=owner)
    runtime = runtime_of(ctx)
    with runtime.session() as db:
        changed = quality.update_plan(
            db, actor=actor_named(db, as_user), card_id=None, plan_id=plan, data=data
        )
    if as_json:
        print_json(changed)
        return
    typer.echo(f"Action plan {_plan_line(changed)}")


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise Invalid(f"'{text}' is not a date; write YYYY-MM-DD, e.g. 2026-12-15.") from None


@app.command()
def predict(
    ctx: typer.Context,
    encounter: Annotated[int, typer.Argument(metavar="ENCOUNTER", help="The encounter's id.", min=1)],
    rating: Annotated[
        int,
        typer.Option("--rating", min=1, max=5, help="The rating, 1-5, you think the customer would give."),
    ],
    as_user: AsOption = None,
    as_json: JsonOption = False,
) -> None:
    """Think customer: record the rating the encounter's customer would give, in the view of the employee
    who had it; recording it again changes it."""
    runtime = runtime_of(ctx)
    with runtime.session() as db:
        made = quality.record_prediction(
            db, actor=actor_named(db, as_user), encounter_id=encounter, data=rating
        )
    if as_json:
        print_json(made)
        return
    arrived = (
        f" The customer gave {shown(made.actual)}: a gap of {made.gap:+.2f}."
        if made.actual is not None and made.gap is not None
        else " The customer has not rated yet."
    )
    typer.echo(f"Encounter {made.encounter_id}: {made.employee} thinks {made.predicted} of 5.{arrived}")


@app.command()
def empathy(
    ctx: typer.Context,
    team: Annotated[str | None, typer.Option("--team", help="One team's employees only.")] = None,
    as_user: AsOption = None,
    as_json: JsonOption = False,
) -> None:
    """Think customer: predicted vs the customer's own rating (their next external card rating within 30
    days), per month, per employee and per team: count, mean gap and mean absolute gap."""
    runtime = runtime_of(ctx)
    with runtime.session() as db:
        report = quality.empathy(db, actor=actor_named(db, as_user), team=team)
    if as_json:
        print_json(report)
        return
    _print_empathy(report)


def _print_empathy(report: EmpathyReport) -> None:
    typer.echo(
        f"{report.predictions} predictions, {report.awaiting} still waiting for the customer's rating "
        f"(within {report.window_days} days)."
    )
    if not report.teams:
        typer.echo("No prediction has the customer's rating yet.")
        return
    for title, rows in (("team", report.teams), ("employee", report.employees)):
        table = Table("month", title, "n", "mean gap", "mean |gap|", box=None)
        for row in rows:
            table.add_row(
                row.month,
                row.name,
                str(row.count),
                f"{row.mean_gap:+.2f}",
                f"{row.mean_absolute_gap:.2f}",
            )
        stdout().print(table, markup=False)


@app.command()
def advocates(
    ctx: typer.Context,
    days: Annotated[int, typer.Option("--days", min=1, max=3660, help="The period: the last N days.")] = (
        ADVOCACY_DAYS
    ),
    at_least: Annotated[
        int, typer.Option("--min", min=1, max=1000, help="Referrals and reviews a customer needs.")
    ] = ADVOCACY_AT_LEAST,
    limit: Annotated[int, typer.Option("--limit", min=1, max=1000)] = 100,
    as_user: AsOption = None,
    as_json: JsonOption = False,
) -> None:
    """Advocates: the customers with at least --min referral and review events in the last --days days,
    most first."""
    runtime = runtime_of(ctx)
    settings = runtime.settings
    with runtime.session() as db:
        found = quality.advocates(
            db,
            actor=actor_named(db, as_user),
            data_dir=settings.data_dir,
            analytics_url=settings.analytics_url,
            days=days,
            at_least=at_least,
            limit=limit,
        )
    if as_json:
        print_json(found)
        return
    typer.echo(
        f"{found.customers} customers referred us or reviewed us in the last {days} days "
        f"({found.referrals} referrals, {found.reviews} reviews); "
        f"{len(found.items)} with at least {at_least}."
    )
    if not found.items:
        return
    table = Table("id", "customer", "referrals", "reviews", "total", "latest", box=None)
    for item in found.items:
        table.add_row(
            str(item.customer_id),
            item.name,
            str(item.referrals),
            str(item.reviews),
            str(item.total),
            item.last_at.date().isoformat(),
        )
    stdout().print(table, markup=False)
