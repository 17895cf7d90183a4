"""Segmentation's public surface: build a version (read the variables, grow the tree, store it), read the
versions, their segments and a customer's path from the root to their segment, and keep named audiences
(``audiences.py``) evaluated after every build (docs/segmentation.md).

A build records its version first, so that a failure is recorded too, then writes every segment and every
membership in one transaction once the tree is built: a reader sees a version whole or not at all.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, cast

import numpy as np
import numpy.typing as npt
import pyarrow as pa
from sqlalchemy import Row, Select, Table, and_, bindparam, func, or_, select
from sqlalchemy.orm import Session, sessionmaker

from segone.accounts.schemas import Actor, Permission
from segone.accounts.service import require
from segone.clock import utcnow
from segone.customers import service as customer_service
from segone.customers.schemas import ConsentPurpose
from segone.errors import Invalid, NotFound
from segone.progress import Progress, silent
from segone.segmentation import assignment as assignment_module
from segone.segmentation import audiences as audiences_module
from segone.segmentation import diff as diff_module
from segone.segmentation import reference as reference_module
from segone.segmentation import rules
from segone.segmentation import variables as catalogue_module
from segone.segmentation.assignment import SegmentRule, StoredTree
from segone.segmentation.models import (
    AudienceEdit,
    AudienceMember,
    Segment,
    SegmentationVersion,
    SegmentMembership,
)
from segone.segmentation.schemas import (
    AssignedOut,
    AssignmentOut,
    AssignmentStatus,
    AudienceEditOut,
    AudienceMemberOut,
    AudienceOut,
    Deviation,
    DeviationOut,
    DiffOut,
    SegmentOut,
    Standing,
    StandingOut,
    TreeSettings,
    Unknown,
    Variable,
    VariableInfo,
    VariableKind,
    VersionOut,
    VersionStatus,
)
from segone.segmentation.tree import Tree, build_tree, number
from segone.settings import Settings
from segone.storage import bulk, leases
from segone.storage.batching import ROWS_PER_STATEMENT, among, batched, chunks, values_per_statement
from segone.storage.engine import session_scope
from segone.storage.subject import Rows, delete_about, rows_about

_SEGMENTS = cast(Table, Segment.__table__)
_MEMBERSHIPS = cast(Table, SegmentMembership.__table__)
WRITE_CHUNK = 20_000
CLV = "score:clv"
# Deviations need the tree's arrays, which are not stored: they are computed at build time for the nodes
# down to this depth (at most 3 + 9 + 27 of them), each with its largest TOP_DEVIATIONS.
DEVIATION_DEPTH = 3
BUILD = "A segmentation build"
TOP_DEVIATIONS = 5


def describe_variables(db: Session, *, actor: Actor, settings: Settings) -> list[VariableInfo]:
    """Every variable a build may split on, those left out included with the reason."""
    return catalogue_module.describe_variables(db, actor=actor, settings=settings)


def build(
    sessions: sessionmaker[Session],
    settings: Settings,
    *,
    actor: Actor,
    variables: Sequence[str] | Literal["all"] = "all",
    exclude: Sequence[str] = (),
    target: str | None = None,
    min_size: int = 1,
    max_depth: int | None = None,
    name: str | None = None,
    progress: Progress = silent,
    max_segments: int | None = None,
    unknown: Unknown = Unknown.BRANCH,
) -> VersionOut:
    """Grow a tree over every customer not merged into another and store it as a new version.

    Bad settings (an unknown variable, ``min_size`` below 1) are refused before a version is recorded; a
    failure after that leaves the version ``failed`` with the message, and is raised. ``max_segments`` K
    keeps the K segments that explain most; ``unknown`` says where missing values go (docs/segmentation.md).
    """
    require(actor, Permission.RUN_ANALYTICS)
    _check_sizes(min_size, max_depth, max_segments)
    asked = {
        "variables": variables if variables == "all" else list(variables),
        "exclude": list(exclude),
        "target": target,
        "min_size": min_size,
        "max_depth": max_depth,
        "max_segments": max_segments,
        "unknown": Unknown(unknown).value,
    }
    with session_scope(sessions) as db:
        chosen, extras = _choose(db, actor, settings, variables, exclude, target)
        version = SegmentationVersion(
            name=name,
            settings=asked,
            variable_names=[v.name for v in chosen if v.name != target],
            variable_kinds={v.name: v.kind.value for v in chosen if v.name != target},
            created_by_id=actor.user_id,
        )
        # One build at a time; one left "running" by a killed process is marked failed on the way.
        leases.take(db, SegmentationVersion, version, what=BUILD, lease_seconds=settings.lease_seconds)
        version_id = version.id
    try:
        with leases.Heartbeat(
            sessions, SegmentationVersion, version_id, lease_seconds=settings.lease_seconds
        ) as heartbeat:
            built = _build(sessions, settings, actor, version_id, chosen, extras, asked, progress, heartbeat)
    except BaseException as exc:
        with session_scope(sessions) as db:
            failed = db.get(SegmentationVersion, version_id)
            if failed is not None:
                failed.status, failed.finished_at = VersionStatus.FAILED.value, utcnow()
                failed.message = f"{type(exc).__name__}: {exc}"[:2000]
        raise
    # After the version is stored: an audience that cannot be evaluated is marked stale, the build stands.
    audiences_module.refresh_all(sessions, settings, actor=actor, version_id=built.id, progress=progress)
    return built


def check_build(
    db: Session,
    settings: Settings,
    *,
    actor: Actor,
    variables: Sequence[str] | Literal["all"] = "all",
    exclude: Sequence[str] = (),
    target: str | None = None,
    min_size: int = 1,
    max_depth: int | None = None,
    max_segments: int | None = None,
) -> None:
    """Raise what ``build`` would raise for these settings before it records a version, without building:
    the API checks a request with it before starting a build as a job."""
    require(actor, Permission.RUN_ANALYTICS)
    _check_sizes(min_size, max_depth, max_segments)
    _choose(db, actor, settings, variables, exclude, target)


def _check_sizes(min_size: int, max_depth: int | None, max_segments: int | None = None) -> None:
    if min_size < 1:
        raise Invalid("The minimum segment size must be at least 1 (1 drills down to segments of one).")
    if max_depth is not None and max_depth < 0:
        raise Invalid("The maximum depth must be 0 or more (0 keeps every customer in one segment).")
    if max_segments is not None and max_segments < 1:
        raise Invalid("The number of segments must be at least 1 (1 keeps every customer in one segment).")


def _choose(
    db: Session,
    actor: Actor,
    settings: Settings,
    variables: Sequence[str] | Literal["all"],
    exclude: Sequence[str],
    target: str | None,
) -> tuple[list[Variable], list[Variable]]:
    """The variables the tree is given (the target among them, last if it was not chosen) and those read
    only for the figures of each segment (CLV)."""
    infos = catalogue_module.describe_variables(db, actor=actor, settings=settings)
    catalogue = [
        Variable(name=i.name, label=i.label, kind=i.kind, source=i.source, unit=i.unit)
        for i in infos
        if i.kind is not None
    ]
    left_out = {i.name: i.excluded for i in infos if i.excluded is not None}
    chosen = catalogue_module.select(catalogue, variables, exclude, left_out=left_out)
    if target is not None:
        (target_variable,) = catalogue_module.select(catalogue, [target], left_out=left_out)
        if target_variable.kind is VariableKind.CATEGORICAL:
            raise Invalid(f"The target {target} must be a number or yes/no, not categorical.")
        if target not in {v.name for v in chosen}:
            chosen.append(target_variable)
        if not [v for v in chosen if v.name != target]:
            raise Invalid("No variable is left to segment on besides the target.")
    names = {v.name for v in chosen}
    extras = [v for v in catalogue if v.name == CLV and v.name not in names]
    return chosen, extras


def _build(
    sessions: sessionmaker[Session],
    settings: Settings,
    actor: Actor,
    version_id: int,
    chosen: list[Variable],
    extras: list[Variable],
    asked: Mapping[str, Any],
    progress: Progress,
    heartbeat: leases.Heartbeat,
) -> VersionOut:
    clock = time.perf_counter()
    progress("Reading the variables", 0, 1)
    with session_scope(sessions) as db:
        table = catalogue_module.gather(db, actor=actor, settings=settings, variables=chosen + extras)
    progress("Reading the variables", 1, 1)
    columns = {v.name: _column(table.column(v.name), v) for v in chosen + extras}
    tree = build_tree(
        {v.name: columns[v.name] for v in chosen},
        chosen,
        TreeSettings(
            min_size=int(asked["min_size"]),
            max_depth=asked["max_depth"],
            target=asked["target"],
            max_segments=asked.get("max_segments"),
            unknown=Unknown(asked.get("unknown", Unknown.BRANCH)),
        ),
        progress,
    )
    customer_ids = table.column("customer_id").to_numpy()
    clv = columns.get(CLV)
    target = asked["target"]
    target_values = None if target is None else _numbers(columns[target])
    rows = _segment_rows(version_id, tree, None if clv is None else _numbers(clv), target_values, progress)
    heartbeat.check(BUILD)  # a build taken for dead writes nothing: another may have started since
    with session_scope(sessions) as db:
        connection = db.connection()
        for chunk in batched(rows, WRITE_CHUNK):
            bulk.insert_rows(connection, _SEGMENTS, chunk)
        memberships = _membership_rows(version_id, customer_ids, tree.leaf_of)
        written = 0
        for chunk in batched(memberships, WRITE_CHUNK):
            bulk.insert_rows(connection, _MEMBERSHIPS, chunk)
            written += len(chunk)
            progress("Writing the memberships", written, len(customer_ids))
        version = db.get(SegmentationVersion, version_id)
        assert version is not None
        version.status = VersionStatus.DONE.value
        version.finished_at = utcnow()
        version.customers = len(customer_ids)
        version.leaves = int(tree.leaves.size)
        version.segments_of_one = tree.segments_of_one
        version.identical_leaves = tree.identical_leaves
        version.alike_leaves = tree.alike_leaves
        version.fingerprint = tree.fingerprint()
        version.reference = reference_module.of_tree(tree)
        version.seconds = round(time.perf_counter() - clock, 3)
        db.flush()
        return _version_out(version)


def _column(array: pa.ChunkedArray, variable: Variable) -> npt.NDArray[Any]:
    """What ``build_tree`` takes: numbers as float64 with NaN for missing, the rest as objects with None."""
    if variable.kind is VariableKind.NUMERIC:
        return np.asarray(array.to_numpy(), dtype=np.float64)
    return np.array(array.to_pylist(), dtype=object)


def _numbers(values: npt.NDArray[Any]) -> npt.NDArray[np.float64]:
    """Numbers, or yes/no as 1/0, with NaN for missing: what a segment's mean is taken of."""
    if values.dtype.kind == "f":
        return values
    return np.array([np.nan if v is None else float(bool(v)) for v in values.tolist()], dtype=np.float64)


