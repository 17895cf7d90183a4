"""The differentiation survey and the perception gap (docs/quality.md, "The perception gap")."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, status

from segone.api.deps import MAX_ID, CurrentActor, Db
from segone.api.errors import responses
from segone.quality import service as quality
from segone.quality.schemas import AnswerCreate, AnswerOut, PerceptionGap, SurveyCreate, SurveyOut
from segone.views import perception

router = APIRouter(prefix="/surveys", tags=["report cards"])

SurveyId = Annotated[int, Path(ge=1, le=MAX_ID, description="The survey's id.")]


@router.get("", response_model=list[SurveyOut], summary="List surveys", responses=responses(401, 403))
def list_surveys(db: Db, actor: CurrentActor) -> list[SurveyOut]:
    """Every survey, the newest first."""
    return quality.list_surveys(db, actor=actor)


@router.post(
    "",
    response_model=SurveyOut,
    status_code=status.HTTP_201_CREATED,
    summary="Set up a differentiation survey",
    responses=responses(401, 403, 409, 422),
)
def create_survey(db: Db, actor: CurrentActor, data: SurveyCreate) -> SurveyOut:
    """A name and the question (by default "Is our offering different from the competition in a way that
    matters to you?"), answered 1-5 by executives, front-line staff and customers. Managers and
    administrators."""
    return quality.create_survey(db, actor=actor, data=data)


@router.post(
    "/{survey_id}/answers",
    response_model=AnswerOut,
    status_code=status.HTTP_201_CREATED,
    summary="Answer a survey",
    responses=responses(401, 403, 404, 409, 422),
)
def answer(db: Db, actor: CurrentActor, survey_id: SurveyId, data: AnswerCreate) -> AnswerOut:
    """The caller's answer (agreement 1-5; front-line staff add what makes us different in `statement`);
    with `user` a colleague's or with `customer` a customer's (the import permission). Once per person;
    409 for a second."""
    return quality.answer_survey(db, actor=actor, survey_id=survey_id, data=data)


@router.get(
    "/{survey_id}/gap",
    response_model=PerceptionGap,
    summary="The perception gap",
    responses=responses(401, 403, 404, 422),
)
def gap(db: Db, actor: CurrentActor, survey_id: SurveyId) -> PerceptionGap:
    """Each group's share agreeing (4 or 5) side by side, and the strategy check: the front line's
    statements graded against the strategy on record (TF-IDF similarity, passing at 0.25)."""
    return perception.gap(db, actor=actor, survey_id=survey_id)
