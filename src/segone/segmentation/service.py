"""Segmentation's public surface: build a version (read the variables, grow the tree, store it), read the
versions, their segments and a customer's path from the root to their segment (docs/segmentation.md).

A build records its version first, so that a failure is recorded too, then writes every segment and every
membership in one transaction once the tree is built: a reader sees a version whole or not at all.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Literal, cast

import numpy as np
import numpy.typing as npt
import pyarrow as pa
from sqlalchemy import Table, func, select
from sqlalchemy.orm import Session, sessionmaker

from segone.accounts.schemas import Actor, Permission
from segone.accounts.service import require
from segone.clock import utcnow
from segone.errors import Invalid, NotFound
from segone.progress import Progress, silent
from segone.segmentation import diff as diff_module
from segone.segmentation import rules
from segone.segmentation import variables as catalogue_module
from segone.segmentation.models import Segment, SegmentationVersion, SegmentMembership
from segone.segmentation.schemas import (
    DeviationOut,
    DiffOut,
    SegmentOut,
    TreeSettings,
    Variable,
    VariableInfo,
    VariableKind,
    VersionOut,
    VersionStatus,
)
from segone.segmentation.tree import Tree, build_tree
from segone.settings import Settings
from segone.storage import bulk
from segone.storage.batching import batched
from segone.storage.engine import session_scope

_SEGMENTS = cast(Table, Segment.__table__)
_MEMBERSHIPS = cast(Table, SegmentMembership.__table__)
WRITE_CHUNK = 20_000
CLV = "score:clv"
# Deviations need the tree's arrays, which are not stored: they are computed at build time for the nodes
# down to this depth (at most 3 + 9 + 27 of them), each with its largest TOP_DEVIATIONS.
DEVIATION_DEPTH = 3
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
) -> VersionOut:
    """Grow a tree over every customer not merged into another and store it as a new version.

    Bad settings (an unknown variable, ``min_size`` below 1) are refused before a version is recorded; a
    failure after that leaves the version ``failed`` with the message, and is raised. ``max_segments`` K
    keeps the K segments that explain most (docs/segmentation.md).
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
    }
    with session_scope(sessions) as db:
        chosen, extras = _choose(db, actor, settings, variables, exclude, target)
        version = SegmentationVersion(
            name=name,
            status=VersionStatus.RUNNING.value,
            settings=asked,
            variable_names=[v.name for v in chosen if v.name != target],
            created_by_id=actor.user_id,
        )
        db.add(version)
        db.flush()
        version_id = version.id
    try:
        return _build(sessions, settings, actor, version_id, chosen, extras, asked, progress)
    except BaseException as exc:
        with session_scope(sessions) as db:
            failed = db.get(SegmentationVersion, version_id)
            if failed is not None:
                failed.status, failed.finished_at = VersionStatus.FAILED.value, utcnow()
                failed.message = f"{type(exc).__name__}: {exc}"[:2000]
        raise


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
        raise Invalid("--min-size must be at least 1 (1 drills down to segments of one).")
    if max_depth is not None and max_depth < 0:
        raise Invalid("--max-depth must be 0 or more.")
    if max_segments is not None and max_segments < 1:
        raise Invalid("--max-segments must be at least 1 (1 keeps every customer in one segment).")


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
        ),
        progress,
    )
    customer_ids = table.column("customer_id").to_numpy()
    clv = columns.get(CLV)
    target = asked["target"]
    target_values = None if target is None else _numbers(columns[target])
    rows = _segment_rows(version_id, tree, None if clv is None else _numbers(clv), target_values, progress)
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
        version.fingerprint = tree.fingerprint()
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
    leaves = (tree.split < 0).tolist()
    n = tree.n_nodes
    for node in range(n):
        clv_count = 0 if clv_counts is None else int(clv_counts[node])
        target_count = 0 if target_counts is None else int(target_counts[node])
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
            "is_leaf": leaves[node],
            "clv_sum": None if clv_sums is None or not clv_count else _finite(float(clv_sums[node])),
            "clv_mean": None if clv_sums is None or not clv_count else _finite(clv_sums[node] / clv_count),
            "target_mean": (
                None if target_sums is None or not target_count else _finite(target_sums[node] / target_count)
            ),
            "deviations": _deviations(tree, node) if 0 < depths[node] <= DEVIATION_DEPTH else None,
        }
        if node % WRITE_CHUNK == 0 or node == n - 1:
            progress("Writing the segments", node + 1, n)