def _subtree_sums(tree: Tree, values: npt.NDArray[np.float64]) -> tuple[npt.NDArray[Any], npt.NDArray[Any]]:
    """The sum and the count of the known values in every node: per leaf, then added up the tree from the
    deepest level (a parent's id is smaller than its children's, levels are breadth-first)."""
    known = ~np.isnan(values)
    n = tree.n_nodes
    sums = np.bincount(tree.leaf_of[known], weights=values[known], minlength=n).astype(np.float64)
    counts = np.bincount(tree.leaf_of[known], minlength=n).astype(np.int64)
    for depth in range(int(tree.depth.max()), 0, -1):
        at = np.flatnonzero(tree.depth == depth)
        np.add.at(sums, tree.parent[at], sums[at])
        np.add.at(counts, tree.parent[at], counts[at])
    return sums, counts


def _segment_rows(
    version_id: int,
    tree: Tree,
    clv: npt.NDArray[np.float64] | None,
    target: npt.NDArray[np.float64] | None,
    progress: Progress,
) -> Iterator[dict[str, Any]]:
    clv_sums, clv_counts = _subtree_sums(tree, clv) if clv is not None else (None, None)
    target_sums, target_counts = _subtree_sums(tree, target) if target is not None else (None, None)
    parents = tree.parent.tolist()
    depths = tree.depth.tolist()
    sizes = tree.size.tolist()
    gains = tree.gain.tolist()
    identical = tree.identical.tolist()
    alike = tree.alike.tolist()
    leaves = (tree.split < 0).tolist()
    n = tree.n_nodes
    for node in range(n):
        clv_count = 0 if clv_counts is None else int(clv_counts[node])
        target_count = 0 if target_counts is None else int(target_counts[node])
        sibling = tree.sibling(node) if 0 < depths[node] <= DEVIATION_DEPTH else None
        yield {
            "version_id": version_id,
            "node_id": node,
            "parent_node_id": None if parents[node] < 0 else parents[node],
            "depth": depths[node],
            "size": sizes[node],
            "conditions": tree.describe(node),
            "rule": None if node == 0 else rules.to_json(tree.condition(node)),
            "gain": _finite(gains[node]) or 0.0,
            "identical": identical[node],
            "alike": alike[node],
            "is_leaf": leaves[node],
            "clv_sum": None if clv_sums is None or not clv_count else _finite(float(clv_sums[node])),
            "clv_mean": None if clv_sums is None or not clv_count else _finite(clv_sums[node] / clv_count),
            "target_mean": (
                None if target_sums is None or not target_count else _finite(target_sums[node] / target_count)
            ),
            "deviations": _deviations(tree, node) if 0 < depths[node] <= DEVIATION_DEPTH else None,
            "sibling_deviations": None if sibling is None else _deviations(tree, node, sibling),
        }
        if node % WRITE_CHUNK == 0 or node == n - 1:
            progress("Writing the segments", node + 1, n)


def _deviations(tree: Tree, node: int, against: int | None = None) -> list[dict[str, Any]]:
    """The node's largest deviations from the average customer, or from node ``against`` (its sibling)."""
    return _top_deviations(tree.deviations(node, against))


def _top_deviations(deviations: Sequence[Deviation]) -> list[dict[str, Any]]:
    found = []
    for deviation in deviations:
        numbers = (deviation.effect, deviation.value, deviation.reference)
        # A variable on which the segment is just like everyone (a category nobody knows yet) says nothing.
        if deviation.effect != 0 and all(math.isfinite(x) for x in numbers):
            found.append(
                DeviationOut(
                    variable=deviation.variable,
                    label=deviation.label,
                    effect=round(deviation.effect, 6),
                    value=round(deviation.value, 6),
                    reference=round(deviation.reference, 6),
                    level=deviation.level,
                ).model_dump()
            )
        if len(found) == TOP_DEVIATIONS:
            break
    return found


def _finite(value: float) -> float | None:
    """JSON and the databases' floats take no NaN or infinity: those are stored as null."""
    value = float(value)
    return value if math.isfinite(value) else None


