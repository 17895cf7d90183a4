"""Segments (managers and analysts): the stored segmentation versions, the explorer of one version's tree
(an icicle to drill down by clicking; a segment's conditions, size, value, how it differs from the
average customer, its children and its customers) and the migration between two versions as a matrix.

A tree drilled to segments of one has about as many segments as customers: a page reads only the path to
its segment, the few levels it draws below it and one page of customers (docs/segmentation.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import partial
from itertools import pairwise
from typing import Annotated, Any, cast

from fastapi import Depends, Path
from starlette.requests import Request
from starlette.responses import Response

from segone import formatting
from segone.accounts.schemas import Actor, Permission
from segone.errors import Conflict, Invalid, NotFound
from segone.exporting import Format
from segone.progress import Progress
from segone.runtime import Runtime
from segone.segmentation import service
from segone.segmentation.schemas import (
    DeviationOut,
    DiffOut,
    DiffSegment,
    SegmentOut,
    Unknown,
    VersionOut,
    VersionStatus,
)
from segone.views import exports
from segone.views.members import segment_members
from segone.views.segment_fits import segment_fits
from segone.web import session as web_session
from segone.web.charts import (
    BarChart,
    Icicle,
    IcicleNode,
    Matrix,
    diverging_bars,
    grouped_bars,
    heat_matrix,
    icicle,
)
from segone.web.deps import Form, JobsDep, RuntimeDep, Viewer, requires, see_other, web_router
from segone.web.exports import Exporter, streamed
from segone.web.paging import page_within
from segone.web.render import percent, render

router = web_router()
Manager = Annotated[Viewer, Depends(requires(Permission.VIEW_TEAM_DASHBOARDS))]
Analyst = Annotated[Viewer, Depends(requires(Permission.RUN_ANALYTICS))]
MAX_ID = 2**31 - 1
VersionId = Annotated[int, Path(ge=1, le=MAX_ID)]
NodeId = Annotated[int, Path(ge=0, le=MAX_ID)]
LEVELS = 4  # rows of the icicle below the segment in focus
MEMBERS_PER_PAGE = 25
MATRIX_MAX = 30  # segments per side of the migration matrix; the largest are drawn
TOP_MOVES = 15
DEFAULT_DEPTH = 2
# A segment's mean CLV against the average customer's, as the icicle colours it.
VALUE_BANDS = ((0.5, "value-1"), (0.9, "value-2"), (1.1, "value-3"), (2.0, "value-4"))
VALUE_LEGEND = (
    ("value-1", "under half the average customer's"),
    ("value-2", "below average"),
    ("value-3", "about average (within 10%)"),
    ("value-4", "above average"),
    ("value-5", "twice the average or more"),
)


def _number(value: str, *, low: int, high: int = MAX_ID) -> int | None:
    text = value.strip()
    return int(text) if text.isdigit() and len(text) < 11 and low <= int(text) <= high else None


# ------------------------------------------------------------------------------------------ versions


@router.get("/segments")
def versions(request: Request, viewer: Manager, runtime: RuntimeDep) -> Response:
    with runtime.session() as db:
        found = service.list_versions(db, actor=viewer.actor)
    done = [v for v in found if v.status is VersionStatus.DONE]
    return render(
        request,
        "segments/versions.html",
        versions=found,
        done=done,
        previous={later.id: earlier.id for later, earlier in pairwise(done)},
        settings_text={v.id: _settings_text(v) for v in found},
        depth=DEFAULT_DEPTH,
    )


def _settings_text(version: VersionOut) -> str:
    asked = version.settings
    chosen = asked.get("variables", "all")
    parts = ["every variable" if chosen == "all" else ", ".join(chosen)]
    if asked.get("exclude"):
        parts.append("leaving out " + ", ".join(asked["exclude"]))
    if asked.get("target"):
        parts.append(f"target {asked['target']}")
    parts.append(f"segments of {asked.get('min_size', 1)} or more")
    if asked.get("unknown") == Unknown.SIDE:
        parts.append("missing values with the side they resemble")
    if asked.get("max_depth") is not None:
        parts.append(f"at most {asked['max_depth']} deep")
    return "; ".join(parts)


@router.post("/segments/build")
def start_build(
    request: Request, viewer: Analyst, runtime: RuntimeDep, jobs: JobsDep, form: Form
) -> Response:
    """A build over every variable, in the background, as the API starts one; the list shows it running."""
    session = web_session.load(request)
    min_size = _number(form.get("min_size") or "1", low=1)
    max_depth = _number(form.get("max_depth"), low=0, high=1000) if form.get("max_depth") else None
    if min_size is None or (form.get("max_depth") and max_depth is None):
        session.flash("The smallest segment must be a whole number from 1, the depth one from 0.")
        return see_other("/segments")
    name = form.get("name")[:200] or None
    try:
        unknown = Unknown(form.get("unknown") or Unknown.BRANCH)
    except ValueError:
        session.flash("Missing values go to a segment of their own (branch) or to a side (side).")
        return see_other("/segments")
    try:
        with runtime.session() as db:
            service.check_build(
                db, runtime.settings, actor=viewer.actor, min_size=min_size, max_depth=max_depth
            )
    except Invalid as exc:
        session.flash(f"The build did not start: {exc.message}")
        return see_other("/segments")
    work = partial(
        _build,
        runtime=runtime,
        actor=viewer.actor,
        min_size=min_size,
        max_depth=max_depth,
        name=name,
        unknown=unknown,
    )
    jobs.start("segmentation-build", work)
    session.flash("A new segmentation is being built in the background: reload this page to see it finish.")
    return see_other("/segments")


def _build(progress: Progress, *, runtime: Runtime, actor: Actor, **options: Any) -> dict[str, Any]:
    version = service.build(runtime.sessions, runtime.settings, actor=actor, progress=progress, **options)
    return version.model_dump(mode="json")


# ------------------------------------------------------------------------------------------- compare


@router.get("/segments/compare")
def compare(
    request: Request, viewer: Manager, runtime: RuntimeDep, before: str = "", after: str = "", depth: str = ""
) -> Response:
    """Who moved from which segment to which between two finished versions, at one depth of both trees.
    By default the latest version against the one before it."""
    with runtime.session() as db:
        done = [v for v in service.list_versions(db, actor=viewer.actor) if v.status is VersionStatus.DONE]
        later = _number(after, low=1) or (done[0].id if done else None)
        earlier = _number(before, low=1) or (done[1].id if len(done) > 1 else later)
        at = _number(depth, low=1, high=1000) or DEFAULT_DEPTH
        found, error = None, None
        if earlier is not None and later is not None:
            try:
                found = service.diff(db, actor=viewer.actor, before=earlier, after=later, depth=at)
            except (Invalid, NotFound) as exc:
                error = exc.message
    return render(
        request,
        "segments/compare.html",
        done=done,
        before=earlier,
        after=later,
        depth=at,
        error=error,
        found=found,
        migration=None if found is None else _migration(found),
    )


@dataclass
class Migration:
    matrix: Matrix
    left_out: int  # segments of either version not drawn (the smallest)
    moves: list[tuple[DiffSegment, DiffSegment, int]]  # the largest moves between different segments
    moved: int
    before: list[tuple[DiffSegment, str]]  # each segment with what became of it
    after: list[tuple[DiffSegment, str]]


def _migration(found: DiffOut) -> Migration:
    rows = _largest(found.segments_before)
    columns = _matched(rows, _largest(found.segments_after))
    row_at = {s.node_id: i for i, s in enumerate(rows)}
    column_at = {s.node_id: j for j, s in enumerate(columns)}
    counts = {
        (row_at[m.before], column_at[m.after]): m.customers
        for m in found.moves
        if m.before in row_at and m.after in column_at
    }
    same = {(i, j) for i, r in enumerate(rows) for j, c in enumerate(columns) if r.conditions == c.conditions}
    olds = {s.node_id: s for s in found.segments_before}
    news = {s.node_id: s for s in found.segments_after}
    changed = [m for m in found.moves if olds[m.before].conditions != news[m.after].conditions]
    changed.sort(key=lambda m: (-m.customers, m.before, m.after))
    matrix = heat_matrix(
        [
            (f"#{s.node_id} {s.conditions[-1] if s.conditions else _words([])}", _words(s.conditions))
            for s in rows
        ],
        [(f"#{s.node_id}", _words(s.conditions)) for s in columns],
        counts,
        same=same,
        row_title=f"version {found.before}",
        column_title=f"version {found.after} \u2192",
        shown=formatting.count,
    )
    return Migration(
        matrix=matrix,
        left_out=len(found.segments_before) - len(rows) + len(found.segments_after) - len(columns),
        moves=[(olds[m.before], news[m.after], m.customers) for m in changed[:TOP_MOVES]],
        moved=sum(m.customers for m in changed),
        before=[
            (s, _fate(s.node_id, vanished=found.vanished, spread=found.split)) for s in found.segments_before
        ],
        after=[
            (s, _fate(s.node_id, vanished=found.appeared, spread=found.merged, new=True))
            for s in found.segments_after
        ],
    )


def _largest(segments: list[DiffSegment]) -> list[DiffSegment]:
    """The segments in tree order, only the MATRIX_MAX largest when there are more."""
    kept = {s.node_id for s in sorted(segments, key=lambda s: (-s.size, s.node_id))[:MATRIX_MAX]}
    return [s for s in segments if s.node_id in kept]


def _matched(rows: list[DiffSegment], columns: list[DiffSegment]) -> list[DiffSegment]:
    """The later segments with the segment of the same conditions under each earlier one's row first, so
    that the customers who stayed run down the diagonal; the rest after them in tree order."""
    by_words = {tuple(c.conditions): c for c in columns}
    first = [by_words[tuple(r.conditions)] for r in rows if tuple(r.conditions) in by_words]
    placed = {c.node_id for c in first}
    return first + [c for c in columns if c.node_id not in placed]


def _fate(node_id: int, *, vanished: list[int], spread: list[int], new: bool = False) -> str:
    if node_id in vanished:
        return "appeared" if new else "vanished"
    if node_id in spread:
        return "merged from several" if new else "split"
    return ""


def _words(conditions: list[str]) -> str:
    return " \u00b7 ".join(conditions) if conditions else "All customers"


# ------------------------------------------------------------------------------------------ explorer


@router.get("/segments/{version_id}")
def explore_version(
    request: Request, viewer: Manager, runtime: RuntimeDep, version_id: VersionId, page: str = "1"
) -> Response:
    return _explore(request, viewer, runtime, version_id, 0, page)


SEGMENT_MODELS = {"bgnbd": "BG/NBD", "pareto-nbd": "Pareto/NBD", "mbgnbd": "MBG/NBD"}


@router.get("/segments/{version_id}/models")
def purchase_models(
    request: Request,
    viewer: Analyst,
    runtime: RuntimeDep,
    version_id: VersionId,
    depth: str = "2",
    model: str = "bgnbd",
    min_customers: str = "100",
    calibration_end: str = "",
    holdout_end: str = "",
) -> Response:
    """A purchase model per segment at one depth of the version, against one model for everyone."""
    with runtime.session() as db:
        version = service.get_version(db, actor=viewer.actor, version_id=version_id)
    context: dict[str, Any] = {
        "version": version,
        "models": SEGMENT_MODELS,
        "model": model,
        "depth": depth,
        "min_customers": min_customers,
        "calibration_end": calibration_end,
        "holdout_end": holdout_end,
        "found": None,
        "chart": None,
        "error": None,
    }
    chosen_depth, smallest = _number(depth, low=0, high=1000), _number(min_customers, low=1)
    ends = [_day(calibration_end), _day(holdout_end)]
    if model not in SEGMENT_MODELS:
        context["error"] = f"There is no model {model!r} here; choose {' or '.join(SEGMENT_MODELS.values())}."
    elif chosen_depth is None or smallest is None:
        context["error"] = "The depth is a whole number from 0 to 1000, the smallest segment one from 1."
    elif (calibration_end and ends[0] is None) or (holdout_end and ends[1] is None):
        context["error"] = "Write the calibration and holdout ends as dates (YYYY-MM-DD)."
    else:
        context["valid"] = True
        try:
            found = segment_fits(
                runtime.sessions,
                runtime.settings,
                actor=viewer.actor,
                version_id=version_id,
                depth=chosen_depth,
                model=model,
                calibration_end=ends[0],
                holdout_end=ends[1],
                min_customers=smallest,
            )
        except Invalid as exc:  # what the data cannot give (no events, no purchases in the segments)
            context["error"] = exc.message
        else:
            fits = found.fits
            context.update(
                found=found,
                calibration_end=fits.calibration_end.isoformat(),
                holdout_end=fits.holdout_end.isoformat(),
                chart=grouped_bars(
                    [f"No. {g.group}" for g in fits.groups],
                    [
                        ("actual", [g.actual for g in fits.groups]),
                        ("predicted", [g.predicted for g in fits.groups]),
                    ],
                    shown=lambda v: formatting.decimal(v, 0),
                    y_title="repeat purchases in the holdout",
                    x_title="segment",
                )
                if len(fits.groups) <= 24
                else None,
            )
    # A malformed form is refused (422); what the data cannot give is said on the page, as the model
    # evaluation page says it.
    status = 200 if context.get("valid") or not context["error"] else 422
    return render(request, "segments/models.html", status=status, **context)


def _day(text: str) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


@router.get("/segments/{version_id}/{node_id}")
def explore_segment(
    request: Request,
    viewer: Manager,
    runtime: RuntimeDep,
    version_id: VersionId,
    node_id: NodeId,
    page: str = "1",
) -> Response:
    return _explore(request, viewer, runtime, version_id, node_id, page)


def _explore(
    request: Request,
    viewer: Viewer,
    runtime: Runtime,
    version_id: int,
    node_id: int,
    page: str,
    *,
    status: int = 200,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
) -> Response:
    actor = viewer.actor
    with runtime.session() as db:
        version = service.get_version(db, actor=actor, version_id=version_id)
        if version.status is not VersionStatus.DONE:
            return render(request, "segments/explorer.html", version=version, focus=None)
        path = service.segment_path(db, actor=actor, version_id=version_id, node_id=node_id)
        nodes = service.subtree(db, actor=actor, version_id=version_id, node_id=node_id, levels=LEVELS)
        focus = path[-1]
        page_number, pages = page_within(page, focus.size, MEMBERS_PER_PAGE)
        members = segment_members(
            db,
            actor=actor,
            version_id=version_id,
            node_id=node_id,
            offset=(page_number - 1) * MEMBERS_PER_PAGE,
            limit=MEMBERS_PER_PAGE,
        )
    root = path[0]
    children = [n for n in nodes if n.parent_node_id == node_id]
    if focus.depth and focus.deviations is None:
        with runtime.session() as db:
            live = service.segment_deviations(db, actor=actor, version_id=version_id, node_id=node_id)
        path[-1] = focus = focus.model_copy(update={"deviations": live})
    source, deviations = _deviations_of(path)
    return render(
        request,
        "segments/explorer.html",
        status=status,
        errors=errors or {},
        values=values or {},
        version=version,
        focus=focus,
        trail=[(s, _own_words(s, path[i - 1] if i else None)) for i, s in enumerate(path)],
        root=root,
        own=_own_words(focus, path[-2] if len(path) > 1 else None),
        children=[(c, _own_words(c, focus)) for c in children],
        drawing=_icicle(version_id, nodes, path),
        valued=root.clv_mean is not None and root.clv_mean > 0,
        legend=VALUE_LEGEND,
        source=source,
        deviations=_deviation_rows(deviations),
        deviation_chart=_deviation_chart(deviations) if deviations else None,
        sibling_deviations=_deviation_rows(focus.sibling_deviations or []),
        live_limit=service.LIVE_DEVIATIONS,
        members=members,
        page=page_number,
        pages=pages,
        value_ratio=None if not root.clv_mean or focus.clv_mean is None else focus.clv_mean / root.clv_mean,
    )


def _own_words(segment: SegmentOut, parent: SegmentOut | None) -> str:
    """The words of the step from the parent to this segment: the phrase the parent's conditions lack (a
    new variable, or a narrower range of one split on before)."""
    if parent is None:
        return "All customers"
    known = set(parent.conditions)
    return next((line for line in segment.conditions if line not in known), _words(segment.conditions))


def _deviations_of(path: list[SegmentOut]) -> tuple[SegmentOut | None, list[DeviationOut]]:
    """The segment's deviations, or those of its nearest ancestor that has them (a segment too large to
    work them out when asked, below the levels stored at build time). None for the root, which is the
    average customer."""
    for segment in reversed(path[1:]):
        if segment.deviations is not None:
            return segment, segment.deviations
    return None, []


def _effect_text(deviation: DeviationOut) -> str:
    sign = "+" if deviation.effect >= 0 else "\u2212"
    if deviation.level is None:
        return f"{sign}{formatting.decimal(abs(deviation.effect), 2)} SD"
    return f"{sign}{round(abs(deviation.effect) * 100)} pts"


def _deviation_label(deviation: DeviationOut) -> str:
    return deviation.label if deviation.level is None else f"{deviation.label}: {deviation.level}"


@dataclass
class DeviationRow:
    label: str
    measure: str  # what is compared: the mean, or the share of customers at the level
    value: str
    reference: str
    effect: str


def _deviation_rows(deviations: list[DeviationOut]) -> list[DeviationRow]:
    return [
        DeviationRow(
            label=_deviation_label(d),
            measure="mean" if d.level is None else "share of customers",
            value=_measured(d.value) if d.level is None else percent(d.value),
            reference=_measured(d.reference) if d.level is None else percent(d.reference),
            effect=_effect_text(d),
        )
        for d in deviations
    ]


def _measured(value: float) -> str:
    return formatting.count(value) if abs(value) >= 100 else formatting.decimal(value, 2)


def _tick(value: float) -> str:
    return f"{value:g}".replace("-", "\u2212")


def _deviation_chart(deviations: list[DeviationOut]) -> BarChart:
    return diverging_bars(
        [(_deviation_label(d), d.effect, _effect_text(d)) for d in deviations],
        shown=_tick,
        x_title="difference from the average customer (standard deviations; shares: 1 = 100 points)",
    )


def _icicle(version_id: int, nodes: list[SegmentOut], path: list[SegmentOut]) -> Icicle:
    focus = path[-1]
    above = path[-2] if len(path) > 1 else None
    by_id = {n.node_id: n for n in nodes}
    average = path[0].clv_mean
    drawn = []
    for node in nodes:
        in_focus = node.node_id == focus.node_id
        parent = above if in_focus else by_id[cast(int, node.parent_node_id)]
        # The segment in focus is the top row: clicking it goes up a level.
        target = above.node_id if in_focus and above is not None else node.node_id
        drawn.append(
            IcicleNode(
                id=node.node_id,
                parent=None if in_focus else node.parent_node_id,
                size=node.size,
                label=_own_words(node, parent),
                note=f"{formatting.count(node.size)} \u00b7 {percent(node.share)}",
                title=_tile_title(node, average, up=in_focus and above is not None),
                href=f"/segments/{version_id}/{target}",
                kind=_tile_kind(node, average, focus=in_focus),
            )
        )
    return icicle(drawn, focus.node_id)


def _tile_title(node: SegmentOut, average: float | None, *, up: bool) -> str:
    lines = [
        _words(node.conditions),
        f"{formatting.plural(node.size, 'customer')}, {percent(node.share)} of all",
    ]
    if node.clv_mean is not None and average:
        lines.append(f"CLV per customer {formatting.decimal(node.clv_mean / average, 2)} \u00d7 the average")
    if node.is_leaf and node.size == 1:
        lines.append("a segment of one")
    if up:
        lines.append("(click to go up one level)")
    return "\n".join(lines)


def _tile_kind(node: SegmentOut, average: float | None, *, focus: bool) -> str:
    if focus:
        return "focus"
    if node.is_leaf and node.size == 1:
        return "one"
    if node.clv_mean is None or not average or average <= 0:
        return "plain"
    ratio = node.clv_mean / average
    return next((kind for bound, kind in VALUE_BANDS if ratio < bound), "value-5")


# ---------------------------------------------------------------------- a segment's customers, for use


@router.get("/segments/{version_id}/{node_id}/export")
def export_segment(
    viewer: Exporter, runtime: RuntimeDep, version_id: VersionId, node_id: NodeId, format: Format = Format.CSV
) -> Response:
    """The segment's customers as the API's export gives them, recorded in the audit trail the same way."""
    with runtime.session() as db:  # the audit entry is committed before the download starts
        started = exports.start_segment(
            db, actor=viewer.actor, version_id=version_id, node_id=node_id, fmt=format
        )
    return streamed(started, format, runtime)


@router.post("/segments/{version_id}/{node_id}/audience")
def save_audience(
    request: Request,
    viewer: Analyst,
    runtime: RuntimeDep,
    form: Form,
    version_id: VersionId,
    node_id: NodeId,
) -> Response:
    """Save the segment as a named audience and go to its page; a name empty or taken is said on the form."""
    name = form.get("name")
    try:
        with runtime.session() as db:
            audience = service.save_audience(
                db, runtime.settings, actor=viewer.actor, name=name, version_id=version_id, node_id=node_id
            )
    except (Invalid, Conflict) as exc:
        return _explore(
            request,
            viewer,
            runtime,
            version_id,
            node_id,
            "1",
            status=exc.http_status,
            errors={"name": exc.message},
            values={"name": name},
        )
    web_session.load(request).flash(
        f"Saved the audience '{audience.name}': {formatting.plural(audience.size, 'customer')}."
    )
    return see_other(f"/audiences/{audience.id}")
