"""Use cases of the quality domain: report cards, their ratings, a period's review and its action plans,
rating links for external customers, the scores export for the bonus plan, and ("think customer", in
``think``) the ratings employees predict and their gap to the customers' own (docs/quality.md).

Who sees and does what:

- every role sees and rates its own team's cards (``rate_service``): those the team delivers (supplier)
  and those it rates (customer); analysts and administrators see every card;
- managers set up and change their team's cards, add and update action plans and make rating links
  (``manage_report_cards``); administrators any card's; an action plan's owner updates their own plan;
- recording someone else's rating (a colleague's, an external customer's) takes the import permission;
- the export takes the export permission.

A card nobody may see is "not there" (404), as a token of someone else is. Every change has its audit
entry; a rating of an external card is in the customer's history.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from fractions import Fraction
from typing import Any, cast

from sqlalchemy import ColumnElement, Table, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import InstrumentedAttribute, Session

from segone.accounts import service as accounts
from segone.accounts.schemas import Actor, AuditAction, AuditRecord, Member, Permission, Role
from segone.accounts.service import record_audit, record_audits, require
from segone.clock import utcnow
from segone.customers import service as customers
from segone.errors import Conflict, Forbidden, Invalid, NotFound
from segone.exporting import Batch, Column, Export, Kind
from segone.quality import links, measures
from segone.quality.advocacy import advocates as advocates
from segone.quality.measures import Tally
from segone.quality.models import (
    ActionPlan,
    Deliverable,
    Rating,
    RatingPrediction,
    ReportCard,
    Score,
    SurveyAnswer,
)
from segone.quality.periods import Period, PeriodLength, check_not_future, of_day, parse
from segone.quality.schemas import (
    COMPANY,
    COMPANY_WORDS,
    EXTERNAL,
    EXTERNAL_WORDS,
    TREND_PERIODS,
    ActionPlanCreate,
    ActionPlanOut,
    ActionPlanUpdate,
    CardCreate,
    CardKind,
    CardList,
    CardOut,
    CardReview,
    CardUpdate,
    CommentOut,
    CsatOut,
    DeliverableOut,
    DeliverableReview,
    FollowUp,
    LinkForm,
    NpsOut,
    PersonOut,
    PlanStatus,
    RateForm,
    RatingAnswers,
    RatingCreate,
    RatingLink,
    RatingOut,
    ShortfallOut,
)
from segone.quality.surveys import answer_survey as answer_survey
from segone.quality.surveys import create_survey as create_survey
from segone.quality.surveys import gap as gap
from segone.quality.surveys import import_answers as import_answers
from segone.quality.surveys import list_surveys as list_surveys
from segone.quality.surveys import record_answers as record_answers
from segone.quality.surveys import resolve_survey as resolve_survey
from segone.quality.think import empathy as empathy
from segone.quality.think import move_predictions_to as move_predictions_to
from segone.quality.think import prediction as prediction
from segone.quality.think import predictions_of as predictions_of
from segone.quality.think import record_prediction as record_prediction
from segone.storage import bulk
from segone.storage.batching import chunks
from segone.storage.subject import Rows, delete_about, ids_of, ids_where, rows_about

READ = Permission.RATE_SERVICE
MANAGE = Permission.MANAGE_REPORT_CARDS
ON_BEHALF = Permission.IMPORT_DATA
MAX_COMMENTS = 100
FORM_PERIODS = 3
LINK_ACTOR = "rating link"
WRITE_BATCH = 10_000
_RATINGS = cast(Table, Rating.__table__)
_SCORES = cast(Table, Score.__table__)


class Refused(ValueError):
    """A rating's value that cannot be stored, and the field it is in: the service answers it as a 422
    naming the field, the import as a problem of the row's column."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def _today() -> date:
    return utcnow().date()


# --- who sees what ------------------------------------------------------------------------------------


def _team_of(db: Session, actor: Actor) -> int | None:
    if actor.user_id is None:
        return None
    return accounts.member(db, user_id=actor.user_id).team_id


def sees_all(actor: Actor) -> bool:
    """Analysts and administrators (and the operator at the command line) see every card."""
    return actor.can(Permission.RUN_ANALYTICS)


def _visible(card: ReportCard, actor: Actor, team_id: int | None) -> bool:
    return sees_all(actor) or (
        team_id is not None and team_id in (card.supplier_team_id, card.customer_team_id)
    )


def _card(db: Session, actor: Actor, card_id: int) -> ReportCard:
    require(actor, READ)
    card = db.get(ReportCard, card_id)
    if card is None or not _visible(card, actor, _team_of(db, actor)):
        raise NotFound(f"There is no report card {card_id}.")
    return card


def _managed(db: Session, actor: Actor, card_id: int) -> ReportCard:
    require(actor, MANAGE)
    card = _card(db, actor, card_id)
    if not actor.can(Permission.MANAGE_SETTINGS) and _team_of(db, actor) not in (
        card.supplier_team_id,
        card.customer_team_id,
    ):
        raise Forbidden(f"You may change the report cards of your own team only; '{card.name}' is not one.")
    return card


# --- cards --------------------------------------------------------------------------------------------


def kind_of(card: ReportCard) -> CardKind:
    return CardKind.EXTERNAL if card.customer_team_id is None else CardKind.INTERNAL


def _deliverables_of(db: Session, card_ids: Sequence[int]) -> dict[int, list[Deliverable]]:
    found: dict[int, list[Deliverable]] = {card_id: [] for card_id in card_ids}
    if card_ids:
        query = select(Deliverable).where(Deliverable.card_id.in_(card_ids)).order_by(Deliverable.position)
        for deliverable in db.scalars(query):
            found[deliverable.card_id].append(deliverable)
    return found


def current_deliverables(db: Session, card: ReportCard) -> list[Deliverable]:
    """The deliverables on the card now, in their order."""
    return [d for d in _deliverables_of(db, [card.id])[card.id] if d.active]


def _out(card: ReportCard, deliverables: list[Deliverable], teams: Mapping[int, str]) -> CardOut:
    return CardOut(
        id=card.id,
        name=card.name,
        kind=kind_of(card),
        supplier_team_id=card.supplier_team_id,
        supplier=teams.get(card.supplier_team_id, COMPANY) if card.supplier_team_id else COMPANY,
        customer_team_id=card.customer_team_id,
        customer=teams.get(card.customer_team_id, EXTERNAL) if card.customer_team_id else EXTERNAL,
        touch_point=card.touch_point,
        target=float(card.target),
        period_length=PeriodLength(card.period_length),
        active=card.active,
        deliverables=[
            DeliverableOut(id=d.id, name=d.name, position=d.position, active=d.active) for d in deliverables
        ],
        created_at=card.created_at,
        updated_at=card.updated_at,
    )