def _membership_rows(
    version_id: int, customer_ids: npt.NDArray[Any], leaf_of: npt.NDArray[Any]
) -> Iterator[dict[str, Any]]:
    for customer_id, node in zip(customer_ids.tolist(), leaf_of.tolist(), strict=True):
        yield {"version_id": version_id, "customer_id": customer_id, "node_id": node}


def _version_out(version: SegmentationVersion) -> VersionOut:
    status = leases.status_of(version)  # a build whose process died reads as failed
    return VersionOut(
        id=version.id,
        name=version.name,
        status=VersionStatus(status),
        settings=version.settings,
        variables=version.variable_names,
        started_at=version.started_at,
        finished_at=version.finished_at,
        customers=version.customers,
        leaves=version.leaves,
        segments_of_one=version.segments_of_one,
        identical_leaves=version.identical_leaves,
        alike_leaves=version.alike_leaves,
        seconds=version.seconds,
        fingerprint=version.fingerprint,
        message=leases.stopped_message(version) if status != version.status else version.message,
        created_by_id=version.created_by_id,
    )


def list_versions(db: Session, *, actor: Actor) -> list[VersionOut]:
    """Every version, the newest first."""
    require(actor, Permission.VIEW_TEAM_DASHBOARDS)
    found = db.scalars(select(SegmentationVersion).order_by(SegmentationVersion.id.desc()))
    return [_version_out(version) for version in found]


def get_version(db: Session, *, actor: Actor, version_id: int) -> VersionOut:
    require(actor, Permission.VIEW_TEAM_DASHBOARDS)
    return _version_out(_version(db, version_id))


def _version(db: Session, version_id: int) -> SegmentationVersion:
    version = db.get(SegmentationVersion, version_id)
    if version is None:
        raise NotFound(f"There is no segmentation version {version_id}.")
    return version


def _segment_out(
    row: Segment | Row[Any],
    customers: int | None,
    children: list[int] | None = None,
    *,
    deviations: bool = True,
) -> SegmentOut:
    """``deviations``: whether ``row`` has them (``_PLAIN_COLUMNS`` have not: none then)."""
    return SegmentOut(
        version_id=row.version_id,
        node_id=row.node_id,
        parent_node_id=row.parent_node_id,
        depth=row.depth,
        size=row.size,
        share=round(row.size / customers, 6) if customers else 0.0,
        conditions=row.conditions,
        gain=row.gain,
        identical=row.identical,
        alike=bool(row.alike),
        is_leaf=row.is_leaf,
        clv_sum=row.clv_sum,
        clv_mean=row.clv_mean,
        target_mean=row.target_mean,
        children=children or [],
        deviations=(
            None if not deviations or row.deviations is None else [DeviationOut(**d) for d in row.deviations]
        ),
        sibling_deviations=(
            None
            if not deviations or row.sibling_deviations is None
            else [DeviationOut(**d) for d in row.sibling_deviations]
        ),
    )


def segments(
    db: Session,
    *,
    actor: Actor,
    version_id: int,
    parent: int | None = None,
    max_depth: int | None = None,
) -> list[SegmentOut]:
    """The children of node ``parent``, or every segment (down to ``max_depth``), by node id."""
    require(actor, Permission.VIEW_TEAM_DASHBOARDS)
    version = _version(db, version_id)
    query = select(Segment).where(Segment.version_id == version_id)
    if parent is not None:
        if db.get(Segment, (version_id, parent)) is None:
            raise NotFound(f"Version {version_id} has no segment {parent}.")
        query = query.where(Segment.parent_node_id == parent)
    if max_depth is not None:
        query = query.where(Segment.depth <= max_depth)
    rows = sorted(db.scalars(query), key=lambda row: row.node_id)  # see segment(): no ORDER BY on SQLite
    return [_segment_out(row, version.customers) for row in rows]


def segment(db: Session, *, actor: Actor, version_id: int, node_id: int) -> SegmentOut:
    """One segment with its children's ids and its deviations (``segment_deviations``: stored for the upper
    levels, worked out now below them)."""
    require(actor, Permission.VIEW_TEAM_DASHBOARDS)
    version = _version(db, version_id)
    row = db.get(Segment, (version_id, node_id))
    if row is None:
        raise NotFound(f"Version {version_id} has no segment {node_id}.")
    # Sorted here: an ORDER BY node_id would have SQLite walk the primary key instead of the parent index.
    children = sorted(
        db.scalars(
            select(Segment.node_id).where(Segment.version_id == version_id, Segment.parent_node_id == node_id)
        )
    )
    found = _segment_out(row, version.customers, children)
    if found.deviations is None:
        found.deviations = segment_deviations(db, actor=actor, version_id=version_id, node_id=node_id)
    return found


def customer_path(
    db: Session, *, actor: Actor, customer_id: int, version_id: int | None = None
) -> list[SegmentOut]:
    """The segments from the root down to the customer's leaf in the version (by default the latest done
    one): what the customer sheet shows, so front-line staff may read it."""
    require(actor, Permission.READ_CUSTOMERS)
    if version_id is None:
        version_id = _latest_done(db)
    # Only the count: the version's row holds its (large) reference and variables, which this needs not.
    counted = db.execute(
        select(SegmentationVersion.customers).where(SegmentationVersion.id == version_id)
    ).first()
    if counted is None:
        raise NotFound(f"There is no segmentation version {version_id}.")
    path = _path(db, version_id=version_id, customer_id=customer_id, customers=counted.customers)
    if not path:
        raise NotFound(f"Customer {customer_id} is in no segment of version {version_id}.")
    return path


def _path(db: Session, *, version_id: int, customer_id: int, customers: int | None) -> list[SegmentOut]:
    """The customer's leaf and its ancestors, the root first, in one query (a recursive CTE up the parent
    links from their membership); none for a customer the version did not place."""
    # Plain rows, not ORM objects: every sheet and briefing reads a path, and nothing here is changed.
    path = db.execute(_PATH, {"version_id": version_id, "customer_id": customer_id}).all()
    return [_segment_out(row, customers) for row in path]


# A segment's columns but its JSON ones other than its conditions: its rule (which no path shows) and
# its deviations (which only the upper segments have, ``_upper_segments``).
_PLAIN_COLUMNS: list[Any] = [
    column
    for column in Segment.__table__.columns
    if column.name not in {"rule", "deviations", "sibling_deviations"}
]


def _path_query(version_id: Any = None, *, full: bool = True) -> Select[Any]:
    """The path of ``_path``; with ``version_id`` an expression (the latest finished version), the
    version's row too, in the columns ``version_status``, ``version_finished_at``, ``version_fingerprint``
    and ``version_customers``. ``full``: every column of the segments, else ``_PLAIN_COLUMNS``."""
    latest = version_id is not None
    if version_id is None:
        version_id = bindparam("version_id")
    leaf = (
        select(SegmentMembership.node_id)
        .where(
            SegmentMembership.version_id == version_id,
            SegmentMembership.customer_id == bindparam("customer_id"),
        )
        .scalar_subquery()
    )
    up = (
        select(Segment.node_id, Segment.parent_node_id)
        .where(Segment.version_id == version_id, Segment.node_id == leaf)
        .cte("path", recursive=True)
    )
    up = up.union_all(
        select(Segment.node_id, Segment.parent_node_id).where(
            Segment.version_id == version_id, Segment.node_id == up.c.parent_node_id
        )
    )
    columns: list[Any] = list(Segment.__table__.columns) if full else _PLAIN_COLUMNS
    if latest:
        columns += [
            SegmentationVersion.status.label("version_status"),
            SegmentationVersion.finished_at.label("version_finished_at"),
            SegmentationVersion.fingerprint.label("version_fingerprint"),
            SegmentationVersion.customers.label("version_customers"),
        ]
    query = select(*columns)
    if latest:
        query = query.join(SegmentationVersion, SegmentationVersion.id == Segment.version_id)
    return query.where(Segment.version_id == version_id, Segment.node_id.in_(select(up.c.node_id))).order_by(
        Segment.depth
    )


