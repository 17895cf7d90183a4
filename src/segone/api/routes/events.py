"""Events: batches of what customers did, staged until ``segone events flush`` moves them to the dataset."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from segone.api.deps import CurrentActor, Db
from segone.api.errors import ErrorOut, responses
from segone.behaviour import ingest
from segone.inputs import InputModel

router = APIRouter(tags=["events"])


class EventBatch(InputModel):
    events: list[dict[str, Any]] = Field(
        description="Up to 10,000 events: `customer` (an identity such as `email:ann@example.com`), "
        "`type`, `timestamp` (ISO 8601), and optionally `event_id`, `value`, `quantity`, `channel`, "
        "`offering`, `reason`, `properties` (an object)."
    )


class BatchOut(BaseModel):
    received: int
    new: int
    duplicates: int
    customers_created: int


@router.post(
    "/events",
    response_model=BatchOut,
    summary="Send a batch of events",
    responses={
        **responses(401, 403),
        422: {
            "model": ErrorOut,
            "description": "The batch is too large or some events are bad; nothing was stored. `details` "
            "names every bad event (1-based position in the batch, field, problem).",
        },
    },
)
async def post_events(
    request: Request,
    batch: EventBatch,
    db: Db,
    actor: CurrentActor,
    unknown: Literal["create", "reject"] = Query(
        default="create", description="Unknown customer identities: create customers, or reject the batch."
    ),
) -> BatchOut:
    """All or nothing per batch, idempotent per `event_id` (an event without one gets an id derived from
    its fields, so re-sending a batch stores nothing twice): `duplicates` counts the events already
    received, whether still staged or already in the dataset, and only `new` ones are stored. Needs the
    import permission."""
    report = await run_in_threadpool(
        ingest.stage_batch,
        db,
        actor=actor,
        events=batch.events,
        unknown=unknown,
        stored=request.app.state.stored_event_ids,
    )
    return BatchOut(**report.as_dict())