def _card_out(db: Session, card: ReportCard) -> CardOut:
    return _out(card, _deliverables_of(db, [card.id])[card.id], accounts.teams(db))


def get(db: Session, *, actor: Actor, card_id: int) -> CardOut:
    return _card_out(db, _card(db, actor, card_id))


def resolve(db: Session, *, actor: Actor, reference: str) -> CardOut:
    """A card named by its id (``3``) or its name (without case)."""
    reference = " ".join(reference.split())
    if reference.isascii() and reference.isdigit() and len(reference) < 10:
        return get(db, actor=actor, card_id=int(reference))
    require(actor, READ)
    card = db.scalars(select(ReportCard).where(func.lower(ReportCard.name) == reference.lower())).first()
    if card is None or not _visible(card, actor, _team_of(db, actor)):
        raise NotFound(f"There is no report card '{reference}'.")
    return _card_out(db, card)


def list_cards(
    db: Session, *, actor: Actor, team: str | None = None, include_inactive: bool = False
) -> CardList:
    """The cards the caller sees, by name: their team's (as supplier or customer), or every card for
    analysts and administrators; ``team`` keeps a team's cards only (as supplier or customer)."""
    require(actor, READ)
    team_id = _team_of(db, actor)
    teams = accounts.teams(db)
    stmt = select(ReportCard)
    if not sees_all(actor):
        if team_id is None:
            return CardList(items=[], team_id=None, team=None, sees_all=False)
        stmt = stmt.where(or_(ReportCard.supplier_team_id == team_id, ReportCard.customer_team_id == team_id))
    if team is not None:
        wanted = _team_id(db, team, field="team")
        stmt = stmt.where(or_(ReportCard.supplier_team_id == wanted, ReportCard.customer_team_id == wanted))
    if not include_inactive:
        stmt = stmt.where(ReportCard.active.is_(True))
    cards = list(db.scalars(stmt.order_by(func.lower(ReportCard.name), ReportCard.id)))
    deliverables = _deliverables_of(db, [card.id for card in cards])
    return CardList(
        items=[_out(card, deliverables[card.id], teams) for card in cards],
        team_id=team_id,
        team=teams.get(team_id) if team_id else None,
        sees_all=sees_all(actor),
    )


def _team_id(db: Session, name: str, *, field: str) -> int:
    try:
        return accounts.team_named(db, name=name)
    except NotFound as exc:
        raise Invalid.of_field(field, exc.message) from exc


def _is(column: InstrumentedAttribute[Any], value: Any) -> ColumnElement[bool]:
    return column.is_(None) if value is None else column == value


def default_name(supplier: str, customer: str, touch_point: str | None) -> str:
    """``Marketing for Sales``; ``Store York for customers: store``; ``Our company for customers: web``."""
    supplier = supplier[:1].upper() + supplier[1:]
    if touch_point is None:
        return f"{supplier} for {customer}"
    return f"{supplier} for customers: {touch_point}"


def team_or_word(text: str | None, *, supplier: bool) -> str | None:
    """A team's name as the command line and files give it, or None for the company (``company``) as
    supplier and for external customers (``customers``, ``external``) as customer."""
    if text is None:
        return None
    words = COMPANY_WORDS if supplier else EXTERNAL_WORDS
    cleaned = " ".join(text.split())
    return None if not cleaned or cleaned.lower() in words else cleaned


def create(db: Session, *, actor: Actor, data: CardCreate) -> CardOut:
    """A new card; managers set up their own team's (as supplier or customer), administrators any."""
    require(actor, MANAGE)
    supplier_id = _team_id(db, data.supplier_team, field="supplier_team") if data.supplier_team else None
    customer_id = _team_id(db, data.customer_team, field="customer_team") if data.customer_team else None
    if not actor.can(Permission.MANAGE_SETTINGS):
        own = _team_of(db, actor)
        if own is None or own not in (supplier_id, customer_id):
            raise Forbidden(
                "Managers set up the report cards of their own team (as supplier or as customer); this card "
                "names neither."
            )
    same = db.scalars(
        select(ReportCard).where(
            _is(ReportCard.supplier_team_id, supplier_id),
            _is(ReportCard.customer_team_id, customer_id),
            _is(ReportCard.touch_point, data.touch_point),
        )
    ).first()
    if same is not None:
        raise Conflict(f"'{same.name}' (card {same.id}) is the card of this pair already; change it instead.")
    teams = accounts.teams(db)
    supplier = teams[supplier_id] if supplier_id else COMPANY
    customer = teams[customer_id] if customer_id else EXTERNAL
    name = data.name or default_name(supplier, customer, data.touch_point)
    _check_name_free(db, name)
    now = utcnow()
    card = ReportCard(
        name=name,
        supplier_team_id=supplier_id,
        customer_team_id=customer_id,
        touch_point=data.touch_point,
        target=Decimal(str(data.target)),
        period_length=data.period_length.value,
        active=True,
        created_by_id=actor.user_id,
        created_at=now,
        updated_at=now,
    )
    db.add(card)
    db.flush()
    db.add_all(
        Deliverable(card_id=card.id, position=position, name=name, active=True)
        for position, name in enumerate(data.deliverables)
    )
    db.flush()
    record_audit(
        db,
        actor=actor,
        action=AuditAction.REPORT_CARD_CREATED,
        summary=f"Report card '{card.name}' set up: {len(data.deliverables)} deliverables, target "
        f"{measures.shown(card.target)}",
        details={"card_id": card.id, "deliverables": data.deliverables, "target": float(card.target)},
    )
    return _card_out(db, card)


def _check_name_free(db: Session, name: str, *, besides: int | None = None) -> None:
    taken = db.scalars(select(ReportCard).where(func.lower(ReportCard.name) == name.lower())).first()
    if taken is not None and taken.id != besides:
        raise Conflict(f"There is a report card named '{taken.name}' already (card {taken.id}).")