def _latest_done_id() -> Any:
    return (
        select(func.max(SegmentationVersion.id))
        .where(SegmentationVersion.status == VersionStatus.DONE.value)
        .scalar_subquery()
    )


@dataclass(frozen=True)
class _VersionRow:
    """The columns of ``_VERSION_ROW``, from the path's row."""

    id: int
    status: str
    finished_at: Any
    fingerprint: str | None
    customers: int | None


# Built once: every customer sheet runs them (the second, the latest version's row and path at once).
_PATH = _path_query()
_LATEST_PATH = _path_query(_latest_done_id(), full=False)
_SEGMENT_ROWS = select(*Segment.__table__.columns).where(
    Segment.version_id == bindparam("version_id"), Segment.node_id.in_(bindparam("node_ids", expanding=True))
)

# A finished version's segments never change, and every path starts with the same few upper segments,
# the only ones with deviations (``DEVIATION_DEPTH``: JSON of a few kilobytes each to decode and validate
# on every sheet otherwise): each process keeps those it has read, by the version's key (``_version_key``)
# and node, the least recently read dropped first beyond ``_UPPER_KEPT``. Nothing changes a kept
# ``SegmentOut``.
_UPPER: OrderedDict[tuple[Any, int], SegmentOut] = OrderedDict()
_UPPER_KEPT = 4_096
_UPPER_LOCK = threading.Lock()


@dataclass(frozen=True)
class CustomerSegments:
    """Where a customer sits in the latest finished segmentation: their path and their standing."""

    path: list[SegmentOut]
    standing: list[StandingOut]


def customer_segments(
    db: Session, *, actor: Actor, customer_id: int, held: tuple[set[str], set[int]] | None = None
) -> CustomerSegments:
    """``customer_path`` and ``customer_standing`` in the latest finished version, with the version's row
    read once (the customer sheet shows both on every read); both empty before the first build, the path
    empty for a customer the build did not place (one who arrived after it), the standing empty for a
    customer merged into another. ``held``: the categories in which the customer has a current fact and the
    fact traits they hold, when the caller has read them (``values_of``)."""
    require(actor, Permission.READ_CUSTOMERS)
    # Plain rows, as in ``_path``; the version's row comes with them, and is read alone only for a
    # customer the version did not place (or before the first build).
    placed = db.execute(_LATEST_PATH, {"customer_id": customer_id}).all()
    row: Any
    if placed:
        first = placed[0]
        row = _VersionRow(
            first.version_id,
            first.version_status,
            first.version_finished_at,
            first.version_fingerprint,
            first.version_customers,
        )
    else:
        row = db.execute(_VERSION_ROW.where(SegmentationVersion.id == _latest_done_id())).first()
        if row is None:
            return CustomerSegments(path=[], standing=[])
    upper = _upper_segments(db, row, [s.node_id for s in placed if 0 < s.depth <= DEVIATION_DEPTH])
    path = [upper.get(s.node_id) or _segment_out(s, row.customers, deviations=False) for s in placed]
    try:
        standing = _standing_of(db, actor, customer_id, _prepared(db, row), STANDING_SHOWN, held)
    except NotFound:
        standing = []
    return CustomerSegments(path=path, standing=standing)


def _upper_segments(db: Session, row: Any, node_ids: list[int]) -> dict[int, SegmentOut]:
    """The upper segments ``node_ids`` of the finished version ``row`` (``_VERSION_ROW``) with their
    deviations: those kept by this process, the others read (and kept)."""
    version = _version_key(db, row)
    found: dict[int, SegmentOut] = {}
    with _UPPER_LOCK:  # requests run in threads
        for node in node_ids:
            kept = _UPPER.get((version, node))
            if kept is not None:
                _UPPER.move_to_end((version, node))
                found[node] = kept
    missing = [node for node in node_ids if node not in found]
    if missing:
        read = db.execute(_SEGMENT_ROWS, {"version_id": row.id, "node_ids": missing})
        made = {segment.node_id: _segment_out(segment, row.customers) for segment in read}
        found.update(made)
        with _UPPER_LOCK:
            for node, segment in made.items():
                _UPPER[(version, node)] = segment
            while len(_UPPER) > _UPPER_KEPT:
                _UPPER.popitem(last=False)
    return found


def diff(db: Session, *, actor: Actor, before: int, after: int, depth: int = 2) -> DiffOut:
    """Who moved from where to where between versions ``before`` and ``after``, at ``depth`` of both
    trees (the root is depth 0); segments that appeared, vanished, split or merged."""
    require(actor, Permission.VIEW_TEAM_DASHBOARDS)
    if depth < 1:
        raise Invalid("The depth to compare at must be 1 or more (the root, depth 0, is everyone).")
    for version_id in (before, after):
        if _version(db, version_id).status != VersionStatus.DONE.value:
            raise Invalid(f"Version {version_id} is not a finished build; only finished builds compare.")
    return diff_module.diff(db, before=before, after=after, depth=depth)


def members(db: Session, *, actor: Actor, version_id: int, node_id: int) -> list[int]:
    """The customers in segment ``node_id`` of the version (in any leaf below it), by id."""
    return [
        customer for customer, _leaf in member_page(db, actor=actor, version_id=version_id, node_id=node_id)
    ]


def membership_table(db: Session, *, actor: Actor, version_id: int | None = None) -> pa.Table:
    """Every customer's segment in the version (by default the latest done one), for analysts:
    ``customer_id``, ``segment_id`` (their leaf) and ``segment`` (its conditions in words, " AND ")."""
    require(actor, Permission.VIEW_TEAM_DASHBOARDS)
    if version_id is None:
        version_id = _latest_done(db)
    _version(db, version_id)
    words = {
        node: " AND ".join(conditions)
        for node, conditions in db.execute(
            select(Segment.node_id, Segment.conditions).where(
                Segment.version_id == version_id, Segment.is_leaf.is_(True)
            )
        )
    }
    customers: list[int] = []
    leaves: list[int] = []
    for customer, leaf in db.execute(
        select(SegmentMembership.customer_id, SegmentMembership.node_id)
        .where(SegmentMembership.version_id == version_id)
        .order_by(SegmentMembership.customer_id)
    ):
        customers.append(customer)
        leaves.append(leaf)
    # An assignment may have left a customer at an inner segment (a level the tree never saw there).
    inner = sorted(set(leaves) - words.keys())
    for chunk in chunks(inner, values_per_statement(db)):
        query = select(Segment.node_id, Segment.conditions).where(
            Segment.version_id == version_id, among(db, Segment.node_id, chunk)
        )
        words.update({node: " AND ".join(conditions) for node, conditions in db.execute(query)})
    return pa.table(
        {
            "customer_id": pa.array(customers, pa.int64()),
            "segment_id": pa.array(leaves, pa.int64()),
            "segment": pa.array([words.get(leaf, "") for leaf in leaves], pa.string()),
        }
    )


