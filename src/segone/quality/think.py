""" "Think customer": after an encounter the employee records the rating (1-5) they think the customer
would give; when the customer's own rating arrives, the gap shows how well each employee and each team
reads their customers, month by month (docs/quality.md, "Think customer").

The customer's own rating of an encounter is the first rating of an external report card by that customer
made at or after the encounter and at most ``RATING_WINDOW_DAYS`` (30) days after it, taken as the mean
of its deliverables' scores (a rating without scores, NPS or CSAT alone, does not count). The gap is
predicted - actual: above 0 the employee thought the customer happier than they were.

Who does what: the employee who had the encounter records the prediction (changing it records it again);
recording someone else's needs the import permission. Everyone who rates service sees the gaps of their
own team; analysts and administrators see every team's.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from fractions import Fraction

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from segone.accounts import service as accounts
from segone.accounts.schemas import Actor, AuditAction, Permission
from segone.accounts.service import record_audit, require
from segone.clock import utcnow
from segone.encounters import service as encounters
from segone.errors import Forbidden, Invalid
from segone.quality.models import Rating, RatingPrediction, ReportCard, Score
from segone.quality.schemas import (
    RATING_WINDOW_DAYS,
    EmpathyReport,
    GapRow,
    PredictionCreate,
    PredictionOut,
)
from segone.storage.batching import chunks

READ = Permission.RATE_SERVICE
ON_BEHALF = Permission.IMPORT_DATA
WINDOW = timedelta(days=RATING_WINDOW_DAYS)
NO_TEAM = "(no team)"
_IN_BATCH = 500


def record_prediction(
    db: Session, *, actor: Actor, encounter_id: int, data: PredictionCreate | int
) -> PredictionOut:
    """Record (or change) the rating the encounter's employee thinks its customer would give."""
    require(actor, READ)
    if isinstance(data, int):
        data = PredictionCreate(rating=data)
    encounter = encounters.get(db, actor=actor, encounter_id=encounter_id)
    if encounter.employee_id is None:
        raise Invalid.of_field(
            "encounter_id",
            f"Encounter {encounter_id} names no employee: there is nobody whose prediction it would be.",
        )
    if encounter.employee_id != actor.user_id and not actor.can(ON_BEHALF):
        raise Forbidden(
            "Only the employee who had the encounter records what they think the customer would give."
        )
    found = db.scalar(select(RatingPrediction).where(RatingPrediction.encounter_id == encounter.id))
    if found is None:
        found = RatingPrediction(
            encounter_id=encounter.id,
            customer_id=encounter.customer_id,
            employee_id=encounter.employee_id,
            encounter_at=encounter.occurred_at,
            predicted=data.rating,
            recorded_by_id=actor.user_id,
        )
        db.add(found)
    else:
        found.predicted = data.rating
        found.recorded_by_id = actor.user_id
        found.updated_at = utcnow()
    db.flush()
    record_audit(
        db,
        actor=actor,
        action=AuditAction.RATING_PREDICTED,
        customer_id=encounter.customer_id,
        summary=f"Thinks the customer would rate encounter {encounter.id} {data.rating} of 5",
        details={"encounter_id": encounter.id, "predicted": data.rating},
    )
    return _outs(db, [found])[0]


def prediction(db: Session, *, actor: Actor, encounter_id: int) -> PredictionOut | None:
    """The prediction recorded for an encounter, with the customer's rating when it arrived."""
    require(actor, READ)
    encounter = encounters.get(db, actor=actor, encounter_id=encounter_id)
    found = db.scalar(select(RatingPrediction).where(RatingPrediction.encounter_id == encounter.id))
    return None if found is None else _outs(db, [found])[0]