def update(db: Session, *, actor: Actor, card_id: int, data: CardUpdate) -> CardOut:
    """Change the fields sent; deliverables left out of a new list are retired, not deleted."""
    card = _managed(db, actor, card_id)
    changes: dict[str, Any] = {}
    if data.name is not None and data.name != card.name:
        _check_name_free(db, data.name, besides=card.id)
        changes["name"] = {"from": card.name, "to": data.name}
        card.name = data.name
    if data.target is not None and Decimal(str(data.target)) != card.target:
        changes["target"] = {"from": float(card.target), "to": data.target}
        card.target = Decimal(str(data.target))
    if data.active is not None and data.active != card.active:
        changes["active"] = {"from": card.active, "to": data.active}
        card.active = data.active
    if data.deliverables is not None:
        changes.update(_set_deliverables(db, card, data.deliverables))
    if changes:
        card.updated_at = utcnow()
        db.flush()
        record_audit(
            db,
            actor=actor,
            action=AuditAction.REPORT_CARD_UPDATED,
            summary=f"Report card '{card.name}' changed: " + ", ".join(changes),
            details={"card_id": card.id, **changes},
        )
    return _card_out(db, card)


def _set_deliverables(db: Session, card: ReportCard, names: list[str]) -> dict[str, Any]:
    stored = {d.name.lower(): d for d in _deliverables_of(db, [card.id])[card.id]}
    before = [d.name for d in sorted(stored.values(), key=lambda d: d.position) if d.active]
    wanted = {name.lower() for name in names}
    for position, name in enumerate(names):
        found = stored.get(name.lower())
        if found is None:
            db.add(Deliverable(card_id=card.id, position=position, name=name, active=True))
        else:
            found.name, found.position, found.active = name, position, True
    retired = [d for d in stored.values() if d.name.lower() not in wanted]
    for offset, deliverable in enumerate(sorted(retired, key=lambda d: d.position)):
        deliverable.active = False
        deliverable.position = len(names) + offset
    db.flush()
    return {} if before == names else {"deliverables": {"from": before, "to": names}}


def deactivate(db: Session, *, actor: Actor, card_id: int) -> CardOut:
    """No longer in use: left out of lists, takes no ratings; its ratings and reviews stay."""
    return update(db, actor=actor, card_id=card_id, data=CardUpdate(active=False))


# --- ratings ------------------------------------------------------------------------------------------


def check_period(card: ReportCard, text: str, today: date) -> Period:
    """The period a rating or plan names, in the card's period length, and not a future one."""
    try:
        return check_not_future(parse(text, PeriodLength(card.period_length)), today)
    except ValueError as exc:
        raise Refused("period", str(exc)) from exc


def deliverable_scores(deliverables: Sequence[Deliverable], scores: Mapping[str, int]) -> dict[int, int]:
    """The scores by deliverable id; Refused for a name the card does not have (now)."""
    current = {d.name.lower(): d for d in deliverables if d.active}
    found: dict[int, int] = {}
    for name, score in scores.items():
        deliverable = current.get(" ".join(name.split()).lower())
        if deliverable is None:
            names = ", ".join(f"'{d.name}'" for d in deliverables if d.active)
            raise Refused("scores", f"the card has no deliverable '{name}'; its deliverables are {names}")
        if not 1 <= score <= 5:
            raise Refused("scores", f"the score of '{deliverable.name}' is {score}; a score is 1 to 5")
        found[deliverable.id] = score
    return found


def check_questions(card: ReportCard, nps: int | None, csat: int | None) -> None:
    if card.customer_team_id is None:
        return
    for field, answer in (("nps", nps), ("csat", csat)):
        if answer is not None:
            raise Refused(
                field,
                f"'{card.name}' is an internal card: it asks no {field.upper()} question (external cards do)",
            )


def check_rater(card: ReportCard, member: Member, teams: Mapping[int, str]) -> None:
    """An internal card's rater: an active member of its customer team."""
    team = teams.get(card.customer_team_id or 0, "its customer team")
    if not member.active:
        raise Refused("rater", f"{member.email} is deactivated; active members of {team} rate this card")
    if member.team_id != card.customer_team_id:
        where = f"in {member.team}" if member.team else "in no team"
        raise Refused("rater", f"{member.email} is {where}; members of {team} rate '{card.name}'")


@dataclass(frozen=True)
class Rater:
    user_id: int | None
    customer_id: int | None
    name: str


def rater_reference(kind: CardKind, text: str) -> tuple[str | None, str | None]:
    """(rater, customer) of a rating named by one word, as the command line and files name raters: an
    internal card's rater is a user's e-mail; an external card's a customer's id or identity, where a bare
    e-mail address stands for the identity ``email:<address>``."""
    text = text.strip()
    if kind is CardKind.INTERNAL:
        return text, None
    if "@" in text and ":" not in text:
        return None, f"email:{text}"
    return None, text


def _rater(db: Session, actor: Actor, card: ReportCard, data: RatingCreate) -> Rater:
    teams = accounts.teams(db)
    if card.customer_team_id is not None:
        team = teams.get(card.customer_team_id, "its customer team")
        if data.customer:
            raise Invalid.of_field(
                "customer", f"'{card.name}' is an internal card: members of {team} rate it, not customers"
            )
        email = data.rater or (actor.email if actor.user_id is not None else None)
        if not email:
            raise Invalid.of_field("rater", f"Name the member of {team} who rates '{card.name}'.")
        if email.strip().lower() != actor.email.lower():
            require(actor, ON_BEHALF)
        try:
            member = accounts.member_by_email(db, email=email)
        except NotFound as exc:
            raise Invalid.of_field("rater", exc.message) from exc
        try:
            check_rater(card, member, teams)
        except Refused as exc:
            raise Invalid.of_field(exc.field, str(exc)) from exc
        return Rater(member.id, None, member.name)
    if data.rater:
        raise Invalid.of_field(
            "rater", f"'{card.name}' is an external card: customers rate it; name the customer"
        )
    if not data.customer:
        raise Invalid.of_field(
            "customer",
            f"Name the customer who rates '{card.name}' (an id or identity), or send them a rating link.",
        )
    require(actor, ON_BEHALF)
    try:
        customer = customers.resolve(db, actor=actor, reference=data.customer)
    except NotFound as exc:
        raise Invalid.of_field("customer", exc.message) from exc
    return Rater(None, customer.id, customer.name)


@dataclass(frozen=True)
class Prepared:
    """A rating checked and ready to store."""

    card_id: int
    period: str
    rater: Rater
    scores: dict[int, int]
    nps: int | None
    csat: int | None
    comment: str


@dataclass(frozen=True)
class Given:
    """A rating stored already: its id and when it was given."""

    id: int
    created_at: datetime


