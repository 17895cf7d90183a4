"""Segmentation: build a version as a job, read the versions, their segments, a diff and a customer's path;
a segment's customers as a page or a file."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date
from functools import partial
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Response, status
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from segone.accounts.schemas import Actor
from segone.api.deps import MAX_ID, CurrentActor, CustomerId, Db, JobsDep, RuntimeDep
from segone.api.errors import responses
from segone.clock import utcnow
from segone.exporting import Format, content_disposition, media_type, stream
from segone.inputs import InputModel
from segone.jobs import JobOut
from segone.progress import Progress
from segone.runtime import Runtime
from segone.segmentation import service
from segone.segmentation.schemas import (
    AssignedOut,
    AssignmentStatus,
    DiffOut,
    SegmentOut,
    Unknown,
    VersionOut,
)
from segone.views import exports, members
from segone.views.schemas import SegmentMemberPage
from segone.views.segment_fits import segment_fits

router = APIRouter(tags=["segmentations"])

VersionId = Annotated[int, Path(ge=1, le=MAX_ID, description="The version's id.")]
NodeId = Annotated[
    int, Path(ge=0, le=MAX_ID, description="The segment's node id in its version (0 is the root).")
]
VariableName = Annotated[str, Field(min_length=1, max_length=200)]
MAX_ASSIGNED = 1_000  # customers per request; every customer new since the build: "new": true


class BuildRequest(InputModel):
    model_config = ConfigDict(extra="forbid")

    variables: Literal["all"] | Annotated[list[VariableName], Field(min_length=1, max_length=1000)] = Field(
        default="all", description="The variables to split on ('knows:*' takes a whole source), or 'all'."
    )
    exclude: list[VariableName] = Field(default_factory=list, max_length=1000, description="Left out.")
    target: VariableName | None = Field(
        default=None, description="Split to separate this number or yes/no variable (supervised)."
    )
    min_size: int = Field(default=1, ge=1, le=MAX_ID, description="The smallest segment; 1 drills to one.")
    max_depth: int | None = Field(default=None, ge=0, le=1000, description="How many splits deep at most.")
    max_segments: int | None = Field(
        default=None,
        ge=1,
        le=MAX_ID,
        description="Keep the K segments that explain most (the splits that gain most in total).",
    )
    unknown: Unknown = Field(
        default=Unknown.BRANCH,
        description="Where a split sends missing values: 'branch', a segment of their own ('unknown'); "
        "'side', the side they resemble most, said in its condition ('under 100 days or unknown').",
    )
    name: str | None = Field(
        default=None, min_length=1, max_length=200, description="A name for the version."
    )

    @field_validator("variables", mode="before")
    @classmethod
    def _all_or_names(cls, value: object) -> object:
        # One message for what the union would report twice, once per alternative, in pydantic's words.
        if value == "all" or (
            isinstance(value, list) and value and all(isinstance(v, str) and v.strip() for v in value)
        ):
            return value
        raise ValueError("must be 'all' or a non-empty list of variable names")


class VariableOut(BaseModel):
    """A variable a build may split on (``kind`` null and ``excluded`` saying why when it is left out)."""

    name: str
    label: str
    source: str
    unit: str
    kind: str | None
    inferred_kind: str
    distinct: int
    missing_share: float
    examples: list[str]
    excluded: str | None
    overridden: bool


@router.get(
    "/segmentations",
    response_model=list[VersionOut],
    summary="Segmentation versions",
    responses=responses(401, 403),
)
def list_versions(db: Db, actor: CurrentActor) -> list[VersionOut]:
    """Every version, the newest first: its settings, the variables it split on and what it found."""
    return service.list_versions(db, actor=actor)


@router.post(
    "/segmentations",
    response_model=JobOut,
    status_code=status.HTTP_202_ACCEPTED,
    summary="Start building a segmentation version",
    responses=responses(401, 403, 422),
)
def start_build(
    actor: CurrentActor, runtime: RuntimeDep, jobs: JobsDep, data: BuildRequest, response: Response
) -> JobOut:
    """Every customer, divided segment by segment by the variable that separates most, as `segone segments
    build` does, in the background. The settings are checked first (an unknown variable, a categorical
    target: 422), so a bad request never starts a job. Answers at once with the job and its URL in
    `Location`; poll `GET /jobs/{job_id}`: its `result` is the version. While a build runs, starting
    again answers with that job. Needs the analytics permission."""
    chosen: list[str] | Literal["all"] = data.variables
    # Checked in a transaction of its own, ended before the job's row is written: on SQLite a write
    # pending in the request's transaction (the token's last use) would hold the lock that row waits for.
    with runtime.session() as db:
        service.check_build(
            db,
            runtime.settings,
            actor=actor,
            variables=chosen,
            exclude=data.exclude,
            target=data.target,
            min_size=data.min_size,
            max_depth=data.max_depth,
            max_segments=data.max_segments,
        )

    work = partial(
        _build,
        runtime=runtime,
        actor=actor,
        variables=chosen,
        exclude=data.exclude,
        target=data.target,
        min_size=data.min_size,
        max_depth=data.max_depth,
        name=data.name,
        max_segments=data.max_segments,
        unknown=data.unknown,
    )
    job = jobs.start("segmentation-build", work)
    response.headers["Location"] = f"/api/v1/jobs/{job.id}"
    return job


def _build(progress: Progress, *, runtime: Runtime, actor: Actor, **options: Any) -> dict[str, Any]:
    version = service.build(runtime.sessions, runtime.settings, actor=actor, progress=progress, **options)
    return version.model_dump(mode="json")


@router.get(
    "/segmentations/variables",
    response_model=list[VariableOut],
    summary="The variables a build may split on",
    responses=responses(401, 403),
)
def list_variables(db: Db, actor: CurrentActor, runtime: RuntimeDep) -> list[VariableOut]:
    """Every variable a build may split on, with its kind, how many customers differ on it and lack it,
    and a few examples; those left out with the reason."""
    infos = service.describe_variables(db, actor=actor, settings=runtime.settings)
    return [VariableOut.model_validate(asdict(info)) for info in infos]


@router.get(
    "/segmentations/diff",
    response_model=DiffOut,
    summary="Who moved between two versions",
    responses=responses(401, 403, 404, 422),
)
def get_diff(
    db: Db,
    actor: CurrentActor,
    before: int = Query(ge=1, le=MAX_ID, description="The earlier version's id."),
    after: int = Query(ge=1, le=MAX_ID, description="The later version's id."),
    depth: int = Query(default=2, ge=1, le=1000, description="Compare the segments at this depth."),
) -> DiffOut:
    """The migration matrix between two finished versions at one depth of both trees, with the segments
    that appeared, vanished, split or merged."""
    return service.diff(db, actor=actor, before=before, after=after, depth=depth)


@router.get(
    "/segmentations/{version_id}",
    response_model=VersionOut,
    summary="One segmentation version",
    responses=responses(401, 403, 404, 422),
)
def get_version(db: Db, actor: CurrentActor, version_id: VersionId) -> VersionOut:
    """A version's settings, status and counts (`message` says why a failed build failed)."""
    return service.get_version(db, actor=actor, version_id=version_id)


