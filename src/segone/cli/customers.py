"""``segone customers``: import, find and look at customers."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from segone import formatting
from segone.accounts.schemas import SYSTEM
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
from segone.customers import importer
from segone.customers import service as customers
from segone.customers.crm_presets import PRESETS
from segone.customers.schemas import (
    ConsentChange,
    ConsentOut,
    ConsentPurpose,
    ConsentSource,
    CustomerKind,
    attribute_text,
)
from segone.errors import Invalid
from segone.exporting import write_file
from segone.importing import ImportProblem, parse_mapping
from segone.knowledge.categories.service import in_force as categories_in_force
from segone.views import customer_list, erasure
from segone.views.customer_sheet import customer_sheet
from segone.views.schemas import CustomerSheet
from segone.views.subject_export import subject_export

app = typer.Typer(
    name="customers",
    help="Customers: import them from CSV, list and search them, show one.",
    no_args_is_help=True,
)


@app.command("import")
def import_file(
    ctx: typer.Context,
    file: Annotated[
        Path,
        typer.Argument(metavar="FILE.csv", help="The CSV file; see docs/import.md for its columns."),
    ],
    preset: Annotated[
        str | None,
        typer.Option(
            "--preset", help=f"A CRM's contact export: {' or '.join(PRESETS)} (names, ids, e-mail, phone)."
        ),
    ] = None,
    mapping: Annotated[
        str | None,
        typer.Option(
            "--map",
            help="Columns of the fields, e.g. 'name=First Name+Last Name,phone=Mobile' (wins over --preset).",
        ),
    ] = None,
    encoding: Annotated[
        str | None,
        typer.Option("--encoding", help="The file's encoding (windows-1250, latin-1...); default: detected."),
    ] = None,
    dry_run: DryRunOption = False,
    skip_bad_rows: Annotated[
        bool, typer.Option("--skip-bad-rows", help="Import the good rows even if some are bad.")
    ] = False,
    as_user: ImportAsOption = None,
    as_json: JsonOption = False,
) -> None:
    """Import customers: new identities create customers, known ones update them; all or nothing."""
    fields = parse_mapping(mapping)
    report = run_import(
        ctx,
        file,
        as_user=as_user,
        as_json=as_json,
        load=lambda db, actor, data, progress: importer.import_customers(
            db,
            actor=actor,
            data=data,
            dry_run=dry_run,
            skip_bad_rows=skip_bad_rows,
            mapping=fields,
            preset=preset,
            encoding=encoding,
            progress=progress,
        ),
    )
    if report is None:
        return
    merged = f", {report.merged} merged into earlier rows" if report.merged else ""
    read_as = f" (read as {report.encoding})" if report.encoding else ""
    typer.echo(
        imported_line(
            file.name,
            f"{report.rows} rows{read_as}; {report.created} created, {report.updated} updated, "
            f"{report.unchanged} unchanged{merged}",
            dry_run=dry_run,
        )
    )
    if report.warnings:
        typer.echo(f"{len(report.warnings)} warnings:", err=True)
        _print_problems(report.warnings)
    if report.errors:
        typer.echo(f"{report.skipped} bad rows were left out:", err=True)
        _print_problems(report.errors)


def _print_problems(problems: list[ImportProblem]) -> None:
    for problem in problems:
        where = f"row {problem.row}" if problem.row is not None else "file"
        column = f", column {problem.column}" if problem.column else ""
        typer.echo(f"  {where}{column}: {problem.problem}", err=True)


@app.command()
def show(
    ctx: typer.Context,
    customer: Annotated[
        str,
        typer.Argument(metavar="CUSTOMER", help="The customer's id (42) or any identity (email:ann@x.com)."),
    ],
    as_json: JsonOption = False,
) -> None:
    """A customer's easel sheet: who they are, what we know, whether they know we know."""
    runtime = runtime_of(ctx)
    with runtime.session() as db:
        found = customers.resolve(db, actor=SYSTEM, reference=customer)
        sheet = customer_sheet(
            db,
            actor=SYSTEM,
            customer_id=found.id,
            categories=categories_in_force(runtime.settings),
            freshness_months=runtime.settings.freshness_months,
            currency=runtime.settings.currency,
            consent_default=runtime.settings.consent_granted_by_default,
        )
    if as_json:
        print_json(sheet)
        return
    _print_sheet(sheet)