def move_predictions_to(db: Session, *, from_customer_id: int, to_customer_id: int) -> int:
    """Hand every prediction about one customer record to another (used by merge)."""
    result = db.execute(
        update(RatingPrediction)
        .where(RatingPrediction.customer_id == from_customer_id)
        .values(customer_id=to_customer_id)
        .execution_options(synchronize_session="fetch")
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


# --- the customer's own rating ------------------------------------------------------------------------


@dataclass(frozen=True)
class _Rated:
    customer_id: int
    at: datetime
    rating_id: int
    mean: Fraction


def _ratings_of(db: Session, customer_ids: Sequence[int], start: datetime, end: datetime) -> list[_Rated]:
    """Every external-card rating with scores by these customers made in [start, end], oldest first."""
    found: list[_Rated] = []
    for part in chunks(sorted(set(customer_ids)), _IN_BATCH):
        query = (
            select(
                Rating.rater_customer_id,
                Rating.created_at,
                Rating.id,
                func.sum(Score.score),
                func.count(Score.score),
            )
            .join(ReportCard, ReportCard.id == Rating.card_id)
            .join(Score, Score.rating_id == Rating.id)
            .where(
                ReportCard.customer_team_id.is_(None),
                Rating.rater_customer_id.in_(part),
                Rating.created_at >= start,
                Rating.created_at <= end,
            )
            .group_by(Rating.rater_customer_id, Rating.created_at, Rating.id)
        )
        for customer_id, at, rating_id, total, count in db.execute(query):
            if customer_id is not None:
                found.append(_Rated(customer_id, at, rating_id, Fraction(int(total), int(count))))
    found.sort(key=lambda r: (r.at, r.rating_id))
    return found


def _actuals(db: Session, predictions: Sequence[RatingPrediction]) -> dict[int, Fraction]:
    """The customer's own rating of each prediction's encounter (by prediction id), when it arrived."""
    if not predictions:
        return {}
    start = min(p.encounter_at for p in predictions)
    end = max(p.encounter_at for p in predictions) + WINDOW
    by_customer: dict[int, list[_Rated]] = defaultdict(list)
    for rated in _ratings_of(db, [p.customer_id for p in predictions], start, end):
        by_customer[rated.customer_id].append(rated)
    actual: dict[int, Fraction] = {}
    for p in predictions:
        for rated in by_customer.get(p.customer_id, []):
            if p.encounter_at <= rated.at <= p.encounter_at + WINDOW:
                actual[p.id] = rated.mean
                break
    return actual


def _outs(db: Session, predictions: Sequence[RatingPrediction]) -> list[PredictionOut]:
    actual = _actuals(db, predictions)
    people = accounts.people_by_id(db, [p.employee_id for p in predictions])
    return [
        PredictionOut(
            encounter_id=p.encounter_id,
            customer_id=p.customer_id,
            employee_id=p.employee_id,
            employee=people[p.employee_id].name if p.employee_id in people else str(p.employee_id),
            encounter_at=p.encounter_at,
            predicted=p.predicted,
            actual=float(actual[p.id]) if p.id in actual else None,
            gap=float(p.predicted - actual[p.id]) if p.id in actual else None,
        )
        for p in predictions
    ]


# --- the gaps -------------------------------------------------------------------------------------------


def _rows(groups: dict[tuple[str, str, int | None], list[Fraction]]) -> list[GapRow]:
    rows = [
        GapRow(
            month=month,
            name=name,
            id=key,
            count=len(gaps),
            mean_gap=float(sum(gaps, Fraction(0)) / len(gaps)),
            mean_absolute_gap=float(sum((abs(g) for g in gaps), Fraction(0)) / len(gaps)),
        )
        for (month, name, key), gaps in groups.items()
    ]
    rows.sort(key=lambda r: r.name.lower())
    rows.sort(key=lambda r: r.month, reverse=True)
    return rows


def _month(moment: datetime) -> str:
    return f"{moment.year:04d}-{moment.month:02d}"


def empathy(
    db: Session, *, actor: Actor, team: str | None = None, since: datetime | None = None
) -> EmpathyReport:
    """The gap between predicted and actual ratings, per month of the encounters, per employee and per
    team (the employee's team now). Analysts and administrators see every team, others their own."""
    require(actor, READ)
    teams = accounts.teams(db)
    team_of_user = accounts.team_names_by_user(db)
    team_ids = {name: team_id for team_id, name in teams.items()}
    own = accounts.member(db, user_id=actor.user_id).team if actor.user_id is not None else None
    sees_all = actor.can(Permission.RUN_ANALYTICS)
    wanted: str | None = None
    if team is not None:
        wanted = teams[accounts.team_named(db, name=team)]
        if not sees_all and wanted != own:
            raise Forbidden(f"You see the empathy gaps of your own team only; '{wanted}' is not it.")
    elif not sees_all:
        wanted = own
    query = select(RatingPrediction).order_by(RatingPrediction.encounter_at, RatingPrediction.id)
    if since is not None:
        query = query.where(RatingPrediction.encounter_at >= since)
    predictions = list(db.scalars(query))
    if wanted is not None:
        predictions = [p for p in predictions if team_of_user.get(p.employee_id) == wanted]
    elif not sees_all:  # somebody of no team: their own predictions only
        predictions = [p for p in predictions if p.employee_id == actor.user_id]
    actual = _actuals(db, predictions)
    people = accounts.people_by_id(db, [p.employee_id for p in predictions])
    by_employee: dict[tuple[str, str, int | None], list[Fraction]] = defaultdict(list)
    by_team: dict[tuple[str, str, int | None], list[Fraction]] = defaultdict(list)
    for p in predictions:
        if p.id not in actual:
            continue
        gap = p.predicted - actual[p.id]
        month = _month(p.encounter_at)
        person = people[p.employee_id].name if p.employee_id in people else str(p.employee_id)
        by_employee[(month, person, p.employee_id)].append(gap)
        team_name = team_of_user.get(p.employee_id)
        by_team[(month, team_name or NO_TEAM, team_ids.get(team_name or ""))].append(gap)
    return EmpathyReport(
        team=wanted if team is not None else None,
        predictions=len(predictions),
        awaiting=len(predictions) - len(actual),
        employees=_rows(by_employee),
        teams=_rows(by_team),
    )


def predictions_of(db: Session, encounter_ids: Iterable[int]) -> dict[int, int]:
    """The predicted rating of each of these encounters that has one."""
    ids = sorted(set(encounter_ids))
    found: dict[int, int] = {}
    for part in chunks(ids, _IN_BATCH):
        query = select(RatingPrediction.encounter_id, RatingPrediction.predicted).where(
            RatingPrediction.encounter_id.in_(part)
        )
        found.update({int(e): int(r) for e, r in db.execute(query)})
    return found
