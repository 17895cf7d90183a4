"""Fact suggestions: the sentences of an encounter that may be differentiators; confirm or reject each."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response, status

from segone.api.deps import Categories, CurrentActor, Db, EncounterId, get_runtime
from segone.api.errors import responses
from segone.encounters import suggestions
from segone.encounters.suggestions import Suggestion, SuggestionConfirm, SuggestionReject
from segone.knowledge.facts import service as knowledge
from segone.knowledge.facts.schemas import DifferentiatorOut
from segone.runtime import Runtime

router = APIRouter(tags=["encounters"])

RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


@router.get(
    "/encounters/{encounter_id}/suggestions",
    response_model=list[Suggestion],
    summary="Facts we may have heard in an encounter",
    responses=responses(401, 403, 404, 422),
)
def list_suggestions(
    db: Db, actor: CurrentActor, runtime: RuntimeDep, categories: Categories, encounter_id: EncounterId
) -> list[Suggestion]:
    """Sentences of the encounter's notes, cares and worries that may be differentiators, each with the
    category the classifier would give it. Small talk, facts on the customer's sheet already and
    sentences rejected before are left out."""
    return suggestions.suggest(
        db,
        actor=actor,
        encounter_id=encounter_id,
        categories=categories,
        data_dir=runtime.settings.data_dir,
    )


@router.post(
    "/encounters/{encounter_id}/suggestions/confirm",
    response_model=DifferentiatorOut,
    status_code=status.HTTP_201_CREATED,
    summary="Confirm a suggestion: it goes on the easel sheet",
    responses=responses(401, 403, 404, 409, 422),
)
def confirm_suggestion(
    db: Db,
    actor: CurrentActor,
    runtime: RuntimeDep,
    categories: Categories,
    encounter_id: EncounterId,
    data: SuggestionConfirm,
) -> DifferentiatorOut:
    """Adds the suggestion as a differentiator learned in this encounter, learned by you; give `text` and
    `category` to change what was suggested. A suggestion no longer open (confirmed or rejected) is a
    404."""
    fact = suggestions.confirm(
        db,
        actor=actor,
        encounter_id=encounter_id,
        data=data,
        categories=categories,
        data_dir=runtime.settings.data_dir,
    )
    return knowledge.to_out_many(db, [fact], categories)[0]


@router.post(
    "/encounters/{encounter_id}/suggestions/reject",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    summary="Reject a suggestion: it is not a fact",
    responses=responses(401, 403, 404, 422),
)
def reject_suggestion(
    db: Db,
    actor: CurrentActor,
    runtime: RuntimeDep,
    categories: Categories,
    encounter_id: EncounterId,
    data: SuggestionReject,
) -> Response:
    """Remembers that the sentence is not a fact, so it is not proposed again for this customer.
    Rejecting the same suggestion twice is not an error."""
    suggestions.reject(
        db,
        actor=actor,
        encounter_id=encounter_id,
        data=data,
        categories=categories,
        data_dir=runtime.settings.data_dir,
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)