RaterKey = tuple[int | None, int | None]
"""(user id, customer id) of a rater: one of the two is None."""


def ratings_of_period(db: Session, card_id: int, period: str) -> dict[RaterKey, Given]:
    """The ratings of a card's period by rater, in one query (the import checks a file's rows with it)."""
    rows = db.execute(
        select(Rating.rater_user_id, Rating.rater_customer_id, Rating.id, Rating.created_at).where(
            Rating.card_id == card_id, Rating.period == period
        )
    )
    return {(user, customer): Given(rating, at) for user, customer, rating, at in rows}


def prepare(
    db: Session,
    card: ReportCard,
    period: str,
    rater: Rater,
    answers: RatingAnswers,
    today: date,
    *,
    deliverables: Sequence[Deliverable] | None = None,
    given: Mapping[RaterKey, Given] | None = None,
) -> Prepared:
    """Every check of a rating but the rater's: the card in use, the period, the deliverables and the
    questions, and that the rater has not rated the card for the period yet. Raises Refused or Conflict.

    ``deliverables`` (the card's) and ``given`` (``ratings_of_period`` of the period) spare the queries
    when many ratings of a card are checked."""
    if not card.active:
        raise Conflict(f"'{card.name}' is no longer in use; it takes no ratings.")
    checked = check_period(card, period, today)
    found = deliverables if deliverables is not None else _deliverables_of(db, [card.id])[card.id]
    scores = deliverable_scores(found, answers.scores)
    check_questions(card, answers.nps, answers.csat)
    key = (rater.user_id, rater.customer_id)
    earlier = (given if given is not None else ratings_of_period(db, card.id, str(checked))).get(key)
    if earlier is not None:
        raise Conflict(
            f"{rater.name} rated '{card.name}' for {checked} already, on {earlier.created_at:%d %b %Y}; "
            "a rater rates a card once per period.",
            details={"rating_id": earlier.id},
        )
    return Prepared(card.id, str(checked), rater, scores, answers.nps, answers.csat, answers.comment)


def _earlier_rating(db: Session, card_id: int, period: str, rater: Rater) -> Rating | None:
    stmt = select(Rating).where(Rating.card_id == card_id, Rating.period == period)
    if rater.user_id is not None:
        stmt = stmt.where(Rating.rater_user_id == rater.user_id)
    else:
        stmt = stmt.where(Rating.rater_customer_id == rater.customer_id)
    return db.scalars(stmt).first()


def rate(db: Session, *, actor: Actor, card_id: int, data: RatingCreate, source: str = "api") -> RatingOut:
    """One rater's rating of a card for a period: nothing is stored unless every part of it is right."""
    card = _card(db, actor, card_id)
    rater = _rater(db, actor, card, data)
    try:
        prepared = prepare(db, card, data.period, rater, data, _today())
    except Refused as exc:
        raise Invalid.of_field(exc.field, str(exc)) from exc
    return _store(db, actor, card, prepared, source)


def _store(db: Session, actor: Actor, card: ReportCard, prepared: Prepared, source: str) -> RatingOut:
    rating_id = store_ratings(db, actor, [prepared], source, names={card.id: card.name})[0]
    rating = db.get(Rating, rating_id)
    assert rating is not None
    return _rating_out(db, rating)


def store_ratings(
    db: Session,
    actor: Actor,
    ratings: Sequence[Prepared],
    source: str,
    *,
    names: Mapping[int, str],
) -> list[int]:
    """Write checked ratings with their scores and audit entries in bulk inserts; returns the ratings'
    ids. Conflict when a rater's rating of the same card and period was saved meanwhile (then nothing of
    these is written)."""
    now = utcnow()
    ids: list[int] = []
    try:
        with db.begin_nested():
            connection = db.connection()
            for chunk in chunks(ratings, WRITE_BATCH):
                made = bulk.insert_returning_ids(
                    connection,
                    _RATINGS,
                    [
                        {
                            "card_id": p.card_id,
                            "period": p.period,
                            "rater_user_id": p.rater.user_id,
                            "rater_customer_id": p.rater.customer_id,
                            "nps": p.nps,
                            "csat": p.csat,
                            "comment": p.comment,
                            "source": source,
                            "recorded_by_id": actor.user_id,
                            "created_at": now,
                        }
                        for p in chunk
                    ],
                )
                bulk.insert_rows(
                    connection,
                    _SCORES,
                    [
                        {"rating_id": rating_id, "deliverable_id": deliverable_id, "score": score}
                        for rating_id, p in zip(made, chunk, strict=True)
                        for deliverable_id, score in p.scores.items()
                    ],
                )
                ids.extend(made)
    except IntegrityError as exc:
        raise Conflict(
            "A rating of the same card, period and rater was saved meanwhile; nothing was stored. Try again."
        ) from exc
    record_audits(
        db,
        [
            AuditRecord.by(
                actor,
                AuditAction.REPORT_CARD_RATED,
                f"{p.rater.name} rated '{names[p.card_id]}' for {p.period}"
                + (f" (source: {source})" if source != "form" else ""),
                customer_id=p.rater.customer_id,
                details={"card_id": p.card_id, "rating_id": rating_id, "period": p.period, "source": source},
                at=now,
            )
            for rating_id, p in zip(ids, ratings, strict=True)
        ],
    )
    return ids


def _rating_out(db: Session, rating: Rating) -> RatingOut:
    names = {d.id: d.name for d in _deliverables_of(db, [rating.card_id])[rating.card_id]}
    scores = db.execute(select(Score.deliverable_id, Score.score).where(Score.rating_id == rating.id)).all()
    return RatingOut(
        id=rating.id,
        card_id=rating.card_id,
        period=rating.period,
        rater_user_id=rating.rater_user_id,
        rater_customer_id=rating.rater_customer_id,
        rater=_rater_names(db, [rating])[rating.id],
        scores={names[d]: s for d, s in sorted(scores, key=lambda pair: list(names).index(pair[0]))},
        nps=rating.nps,
        csat=rating.csat,
        comment=rating.comment,
        source=rating.source,
        created_at=rating.created_at,
    )


def _rater_names(db: Session, ratings: Sequence[Rating]) -> dict[int, str]:
    people = accounts.people_by_id(db, (r.rater_user_id for r in ratings))
    names = customers.names_by_id(db, (r.rater_customer_id for r in ratings if r.rater_customer_id))
    found: dict[int, str] = {}
    for r in ratings:
        if r.rater_user_id is not None:
            person = people.get(r.rater_user_id)
            found[r.id] = person.name if person else f"user {r.rater_user_id}"
        else:
            found[r.id] = names.get(r.rater_customer_id or 0, f"customer {r.rater_customer_id}")
    return found


