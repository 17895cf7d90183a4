"""Encounters: meetings, calls, e-mails, chats and store visits, and what was learned in each."""

from __future__ import annotations

from fastapi import APIRouter, Query, status

from segone.api.deps import Categories, CurrentActor, CustomerId, Db, EncounterId, RuntimeDep
from segone.api.errors import responses
from segone.encounters import service as encounters
from segone.encounters.schemas import EncounterCreate, EncounterOut
from segone.quality import service as quality
from segone.quality.schemas import PredictionCreate, PredictionOut

router = APIRouter(tags=["encounters"])


@router.get(
    "/customers/{customer_id}/encounters",
    response_model=list[EncounterOut],
    summary="A customer's encounters",
    responses=responses(401, 403, 404, 422),
)
def list_encounters(
    db: Db,
    actor: CurrentActor,
    customer_id: CustomerId,
    limit: int = Query(default=100, ge=1, le=500, description="How many encounters to return."),
) -> list[EncounterOut]:
    """The customer's encounters, most recent first, each with the ids of the differentiators learned
    in it."""
    return encounters.to_out_many(
        db, encounters.list_for_customer(db, actor=actor, customer_id=customer_id, limit=limit)
    )


@router.post(
    "/customers/{customer_id}/encounters",
    response_model=EncounterOut,
    status_code=status.HTTP_201_CREATED,
    summary="Log an encounter",
    responses=responses(401, 403, 404, 422),
)
def record_encounter(
    db: Db,
    actor: CurrentActor,
    runtime: RuntimeDep,
    categories: Categories,
    customer_id: CustomerId,
    data: EncounterCreate,
) -> EncounterOut:
    """Log an encounter with the customer, held by you: the channel, when (not in the future, not before
    the configured earliest date), notes, what they care and worry about, the share of the time spent
    listening, the differentiators learned in it (`facts`) and the ids of the customer's current
    differentiators shown to them (`acknowledge`). All of it is saved together or not at all: one bad
    fact (e.g. an unknown category) or one id that is not this customer's current fact saves nothing."""
    encounter = encounters.record(
        db,
        actor=actor,
        customer_id=customer_id,
        data=data,
        categories=categories,
        date_floor=runtime.settings.encounter_date_floor,
    )
    return encounters.to_out_many(db, [encounter])[0]


@router.get(
    "/encounters/{encounter_id}",
    response_model=EncounterOut,
    summary="Get an encounter",
    responses=responses(401, 403, 404, 422),
)
def get_encounter(db: Db, actor: CurrentActor, encounter_id: EncounterId) -> EncounterOut:
    """One encounter, with the ids of the differentiators learned in it."""
    return encounters.to_out_many(db, [encounters.get(db, actor=actor, encounter_id=encounter_id)])[0]


@router.post(
    "/encounters/{encounter_id}/predicted-rating",
    response_model=PredictionOut,
    summary="Record the rating you think the customer would give",
    responses=responses(401, 403, 404, 422),
)
def predict_rating(
    db: Db, actor: CurrentActor, encounter_id: EncounterId, data: PredictionCreate
) -> PredictionOut:
    """ "Think customer": the rating (1-5) the employee who had the encounter thinks its customer would give
    (someone else's needs the import permission); sending it again changes it. The answer has the
    customer's own rating (`actual`, the mean of their next external report card rating within 30 days)
    and the gap once it arrived."""
    return quality.record_prediction(db, actor=actor, encounter_id=encounter_id, data=data)