def _print_sheet(sheet: CustomerSheet) -> None:
    console = stdout()
    out, recognition = sheet.customer, sheet.recognition
    console.print(
        f"[bold]{out.name}[/bold]  (customer {out.id}, {out.kind.value}, customer since {out.since:%B %Y})"
    )
    if out.identities:
        console.print("Identities: " + ", ".join(out.identities))
    if out.attributes:
        console.print(
            "Attributes: " + ", ".join(f"{k}={attribute_text(v)}" for k, v in out.attributes.items()),
            markup=False,
        )
    if recognition.current:
        share = f"{recognition.ratio:.0%}" if recognition.ratio is not None else "-"
        console.print(f"Knows we know: {recognition.acknowledged} of {recognition.current} facts ({share})")
    size = sheet.knowledge.distinguishability
    if size is not None:
        others = size - 1
        alike = (
            "a segment of one" if size == 1 else f"{others} other{'s' if others > 1 else ''} look alike to us"
        )
        console.print(f"Distinguishability: {size} ({alike})")
    if len(sheet.segment_path) > 1:
        leaf = sheet.segment_path[-1]
        alone = "a segment of one" if leaf.size == 1 else f"{leaf.size:,} customers alike on these"
        console.print(f"Segment: {' AND '.join(leaf.conditions)} ({alone})", markup=False)
    if sheet.standing:
        console.print("Unlike most customers: " + "; ".join(s.words for s in sheet.standing), markup=False)
    for group in sheet.groups:
        console.print(f"\n[bold]{group.category.label}[/bold]")
        for fact in group.facts:
            mark = "  ✓ knows we know" if fact.acknowledgement else ""
            if (through := fact.through_message) is not None:
                mark += f" (through message of {through.sent_at:%Y-%m-%d} ({through.purpose_label.lower()}))"
            who = f"{fact.learned_by or 'unknown'}, {fact.learned_at:%Y-%m-%d}, {fact.confidence:.0%} sure"
            console.print(f"  • {fact.text}  ({who}){mark}", markup=False)
    if not sheet.groups:
        console.print("\nNothing known yet. Start with:")
        for first in sheet.gaps[:3]:
            console.print(f"  • {first.label}: {first.prompt}", markup=False)
    elif sheet.gaps:
        console.print("\nNot known yet: " + ", ".join(c.label for c in sheet.gaps), markup=False)
    if sheet.encounters:
        console.print("\n[bold]Recent encounters[/bold]")
        for encounter in sheet.encounters:
            minutes = f", {encounter.duration_minutes} min" if encounter.duration_minutes else ""
            notes = encounter.notes.splitlines()[0] if encounter.notes else ""
            console.print(
                f"  {encounter.occurred_at:%Y-%m-%d} {encounter.channel.value}{minutes}, "
                f"{encounter.employee or 'unknown'}: {notes}",
                markup=False,
            )
    _print_behaviour(sheet)
    if sheet.consent is not None and sheet.consent.notice:
        console.print(f"\n{sheet.consent.notice}", markup=False)
    if sheet.merged_from:
        merged = ", ".join(f"{m.id} ({m.name})" for m in sheet.merged_from)
        console.print(f"\nMerged into this record: {merged}", markup=False)


def _print_behaviour(sheet: CustomerSheet) -> None:
    """The behaviour reading, in the words of the customer page (``behaviour.reading``)."""
    behaviour, console = sheet.behaviour, stdout()
    reading = behaviour.reading
    if reading is None or behaviour.as_of is None:
        return
    console.print(f"\n[bold]Behaviour[/bold] (as of {behaviour.as_of.isoformat()})")
    console.print(f"  {reading.headline}", markup=False)
    for statement in reading.statements:
        console.print(f"  • {statement.text}", markup=False)
    for figure in reading.figures:
        console.print(f"  {figure.label}: {figure.text}", markup=False)
        if figure.note:
            console.print(f"    {figure.note}", markup=False)
    if reading.signals:
        console.print("  Other events: " + ", ".join(reading.signals), markup=False)
    if reading.note:
        console.print(f"  {reading.note}", markup=False)


