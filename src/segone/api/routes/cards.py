"""Report cards: templates, ratings, a period's review, action plans, rating links and the bonus-plan export
(docs/quality.md). A team sees its own cards; analysts and administrators see every card."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, status
from fastapi.responses import StreamingResponse

from segone.api.deps import MAX_ID, CurrentActor, Db, RuntimeDep
from segone.api.errors import responses
from segone.clock import utcnow
from segone.exporting import Format, content_disposition, media_type, stream
from segone.quality import service as quality
from segone.quality.schemas import (
    ActionPlanCreate,
    ActionPlanOut,
    ActionPlanUpdate,
    CardCreate,
    CardList,
    CardOut,
    CardReview,
    CardUpdate,
    EmpathyReport,
    LinkCreate,
    RatingCreate,
    RatingLink,
    RatingOut,
)
from segone.views import exports

router = APIRouter(prefix="/cards", tags=["report cards"])

CardId = Annotated[int, Path(ge=1, le=MAX_ID, description="The report card's id.")]
PlanId = Annotated[int, Path(ge=1, le=MAX_ID, description="The action plan's id.")]
_PERIOD = Query(
    default=None,
    max_length=20,
    description="YYYY-MM (YYYY-Qn for quarterly cards); default: the latest rated.",
)


@router.get("", response_model=CardList, summary="List report cards", responses=responses(401, 403, 422))
def list_cards(
    db: Db,
    actor: CurrentActor,
    team: str | None = Query(
        default=None, max_length=120, description="A team's cards (supplier or customer)."
    ),
    include_inactive: bool = Query(default=False, description="Cards no longer in use too."),
) -> CardList:
    """The cards the caller's team delivers or rates, by name; every card for analysts and administrators."""
    return quality.list_cards(db, actor=actor, team=team, include_inactive=include_inactive)


@router.post(
    "",
    response_model=CardOut,
    status_code=status.HTTP_201_CREATED,
    summary="Set up a report card",
    responses=responses(401, 403, 409, 422),
)
def create_card(db: Db, actor: CurrentActor, data: CardCreate) -> CardOut:
    """A supplier (a team, or null for the company), its customer (a team, or null for external customers
    at a `touch_point`), the deliverables rated 1-5 and the target. Managers set up their own team's
    cards, administrators any; 409 when the pair (and touch point) has a card, or the name is taken."""
    return quality.create(db, actor=actor, data=data)


@router.get(
    "/export",
    response_class=StreamingResponse,
    summary="Export the scores of a period for the bonus plan",
    responses={
        200: {
            "description": "The file, streamed: a row per card and deliverable.",
            "content": {
                media_type(fmt): {"schema": {"type": "string", "format": "binary"}} for fmt in Format
            },
        },
        **responses(401, 403, 422),
    },
)
def export_scores(
    db: Db,
    actor: CurrentActor,
    runtime: RuntimeDep,
    period: str = Query(max_length=20, description="YYYY-MM, or YYYY-Qn for quarterly cards."),
    team: str | None = Query(default=None, max_length=120, description="One supplier team only."),
    format: Format = Query(default=Format.CSV, description="csv (UTF-8, RFC 4180) or parquet."),
) -> StreamingResponse:
    """The scores each team received in the period: `team` (the supplier), `customer`, `touch_point`,
    `card_id`, `card`, `deliverable`, `ratings`, `mean`, `target`, `meets_target`, `shortfall` (why, or
    empty), `card_mean`, and for external cards `nps` and `csat`. Needs the export permission; recorded in
    the audit trail."""
    started = exports.start_card_scores(db, actor=actor, period=period, team=team, fmt=format)
    return StreamingResponse(
        stream(started, format, runtime.session),
        media_type=media_type(format),
        headers={"Content-Disposition": content_disposition(started.name, format, utcnow())},
    )


@router.get(
    "/empathy",
    response_model=EmpathyReport,
    summary="Think customer: predicted vs actual ratings",
    responses=responses(401, 403, 404, 422),
)
def empathy(
    db: Db,
    actor: CurrentActor,
    team: str | None = Query(default=None, max_length=120, description="One team's employees only."),
) -> EmpathyReport:
    """The gap between the rating employees predicted after their encounters and the customer's own (the
    mean of their next external report card rating within 30 days), per month, per employee and per team:
    count, mean gap (predicted - actual) and mean absolute gap. A team sees its own; analysts and
    administrators every team."""
    return quality.empathy(db, actor=actor, team=team)