def rate_form(db: Session, *, actor: Actor, card_id: int, period: str | None = None) -> RateForm:
    """The rater's form: the card, the period (the current one by default), whether the caller may rate it
    (a member of an internal card's customer team) and their rating of the period if they gave one."""
    card = _card(db, actor, card_id)
    out = _card_out(db, card)
    today = _today()
    length = PeriodLength(card.period_length)
    current = of_day(today, length)
    try:
        chosen = check_period(card, period, today) if period else current
    except Refused as exc:
        raise Invalid.of_field("period", str(exc)) from exc
    why_not: str | None = None
    rated: Rating | None = None
    if not card.active:
        why_not = "This card is no longer in use."
    elif card.customer_team_id is None:
        why_not = "Customers rate this card, through the rating link sent to each of them."
    elif actor.user_id is None:
        why_not = f"Members of {out.customer} rate this card."
    else:
        member = accounts.member(db, user_id=actor.user_id)
        if member.team_id != card.customer_team_id:
            why_not = f"Members of {out.customer} rate this card."
        else:
            rated = _earlier_rating(db, card.id, str(chosen), Rater(member.id, None, member.name))
    return RateForm(
        card=out,
        period=str(chosen),
        period_label=chosen.label,
        periods=[str(p) for p in reversed(current.last(FORM_PERIODS))],
        can_rate=why_not is None and rated is None,
        why_not=why_not,
        rated=_rating_out(db, rated) if rated is not None else None,
    )


# --- the review ---------------------------------------------------------------------------------------


def _tallies(db: Session, card_ids: Sequence[int], periods: Sequence[str]) -> dict[tuple[int, str], Tally]:
    """How many raters gave each score, per deliverable and period: one grouped query."""
    counts: dict[tuple[int, str], dict[int, int]] = defaultdict(dict)
    if card_ids and periods:
        query = (
            select(Score.deliverable_id, Rating.period, Score.score, func.count())
            .join(Rating, Rating.id == Score.rating_id)
            .where(Rating.card_id.in_(card_ids), Rating.period.in_(periods))
            .group_by(Score.deliverable_id, Rating.period, Score.score)
        )
        for deliverable_id, period, score, n in db.execute(query):
            counts[(deliverable_id, period)][score] = n
    return {key: Tally.of(by_score) for key, by_score in counts.items()}


def _answers(
    db: Session, column: InstrumentedAttribute[Any], card_ids: Sequence[int], periods: Sequence[str]
) -> dict[tuple[int, str], dict[int, int]]:
    """How many raters gave each answer to the NPS or CSAT question, per card and period."""
    found: dict[tuple[int, str], dict[int, int]] = defaultdict(dict)
    if card_ids and periods:
        query = (
            select(Rating.card_id, Rating.period, column, func.count())
            .where(Rating.card_id.in_(card_ids), Rating.period.in_(periods), column.is_not(None))
            .group_by(Rating.card_id, Rating.period, column)
        )
        for card_id, period, answer, n in db.execute(query):
            found[(card_id, period)][answer] = n
    return found


def _review_period(db: Session, card: ReportCard, period: str | None) -> Period:
    """The period asked for, or the latest one rated, or (before any rating) the current one."""
    today = _today()
    if period:
        try:
            return check_period(card, period, today)
        except Refused as exc:
            raise Invalid.of_field("period", str(exc)) from exc
    latest = db.scalar(select(func.max(Rating.period)).where(Rating.card_id == card.id))
    length = PeriodLength(card.period_length)
    return parse(latest, length) if latest else of_day(today, length)


def _shortfall(
    target: Decimal, names: Sequence[str], means: Sequence[Fraction | None]
) -> ShortfallOut | None:
    found = measures.shortfall(Fraction(target), list(zip(names[-3:], means[-3:], strict=True)))
    return None if found is None else ShortfallOut(reasons=list(found.reasons), why=found.why)


def _distribution(counts: Sequence[int]) -> dict[str, int]:
    return {str(score): n for score, n in zip(measures.SCORES, counts, strict=True)}


def review(db: Session, *, actor: Actor, card_id: int, period: str | None = None) -> CardReview:
    """A card's review for a period (default: the latest rated): each deliverable's mean, count,
    distribution and trend over the twelve periods ending with it, its shortfall and action plans; NPS and
    CSAT for external cards; the period's comments; earlier plans followed up (docs/quality.md)."""
    card = _card(db, actor, card_id)
    out = _card_out(db, card)
    reviewed = _review_period(db, card, period)
    window = reviewed.last(TREND_PERIODS)
    names = [str(p) for p in window]
    now_name = names[-1]
    tallies = _tallies(db, [card.id], names)
    plans = _plans(db, card.id, period=now_name)
    rows: list[DeliverableReview] = []
    overall = Tally()
    for d in out.deliverables:
        series = [tallies.get((d.id, name), Tally()) for name in names]
        if not d.active and not any(t.count for t in series):
            continue
        means = [t.mean for t in series]
        current = series[-1]
        overall = overall + current
        rows.append(
            DeliverableReview(
                id=d.id,
                name=d.name,
                active=d.active,
                mean=measures.as_float(current.mean),
                count=current.count,
                distribution=_distribution(current.counts),
                trend=[measures.as_float(m) for m in means],
                counts=[t.count for t in series],
                shortfall=_shortfall(card.target, names, means),
                plans=[p for p in plans if p.deliverable_id == d.id],
            )
        )
    nps_out: NpsOut | None = None
    csat_out: CsatOut | None = None
    if card.customer_team_id is None:
        nps_by = _answers(db, Rating.nps, [card.id], names)
        csat_by = _answers(db, Rating.csat, [card.id], names)
        now_nps = measures.nps(nps_by.get((card.id, now_name), {}))
        now_csat = measures.csat(csat_by.get((card.id, now_name), {}))
        nps_out = NpsOut(
            score=measures.as_float(now_nps.score),
            answers=now_nps.answers,
            promoters=now_nps.promoters,
            passives=now_nps.passives,
            detractors=now_nps.detractors,
            trend=[measures.as_float(measures.nps(nps_by.get((card.id, n), {})).score) for n in names],
        )
        csat_counts = csat_by.get((card.id, now_name), {})
        csat_out = CsatOut(
            mean=measures.as_float(now_csat.mean),
            share=measures.as_float(now_csat.share),
            answers=now_csat.answers,
            satisfied=now_csat.satisfied,
            distribution=_distribution([csat_counts.get(score, 0) for score in measures.SCORES]),
            trend=[measures.as_float(measures.csat(csat_by.get((card.id, n), {})).mean) for n in names],
        )
    raters = int(
        db.scalar(
            select(func.count())
            .select_from(Rating)
            .where(Rating.card_id == card.id, Rating.period == now_name)
        )
        or 0
    )
    comments, total = _comments(db, card.id, now_name)
    return CardReview(
        card=out,
        period=now_name,
        period_label=reviewed.label,
        periods=names,
        raters=raters,
        mean=measures.as_float(overall.mean),
        scores=overall.count,
        deliverables=rows,
        shortfalls=sum(1 for row in rows if row.shortfall is not None),
        nps=nps_out,
        csat=csat_out,
        comments=comments,
        comments_total=total,
        follow_up=_follow_up(db, card, reviewed),
    )