@app.command("export-data")
def export_data(
    ctx: typer.Context,
    customer: Annotated[
        str,
        typer.Argument(metavar="CUSTOMER", help="The customer's id (42) or any identity (email:ann@x.com)."),
    ],
    output: Annotated[
        Path | None,
        typer.Option(
            "--output", "-o", metavar="FILE", help="The JSON file to write (replaced); stdout without."
        ),
    ] = None,
    as_user: Annotated[
        str | None,
        typer.Option(
            "--as", metavar="EMAIL", help="Export as this user (an administrator; named in the audit log)."
        ),
    ] = None,
) -> None:
    """Everything held about a customer as one JSON document (a data-subject access request): the record,
    scores, every stored row about them by table and their events. Recorded in the audit log."""
    runtime = runtime_of(ctx)
    with runtime.session() as db:
        found = customers.resolve(db, actor=SYSTEM, reference=customer)
        document = subject_export(
            db,
            actor=actor_named(db, as_user),
            customer_id=found.id,
            data_dir=runtime.settings.data_dir,
            analytics_url=runtime.settings.analytics_url,
            currency=runtime.settings.currency,
        )
    text = document.model_dump_json(indent=2)
    if output is None:
        typer.echo(text)
        return
    # Like every export: whole or not at all, and a link at that name is replaced, not written through.
    write_file([(text + "\n").encode("utf-8")], output)
    rows = sum(len(rows) for rows in document.tables.values()) + len(document.events)
    typer.echo(f"Exported {rows:,} rows about customer {document.customer.id} to {output}.", err=True)


@app.command("erase")
def erase(
    ctx: typer.Context,
    customer: Annotated[
        str,
        typer.Argument(metavar="CUSTOMER", help="The customer's id (42) or any identity (email:ann@x.com)."),
    ],
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
    as_user: Annotated[
        str | None,
        typer.Option(
            "--as", metavar="EMAIL", help="Erase as this user (an administrator; named in the audit log)."
        ),
    ] = None,
    json_output: JsonOption = False,
) -> None:
    """Erase everything held about a customer (the right to erasure): their records, every row about them,
    their events, search index entries and derived scores; audit entries about them keep only who did what
    when. Cannot be undone. Recorded in the audit log as 'customer N erased'."""
    runtime = runtime_of(ctx)
    with runtime.session() as db:
        customer_id = (
            int(customer)
            if customer.isdigit()
            else customers.resolve(db, actor=SYSTEM, reference=customer).id
        )
    if not yes:
        typer.confirm(
            f"Erase all personal data of customer {customer_id}? This cannot be undone.", abort=True
        )
    with runtime.session() as db:
        done = erasure.erase(
            db, actor=actor_named(db, as_user), customer_id=customer_id, data_dir=runtime.settings.data_dir
        )
    erasure.settle(runtime.engine)
    if json_output:
        print_json(done)
        return
    rows = sum(done.rows.values())
    stdout().print(
        f"Erased customer {done.customer_id} (records {', '.join(map(str, done.record_ids))}): "
        f"{rows:,} rows and {done.events:,} events.",
        markup=False,
    )
    if done.category_model_removed:
        stdout().print("The fact-category model was removed; train it again with 'segone facts train'.")
    if done.uploads_removed:
        stdout().print(
            f"{done.uploads_removed:,} uploaded files waiting to be imported were dropped; upload them again."
        )