@router.get(
    "/{card_id}", response_model=CardOut, summary="Get a report card", responses=responses(401, 403, 404, 422)
)
def get_card(db: Db, actor: CurrentActor, card_id: CardId) -> CardOut:
    """The card with its supplier, customer, touch point, target and deliverables (retired ones too, with
    `active` false). 404 for a card of another team: a team sees its own cards."""
    return quality.get(db, actor=actor, card_id=card_id)


@router.patch(
    "/{card_id}",
    response_model=CardOut,
    summary="Change a report card",
    responses=responses(401, 403, 404, 409, 422),
)
def update_card(db: Db, actor: CurrentActor, card_id: CardId, data: CardUpdate) -> CardOut:
    """Only the fields sent change. `deliverables` is the whole list: new names are added, names left out
    are retired (their scores stay in earlier reviews)."""
    return quality.update(db, actor=actor, card_id=card_id, data=data)


@router.delete(
    "/{card_id}",
    response_model=CardOut,
    summary="Deactivate a report card",
    responses=responses(401, 403, 404, 422),
)
def deactivate_card(db: Db, actor: CurrentActor, card_id: CardId) -> CardOut:
    """No longer in use: left out of lists, takes no ratings; its ratings and reviews stay (`PATCH` with
    `active: true` brings it back)."""
    return quality.deactivate(db, actor=actor, card_id=card_id)


@router.post(
    "/{card_id}/ratings",
    response_model=RatingOut,
    status_code=status.HTTP_201_CREATED,
    summary="Rate a report card for a period",
    responses=responses(401, 403, 404, 409, 422),
)
def rate_card(db: Db, actor: CurrentActor, card_id: CardId, data: RatingCreate) -> RatingOut:
    """One rating: `scores` by deliverable name (1-5), and for external cards `nps` (0-10), `csat` (1-5) and
    the `customer`. A rater rates a card once per period (409); a score out of range, an unknown
    deliverable, a future or malformed period are 422 naming the field, and nothing is stored."""
    return quality.rate(db, actor=actor, card_id=card_id, data=data)


@router.get(
    "/{card_id}/review",
    response_model=CardReview,
    summary="Review a report card for a period",
    responses=responses(401, 403, 404, 422),
)
def review_card(db: Db, actor: CurrentActor, card_id: CardId, period: str | None = _PERIOD) -> CardReview:
    """Each deliverable's mean, count, distribution and trend over twelve periods, its shortfall and why
    (below the target, or falling two periods in a row) and action plans; NPS and CSAT for external cards;
    the period's comments; earlier plans followed up."""
    return quality.review(db, actor=actor, card_id=card_id, period=period)


@router.post(
    "/{card_id}/plans",
    response_model=ActionPlanOut,
    status_code=status.HTTP_201_CREATED,
    summary="Add an action plan",
    responses=responses(401, 403, 404, 422),
)
def add_plan(db: Db, actor: CurrentActor, card_id: CardId, data: ActionPlanCreate) -> ActionPlanOut:
    """For a deliverable's shortfall found in a period's review: its owner (an active user's e-mail), due
    date, status and notes. Managers of the card's teams and administrators."""
    return quality.add_plan(db, actor=actor, card_id=card_id, data=data)


@router.patch(
    "/{card_id}/plans/{plan_id}",
    response_model=ActionPlanOut,
    summary="Change an action plan",
    responses=responses(401, 403, 404, 422),
)
def update_plan(
    db: Db, actor: CurrentActor, card_id: CardId, plan_id: PlanId, data: ActionPlanUpdate
) -> ActionPlanOut:
    """Its status (open, in_progress, done), due date, notes or owner; its owner may, and whoever may
    change the card."""
    return quality.update_plan(db, actor=actor, card_id=card_id, plan_id=plan_id, data=data)


@router.post(
    "/{card_id}/links",
    response_model=RatingLink,
    status_code=status.HTTP_201_CREATED,
    summary="Make a rating link for an external customer",
    responses=responses(401, 403, 404, 409, 422),
)
def make_link(
    db: Db, actor: CurrentActor, runtime: RuntimeDep, card_id: CardId, data: LinkCreate
) -> RatingLink:
    """The address (`path`, on this server) of a form on which the customer rates the card for the period,
    without signing in; it works for that customer, card and period only, once, until `valid_until`."""
    return quality.make_link(
        db,
        actor=actor,
        card_id=card_id,
        customer=data.customer,
        period=data.period,
        secret=runtime.settings.resolved_secret_key(),
    )