def segments_at_depth(
    db: Session, *, actor: Actor, version_id: int | None = None, depth: int
) -> tuple[dict[int, int], list[SegmentOut]]:
    """Each placed customer's segment at ``depth`` of the version's tree (the latest finished one by default):
    the ancestor of their leaf at that depth, or the leaf itself where the tree stops higher; and those
    segments, by node id. For what is computed per segment (a purchase model fitted to each)."""
    require(actor, Permission.VIEW_TEAM_DASHBOARDS)
    if depth < 0:
        raise Invalid("The depth must be 0 (everyone) or more.")
    if version_id is None:
        version_id = _latest_done(db)
    version = _version(db, version_id)
    if version.status != VersionStatus.DONE.value:
        raise Invalid(f"Version {version_id} is not a finished build; only finished builds have segments.")
    rows = {row.node_id: row for row in db.scalars(select(Segment).where(Segment.version_id == version_id))}
    chosen: dict[int, int] = {}  # node -> its segment at ``depth``
    for node, row in rows.items():
        top = row
        while top.depth > depth and top.parent_node_id is not None:
            top = rows[top.parent_node_id]
        chosen[node] = top.node_id
    placed: dict[int, int] = {}
    for customer, node in db.execute(
        select(SegmentMembership.customer_id, SegmentMembership.node_id).where(
            SegmentMembership.version_id == version_id
        )
    ):
        placed[customer] = chosen[node]
    shown = sorted(set(placed.values()))
    return placed, [_segment_out(rows[node], version.customers) for node in shown]


def _latest_done(db: Session) -> int:
    """The newest finished version: what the sheet and the analysts' memberships read by default."""
    version_id = db.scalar(select(_latest_done_id()))
    if version_id is None:
        raise NotFound("No segmentation is built yet: run 'segone segments build'.")
    return int(version_id)


# Named audiences (audiences.py): changes need the analytics permission, reading the team dashboards'.


def save_audience(
    db: Session, settings: Settings, *, actor: Actor, name: str, version_id: int, node_id: int
) -> AudienceOut:
    """Save segment ``node_id`` of the version as an audience named ``name`` (unique) and evaluate it on
    today's values: the conditions of its path from the root, as data and in words."""
    return audiences_module.save(db, settings, actor=actor, name=name, version_id=version_id, node_id=node_id)


def list_audiences(db: Session, *, actor: Actor) -> list[AudienceOut]:
    """Every audience, by name, with its size, hand changes, when it was evaluated and whether it is stale."""
    return audiences_module.list_audiences(db, actor=actor)


def get_audience(db: Session, *, actor: Actor, audience_id: int) -> AudienceOut:
    return audiences_module.get(db, actor=actor, audience_id=audience_id)


def audience_named(db: Session, *, actor: Actor, name: str) -> AudienceOut:
    return audiences_module.named(db, actor=actor, name=name)


def audience_members(
    db: Session, *, actor: Actor, audience_id: int, limit: int | None = None, offset: int = 0
) -> tuple[list[AudienceMemberOut], int]:
    """A page of the audience's members as last evaluated (all of them without ``limit``), and the total."""
    return audiences_module.members(db, actor=actor, audience_id=audience_id, limit=limit, offset=offset)


def audience_edits(db: Session, *, actor: Actor, audience_id: int) -> list[AudienceEditOut]:
    """The customers added and removed by hand, by whom and when, the latest first."""
    return audiences_module.edits(db, actor=actor, audience_id=audience_id)


def add_to_audience(db: Session, *, actor: Actor, audience_id: int, customer_id: int) -> AudienceOut:
    return audiences_module.add(db, actor=actor, audience_id=audience_id, customer_id=customer_id)


def remove_from_audience(db: Session, *, actor: Actor, audience_id: int, customer_id: int) -> AudienceOut:
    return audiences_module.remove(db, actor=actor, audience_id=audience_id, customer_id=customer_id)


def refresh_audience(db: Session, settings: Settings, *, actor: Actor, audience_id: int) -> AudienceOut:
    return audiences_module.refresh(db, settings, actor=actor, audience_id=audience_id)


def refresh_audiences(
    sessions: sessionmaker[Session], settings: Settings, *, actor: Actor, progress: Progress = silent
) -> list[AudienceOut]:
    """Every audience evaluated again now, each in its own transaction (a stale one says why)."""
    return audiences_module.refresh_all(sessions, settings, actor=actor, progress=progress)


def delete_audience(db: Session, *, actor: Actor, audience_id: int) -> AudienceOut:
    """Delete the audience with its members and hand changes; returns it as it was."""
    return audiences_module.delete_audience(db, actor=actor, audience_id=audience_id)


# ------------------------------------------------------------------------------------- the explorer
# A tree drilled to segments of one has about as many nodes as customers: the explorer reads only the
# nodes it draws and one page of members, never the whole tree.


def segment_path(db: Session, *, actor: Actor, version_id: int, node_id: int) -> list[SegmentOut]:
    """The segments from the root down to ``node_id`` (itself last): the explorer's breadcrumb."""
    require(actor, Permission.VIEW_TEAM_DASHBOARDS)
    version = _version(db, version_id)
    path: list[Segment] = []
    node: int | None = node_id
    while node is not None:
        row = db.get(Segment, (version_id, node))
        if row is None:
            raise NotFound(f"Version {version_id} has no segment {node_id}.")
        path.append(row)
        node = row.parent_node_id
    return [_segment_out(row, version.customers) for row in reversed(path)]


def subtree(db: Session, *, actor: Actor, version_id: int, node_id: int, levels: int) -> list[SegmentOut]:
    """Segment ``node_id`` and its descendants down to ``levels`` below it, by node id: what an icicle of
    the node draws (at most 3 + 9 + 27 … nodes, as a split has two or three children)."""
    require(actor, Permission.VIEW_TEAM_DASHBOARDS)
    version = _version(db, version_id)
    if db.get(Segment, (version_id, node_id)) is None:
        raise NotFound(f"Version {version_id} has no segment {node_id}.")
    ranges = _descendant_ranges(db, version_id, node_id, levels)
    rows = db.scalars(
        select(Segment).where(_in_ranges(Segment, version_id, ranges)).order_by(Segment.node_id)
    )
    return [_segment_out(row, version.customers) for row in rows]


def member_page(
    db: Session, *, actor: Actor, version_id: int, node_id: int, offset: int = 0, limit: int | None = None
) -> list[tuple[int, int]]:
    """One page of the customers in segment ``node_id`` (in any leaf below it; all of them without
    ``limit``), by customer id, each with their leaf: (customer id, leaf node id). The segment's ``size``
    is how many there are in all. A segment's stable id is its version's id and its node id: node ids mean
    nothing across versions."""
    require(actor, Permission.VIEW_TEAM_DASHBOARDS)
    _version(db, version_id)
    if db.get(Segment, (version_id, node_id)) is None:
        raise NotFound(f"Version {version_id} has no segment {node_id}.")
    query = select(SegmentMembership.customer_id, SegmentMembership.node_id)
    if node_id == 0:  # everyone is in the root
        query = query.where(SegmentMembership.version_id == version_id)
    else:
        ranges = _descendant_ranges(db, version_id, node_id, None)
        query = query.where(_in_ranges(SegmentMembership, version_id, ranges))
    rows = db.execute(query.order_by(SegmentMembership.customer_id).offset(offset).limit(limit))
    return [(customer, leaf) for customer, leaf in rows]


