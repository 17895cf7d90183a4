"""About the service itself: the differentiator categories in force, and a health check."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from segone.api.deps import Categories, CurrentActor, get_runtime
from segone.api.errors import responses
from segone.customers.schemas import CustomerKind
from segone.knowledge.categories.schemas import CategoryOut
from segone.knowledge.facts import service as knowledge
from segone.runtime import Runtime
from segone.version import __version__

router = APIRouter(tags=["service"])


class HealthOut(BaseModel):
    status: Literal["ok", "error"]
    version: str
    database: Literal["ok", "unavailable"] = Field(description="Whether the operational store answers.")


@router.get(
    "/categories",
    response_model=list[CategoryOut],
    summary="Differentiator categories",
    responses=responses(401, 403, 422),
)
def list_categories(
    actor: CurrentActor,
    categories: Categories,
    kind: CustomerKind | None = Query(default=None, description="Only those that fit this kind of customer."),
) -> list[CategoryOut]:
    """The categories a differentiator can belong to (configured with `SEGONE_FACT_CATEGORIES`), each
    with the question to ask to learn it. `kind` is `business` (business categories) or `person`
    (consumer categories); categories of kind `both` fit either."""
    return knowledge.list_categories(
        actor=actor, categories=categories, customer_kind=kind.value if kind else None
    )


@router.get(
    "/health",
    response_model=HealthOut,
    summary="Health check",
    responses={503: {"model": HealthOut, "description": "The operational store does not answer."}},
)
def health(runtime: Annotated[Runtime, Depends(get_runtime)]) -> HealthOut | JSONResponse:
    """Whether the service and its database answer; needs no token. 200 when healthy, 503 when the
    database does not answer (`SELECT 1` failed)."""
    try:
        with runtime.engine.connect() as connection:
            connection.execute(text("SELECT 1")).scalar_one()
    except SQLAlchemyError:
        body = HealthOut(status="error", version=__version__, database="unavailable")
        return JSONResponse(body.model_dump(), status_code=503)
    return HealthOut(status="ok", version=__version__, database="ok")
