"""``segone demo``: load the demo customers, employees and what they learned."""

from __future__ import annotations

from typing import Annotated

import typer

from segone.accounts.schemas import SYSTEM
from segone.cli.common import JsonOption, print_json, progress_bar, runtime_of
from segone.clock import utcnow
from segone.errors import Conflict
from segone.formatting import count
from segone.knowledge.categories.service import in_force as categories_in_force

app = typer.Typer()
DEMO_SEGMENTATION = "Demo: every customer, to segments of one"


@app.command()
def demo(
    ctx: typer.Context,
    reset: Annotated[
        bool, typer.Option("--reset", help="Empty the whole store (users too) and load the demo again.")
    ] = False,
    if_empty: Annotated[
        bool, typer.Option("--if-empty", help="Do nothing when the store holds customers already.")
    ] = False,
    seed: Annotated[
        int | None,
        typer.Option(help="Another seed gives other (equally realistic) customers [default: the demo's]."),
    ] = None,
    people: Annotated[int, typer.Option(hidden=True, min=1, max=99_999)] = 1500,
    businesses: Annotated[int, typer.Option(hidden=True, min=1, max=99_999)] = 500,
    as_json: JsonOption = False,
) -> None:
    """Load the demo: ~2,000 customers, what employees learned about them, encounters, demo sign-ins,
    a catalogue of offerings, and the CDNOW purchase history (69,659 purchases of 23,570 customers, moved
    forward to end today) with the known customers' purchases of offerings and behaviour profiles. The
    same seed on the same day gives the same store."""
    # Here, not at the top: the demo's purchase history and the engine take seconds to load, and the other
    # commands (and --help) start without them.
    from segone import demo as demo_data
    from segone.demo import behaviour as demo_behaviour
    from segone.demo import quality as demo_quality
    from segone.demo.timeline import CDNOW_FIRST_DAY, CDNOW_LAST_DAY
    from segone.knowledge.distinguishability import refresh as knowledge_refresh
    from segone.personalisation import refresh as offers_refresh
    from segone.segmentation import service as segmentation

    runtime = runtime_of(ctx, migrated=False)
    runtime.upgrade_schema()
    day = utcnow().date()  # once: a load that runs past midnight stays on one timeline
    seed = demo_data.DEFAULT_SEED if seed is None else seed
    with runtime.session() as db:
        existing = demo_data.customer_count(db)
        if existing and if_empty and not reset:
            if as_json:
                print_json({"loaded": False, "customers": existing})
            else:
                typer.echo(f"The store holds {count(existing)} customers already; the demo was not loaded.")
            return
        if existing and not reset:
            raise Conflict(
                f"The store holds {count(existing)} customers already. Use --reset to replace everything "
                "with the demo, or --if-empty to leave the store as it is."
            )
        if reset:
            demo_data.empty_store(db, actor=SYSTEM)
            demo_behaviour.remove_events(runtime)
        with progress_bar() as progress:
            summary = demo_data.load(
                db,
                actor=SYSTEM,
                categories=categories_in_force(runtime.settings),
                seed=seed,
                people=people,
                businesses=businesses,
                day=day,
                progress=progress,
            )
    with progress_bar() as progress:
        behaviour = demo_behaviour.load_behaviour(
            runtime,
            actor=SYSTEM,
            day=day,
            seed=seed,
            categories=categories_in_force(runtime.settings),
            progress=progress,
        )
        measured = knowledge_refresh.refresh(
            runtime.sessions, runtime.settings, actor=SYSTEM, progress=progress
        )
        # The explorer opens on a tree at once, drilled to segments of one like the product's name says.
        segmented = segmentation.build(
            runtime.sessions,
            runtime.settings,
            actor=SYSTEM,
            min_size=1,
            name=DEMO_SEGMENTATION,
            progress=progress,
        )
        # The briefing's offers and "It depends" have stored offers to read on the first page opened.
        offered = offers_refresh.refresh(runtime.sessions, runtime.settings, actor=SYSTEM, progress=progress)
    # Report cards, the service strategy, recovery cases from the complaint events, promises, predicted
    # ratings, the differentiation survey and referrals and reviews.
    quality = demo_quality.load_quality(runtime, actor=SYSTEM, day=day, seed=seed)
    if as_json:
        loaded = {"loaded": True, **summary.model_dump(mode="json")}
        print_json(
            {
                **loaded,
                "behaviour": behaviour.model_dump(mode="json"),
                "knowledge": measured.as_dict(),
                "segmentation": segmented.model_dump(mode="json"),
                "offers": offered.model_dump(mode="json"),
                "quality": quality.model_dump(mode="json"),
            }
        )
        return
    typer.echo(
        f"Loaded the demo in {summary.seconds:.1f} s: {count(summary.customers)} customers "
        f"({count(summary.people)} people, {count(summary.businesses)} businesses), "
        f"{count(summary.differentiators)} differentiators ({count(summary.acknowledged)} acknowledged), "
        f"{count(summary.encounters)} encounters; a catalogue of {count(summary.offerings)} offerings."
    )
    typer.echo(
        f"Loaded the CDNOW purchase history in {behaviour.seconds:.1f} s: {count(behaviour.events)} events, "
        f"{count(behaviour.customers_created)} more customers ({count(behaviour.customers_known)} of them "
        f"met and known a little); behaviour profiles of {count(behaviour.profiles)} customers as of "
        f"{behaviour.as_of.isoformat()}."
    )
    typer.echo(
        f"The purchases are CDNOW's ({CDNOW_FIRST_DAY.isoformat()} to {CDNOW_LAST_DAY.isoformat()}) moved "
        f"forward by {count(behaviour.shift_days)} days to end today: {behaviour.first_day.isoformat()} to "
        f"{behaviour.as_of.isoformat()}."
    )
    typer.echo(
        f"What the customers staff know bought names an offering: {count(behaviour.records_tagged)} of the "
        f"CDNOW purchases a record offering, and {count(behaviour.offering_purchases)} purchases of the "
        "catalogue's other offerings were added."
    )
    typer.echo(
        f"Measured what we know: {count(measured.traits)} traits; {count(measured.segments_of_one)} of "
        f"{count(measured.customers)} customers are segments of one."
    )
    leaves, alone = count(segmented.leaves or 0), count(segmented.segments_of_one or 0)
    typer.echo(
        f"Segmented every customer on {count(len(segmented.variables))} variables in "
        f"{segmented.seconds or 0:.1f} s: {leaves} segments, {alone} of them segments of one "
        f"(version {segmented.id}; 'segone segments show {segmented.id}')."
    )
    typer.echo(
        f"Matched offerings to customers: {count(offered.recommendations or 0)} offers for "
        f"{count(offered.customers or 0)} customers, each with its reasons "
        "('segone offers recommend cdnow:00042')."
    )
    typer.echo(
        f"Loaded report cards and customer service in {quality.seconds:.1f} s: {count(quality.cards)} cards "
        f"({count(quality.ratings)} ratings over twelve months, {count(quality.plans)} action plans), "
        f"{count(quality.cases)} recovery cases from complaints and returns "
        f"({count(quality.cases_open)} open), "
        f"{count(quality.promises)} promises."
    )
    typer.echo(
        f"Think customer: {count(quality.predictions)} predicted ratings "
        f"({count(quality.predictions_awaiting)} awaiting the customer's own); the differentiation survey "
        f"with {count(quality.survey_answers)} answers; {count(quality.advocacy_events)} referrals and "
        "reviews."
    )
    typer.echo(f"Sign in with password '{demo_data.DEMO_PASSWORD}' as:")
    for role, email in demo_data.DEMO_LOGINS.items():
        typer.echo(f"  {role.value:<10} {email}")