def _descendant_ranges(
    db: Session, version_id: int, node_id: int, levels: int | None
) -> list[tuple[int, int]]:
    """The node's descendants, level by level down to ``levels`` below it (all without), as runs of node
    ids. Node ids are given breadth-first (by depth, then parent, then child), so the children of a run
    of consecutive nodes are a run of consecutive nodes too: each level costs three index look-ups (the
    run's first and last parents, their children), however large the subtree."""
    ranges = [(node_id, node_id)]
    while levels is None or len(ranges) <= levels:
        first, last = ranges[-1]
        below = (Segment.version_id == version_id, Segment.parent_node_id.between(first, last))
        first_parent, last_parent = db.execute(
            select(func.min(Segment.parent_node_id), func.max(Segment.parent_node_id)).where(*below)
        ).one()
        if first_parent is None or last_parent is None:
            break
        # The children of one parent (two or three) by the (version, parent) index; min() or max() over
        # node_id would walk the primary key instead.
        low = min(_children_of(db, version_id, first_parent))
        high = max(_children_of(db, version_id, last_parent))
        ranges.append((low, high))
    return ranges


def _children_of(db: Session, version_id: int, parent: int) -> list[int]:
    return list(
        db.scalars(
            select(Segment.node_id).where(Segment.version_id == version_id, Segment.parent_node_id == parent)
        )
    )


def _in_ranges(table: Any, version_id: int, ranges: Sequence[tuple[int, int]]) -> Any:
    """The rows of the version whose node is in one of the runs. Every branch of the OR names the version:
    only then does SQLite look each run up in an index rather than read the whole version."""
    return or_(
        *(and_(table.version_id == version_id, table.node_id.between(first, last)) for first, last in ranges)
    )


# --- Assignment: customers placed in a stored version by their values now, without a rebuild ---------------

# Up to this many customers, the tree is read from the root down only where they go (one customer in a tree
# of a million segments reads a few dozen segments); more customers read the whole tree at once.
FEW_CUSTOMERS = 1_000
NEW_CHUNK = 100_000


def place(
    db: Session,
    settings: Settings,
    *,
    actor: Actor,
    customer_ids: Sequence[int],
    version_id: int | None = None,
) -> list[AssignmentOut]:
    """Where these customers' values now lead in the version (by default the latest done one), each with
    the path from the root, without storing anything: what a customer's sheet may show, so front-line
    staff may read it. An unknown or merged customer is refused."""
    require(actor, Permission.READ_CUSTOMERS)
    version = _assignable(db, version_id)
    placed = _placed(db, settings, actor, version, customer_ids)
    found = _assignments(db, version, placed, _previous(db, version.id, placed.customer_ids), paths=True)
    return _as_asked(found, customer_ids)


def assign(
    db: Session,
    settings: Settings,
    *,
    actor: Actor,
    customer_ids: Sequence[int] = (),
    customer_id: int | None = None,
    version_id: int | None = None,
) -> list[AssignmentOut]:
    """Place these customers in the version (by default the latest done one) by their values now, and store
    it: a customer new since the build gets a membership, one whose values now lead elsewhere is moved
    (``assigned_at`` says when), so that the customer sheet, exports and analysts see them there. Returns
    each one's path from the root and whether they were new, moved or unchanged."""
    require(actor, Permission.RUN_ANALYTICS)
    wanted = [*customer_ids, *([] if customer_id is None else [customer_id])]
    if not wanted:
        raise Invalid("Name at least one customer to assign.")
    unwilling = customer_service.without_consent(
        db,
        purposes=[ConsentPurpose.PROFILING],
        default_granted=settings.consent_granted_by_default,
        customer_ids=wanted,
    )
    if unwilling:
        shown = ", ".join(str(i) for i in sorted(unwilling)[:10])
        raise Invalid(f"No profiling consent: customer {shown} is left out of segments.")
    version = _assignable(db, version_id)
    placed = _placed(db, settings, actor, version, wanted)
    previous = _previous(db, version.id, placed.customer_ids)
    _store(db, version.id, placed, previous)
    return _as_asked(_assignments(db, version, placed, previous, paths=True), wanted)


def assign_new(
    db: Session,
    settings: Settings,
    *,
    actor: Actor,
    version_id: int | None = None,
    progress: Progress = silent,
) -> AssignedOut:
    """Place every customer who has no membership in the version yet (new since the build) by their values
    now, and store it. Returns how many, and each one's segment (without paths)."""
    require(actor, Permission.RUN_ANALYTICS)
    version = _assignable(db, version_id)
    members = set(
        db.scalars(select(SegmentMembership.customer_id).where(SegmentMembership.version_id == version.id))
    )
    # Customers without profiling consent stay out of segments: they are never "new" to place.
    unwilling = customer_service.without_consent(
        db, purposes=[ConsentPurpose.PROFILING], default_granted=settings.consent_granted_by_default
    )
    new = sorted(set(customer_service.current_ids(db)) - members - unwilling)
    tree = _whole_tree(db, version) if len(new) > FEW_CUSTOMERS else None
    assigned: list[AssignmentOut] = []
    progress("Assigning the new customers", 0, len(new))
    for chunk in batched(new, NEW_CHUNK):
        placed = _placed(db, settings, actor, version, chunk, tree)
        _store(db, version.id, placed, {})
        assigned.extend(_assignments(db, version, placed, {}, paths=False))
        progress("Assigning the new customers", len(assigned), len(new))
    return AssignedOut(version_id=version.id, assigned=len(assigned), customers=assigned)


def stored_tree(db: Session, *, actor: Actor, version_id: int | None = None) -> StoredTree:
    """A finished version's tree as its segments' rules (the latest done version's by default): what the
    analytics engine's nested ``CASE`` is built from (``segmentation.expression``)."""
    require(actor, Permission.VIEW_TEAM_DASHBOARDS)
    return _whole_tree(db, _assignable(db, version_id))


def tree_values(db: Session, settings: Settings, *, actor: Actor, tree: StoredTree) -> pa.Table:
    """Every customer's values now of the variables ``tree`` splits on, as ``gather`` reads them:
    ``customer_id``, then a column per variable named by the variable."""
    return catalogue_module.gather(db, actor=actor, settings=settings, variables=list(tree.variables))


@dataclass(frozen=True)
class _Placed:
    """The customers read, by id, the node each one's values reach, and a tree holding their paths."""

    customer_ids: list[int]
    nodes: list[int]
    tree: StoredTree


def _as_asked(found: list[AssignmentOut], customer_ids: Sequence[int]) -> list[AssignmentOut]:
    """In the order the customers were named (each once)."""
    by_customer = {a.customer_id: a for a in found}
    return [by_customer[customer] for customer in dict.fromkeys(customer_ids)]


def _assignable(db: Session, version_id: int | None) -> SegmentationVersion:
    version = _version(db, _latest_done(db) if version_id is None else version_id)
    if version.status != VersionStatus.DONE.value:
        raise Invalid(
            f"Version {version.id} is not a finished build; customers are assigned to finished ones."
        )
    return version


def _kinds(db: Session, version: SegmentationVersion) -> dict[str, VariableKind]:
    """Each variable's kind as the build read it; for a version built before the kinds were stored, read
    off its rules (a threshold or "known" is a number; levels all "yes"/"no", or a knows:/trait: variable,
    yes/no; other levels a category)."""
    if version.variable_kinds is not None:
        return {name: VariableKind(kind) for name, kind in version.variable_kinds.items()}
    found: dict[str, VariableKind] = {}
    stored = db.scalars(
        select(Segment.rule).where(Segment.version_id == version.id, Segment.rule.is_not(None))
    )
    for rule in stored:
        condition = rules.from_json(rule)
        if condition is None or condition.missing:
            continue
        name = condition.variable
        if condition.threshold is not None or not condition.levels:
            found[name] = VariableKind.NUMERIC
        elif found.get(name) is not VariableKind.CATEGORICAL and (
            name.startswith(("knows:", "trait:")) or set(condition.levels) <= {"yes", "no"}
        ):
            found.setdefault(name, VariableKind.BOOLEAN)
        else:
            found[name] = VariableKind.CATEGORICAL
    return found


