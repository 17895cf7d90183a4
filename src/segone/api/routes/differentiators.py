"""Differentiators: the facts on a customer's easel sheet, and whether the customer knows we know."""

from __future__ import annotations

from fastapi import APIRouter, Body, Query, Response, status

from segone.api.deps import Categories, CurrentActor, CustomerId, Db, DifferentiatorId
from segone.api.errors import responses
from segone.api.versions import STALE, IfMatch, expected_version, tag
from segone.knowledge.facts import service as knowledge
from segone.knowledge.facts.schemas import (
    AcknowledgeRequest,
    DifferentiatorCreate,
    DifferentiatorOut,
    DifferentiatorUpdate,
    OutdateOut,
    OutdateRequest,
    RecognitionOut,
)
from segone.views import facts

router = APIRouter(tags=["differentiators"])


@router.get(
    "/customers/{customer_id}/differentiators",
    response_model=list[DifferentiatorOut],
    summary="A customer's easel sheet",
    responses=responses(401, 403, 404, 422),
)
def list_differentiators(
    db: Db,
    actor: CurrentActor,
    categories: Categories,
    customer_id: CustomerId,
    include_outdated: bool = Query(default=False, description="Also list facts that are no longer true."),
) -> list[DifferentiatorOut]:
    """What makes this customer different, most recently learned first: each fact with who learned it,
    when, in which encounter, how sure we are, and whether the customer knows we know it."""
    facts = knowledge.list_for_customer(
        db, actor=actor, customer_id=customer_id, include_outdated=include_outdated
    )
    return knowledge.to_out_many(db, facts, categories)


@router.post(
    "/customers/{customer_id}/differentiators",
    response_model=DifferentiatorOut,
    status_code=status.HTTP_201_CREATED,
    summary="Record a differentiator",
    responses=responses(401, 403, 404, 422),
)
def add_differentiator(
    db: Db, actor: CurrentActor, categories: Categories, customer_id: CustomerId, data: DifferentiatorCreate
) -> DifferentiatorOut:
    """Add a fact that makes this customer different, learned by you. The category must be one of
    `GET /categories` that fits the kind of customer; `encounter_id`, if given, must be an encounter
    with this customer."""
    return facts.add(db, actor=actor, customer_id=customer_id, data=data, categories=categories)


@router.get(
    "/differentiators/{differentiator_id}",
    response_model=DifferentiatorOut,
    summary="Get a differentiator",
    responses=responses(401, 403, 404, 422),
)
def get_differentiator(
    db: Db,
    actor: CurrentActor,
    categories: Categories,
    differentiator_id: DifferentiatorId,
    response: Response,
) -> DifferentiatorOut:
    """One fact, current or outdated. The `ETag` header is its version: send it back as `If-Match` with
    an edit."""
    fact = knowledge.get(db, actor=actor, differentiator_id=differentiator_id)
    return tag(response, knowledge.to_out_many(db, [fact], categories)[0])


@router.patch(
    "/differentiators/{differentiator_id}",
    response_model=DifferentiatorOut,
    summary="Edit or re-confirm a differentiator",
    responses={**responses(401, 403, 404, 422), **STALE},
)
def edit_differentiator(
    db: Db,
    actor: CurrentActor,
    categories: Categories,
    differentiator_id: DifferentiatorId,
    data: DifferentiatorUpdate,
    if_match: IfMatch,
    response: Response,
) -> DifferentiatorOut:
    """Correct the text, category or confidence of a current fact, and/or send `"confirmed": true` to
    record that it still holds today. An outdated fact cannot be edited (409): add what is true now.
    Name the version the edit was made from (`If-Match: "3"` or `"version": 3`) and an edit made by
    someone else in between is not overwritten: the answer is 409 with the current version and fact.
    Without one, the last writer wins. The `ETag` header is the new version."""
    data = data.model_copy(update={"version": expected_version(if_match, data.version)})
    fact = knowledge.edit(
        db, actor=actor, differentiator_id=differentiator_id, data=data, categories=categories
    )
    return tag(response, knowledge.to_out_many(db, [fact], categories)[0])


@router.post(
    "/differentiators/{differentiator_id}/outdate",
    response_model=OutdateOut,
    summary="Mark a differentiator as no longer true",
    responses=responses(401, 403, 404, 409, 422),
)
def outdate_differentiator(
    db: Db,
    actor: CurrentActor,
    categories: Categories,
    differentiator_id: DifferentiatorId,
    data: OutdateRequest | None = Body(default=None),
) -> OutdateOut:
    """The fact stays on record, marked outdated. With a `replacement`, what is true now is added as a
    new fact in the same category, linked from the old one (`replaced_by_id`). The body may be left out."""
    result = knowledge.outdate(
        db, actor=actor, differentiator_id=differentiator_id, data=data or OutdateRequest()
    )
    old = knowledge.get(db, actor=actor, differentiator_id=differentiator_id)
    outdated, *replacement = knowledge.to_out_many(
        db, [old] if result.id == old.id else [old, result], categories
    )
    return OutdateOut(outdated=outdated, replacement=replacement[0] if replacement else None)


@router.post(
    "/differentiators/{differentiator_id}/acknowledge",
    response_model=DifferentiatorOut,
    summary="The customer now knows that we know this",
    responses=responses(401, 403, 404, 409, 422),
)
def acknowledge_differentiator(
    db: Db,
    actor: CurrentActor,
    categories: Categories,
    differentiator_id: DifferentiatorId,
    data: AcknowledgeRequest | None = Body(default=None),
) -> DifferentiatorOut:
    """Record that the customer has been shown we know this fact: by whom, when, in which encounter
    (`encounter_id`, an encounter with this customer) and how. Acknowledging again keeps the first
    record. The body may be left out."""
    return facts.acknowledge(
        db,
        actor=actor,
        differentiator_id=differentiator_id,
        data=data or AcknowledgeRequest(),
        categories=categories,
    )


@router.get(
    "/customers/{customer_id}/recognition",
    response_model=RecognitionOut,
    summary="Does the customer know that we know?",
    responses=responses(401, 403, 404, 422),
)
def recognition(db: Db, actor: CurrentActor, customer_id: CustomerId) -> RecognitionOut:
    """The recognition ratio: of the customer's current differentiators, the share the customer has
    been shown we know (null while we know nothing)."""
    return knowledge.recognition(db, actor=actor, customer_id=customer_id)