@app.command("list")
def list_customers(
    ctx: typer.Context,
    search: Annotated[str | None, typer.Option(help="Part of a name, an identity or an id.")] = None,
    kind: Annotated[CustomerKind | None, typer.Option(help="Only people or only businesses.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=500, help="How many to show.")] = 50,
    offset: Annotated[int, typer.Option(min=0, help="How many to skip (for paging).")] = 0,
    as_json: JsonOption = False,
) -> None:
    """Customers by name, with how much we know about each."""
    runtime = runtime_of(ctx)
    with runtime.session() as db:
        result = customer_list.page(db, actor=SYSTEM, query=search, kind=kind, offset=offset, limit=limit)
    if as_json:
        print_json(result)
        return
    items, total = result.items, result.total
    if not items:
        hint = "" if search else " Import some with 'segone customers import FILE.csv' or load 'segone demo'."
        typer.echo(f"No customers found.{hint}")
        return
    table = Table("id", "name", "kind", "identities", "facts", "knows we know", box=None)
    for item in items:
        table.add_row(
            str(item.id),
            item.name,
            item.kind.value,
            ", ".join(item.identities[:2]) + (" …" if len(item.identities) > 2 else ""),
            str(item.differentiators),
            str(item.acknowledged),
        )
    console = stdout()
    console.print(table)
    console.print(
        f"{formatting.count(offset + 1)}-{formatting.count(offset + len(items))} of {formatting.count(total)}"
    )


@app.command()
def consent(
    ctx: typer.Context,
    customer: Annotated[
        str,
        typer.Argument(metavar="CUSTOMER", help="The customer's id (42) or any identity (email:ann@x.com)."),
    ],
    purpose: Annotated[
        list[ConsentPurpose] | None,
        typer.Option("--purpose", help="The purpose to record (repeat for several); without it, show."),
    ] = None,
    granted: Annotated[
        bool | None, typer.Option("--granted/--refused", help="Granted or refused, with --purpose.")
    ] = None,
    note: Annotated[
        str | None, typer.Option(help="How the customer said so (at most 500 characters).")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """A customer's consent per purpose and its history; with --purpose and --granted or --refused, record
    it (earlier records stay in the history)."""
    runtime = runtime_of(ctx)
    default = runtime.settings.consent_granted_by_default
    if bool(purpose) != (granted is not None):
        raise Invalid("Give --purpose with --granted or --refused (or neither, to show consent).")
    with runtime.session() as db:
        found = customers.resolve(db, actor=SYSTEM, reference=customer)
        if purpose and granted is not None:
            change = ConsentChange(**{p.value: granted for p in purpose}, note=note)
            out = customers.record_consent(
                db,
                actor=SYSTEM,
                customer_id=found.id,
                change=change,
                source=ConsentSource.CLI,
                default_granted=default,
            )
        else:
            out = customers.consent_of(db, actor=SYSTEM, customer_id=found.id, default_granted=default)
    if as_json:
        print_json(out)
        return
    _print_consent(out)


def _print_consent(out: ConsentOut) -> None:
    console = stdout()
    for p in out.purposes:
        state = "granted" if p.granted else "refused"
        where = (
            f"{p.source.value if p.source else ''}, {p.recorded_by}, {p.recorded_at:%Y-%m-%d}"
            if p.recorded and p.recorded_at
            else f"nothing recorded: the default ({out.default})"
        )
        console.print(f"{p.purpose.value}: {state}  ({where})", markup=False)
    if out.notice:
        console.print(out.notice, markup=False)
    if out.history:
        console.print("\n[bold]History[/bold]")
        for r in out.history:
            said = "granted" if r.granted else "refused"
            extra = f": {r.note}" if r.note else ""
            who = f"({r.source.value}, {r.recorded_by})"
            console.print(
                f"  {r.recorded_at:%Y-%m-%d %H:%M} {r.purpose.value} {said} {who}{extra}", markup=False
            )


@app.command("without-consent")
def without_consent(
    ctx: typer.Context,
    purpose: Annotated[ConsentPurpose, typer.Option("--purpose", help="The purpose they lack consent to.")],
    as_json: JsonOption = False,
) -> None:
    """The customers without consent to a purpose now (refused, or nothing recorded under a refused
    default): who builds, refreshes and offers leave out."""
    runtime = runtime_of(ctx)
    with runtime.session() as db:
        ids = sorted(
            customers.without_consent(
                db, purposes=[purpose], default_granted=runtime.settings.consent_granted_by_default
            )
        )
        names = customers.names_by_id(db, ids)
    if as_json:
        print_json([{"id": i, "name": names.get(i, "")} for i in ids])
        return
    console = stdout()
    for i in ids:
        console.print(f"{i}  {names.get(i, '')}", markup=False)
    console.print(f"{formatting.plural(len(ids), 'customer')} without {purpose.value} consent.")