def _whole_tree(db: Session, version: SegmentationVersion) -> StoredTree:
    rows = db.execute(
        select(Segment.node_id, Segment.parent_node_id, Segment.rule).where(Segment.version_id == version.id)
    )
    segments = [SegmentRule(node, parent, rule) for node, parent, rule in rows]
    return assignment_module.stored_tree(segments, _kinds(db, version))


def _placed(
    db: Session,
    settings: Settings,
    actor: Actor,
    version: SegmentationVersion,
    customer_ids: Sequence[int],
    tree: StoredTree | None = None,
) -> _Placed:
    kinds = _kinds(db, version)
    if tree is None and len(set(customer_ids)) > FEW_CUSTOMERS:
        tree = _whole_tree(db, version)
    # The whole tree names the variables it splits on; going down from the root, any of the build's may come.
    names = [v.name for v in tree.variables] if tree is not None else list(kinds)
    wanted = [Variable(name, name, kinds[name], name.split(":", 1)[0]) for name in names]
    table = catalogue_module.gather(db, actor=actor, settings=settings, variables=wanted, ids=customer_ids)
    ids = table.column("customer_id").to_pylist()
    unknown = sorted(set(customer_ids) - set(ids))
    if unknown:
        shown = ", ".join(str(i) for i in unknown[:10])
        raise NotFound(f"There is no customer {shown} (or no longer: merged into another).")
    columns = {v.name: _column(table.column(v.name), v) for v in wanted}
    if tree is None:
        tree, nodes = _descend(db, version.id, kinds, columns, len(ids))
    else:
        nodes = assignment_module.assign(tree, columns, rows=len(ids))
    return _Placed(ids, nodes.tolist(), tree)


def _descend(
    db: Session,
    version_id: int,
    kinds: Mapping[str, VariableKind],
    columns: Mapping[str, npt.NDArray[Any]],
    rows: int,
) -> tuple[StoredTree, npt.NDArray[np.int64]]:
    """The nodes a few rows reach, reading the tree from the root down, a level at a time, only where they
    go: the children of the nodes they reached and have not yet looked beyond."""
    segments = [SegmentRule(0, None, None)]
    leaves: set[int] = set()
    looked: set[int] = set()
    while True:
        tree = assignment_module.stored_tree(segments, kinds)
        nodes = assignment_module.assign(tree, columns, rows=rows)
        todo = sorted(set(nodes.tolist()) - looked - leaves)
        if not todo:
            return tree, nodes
        looked.update(todo)
        for chunk in chunks(todo, values_per_statement(db)):
            found = db.execute(
                select(Segment.node_id, Segment.parent_node_id, Segment.rule, Segment.is_leaf).where(
                    Segment.version_id == version_id, among(db, Segment.parent_node_id, chunk)
                )
            )
            for node, parent, rule, is_leaf in found:
                segments.append(SegmentRule(node, parent, rule))
                if is_leaf:
                    leaves.add(node)


def _previous(db: Session, version_id: int, customer_ids: Sequence[int]) -> dict[int, int]:
    """The memberships these customers have in the version."""
    found: dict[int, int] = {}
    for chunk in chunks(customer_ids, values_per_statement(db)):
        rows = db.execute(
            select(SegmentMembership.customer_id, SegmentMembership.node_id).where(
                SegmentMembership.version_id == version_id, among(db, SegmentMembership.customer_id, chunk)
            )
        )
        found.update({customer: node for customer, node in rows})
    return found


def _store(db: Session, version_id: int, placed: _Placed, previous: Mapping[int, int]) -> None:
    """New customers get a membership, moved ones their new node; both with ``assigned_at``."""
    now = utcnow()
    pairs = list(zip(placed.customer_ids, placed.nodes, strict=True))
    new: list[dict[str, Any]] = [
        {"version_id": version_id, "customer_id": customer, "node_id": node, "assigned_at": now}
        for customer, node in pairs
        if customer not in previous
    ]
    moved = [
        {"_customer": customer, "_node": node}
        for customer, node in pairs
        if customer in previous and previous[customer] != node
    ]
    connection = db.connection()
    for chunk in batched(new, WRITE_CHUNK):
        bulk.insert_rows(connection, _MEMBERSHIPS, chunk)
    if moved:
        statement = (
            _MEMBERSHIPS.update()
            .where(
                _MEMBERSHIPS.c.version_id == version_id, _MEMBERSHIPS.c.customer_id == bindparam("_customer")
            )
            .values(node_id=bindparam("_node"), assigned_at=now)
        )
        for chunk in batched(moved, ROWS_PER_STATEMENT):
            connection.execute(statement, chunk)


def _assignments(
    db: Session, version: SegmentationVersion, placed: _Placed, previous: Mapping[int, int], *, paths: bool
) -> list[AssignmentOut]:
    rows = _path_rows(db, version.id, placed) if paths else {}
    found = []
    for customer, node in zip(placed.customer_ids, placed.nodes, strict=True):
        before = previous.get(customer)
        found.append(
            AssignmentOut(
                customer_id=customer,
                version_id=version.id,
                node_id=node,
                # The tree read holds the children of every node reached that has any.
                is_leaf=bool(placed.tree.split[node] < 0),
                previous_node_id=before,
                status=_status(before, node),
                path=[_segment_out(rows[n], version.customers) for n in placed.tree.path(node)]
                if paths
                else [],
            )
        )
    return found


def _status(before: int | None, node: int) -> AssignmentStatus:
    if before is None:
        return AssignmentStatus.NEW
    return AssignmentStatus.UNCHANGED if before == node else AssignmentStatus.MOVED


def _path_rows(db: Session, version_id: int, placed: _Placed) -> dict[int, Segment]:
    """The stored segments from the root down to every node the customers reached."""
    wanted = {n for node in set(placed.nodes) for n in placed.tree.path(node)}
    found: dict[int, Segment] = {}
    for chunk in chunks(sorted(wanted), values_per_statement(db)):
        query = select(Segment).where(Segment.version_id == version_id, among(db, Segment.node_id, chunk))
        found.update({row.node_id: row for row in db.scalars(query)})
    return found


# How one customer differs from the average customer (reference.py): the customer sheet's question.
STANDING_SHOWN = 5


def customer_standing(
    db: Session, *, actor: Actor, customer_id: int, version_id: int | None = None, limit: int = STANDING_SHOWN
) -> list[StandingOut]:
    """Where the customer stands among the customers of the version (by default the latest done one) on
    the variables it split on, the rarest first: their values now against the version's average customer.
    None before the first build with a reference; front-line staff may read it (the sheet shows it)."""
    require(actor, Permission.READ_CUSTOMERS)
    prepared = _prepared_reference(db, _latest_done(db) if version_id is None else version_id)
    return _standing_of(db, actor, customer_id, prepared, limit)