def _comments(db: Session, card_id: int, period: str) -> tuple[list[CommentOut], int]:
    where = (Rating.card_id == card_id, Rating.period == period, Rating.comment != "")
    total = int(db.scalar(select(func.count()).select_from(Rating).where(*where)) or 0)
    ratings = list(
        db.scalars(
            select(Rating)
            .where(*where)
            .order_by(Rating.created_at.desc(), Rating.id.desc())
            .limit(MAX_COMMENTS)
        )
    )
    names = _rater_names(db, ratings)
    return [CommentOut(rater=names[r.id], text=r.comment, created_at=r.created_at) for r in ratings], total


def _plan_out(plan: ActionPlan, deliverables: Mapping[int, str], people: Mapping[int, Any]) -> ActionPlanOut:
    owner = people.get(plan.owner_id)
    return ActionPlanOut(
        id=plan.id,
        card_id=plan.card_id,
        deliverable_id=plan.deliverable_id,
        deliverable=deliverables.get(plan.deliverable_id, ""),
        period=plan.period,
        owner=PersonOut(
            id=plan.owner_id,
            name=owner.name if owner else f"user {plan.owner_id}",
            email=owner.email if owner else "",
        ),
        due=plan.due,
        status=PlanStatus(plan.status),
        notes=plan.notes,
        overdue=plan.status != PlanStatus.DONE.value and plan.due < _today(),
        created_at=plan.created_at,
        updated_at=plan.updated_at,
    )


def _plan_outs(db: Session, card_id: int, plans: Sequence[ActionPlan]) -> list[ActionPlanOut]:
    deliverables = {d.id: d.name for d in _deliverables_of(db, [card_id])[card_id]}
    people = accounts.people_by_id(db, (p.owner_id for p in plans))
    return [_plan_out(plan, deliverables, people) for plan in plans]


def _plans(db: Session, card_id: int, *, period: str) -> list[ActionPlanOut]:
    plans = list(
        db.scalars(
            select(ActionPlan)
            .where(ActionPlan.card_id == card_id, ActionPlan.period == period)
            .order_by(ActionPlan.due, ActionPlan.id)
        )
    )
    return _plan_outs(db, card_id, plans)


def _follow_up(db: Session, card: ReportCard, reviewed: Period) -> list[FollowUp]:
    """The plans of the review before this one, whatever their status, and every earlier plan not done."""
    before = str(reviewed.previous())
    plans = list(
        db.scalars(
            select(ActionPlan)
            .where(
                ActionPlan.card_id == card.id,
                ActionPlan.period < str(reviewed),
                or_(ActionPlan.period == before, ActionPlan.status != PlanStatus.DONE.value),
            )
            .order_by(ActionPlan.period.desc(), ActionPlan.due, ActionPlan.id)
        )
    )
    if not plans:
        return []
    tallies = _tallies(db, [card.id], sorted({p.period for p in plans} | {str(reviewed)}))
    return [
        FollowUp(
            **out.model_dump(),
            mean_then=measures.as_float(tallies.get((plan.deliverable_id, plan.period), Tally()).mean),
            mean_now=measures.as_float(tallies.get((plan.deliverable_id, str(reviewed)), Tally()).mean),
        )
        for plan, out in zip(plans, _plan_outs(db, card.id, plans), strict=True)
    ]


# --- action plans -------------------------------------------------------------------------------------


def _owner(db: Session, email: str) -> Member:
    try:
        owner = accounts.member_by_email(db, email=email)
    except NotFound as exc:
        raise Invalid.of_field("owner", exc.message) from exc
    if not owner.active:
        raise Invalid.of_field(
            "owner", f"{owner.email} is deactivated; an action plan needs an active owner."
        )
    return owner


def add_plan(db: Session, *, actor: Actor, card_id: int, data: ActionPlanCreate) -> ActionPlanOut:
    """An action plan for a deliverable's shortfall found in a period's review."""
    card = _managed(db, actor, card_id)
    wanted = " ".join(data.deliverable.split()).lower()
    deliverable = next(
        (d for d in _deliverables_of(db, [card.id])[card.id] if d.name.lower() == wanted), None
    )
    if deliverable is None:
        raise Invalid.of_field("deliverable", f"'{card.name}' has no deliverable '{data.deliverable}'.")
    try:
        period = check_period(card, data.period, _today())
    except Refused as exc:
        raise Invalid.of_field("period", str(exc)) from exc
    owner = _owner(db, data.owner)
    if data.due < _today():
        raise Invalid.of_field("due", f"The due date {data.due.isoformat()} is in the past.")
    now = utcnow()
    plan = ActionPlan(
        card_id=card.id,
        deliverable_id=deliverable.id,
        period=str(period),
        owner_id=owner.id,
        due=data.due,
        status=data.status.value,
        notes=data.notes.strip(),
        created_by_id=actor.user_id,
        created_at=now,
        updated_at=now,
    )
    db.add(plan)
    db.flush()
    record_audit(
        db,
        actor=actor,
        action=AuditAction.ACTION_PLAN_ADDED,
        summary=f"Action plan for '{deliverable.name}' of '{card.name}' ({period}): {owner.name}, due "
        f"{data.due.isoformat()}",
        details={"card_id": card.id, "plan_id": plan.id, "period": str(period)},
    )
    return _plan_outs(db, card.id, [plan])[0]


