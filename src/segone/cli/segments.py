"""``segone segments``: build a segmentation tree, list the versions, show a version or one segment."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Literal

import typer

from segone import formatting
from segone.accounts.schemas import SYSTEM
from segone.cli.common import JsonOption, print_json, progress_bar, runtime_of
from segone.customers import service as customers
from segone.errors import Invalid
from segone.exporting import Format
from segone.runtime import Runtime
from segone.segmentation import service
from segone.segmentation.schemas import AssignmentOut, AssignmentStatus, SegmentOut, Unknown, VersionOut

app = typer.Typer(
    name="segments",
    help="Segments: drill down by the variables that differ most, to segments of one; stored versions.",
    no_args_is_help=True,
)

# How many levels below the root `show VERSION` prints: a manager's overview, not a million leaves.
SHOW_LEVELS = 2


def _names(text: str | None) -> list[str]:
    return [name.strip() for name in (text or "").split(",") if name.strip()]


@app.command()
def build(
    ctx: typer.Context,
    variables: Annotated[
        str,
        typer.Option(
            help="The variables to split on, comma-separated (knows:* takes a whole source), or 'all'."
        ),
    ] = "all",
    exclude: Annotated[str | None, typer.Option(help="Variables to leave out, comma-separated.")] = None,
    target: Annotated[
        str | None,
        typer.Option(metavar="COLUMN", help="Split to separate this number or yes/no variable (supervised)."),
    ] = None,
    min_size: Annotated[int, typer.Option(help="The smallest segment; 1 drills to segments of one.")] = 1,
    max_depth: Annotated[int | None, typer.Option(help="How many splits deep at most.")] = None,
    max_segments: Annotated[
        int | None,
        typer.Option(
            metavar="K", help="Keep the K segments that explain most (the splits that gain most in total)."
        ),
    ] = None,
    unknown: Annotated[
        Unknown,
        typer.Option(
            help="Where a split sends missing values: 'branch', a segment of their own (\"unknown\"); "
            "'side', the side they resemble most, said in its condition (\"under 100 days or unknown\")."
        ),
    ] = Unknown.BRANCH,
    name: Annotated[str | None, typer.Option(help="A name for the version.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Build a new version: every customer, divided segment by segment by the variable that separates most."""
    runtime = runtime_of(ctx)
    chosen: list[str] | Literal["all"] = "all" if variables.strip() == "all" else _names(variables)
    with progress_bar() as progress:
        version = service.build(
            runtime.sessions,
            runtime.settings,
            actor=SYSTEM,
            variables=chosen,
            exclude=_names(exclude),
            target=target,
            min_size=min_size,
            max_depth=max_depth,
            name=name,
            progress=progress,
            max_segments=max_segments,
            unknown=unknown,
        )
    if as_json:
        print_json(version)
        return
    typer.echo(
        f"Built version {version.id}: {formatting.plural(version.customers or 0, 'customer')} in "
        f"{formatting.plural(version.leaves or 0, 'segment')}, "
        f"{formatting.count(version.segments_of_one)} of them segments of one, in {version.seconds:.1f} s."
    )
    if version.identical_leaves:
        typer.echo(
            f"  {formatting.plural(version.identical_leaves, 'segment')} of several customers who are "
            "identical on every variable chosen: nothing tells them apart."
        )
    if version.alike_leaves:
        typer.echo(
            f"  {formatting.plural(version.alike_leaves, 'segment')} of several customers who differ only "
            "within one bin of a number (a 2,000th of the customers), finer than the tree cuts."
        )
    _say_audiences(runtime, version.id)


def _say_audiences(runtime: Runtime, version_id: int) -> None:
    """What the build did to the named audiences: evaluated again, or stale and why."""
    with runtime.session() as db:
        audiences = [
            a for a in service.list_audiences(db, actor=SYSTEM) if a.checked_version_id == version_id
        ]
    if not audiences:
        return
    stale = [a for a in audiences if a.stale]
    typer.echo(
        f"  {formatting.plural(len(audiences), 'audience')} evaluated again"
        + (f", {len(stale)} stale:" if stale else ".")
    )
    for audience in stale:
        typer.echo(
            f"    {audience.name}: {audience.stale} It keeps its {formatting.count(audience.size)} members."
        )