def _standing_of(
    db: Session,
    actor: Actor,
    customer_id: int,
    prepared: _PreparedReference | None,
    limit: int,
    held: tuple[set[str], set[int]] | None = None,
) -> list[StandingOut]:
    if prepared is None:
        return []
    variables = prepared.variables
    row = catalogue_module.values_of(db, actor=actor, variables=variables, customer_id=customer_id, held=held)
    if row is None:
        raise NotFound(f"There is no customer {customer_id} (or no longer: merged into another).")
    found = reference_module.standing(
        prepared.reference, variables, row, binnings=prepared.binnings, limit=limit
    )
    return [_standing_out(standing, variables) for standing in found]


@dataclass(frozen=True)
class _PreparedReference:
    reference: dict[str, dict[str, Any]]
    variables: list[Variable]
    binnings: reference_module.Binnings


# A finished version's reference is written once, by its build: it is read and prepared once per process
# (its JSON is hundreds of kilobytes, milliseconds on every sheet otherwise), by database, version, the time
# the build finished, its tree's fingerprint and its customers (a store emptied and built again differs in
# them). A few versions are kept.
_PREPARED: dict[tuple[str, int, Any, str | None, int | None], _PreparedReference | None] = {}
_PREPARED_KEPT = 4
_PREPARED_LOCK = threading.Lock()
_NOT_KEPT = object()


def _prepared_reference(db: Session, version_id: int) -> _PreparedReference | None:
    """The version's reference with its variables and codings, None for a version built before references;
    the errors of ``_assignable`` for a version that is missing or not finished."""
    row = db.execute(_VERSION_ROW.where(SegmentationVersion.id == version_id)).first()
    if row is None:
        raise NotFound(f"There is no segmentation version {version_id}.")
    return _prepared(db, row)


# What ``_prepared`` keys a version's prepared reference by (and the path's share needs: its customers).
_VERSION_ROW = select(
    SegmentationVersion.id,
    SegmentationVersion.status,
    SegmentationVersion.finished_at,
    SegmentationVersion.fingerprint,
    SegmentationVersion.customers,
)


def _prepared(db: Session, row: Any) -> _PreparedReference | None:
    """``_prepared_reference`` from the version's row (``_VERSION_ROW``), read already."""
    version_id = row.id
    if row.status != VersionStatus.DONE.value:
        raise Invalid(
            f"Version {version_id} is not a finished build; customers are assigned to finished ones."
        )
    key = _version_key(db, row)
    kept = _PREPARED.get(key, _NOT_KEPT)
    if kept is not _NOT_KEPT:
        return cast(_PreparedReference | None, kept)
    reference = db.scalar(select(SegmentationVersion.reference).where(SegmentationVersion.id == version_id))
    prepared = None
    if reference:
        variables = _reference_variables(reference)
        prepared = _PreparedReference(
            reference, variables, reference_module.binnings_of(reference, variables)
        )
    if row.finished_at is not None:
        with _PREPARED_LOCK:  # requests run in threads
            while len(_PREPARED) >= _PREPARED_KEPT:
                del _PREPARED[next(iter(_PREPARED))]
            _PREPARED[key] = prepared
    return prepared


def _version_key(db: Session, row: Any) -> tuple[str, int, Any, str | None, int | None]:
    """What tells a finished version (``_VERSION_ROW``) from any other this process may meet: its store,
    id, the time its build finished, its tree's fingerprint and its customers (a store emptied and built
    again differs in them)."""
    store = db.connection().engine.url.render_as_string(hide_password=True)
    return (store, row.id, row.finished_at, row.fingerprint, row.customers)


def _reference_variables(reference: Mapping[str, Mapping[str, Any]]) -> list[Variable]:
    """The variables a version's reference describes, as ``gather`` reads them."""
    return [
        Variable(
            name,
            entry.get("label", name),
            VariableKind(entry["kind"]),
            name.split(":", 1)[0],
            entry.get("unit", ""),
        )
        for name, entry in reference.items()
    ]


def _standing_out(standing: Standing, variables: Sequence[Variable]) -> StandingOut:
    unit = next((v.unit for v in variables if v.name == standing.variable), "")
    if standing.higher is None:
        value = str(standing.value)
        words = f"{standing.label}: {value}, like {_percent(standing.share)} of customers"
    else:
        amount = float(standing.value)
        # "1 day", "1 purchase": the units are plurals of one word.
        unit = unit[:-1] if amount == 1 and unit.endswith("s") and " " not in unit else unit
        value = f"{number(amount)}{' ' + unit if unit else ''}"
        side = "higher" if standing.higher else "lower"
        words = f"{standing.label}: {value}, {side} than {_percent(standing.than or 0.0)} of customers"
    return StandingOut(
        variable=standing.variable,
        label=standing.label,
        value=value,
        share=round(standing.share, 6),
        higher=standing.higher,
        than=None if standing.than is None else round(standing.than, 6),
        words=words,
    )


def _percent(share: float) -> str:
    """Whole percents, with a decimal near the ends, never "0 %" or "100 %" for a share that is neither."""
    percent = share * 100
    if 0 < percent < 1 or 99 < percent < 100:
        return f"{min(max(percent, 0.1), 99.9):.1f} %"
    return f"{round(percent)} %"


# Deviations of the segments below the stored levels, worked out when asked for (reference.py): a segment of
# up to this many customers reads its members' values in well under a second.
LIVE_DEVIATIONS = 20_000


def segment_deviations(
    db: Session, *, actor: Actor, version_id: int, node_id: int
) -> list[DeviationOut] | None:
    """How segment ``node_id`` differs from the version's average customer: stored at build time for the
    upper levels; below them computed now from its members' current values against the version's
    reference, for a segment of up to ``LIVE_DEVIATIONS`` customers. None for the root (the average
    customer itself), and where neither can be had (a larger segment, a version built before references)."""
    require(actor, Permission.VIEW_TEAM_DASHBOARDS)
    version = _version(db, version_id)
    row = db.get(Segment, (version_id, node_id))
    if row is None:
        raise NotFound(f"Version {version_id} has no segment {node_id}.")
    if row.deviations is not None or row.parent_node_id is None:
        return None if row.deviations is None else [DeviationOut(**d) for d in row.deviations]
    if not version.reference or row.size > LIVE_DEVIATIONS:
        return None
    variables = _reference_variables(version.reference)
    ids = [customer for customer, _ in member_page(db, actor=actor, version_id=version_id, node_id=node_id)]
    table = catalogue_module.gather(db, actor=actor, variables=variables, ids=ids)
    columns = {v.name: _column(table.column(v.name), v) for v in variables}
    found = reference_module.deviations(version.reference, variables, columns)
    return [DeviationOut(**d) for d in _top_deviations(found)]


def data_about(db: Session, *, customer_ids: Sequence[int]) -> dict[str, Rows]:
    """Where these customers were placed in each segmentation version, and the audiences they are in or
    were added to or taken out of by hand, as stored."""
    return {
        "segment_memberships": rows_about(db, SegmentMembership, "customer_id", customer_ids),
        "audience_members": rows_about(db, AudienceMember, "customer_id", customer_ids),
        "audience_edits": rows_about(db, AudienceEdit, "customer_id", customer_ids),
    }


def erase_about(db: Session, *, customer_ids: Sequence[int]) -> dict[str, int]:
    """Take these customers out of every segmentation version and audience (hand edits included); the
    versions' and audiences' sizes and rules stay as the anonymous aggregates they are."""
    return {
        "segment_memberships": delete_about(db, SegmentMembership, "customer_id", customer_ids),
        "audience_members": delete_about(db, AudienceMember, "customer_id", customer_ids),
        "audience_edits": delete_about(db, AudienceEdit, "customer_id", customer_ids),
    }