def update_plan(
    db: Session, *, actor: Actor, card_id: int | None, plan_id: int, data: ActionPlanUpdate
) -> ActionPlanOut:
    """Change the fields sent: its owner may, and whoever may change the card. ``card_id`` None: the
    plan's own card (the command line names a plan by its id alone)."""
    plan = db.get(ActionPlan, plan_id)
    if card_id is None:
        if plan is None:
            require(actor, READ)
            raise NotFound(f"There is no action plan {plan_id}.")
        card_id = plan.card_id
    card = _card(db, actor, card_id)
    if plan is None or plan.card_id != card.id:
        raise NotFound(f"Report card {card_id} has no action plan {plan_id}.")
    if actor.user_id is None or actor.user_id != plan.owner_id:
        _managed(db, actor, card_id)
    changes: dict[str, Any] = {}
    if data.status is not None and data.status.value != plan.status:
        changes["status"] = {"from": plan.status, "to": data.status.value}
        plan.status = data.status.value
    if data.due is not None and data.due != plan.due:
        changes["due"] = {"from": plan.due.isoformat(), "to": data.due.isoformat()}
        plan.due = data.due
    if data.notes is not None and data.notes.strip() != plan.notes:
        changes["notes"] = {"from": plan.notes, "to": data.notes.strip()}
        plan.notes = data.notes.strip()
    if data.owner is not None:
        owner = _owner(db, data.owner)
        if owner.id != plan.owner_id:
            changes["owner"] = {"from": plan.owner_id, "to": owner.id}
            plan.owner_id = owner.id
    if changes:
        plan.updated_at = utcnow()
        db.flush()
        record_audit(
            db,
            actor=actor,
            action=AuditAction.ACTION_PLAN_UPDATED,
            summary=f"Action plan {plan.id} of '{card.name}' changed: " + ", ".join(changes),
            details={"card_id": card.id, "plan_id": plan.id, **changes},
        )
    return _plan_outs(db, card.id, [plan])[0]


# --- rating links for external customers ----------------------------------------------------------------


def make_link(
    db: Session, *, actor: Actor, card_id: int, customer: str, period: str, secret: str
) -> RatingLink:
    """The address of the form on which one external customer rates the card for the period."""
    card = _managed(db, actor, card_id)
    if card.customer_team_id is not None:
        raise Invalid(
            f"'{card.name}' is an internal card: its team's members rate it signed in; links are for "
            "external customers."
        )
    if not card.active:
        raise Conflict(f"'{card.name}' is no longer in use; it takes no ratings.")
    try:
        checked = check_period(card, period, _today())
    except Refused as exc:
        raise Invalid.of_field("period", str(exc)) from exc
    try:
        found = customers.resolve(db, actor=actor, reference=customer)
    except NotFound as exc:
        raise Invalid.of_field("customer", exc.message) from exc
    token = links.sign(secret, links.LinkClaims(card.id, found.id, str(checked)))
    record_audit(
        db,
        actor=actor,
        action=AuditAction.RATING_LINK_MADE,
        summary=f"Rating link for '{card.name}' ({checked})",
        customer_id=found.id,
        details={"card_id": card.id, "period": str(checked)},
    )
    return RatingLink(
        card_id=card.id,
        customer_id=found.id,
        customer=found.name,
        period=str(checked),
        token=token,
        path=links.PATH + token,
        valid_until=checked.shifted(1).end,
    )


@dataclass(frozen=True)
class _Claimed:
    card: ReportCard
    customer_id: int
    customer: str
    period: Period


def _claimed(db: Session, token: str, secret: str) -> _Claimed:
    claims = links.read(secret, token)
    card = db.get(ReportCard, claims.card_id) if claims is not None else None
    if claims is None or card is None:
        raise NotFound("This rating link is not valid: ask for a new one.")
    if not card.active:
        raise NotFound("This report card is no longer in use: thank you all the same.")
    period = parse(claims.period, PeriodLength(card.period_length))
    if _today() > period.shifted(1).end:
        raise Conflict(
            f"This link was for {period.label} and closed on {period.shifted(1).end:%d %B %Y}: thank you all "
            "the same."
        )
    names = customers.names_by_id(db, [claims.customer_id])
    if claims.customer_id not in names:
        raise NotFound("This rating link is not valid: ask for a new one.")
    return _Claimed(card, claims.customer_id, names[claims.customer_id], period)


def link_form(db: Session, *, token: str, secret: str) -> LinkForm:
    """What the public form of a rating link shows (no sign-in: the signed token is the permission)."""
    claimed = _claimed(db, token, secret)
    out = _card_out(db, claimed.card)
    earlier = _earlier_rating(
        db, claimed.card.id, str(claimed.period), Rater(None, claimed.customer_id, claimed.customer)
    )
    return LinkForm(
        card_id=out.id,
        card=out.name,
        supplier=out.supplier,
        touch_point=out.touch_point,
        deliverables=[d.name for d in out.current_deliverables],
        period=str(claimed.period),
        period_label=claimed.period.label,
        customer_id=claimed.customer_id,
        customer=claimed.customer,
        rated_at=earlier.created_at if earlier else None,
    )


def rate_by_link(db: Session, *, token: str, secret: str, answers: RatingAnswers) -> RatingOut:
    """The customer's rating from the form of their link: for its card and period only, once."""
    claimed = _claimed(db, token, secret)
    rater = Rater(None, claimed.customer_id, claimed.customer)
    try:
        prepared = prepare(db, claimed.card, str(claimed.period), rater, answers, _today())
    except Refused as exc:
        raise Invalid.of_field(exc.field, str(exc)) from exc
    actor = Actor(user_id=None, email=LINK_ACTOR, role=Role.FRONTLINE)
    return _store(db, actor, claimed.card, prepared, "link")


# --- the export for the bonus plan ----------------------------------------------------------------------

EXPORT_COLUMNS = (
    Column("period"),
    Column("team"),
    Column("customer"),
    Column("touch_point"),
    Column("card_id", Kind.INTEGER),
    Column("card"),
    Column("deliverable"),
    Column("ratings", Kind.INTEGER),
    Column("mean", Kind.FLOAT),
    Column("target", Kind.FLOAT),
    Column("meets_target", Kind.BOOLEAN),
    Column("shortfall"),
    Column("card_mean", Kind.FLOAT),
    Column("nps", Kind.FLOAT),
    Column("csat", Kind.FLOAT),
)
"""One row per deliverable of every card of the period: ``team`` is the supplier (the team the scores are
of), ``customer`` who rated it; ``mean`` and ``ratings`` the deliverable's, ``card_mean`` the mean of every
score of the card, ``nps`` and ``csat`` (mean answer) the card's for external cards."""
EXPORT_CARDS_PER_BATCH = 50