@app.command("list")
def list_versions(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """Every version, the newest first."""
    runtime = runtime_of(ctx)
    with runtime.session() as db:
        versions = service.list_versions(db, actor=SYSTEM)
    if as_json:
        print_json(versions)
        return
    if not versions:
        typer.echo("No segmentation is built yet: run 'segone segments build'.")
        return
    for version in versions:
        typer.echo(_version_line(version))


def _version_line(version: VersionOut) -> str:
    title = f" {version.name}" if version.name else ""
    when = f"{version.started_at:%Y-%m-%d %H:%M}"
    if version.status != "done":
        why = f": {version.message}" if version.message else ""
        return f"{version.id}{title} ({when}) {version.status}{why}"
    return (
        f"{version.id}{title} ({when}): {formatting.plural(version.customers or 0, 'customer')}, "
        f"{formatting.plural(version.leaves or 0, 'segment')}, "
        f"{formatting.count(version.segments_of_one)} segments of one; "
        f"min size {version.settings['min_size']}"
    )


@app.command()
def show(
    ctx: typer.Context,
    version_id: Annotated[int, typer.Argument(metavar="VERSION", help="A version's id (segments list).")],
    segment_id: Annotated[
        int | None, typer.Option("--segment", metavar="ID", help="Show this segment and its children.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """The tree's top levels, or one segment: conditions, size, share, CLV, how it differs, children."""
    runtime = runtime_of(ctx)
    currency = runtime.settings.currency
    with runtime.session() as db:
        version = service.get_version(db, actor=SYSTEM, version_id=version_id)
        if segment_id is None:
            top = service.segments(db, actor=SYSTEM, version_id=version_id, max_depth=SHOW_LEVELS)
            if as_json:
                print_json({"version": version, "segments": top})
                return
            typer.echo(_version_line(version))
            for segment in top:
                typer.echo("  " * segment.depth + _segment_line(segment, currency))
            return
        found = service.segment(db, actor=SYSTEM, version_id=version_id, node_id=segment_id)
        children = service.segments(db, actor=SYSTEM, version_id=version_id, parent=segment_id)
    if as_json:
        print_json({"segment": found, "children": children})
        return
    typer.echo(f"Segment {found.node_id} of version {version_id}: {_segment_line(found, currency)}")
    for line in found.conditions:
        typer.echo(f"  {line}")
    for heading, deviations in (
        ("How it differs from the average customer:", found.deviations),
        ("How it differs from its sibling:", found.sibling_deviations),
    ):
        if deviations:
            typer.echo(heading)
            for d in deviations:
                what = f"{d.label}: {d.level}" if d.level is not None else d.label
                typer.echo(
                    f"  {what}: {formatting.decimal(d.value)} against {formatting.decimal(d.reference)} "
                    f"(effect {d.effect:+.2f})"
                )
    if children:
        typer.echo("Children:")
        for child in children:
            typer.echo(f"  {_segment_line(child, currency)}")


@app.command()
def diff(
    ctx: typer.Context,
    before: Annotated[int, typer.Argument(metavar="V1", help="The earlier version's id.")],
    after: Annotated[int, typer.Argument(metavar="V2", help="The later version's id.")],
    depth: Annotated[int, typer.Option(min=1, help="Compare the segments at this depth of both trees.")] = 2,
    as_json: JsonOption = False,
) -> None:
    """Who moved from where to where between two versions: the migration matrix at one depth, and the
    segments that appeared, vanished, split or merged."""
    runtime = runtime_of(ctx)
    with runtime.session() as db:
        found = service.diff(db, actor=SYSTEM, before=before, after=after, depth=depth)
    if as_json:
        print_json(found)
        return
    words_before = {s.node_id: " AND ".join(s.conditions) or "all customers" for s in found.segments_before}
    words_after = {s.node_id: " AND ".join(s.conditions) or "all customers" for s in found.segments_after}
    typer.echo(
        f"Version {before} to {after} at depth {depth}: {formatting.count(found.stayed)} customers stayed in "
        f"a segment of the same conditions; {formatting.count(found.new_customers)} new, "
        f"{formatting.count(found.gone_customers)} gone."
    )
    for label, ids, words in (
        ("Appeared", found.appeared, words_after),
        ("Vanished", found.vanished, words_before),
        ("Split", found.split, words_before),
        ("Merged into", found.merged, words_after),
    ):
        for node_id in ids:
            typer.echo(f"  {label}: [{node_id}] {words[node_id]}")
    moved = sorted(
        (m for m in found.moves if words_before[m.before] != words_after[m.after]), key=lambda m: -m.customers
    )
    if moved:
        typer.echo("Moved:")
        for m in moved:
            typer.echo(
                f"  {formatting.count(m.customers)}: [{m.before}] {words_before[m.before]}  ->  "
                f"[{m.after}] {words_after[m.after]}"
            )


@app.command("export")
def export_segment(
    ctx: typer.Context,
    version_id: Annotated[int, typer.Argument(metavar="VERSION", help="A version's id (segments list).")],
    node_id: Annotated[int, typer.Argument(metavar="SEGMENT", help="A segment's id (segments show).")],
    fmt: Annotated[
        Format, typer.Option("--format", case_sensitive=False, help="csv (UTF-8) or parquet.")
    ] = Format.CSV,
    output: Annotated[
        str | None,
        typer.Option(
            "--output", "-o", metavar="PATH", help="The file to write, or '-' for stdout (CSV's default)."
        ),
    ] = None,
) -> None:
    """A segment's customers (every leaf below it) as CSV or Parquet, in the layout 'customers import'
    reads back: an audience for a campaign."""
    # Here, not at the top: the export writers load pyarrow, which the other segments commands do without.
    from segone.cli.export import check_output, deliver
    from segone.views import exports

    check_output(fmt, output)
    runtime = runtime_of(ctx)
    with runtime.session() as db:  # the audit entry is committed before any row is written
        started = exports.start_segment(db, actor=SYSTEM, version_id=version_id, node_id=node_id, fmt=fmt)
    deliver(runtime, started, fmt, output)


@app.command()
def assign(
    ctx: typer.Context,
    customer: Annotated[
        str | None,
        typer.Argument(
            metavar="CUSTOMER",
            help="The customer's id (42) or any identity (email:ann@x.com).",
            show_default=False,
        ),
    ] = None,
    new: Annotated[
        bool, typer.Option("--new", help="Every customer who has no segment in the version yet (new since).")
    ] = False,
    version_id: Annotated[
        int | None,
        typer.Option("--version", metavar="V", help="The version; the latest finished one if left out."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Place a customer, or every new one, in a version's segments by their values now, without a rebuild;
    stored, so the customer sheet and exports see them there."""
    if (customer is None) != new:
        raise Invalid("Name one customer, or --new for every customer new since the build (not both).")
    runtime = runtime_of(ctx)
    if new:
        with progress_bar() as progress, runtime.session() as db:
            done = service.assign_new(
                db, runtime.settings, actor=SYSTEM, version_id=version_id, progress=progress
            )
        if as_json:
            print_json(done)
        elif done.assigned:
            typer.echo(
                f"Assigned {formatting.plural(done.assigned, 'new customer')} to version {done.version_id}."
            )
        else:
            typer.echo(f"No customer is new since version {done.version_id} was built.")
        return
    assert customer is not None
    with runtime.session() as db:
        customer_id = customers.resolve(db, actor=SYSTEM, reference=customer).id
        (placed,) = service.assign(
            db, runtime.settings, actor=SYSTEM, customer_id=customer_id, version_id=version_id
        )
    if as_json:
        print_json(placed)
        return
    for line in _assignment_lines(placed, runtime.settings.currency):
        typer.echo(line)


def _assignment_lines(placed: AssignmentOut, currency: str) -> list[str]:
    segment = placed.path[-1]
    what = {
        AssignmentStatus.NEW: "newly assigned to",
        AssignmentStatus.MOVED: f"moved from segment {placed.previous_node_id} to",
        AssignmentStatus.UNCHANGED: "still in",
    }[placed.status]
    where = _segment_line(segment, currency)
    lines = [f"Customer {placed.customer_id}, version {placed.version_id}: {what} {where}"]
    lines.extend(f"  {condition}" for condition in segment.conditions or ["all customers"])
    if not placed.is_leaf:
        lines.append("  No branch below takes one of their values (a level the tree never saw there).")
    return lines


def _segment_line(segment: SegmentOut, currency: str) -> str:
    """``[3] plan: gold: 6 customers (42.9 %), CLV $1,234.00 (mean $205.67)``: the last condition only, as
    the tree's indentation gives the ones above it."""
    label = segment.conditions[-1] if segment.conditions else "all customers"
    parts = [f"[{segment.node_id}] {label}: {formatting.plural(segment.size, 'customer')}"]
    parts.append(f"({100 * segment.share:.1f} %)")
    if segment.clv_sum is not None:
        mean = formatting.money(segment.clv_mean, currency)
        parts.append(f"CLV {formatting.money(segment.clv_sum, currency)} (mean {mean})")
    if segment.target_mean is not None:
        parts.append(f"target mean {formatting.decimal(segment.target_mean, 3)}")
    if segment.identical and segment.size > 1:
        parts.append("identical")
    elif segment.alike:
        parts.append("alike within a bin")
    return " ".join(parts)


@app.command()
def variables(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """Every variable a build may split on, with its kind; those left out with the reason."""
    runtime = runtime_of(ctx)
    with runtime.session() as db:
        infos = service.describe_variables(db, actor=SYSTEM, settings=runtime.settings)
    if as_json:
        print_json([asdict(info) for info in infos])
        return
    if not infos:
        typer.echo("No variables yet: import customers, events or facts first.")
        return
    for info in infos:
        kind = info.kind.value if info.kind is not None else "left out"
        missing = f", {100 * info.missing_share:.0f} % unknown" if info.missing_share else ""
        line = f"{info.name} ({kind}{missing}): {info.label}"
        if info.excluded:
            line += f" [{info.excluded}]"
        typer.echo(line)