def _deviations(tree: Tree, node: int) -> list[dict[str, Any]]:
    found = []
    for deviation in tree.deviations(node):
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
    return VersionOut(
        id=version.id,
        name=version.name,
        status=VersionStatus(version.status),
        settings=version.settings,
        variables=version.variable_names,
        started_at=version.started_at,
        finished_at=version.finished_at,
        customers=version.customers,
        leaves=version.leaves,
        segments_of_one=version.segments_of_one,
        identical_leaves=version.identical_leaves,
        seconds=version.seconds,
        fingerprint=version.fingerprint,
        message=version.message,
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


def _segment_out(row: Segment, customers: int | None, children: list[int] | None = None) -> SegmentOut:
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
        is_leaf=row.is_leaf,
        clv_sum=row.clv_sum,
        clv_mean=row.clv_mean,
        target_mean=row.target_mean,
        children=children or [],
        deviations=None if row.deviations is None else [DeviationOut(**d) for d in row.deviations],
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
    rows = db.scalars(query.order_by(Segment.node_id))
    return [_segment_out(row, version.customers) for row in rows]


def segment(db: Session, *, actor: Actor, version_id: int, node_id: int) -> SegmentOut:
    """One segment with its children's ids and, for the upper nodes, its deviations."""
    require(actor, Permission.VIEW_TEAM_DASHBOARDS)
    version = _version(db, version_id)
    row = db.get(Segment, (version_id, node_id))
    if row is None:
        raise NotFound(f"Version {version_id} has no segment {node_id}.")
    children = list(
        db.scalars(
            select(Segment.node_id)
            .where(Segment.version_id == version_id, Segment.parent_node_id == node_id)
            .order_by(Segment.node_id)
        )
    )
    return _segment_out(row, version.customers, children)


def customer_path(
    db: Session, *, actor: Actor, customer_id: int, version_id: int | None = None
) -> list[SegmentOut]:
    """The segments from the root down to the customer's leaf in the version (by default the latest done
    one): what the customer sheet shows, so front-line staff may read it."""
    require(actor, Permission.READ_CUSTOMERS)
    if version_id is None:
        version_id = _latest_done(db)
    version = _version(db, version_id)
    leaf = db.scalar(
        select(SegmentMembership.node_id).where(
            SegmentMembership.version_id == version_id, SegmentMembership.customer_id == customer_id
        )
    )
    if leaf is None:
        raise NotFound(f"Customer {customer_id} is in no segment of version {version_id}.")
    path: list[Segment] = []
    node: int | None = leaf
    while node is not None:
        row = db.get(Segment, (version_id, node))
        assert row is not None
        path.append(row)
        node = row.parent_node_id
    return [_segment_out(row, version.customers) for row in reversed(path)]


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
    require(actor, Permission.VIEW_TEAM_DASHBOARDS)
    _version(db, version_id)
    if db.get(Segment, (version_id, node_id)) is None:
        raise NotFound(f"Version {version_id} has no segment {node_id}.")
    children: dict[int, list[int]] = {}
    for node, parent in db.execute(
        select(Segment.node_id, Segment.parent_node_id).where(Segment.version_id == version_id)
    ):
        if parent is not None:
            children.setdefault(parent, []).append(node)
    below, todo = set(), [node_id]
    while todo:
        node = todo.pop()
        below.add(node)
        todo.extend(children.get(node, ()))
    rows = db.execute(
        select(SegmentMembership.customer_id, SegmentMembership.node_id).where(
            SegmentMembership.version_id == version_id
        )
    )
    return sorted(customer for customer, leaf in rows if leaf in below)


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
    return pa.table(
        {
            "customer_id": pa.array(customers, pa.int64()),
            "segment_id": pa.array(leaves, pa.int64()),
            "segment": pa.array([words.get(leaf, "") for leaf in leaves], pa.string()),
        }
    )


def _latest_done(db: Session) -> int:
    """The newest finished version: what the sheet and the analysts' memberships read by default."""
    version_id = db.scalar(
        select(func.max(SegmentationVersion.id)).where(SegmentationVersion.status == VersionStatus.DONE.value)
    )
    if version_id is None:
        raise NotFound("No segmentation is built yet: run 'segone segments build'.")
    return int(version_id)