def export_period(text: str, today: date) -> Period:
    """The period an export names: a month (YYYY-MM) or a quarter (YYYY-Qn), not a future one."""
    length = PeriodLength.QUARTER if "q" in text.lower() else PeriodLength.MONTH
    try:
        return check_not_future(parse(text, length), today)
    except ValueError as exc:
        raise Invalid.of_field("period", str(exc)) from exc


def export_scores(db: Session, *, actor: Actor, period: str, team: str | None = None) -> Export:
    """The scores each supplier team received in a period, card by card and deliverable by deliverable,
    for the bonus plan; ``team`` keeps that supplier's cards. Cards of the period's length only (monthly
    cards for ``2026-11``, quarterly ones for ``2026-Q4``).

    Entry points go through ``segone.views.exports.start_card_scores``, which records it in the audit trail.
    """
    require(actor, Permission.EXPORT_DATA)
    require(actor, READ)
    reviewed = export_period(period, _today())
    stmt = select(ReportCard).where(ReportCard.period_length == reviewed.length.value)
    if team is not None:
        if team_or_word(team, supplier=True) is None:
            stmt = stmt.where(ReportCard.supplier_team_id.is_(None))
        else:
            stmt = stmt.where(ReportCard.supplier_team_id == _team_id(db, team, field="team"))
    team_id = _team_of(db, actor)
    teams = accounts.teams(db)
    cards = [card for card in db.scalars(stmt) if _visible(card, actor, team_id)]
    names = [str(p) for p in reviewed.last(3)]
    rated = _tallies(db, [card.id for card in cards], names[-1:])
    deliverables = _deliverables_of(db, [card.id for card in cards])
    shown = {
        card.id: [d for d in deliverables[card.id] if d.active or rated.get((d.id, names[-1]))]
        for card in cards
    }
    cards = [
        card for card in cards if card.active or any(rated.get((d.id, names[-1])) for d in shown[card.id])
    ]
    cards.sort(key=lambda c: (teams.get(c.supplier_team_id or 0, COMPANY).lower(), c.name.lower()))
    total = sum(len(shown[card.id]) for card in cards)
    order = [card.id for card in cards]

    def read(session: Session) -> Iterator[Batch]:
        for start in range(0, len(order), EXPORT_CARDS_PER_BATCH):
            chunk = [
                session.get(ReportCard, card_id) for card_id in order[start : start + EXPORT_CARDS_PER_BATCH]
            ]
            yield _export_rows(session, [c for c in chunk if c is not None], names, shown, teams)

    label = f"report-card-scores-{reviewed}" + (f"-{_slug(team)}" if team else "")
    return Export(label, EXPORT_COLUMNS, total, read)


def _slug(text: str) -> str:
    return "-".join("".join(ch if ch.isalnum() else " " for ch in text.lower()).split()) or "team"


def _export_rows(
    db: Session,
    cards: Sequence[ReportCard],
    names: Sequence[str],
    shown: Mapping[int, Sequence[Deliverable]],
    teams: Mapping[int, str],
) -> list[dict[str, Any]]:
    ids = [card.id for card in cards]
    tallies = _tallies(db, ids, names)
    nps_by = _answers(db, Rating.nps, ids, names[-1:])
    csat_by = _answers(db, Rating.csat, ids, names[-1:])
    now = names[-1]
    rows: list[dict[str, Any]] = []
    for card in cards:
        overall = Tally()
        for d in shown[card.id]:
            overall = overall + tallies.get((d.id, now), Tally())
        external = card.customer_team_id is None
        for d in shown[card.id]:
            series = [tallies.get((d.id, name), Tally()).mean for name in names]
            current = tallies.get((d.id, now), Tally())
            found = _shortfall(card.target, names, series)
            rows.append(
                {
                    "period": now,
                    "team": teams.get(card.supplier_team_id, COMPANY) if card.supplier_team_id else COMPANY,
                    "customer": teams.get(card.customer_team_id, EXTERNAL)
                    if card.customer_team_id
                    else EXTERNAL,
                    "touch_point": card.touch_point,
                    "card_id": card.id,
                    "card": card.name,
                    "deliverable": d.name,
                    "ratings": current.count,
                    "mean": measures.as_float(current.mean),
                    "target": float(card.target),
                    "meets_target": None if current.mean is None else current.mean >= Fraction(card.target),
                    "shortfall": found.why if found else None,
                    "card_mean": measures.as_float(overall.mean),
                    "nps": measures.as_float(measures.nps(nps_by.get((card.id, now), {})).score)
                    if external
                    else None,
                    "csat": measures.as_float(measures.csat(csat_by.get((card.id, now), {})).mean)
                    if external
                    else None,
                }
            )
    return rows


def cards_by_id(db: Session, card_ids: Iterable[int]) -> dict[int, ReportCard]:
    """The stored cards of these ids (for the import)."""
    wanted = sorted(set(card_ids))
    if not wanted:
        return {}
    return {card.id: card for card in db.scalars(select(ReportCard).where(ReportCard.id.in_(wanted)))}


def data_about(db: Session, *, customer_ids: Sequence[int]) -> dict[str, Rows]:
    """The ratings these customers gave (with their scores), the ratings predicted for their encounters
    and their survey answers, as stored."""
    ratings = rows_about(db, Rating, "rater_customer_id", customer_ids)
    return {
        "report_card_ratings": ratings,
        "report_card_scores": rows_about(db, Score, "rating_id", ids_of(ratings)),
        "rating_predictions": rows_about(db, RatingPrediction, "customer_id", customer_ids),
        "survey_answers": rows_about(db, SurveyAnswer, "customer_id", customer_ids),
    }


def erase_about(db: Session, *, customer_ids: Sequence[int]) -> dict[str, int]:
    """Delete the ratings these customers gave (with their scores), the predictions of their ratings and
    their survey answers; the cards and surveys stay, their figures are recomputed without them."""
    ratings = ids_where(db, Rating, "rater_customer_id", customer_ids)
    return {
        "report_card_scores": delete_about(db, Score, "rating_id", ratings),
        "report_card_ratings": delete_about(db, Rating, "id", ratings),
        "rating_predictions": delete_about(db, RatingPrediction, "customer_id", customer_ids),
        "survey_answers": delete_about(db, SurveyAnswer, "customer_id", customer_ids),
    }
