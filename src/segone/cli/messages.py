"""``segone messages``: templates by purpose, drafts in the customer's own facts, messages marked sent."""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer

from segone.cli.common import JsonOption, actor_named, print_json, runtime_of, stdout
from segone.customers import service as customers
from segone.errors import Invalid
from segone.knowledge.categories.service import in_force as categories_in_force
from segone.personalisation.messages import service as messages
from segone.personalisation.messages.schemas import (
    About,
    AboutThemCheck,
    DraftRequest,
    MessageChannel,
    Purpose,
    SendRequest,
    TemplateIn,
)

app = typer.Typer(
    name="messages",
    help="Messages: templates by purpose, drafts in the customer's own facts, messages marked sent.",
    no_args_is_help=True,
)

CustomerArgument = Annotated[
    str, typer.Argument(metavar="CUSTOMER", help="The customer's id (42) or any identity (email:ann@x.com).")
]
PurposeArgument = Annotated[
    Purpose,
    typer.Argument(
        metavar="PURPOSE", help="follow-up, offer, thank-you, recovery or check-in.", case_sensitive=False
    ),
]
PurposeOption = Annotated[
    Purpose,
    typer.Option(
        "--purpose", help="follow-up, offer, thank-you, recovery or check-in.", case_sensitive=False
    ),
]
OfferingOption = Annotated[
    str | None, typer.Option("--offering", metavar="KEY", help="For an offer: the offering to propose.")
]
AsOption = Annotated[
    str | None, typer.Option("--as", help="Act as this user (their permissions, their name as the sender).")
]


