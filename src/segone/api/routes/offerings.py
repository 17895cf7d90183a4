"""Offerings: the catalogue of what the business sells, by the key events carry in their `offering`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, status

from segone.api.deps import MAX_ID, CurrentActor, Db, RuntimeDep
from segone.api.errors import responses
from segone.personalisation import service as offerings
from segone.personalisation.schemas import (
    KEY_MAX,
    OfferingCreate,
    OfferingDetail,
    OfferingOut,
    OfferingPage,
    OfferingUpdate,
)

router = APIRouter(prefix="/offerings", tags=["offerings"])

OfferingKey = Annotated[
    str, Path(max_length=KEY_MAX, description="The offering's key, e.g. `guitar-lessons-10`.")
]


@router.get("", response_model=OfferingPage, summary="List offerings", responses=responses(401, 403, 422))
def list_offerings(
    db: Db,
    actor: CurrentActor,
    q: str | None = Query(
        default=None, max_length=200, description="Part of a key, name, description or need."
    ),
    include_inactive: bool = Query(default=False, description="Deactivated offerings too."),
    offset: int = Query(default=0, ge=0, le=MAX_ID, description="How many matches to skip."),
    limit: int = Query(default=50, ge=1, le=500, description="How many matches to return."),
) -> OfferingPage:
    """Active offerings by name (all with `include_inactive`) whose key, name, description or needs
    contain `q`, in any case. Anybody who may look up customers may read the catalogue."""
    return offerings.list_offerings(
        db, actor=actor, search=q, active_only=not include_inactive, offset=offset, limit=limit
    )


@router.post(
    "",
    response_model=OfferingOut,
    status_code=status.HTTP_201_CREATED,
    summary="Add an offering",
    responses=responses(401, 403, 409, 422),
)
def create_offering(db: Db, actor: CurrentActor, data: OfferingCreate) -> OfferingOut:
    """A new offering; its key must be new (409 otherwise) and stays as it is: purchase events name it.
    Needs the settings permission (administrators)."""
    return offerings.create(db, actor=actor, data=data)


@router.get(
    "/{key}",
    response_model=OfferingDetail,
    summary="Get an offering and its purchases",
    responses=responses(401, 403, 404, 422),
)
def get_offering(db: Db, actor: CurrentActor, key: OfferingKey, runtime: RuntimeDep) -> OfferingDetail:
    """The offering, deactivated or not, with how many purchase events in the events dataset name it."""
    return offerings.detail(
        db,
        actor=actor,
        key=key,
        data_dir=runtime.settings.data_dir,
        analytics_url=runtime.settings.analytics_url,
    )


@router.patch(
    "/{key}",
    response_model=OfferingOut,
    summary="Change an offering",
    responses=responses(401, 403, 404, 422),
)
def update_offering(db: Db, actor: CurrentActor, key: OfferingKey, data: OfferingUpdate) -> OfferingOut:
    """Only the fields sent change (`price_band: null` clears the band; `needs` and `attributes` replace
    the stored ones); the key never does. Every change is in the audit trail. Needs the settings
    permission (administrators)."""
    return offerings.update(db, actor=actor, key=key, data=data)


@router.delete(
    "/{key}",
    response_model=OfferingOut,
    summary="Deactivate an offering",
    responses=responses(401, 403, 404, 422),
)
def deactivate_offering(db: Db, actor: CurrentActor, key: OfferingKey) -> OfferingOut:
    """No longer offered: left out of the list, kept (and readable) for the purchases that name it; a
    PATCH with `active: true` brings it back. Needs the settings permission (administrators)."""
    return offerings.deactivate(db, actor=actor, key=key)