@router.get(
    "/segmentations/{version_id}/purchase-models",
    summary="A purchase model per segment, against one for everyone",
    responses=responses(401, 403, 404, 422),
)
def get_purchase_models(
    actor: CurrentActor,
    runtime: RuntimeDep,
    version_id: VersionId,
    depth: int = Query(default=2, ge=0, le=1000, description="The segments at this depth get a model each."),
    model: Literal["bgnbd", "pareto-nbd", "mbgnbd"] = Query(default="bgnbd", description="The model."),
    calibration_end: date | None = Query(
        default=None, description="Last calibration day (YYYY-MM-DD); halfway through the events if left out."
    ),
    holdout_end: date | None = Query(
        default=None, description="Last holdout day (YYYY-MM-DD); the last event's if left out."
    ),
    min_customers: int = Query(
        default=100, ge=1, le=10_000_000, description="A smaller segment keeps the model for everyone."
    ),
) -> dict[str, Any]:
    """The purchase model fitted to each segment at `depth` of the version up to `calibration_end`, and
    to everyone in them, as `segone models by-segment` does: per segment its parameters (or, for a segment
    too small to fit, the pooled ones with the reason in `note`), calibration log-likelihood, holdout
    actual and predicted repeat purchases and mean absolute error; then both approaches compared on the
    same customers (`pooled` and `by_segment`: mean absolute error and BIC) and the `verdict` in words.
    Computed on the events when asked (seconds; hundreds of segments take longer). Needs the analytics
    permission."""
    return segment_fits(
        runtime.sessions,
        runtime.settings,
        actor=actor,
        version_id=version_id,
        depth=depth,
        model=model,
        calibration_end=calibration_end,
        holdout_end=holdout_end,
        min_customers=min_customers,
    ).as_dict()


@router.get(
    "/segmentations/{version_id}/segments",
    response_model=list[SegmentOut],
    summary="A version's segments",
    responses=responses(401, 403, 404, 422),
)
def list_segments(
    db: Db,
    actor: CurrentActor,
    version_id: VersionId,
    parent: int | None = Query(default=None, ge=0, le=MAX_ID, description="Only this segment's children."),
    max_depth: int | None = Query(default=None, ge=0, le=1000, description="Only down to this depth."),
) -> list[SegmentOut]:
    """The children of `parent`, or every segment down to `max_depth` (all of them without either), by
    node id. A tree drilled to segments of one has about as many segments as customers: ask for levels."""
    return service.segments(db, actor=actor, version_id=version_id, parent=parent, max_depth=max_depth)