@app.command("templates")
def templates(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """Every purpose's template: the business's own, or segone's default."""
    runtime = runtime_of(ctx)
    with runtime.session() as db:
        found = messages.list_templates(db, actor=actor_named(db, None))
    if as_json:
        print_json(found)
        return
    for template in found:
        state = "segone's default" if template.is_default else f"changed {template.updated_at:%Y-%m-%d}"
        by = f" by {template.updated_by}" if template.updated_by else ""
        typer.echo(f"{template.purpose.value:<10}  {template.label:<17} {state}{by}")


@app.command("template-show")
def template_show(
    ctx: typer.Context,
    purpose: PurposeArgument,
    default: Annotated[
        bool, typer.Option("--default", help="segone's default, not the business's own.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Print a purpose's template (Jinja2; the names it may use: docs/personalisation.md)."""
    runtime = runtime_of(ctx)
    with runtime.session() as db:
        template = messages.get_template(db, actor=actor_named(db, None), purpose=purpose)
    if as_json:
        print_json(template)
        return
    typer.echo(template.default_template if default else template.template, nl=False)


@app.command("template-set")
def template_set(
    ctx: typer.Context,
    purpose: PurposeArgument,
    file: Annotated[Path, typer.Argument(metavar="FILE", help="The template, in UTF-8; '-' reads stdin.")],
    as_user: AsOption = None,
    as_json: JsonOption = False,
) -> None:
    """Save the business's template for a purpose, once it renders for two made-up customers; a template
    that fails is refused with its line (exit code 2)."""
    body = _read_text(file)
    runtime = runtime_of(ctx)
    with runtime.session() as db:
        saved = messages.set_template(
            db, actor=actor_named(db, as_user), purpose=purpose, data=TemplateIn(template=body)
        )
    if as_json:
        print_json(saved)
        return
    typer.echo(f"Saved the {saved.label.lower()} template.")


@app.command("template-reset")
def template_reset(ctx: typer.Context, purpose: PurposeArgument, as_user: AsOption = None) -> None:
    """Go back to segone's default template for a purpose."""
    runtime = runtime_of(ctx)
    with runtime.session() as db:
        saved = messages.reset_template(db, actor=actor_named(db, as_user), purpose=purpose)
    typer.echo(f"The {saved.label.lower()} template is segone's default again.")


def _read_text(file: Path) -> str:
    raw = sys.stdin.buffer.read() if str(file) == "-" else file.read_bytes()
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise Invalid(f"{file} is not UTF-8 text (byte {exc.start + 1} is not).") from exc


def _print_check(check: AboutThemCheck) -> None:
    console = stdout()
    score = "no sentence about anyone" if check.score is None else f"{check.score:.0%}"
    console.print(
        f"About them: {score} ({check.verdict}; {check.about_them} about them, {check.about_us} about us, "
        f"{check.neutral} neither)",
        markup=False,
    )
    for sentence in check.sentences:
        if sentence.about is About.US:
            console.print(f"  about us: {sentence.text}  ({sentence.why})", markup=False)


@app.command()
def draft(
    ctx: typer.Context,
    customer: CustomerArgument,
    purpose: PurposeOption,
    offering: OfferingOption = None,
    as_user: AsOption = None,
    as_json: JsonOption = False,
) -> None:
    """Draft a message to a customer from the purpose's template: the text, the facts it reveals, and how
    much of it is about them. Nothing is stored."""
    runtime = runtime_of(ctx)
    with runtime.session() as db:
        actor = actor_named(db, as_user)
        found = customers.resolve(db, actor=actor, reference=customer)
        made = messages.draft(
            db,
            actor=actor,
            customer_id=found.id,
            request=DraftRequest(purpose=purpose, offering=offering),
            categories=categories_in_force(runtime.settings),
            freshness_months=runtime.settings.freshness_months,
            currency=runtime.settings.currency,
            default_granted=runtime.settings.consent_granted_by_default,
        )
    if as_json:
        print_json(made)
        return
    console = stdout()
    console.print(made.text, markup=False)
    console.print("")
    if made.revealed:
        console.print("Reveals: " + "; ".join(f"{f.text} (fact {f.id})" for f in made.revealed), markup=False)
    else:
        console.print("Reveals no fact of theirs.")
    _print_check(made.check)


@app.command()
def send(
    ctx: typer.Context,
    customer: CustomerArgument,
    purpose: PurposeOption,
    channel: Annotated[
        MessageChannel,
        typer.Option("--channel", help="email, letter, phone or in_person.", case_sensitive=False),
    ],
    file: Annotated[
        Path | None,
        typer.Option(
            "--file",
            metavar="FILE",
            help="The text as sent ('-': stdin); without it, the draft as the template makes it.",
        ),
    ] = None,
    fact: Annotated[
        list[int] | None,
        typer.Option(
            "--fact", metavar="ID", help="With --file: a fact its draft revealed (repeat for each)."
        ),
    ] = None,
    offering: OfferingOption = None,
    sent_at: Annotated[
        datetime | None,
        typer.Option(
            "--at",
            formats=["%Y-%m-%d", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
            metavar="WHEN",
            help="When it was sent (UTC), e.g. 2026-03-03; default: now.",
        ),
    ] = None,
    as_user: AsOption = None,
    as_json: JsonOption = False,
) -> None:
    """Mark a message sent: it is stored, and the facts it reveals (those the text still mentions) are
    recorded as known to the customer, through this message."""
    if fact and file is None:
        raise Invalid("--fact goes with --file: without a file the draft's own facts are the ones revealed.")
    text = _read_text(file) if file is not None else None
    runtime = runtime_of(ctx)
    categories = categories_in_force(runtime.settings)
    with runtime.session() as db:
        actor = actor_named(db, as_user)
        found = customers.resolve(db, actor=actor, reference=customer)
        revealed = list(fact or [])
        if text is None:
            made = messages.draft(
                db,
                actor=actor,
                customer_id=found.id,
                request=DraftRequest(purpose=purpose, offering=offering),
                categories=categories,
                freshness_months=runtime.settings.freshness_months,
                currency=runtime.settings.currency,
                default_granted=runtime.settings.consent_granted_by_default,
            )
            text, revealed = made.text, [f.id for f in made.revealed]
        sent = messages.send(
            db,
            actor=actor,
            customer_id=found.id,
            data=SendRequest(
                purpose=purpose,
                text=text,
                channel=channel,
                revealed_fact_ids=revealed,
                sent_at=sent_at,
                offering=offering,
            ),
            categories=categories,
            freshness_months=runtime.settings.freshness_months,
            default_granted=runtime.settings.consent_granted_by_default,
        )
    if as_json:
        print_json(sent)
        return
    known = [f for f in sent.revealed if f.id in sent.acknowledged]
    typer.echo(f"Message {sent.id} marked sent ({sent.channel.label}, {sent.sent_at:%Y-%m-%d %H:%M} UTC).")
    for item in known:
        typer.echo(f"  now known to them: {item.text} (fact {item.id})")
    for fact_id in sent.already_known:
        typer.echo(f"  known to them already: fact {fact_id}")
    for item in sent.dropped:
        typer.echo(f"  no longer in the text, not recorded: {item.text} (fact {item.id})")


@app.command("list")
def list_messages(
    ctx: typer.Context,
    customer: CustomerArgument,
    limit: Annotated[int, typer.Option(min=1, max=1000, help="How many to show.")] = 20,
    as_json: JsonOption = False,
) -> None:
    """The messages sent to a customer, newest first."""
    runtime = runtime_of(ctx)
    with runtime.session() as db:
        actor = actor_named(db, None)
        found = customers.resolve(db, actor=actor, reference=customer)
        sent = messages.list_for_customer(db, actor=actor, customer_id=found.id, limit=limit)
    if as_json:
        print_json(sent)
        return
    if not sent:
        typer.echo(f"No message has been marked sent to {found.name} yet.")
        return
    console = stdout()
    for item in sent:
        who = item.sent_by_name or item.sent_by or "the operator"
        score = "" if item.score is None else f", {item.score:.0%} about them"
        console.print(
            f"{item.sent_at:%Y-%m-%d} {item.purpose_label} ({item.channel.label}) by {who}{score}: "
            f"{len(item.acknowledged)} of {len(item.revealed)} facts made known",
            markup=False,
        )
        first = item.text.strip().splitlines()[0] if item.text.strip() else ""
        console.print(f"  {first}", markup=False)
