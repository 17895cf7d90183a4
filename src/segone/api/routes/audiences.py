"""Audiences: segments saved under a name, evaluated again after every build, changed by hand, listed and
exported for campaigns and personalisation."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response, status
from fastapi.responses import StreamingResponse
from pydantic import ConfigDict, Field

from segone.api.deps import MAX_ID, CurrentActor, CustomerId, Db, RuntimeDep
from segone.api.errors import responses
from segone.clock import utcnow
from segone.exporting import Format, content_disposition, media_type, stream
from segone.inputs import InputModel, Name
from segone.segmentation import service
from segone.segmentation.schemas import AudienceOut
from segone.views import exports, members
from segone.views.schemas import AudienceMemberPage

router = APIRouter(prefix="/audiences", tags=["audiences"])

AudienceId = Annotated[int, Path(ge=1, le=MAX_ID, description="The audience's id.")]


class AudienceCreate(InputModel):
    model_config = ConfigDict(extra="forbid")

    name: Name = Field(max_length=200, description="Unique among the audiences.")
    version_id: int = Field(ge=1, le=MAX_ID, description="The finished version the segment is in.")
    node_id: int = Field(ge=0, le=MAX_ID, description="The segment's node id in that version (0: everyone).")


@router.get("", response_model=list[AudienceOut], summary="Audiences", responses=responses(401, 403))
def list_audiences(db: Db, actor: CurrentActor) -> list[AudienceOut]:
    """Every audience by name: its conditions, size, hand changes, when it was last evaluated and, when
    the last evaluation could not run, why (`stale`). Needs the team dashboards permission."""
    return service.list_audiences(db, actor=actor)


@router.post(
    "",
    response_model=AudienceOut,
    status_code=status.HTTP_201_CREATED,
    summary="Save a segment as an audience",
    responses=responses(401, 403, 404, 409, 422),
)
def create_audience(
    db: Db, actor: CurrentActor, runtime: RuntimeDep, data: AudienceCreate, response: Response
) -> AudienceOut:
    """Save a segment of a finished version under a name (409 when the name is taken): the conditions of
    its path from the root are kept and evaluated on today's values now and after every build. Needs the
    analytics permission."""
    audience = service.save_audience(
        db, runtime.settings, actor=actor, name=data.name, version_id=data.version_id, node_id=data.node_id
    )
    response.headers["Location"] = f"/api/v1/audiences/{audience.id}"
    return audience


@router.get(
    "/{audience_id}",
    response_model=AudienceOut,
    summary="One audience",
    responses=responses(401, 403, 404, 422),
)
def get_audience(db: Db, actor: CurrentActor, audience_id: AudienceId) -> AudienceOut:
    """An audience's conditions (in words and as data), the segment it was saved from, its size, the
    customers added and removed by hand, and when it was evaluated."""
    return service.get_audience(db, actor=actor, audience_id=audience_id)


@router.get(
    "/{audience_id}/members",
    response_model=AudienceMemberPage,
    summary="An audience's members",
    responses=responses(401, 403, 404, 422),
)
def list_members(
    db: Db,
    actor: CurrentActor,
    audience_id: AudienceId,
    offset: int = Query(default=0, ge=0, le=MAX_ID, description="How many members to skip."),
    limit: int = Query(default=50, ge=1, le=500, description="How many members to return."),
) -> AudienceMemberPage:
    """The members as last evaluated (with the hand changes since), by customer id, a page at a time, with
    their names, first identities and whether they were added by hand."""
    return members.audience_members(db, actor=actor, audience_id=audience_id, offset=offset, limit=limit)


@router.put(
    "/{audience_id}/members/{customer_id}",
    response_model=AudienceOut,
    summary="Add a customer by hand",
    responses=responses(401, 403, 404, 422),
)
def add_member(db: Db, actor: CurrentActor, audience_id: AudienceId, customer_id: CustomerId) -> AudienceOut:
    """The customer is a member whatever the conditions say, now and after every build, until removed by
    hand (a merged record's survivor stands for it). Kept with who did it and when. Needs the analytics
    permission."""
    return service.add_to_audience(db, actor=actor, audience_id=audience_id, customer_id=customer_id)


@router.delete(
    "/{audience_id}/members/{customer_id}",
    response_model=AudienceOut,
    summary="Remove a customer by hand",
    responses=responses(401, 403, 404, 422),
)
def remove_member(
    db: Db, actor: CurrentActor, audience_id: AudienceId, customer_id: CustomerId
) -> AudienceOut:
    """The customer is never a member, whatever the conditions say, until added by hand again. Kept with
    who did it and when. Needs the analytics permission."""
    return service.remove_from_audience(db, actor=actor, audience_id=audience_id, customer_id=customer_id)


@router.post(
    "/{audience_id}/refresh",
    response_model=AudienceOut,
    summary="Evaluate an audience again",
    responses=responses(401, 403, 404, 422),
)
def refresh_audience(
    db: Db, actor: CurrentActor, runtime: RuntimeDep, audience_id: AudienceId
) -> AudienceOut:
    """Evaluate the conditions on today's values now (every build does it too). When a condition's variable
    is gone the audience keeps its members and `stale` says why. Needs the analytics permission."""
    return service.refresh_audience(db, runtime.settings, actor=actor, audience_id=audience_id)


@router.get(
    "/{audience_id}/export",
    response_class=StreamingResponse,
    summary="Export an audience",
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
def export_audience(
    db: Db,
    actor: CurrentActor,
    runtime: RuntimeDep,
    audience_id: AudienceId,
    format: Format = Query(default=Format.CSV, description="csv (UTF-8, RFC 4180) or parquet."),
) -> StreamingResponse:
    """The members as last evaluated in the layout of the customers export (`id`, `kind`, `name`,
    `identities`, a column per attribute). Needs the export permission; recorded in the audit trail."""
    started = exports.start_audience(db, actor=actor, audience_id=audience_id, fmt=format)
    return StreamingResponse(
        stream(started, format, runtime.session),
        media_type=media_type(format),
        headers={"Content-Disposition": content_disposition(started.name, format, utcnow())},
    )


@router.delete(
    "/{audience_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete an audience",
    responses=responses(401, 403, 404, 422),
)
def delete_audience(db: Db, actor: CurrentActor, audience_id: AudienceId) -> Response:
    """The audience goes with its members and hand changes; the segment it came from stays. Needs the
    analytics permission."""
    service.delete_audience(db, actor=actor, audience_id=audience_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