@router.get(
    "/segmentations/{version_id}/segments/{node_id}",
    response_model=SegmentOut,
    summary="One segment",
    responses=responses(401, 403, 404, 422),
)
def get_segment(db: Db, actor: CurrentActor, version_id: VersionId, node_id: NodeId) -> SegmentOut:
    """A segment's conditions, size, share, CLV, its children's ids and, for the upper levels, how it
    differs from the average customer."""
    return service.segment(db, actor=actor, version_id=version_id, node_id=node_id)


class AssignRequest(InputModel):
    model_config = ConfigDict(extra="forbid")

    customer_ids: list[Annotated[int, Field(ge=1, le=MAX_ID)]] = Field(
        default_factory=list, max_length=MAX_ASSIGNED, description="The customers to place (at most 1,000)."
    )
    new: bool = Field(
        default=False, description="Place every customer who has no segment in the version yet (new since)."
    )

    @model_validator(mode="after")
    def _customers_or_new(self) -> AssignRequest:
        if bool(self.customer_ids) == self.new:
            raise ValueError("give customer_ids, or new: true (not both)")
        return self


@router.post(
    "/segmentations/{version_id}/assign",
    response_model=AssignedOut,
    summary="Place customers in a version's segments",
    responses=responses(401, 403, 404, 422),
)
def assign(
    db: Db, actor: CurrentActor, runtime: RuntimeDep, version_id: VersionId, data: AssignRequest
) -> AssignedOut:
    """Place customers in the version's segments by their values now, without a rebuild, and store it, as
    `segone segments assign` does: `customer_ids` answers each one's path from the root and whether they
    were new, moved or unchanged; `new: true` places every customer new since the build (without paths).
    A value no branch takes (a level the tree never saw there) leaves the customer at the segment above.
    Needs the analytics permission."""
    if data.new:
        return service.assign_new(db, runtime.settings, actor=actor, version_id=version_id)
    placed = service.assign(
        db, runtime.settings, actor=actor, customer_ids=data.customer_ids, version_id=version_id
    )
    changed = sum(1 for p in placed if p.status is not AssignmentStatus.UNCHANGED)
    return AssignedOut(version_id=version_id, assigned=changed, customers=placed)


@router.get(
    "/customers/{customer_id}/segments",
    response_model=list[SegmentOut],
    summary="A customer's segment path",
    responses=responses(401, 403, 404, 422),
)
def get_customer_path(
    db: Db,
    actor: CurrentActor,
    customer_id: CustomerId,
    version: int | None = Query(
        default=None, ge=1, le=MAX_ID, description="The version; the latest finished one if left out."
    ),
) -> list[SegmentOut]:
    """The segments from the root down to the customer's own, in a version: 404 before any build, or when
    the customer is in none (added since)."""
    return service.customer_path(db, actor=actor, customer_id=customer_id, version_id=version)


@router.get(
    "/segmentations/{version_id}/segments/{node_id}/members",
    response_model=SegmentMemberPage,
    summary="A segment's customers",
    responses=responses(401, 403, 404, 422),
)
def list_segment_members(
    db: Db,
    actor: CurrentActor,
    version_id: VersionId,
    node_id: NodeId,
    offset: int = Query(default=0, ge=0, le=MAX_ID, description="How many customers to skip."),
    limit: int = Query(default=50, ge=1, le=500, description="How many customers to return."),
) -> SegmentMemberPage:
    """The customers of a segment (every leaf below it; segment 0 is everyone) by id, a page at a time, with
    their names and first identities. A segment's stable id is its version's id with its node id: node ids
    mean nothing across versions."""
    return members.segment_members(
        db, actor=actor, version_id=version_id, node_id=node_id, offset=offset, limit=limit
    )


@router.get(
    "/segmentations/{version_id}/segments/{node_id}/export",
    response_class=StreamingResponse,
    summary="Export a segment's customers",
    responses={
        200: {
            "description": "The file, streamed (chunked) as it is read.",
            "content": {
                media_type(fmt): {"schema": {"type": "string", "format": "binary"}} for fmt in Format
            },
        },
        **responses(401, 403, 404, 422),
    },
)
def export_segment(
    db: Db,
    actor: CurrentActor,
    runtime: RuntimeDep,
    version_id: VersionId,
    node_id: NodeId,
    format: Format = Query(default=Format.CSV, description="csv (UTF-8, RFC 4180) or parquet."),
) -> StreamingResponse:
    """A segment's customers in the layout of the customers export (`id`, `kind`, `name`, `identities`, a
    column per attribute), as `segone segments export` writes them: an audience for a campaign. Needs the
    export permission; recorded in the audit trail."""
    started = exports.start_segment(db, actor=actor, version_id=version_id, node_id=node_id, fmt=format)
    return StreamingResponse(
        stream(started, format, runtime.session),
        media_type=media_type(format),
        headers={"Content-Disposition": content_disposition(started.name, format, utcnow())},
    )
