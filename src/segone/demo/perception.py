"""The demo's "think customer" predictions, differentiation survey and advocacy events (docs/quality.md), so
that the pages Think customer, The perception gap and Advocates have something true to show on first run.

- Predictions: after the encounters of the last twelve months whose customer then rated an external report
  card within the window, the employee recorded the rating they thought the customer would give: the
  customer's own rating, off by the employee's bias (``PREDICTORS``: Owen Lloyd too hopeful a year ago, less
  so since; Megan Clarke, who hears the complaints, expecting the worst) and a little noise. The
  predictions after the last week's encounters still await the customer's rating. Not every encounter
  gets one (the choice is optional on the encounter form).
- The differentiation survey, three weeks ago: the demo's executives (administrators and managers) and
  front-line staff answer for themselves, a few hundred demo customers' answers are recorded for them; each
  group's agreement drawn from its own spread (``AGREEMENT``: most executives think we are different, few
  customers do, as the seeds found), and each front-line employee's statement of what makes us different
  (``STATEMENTS``: some in the strategy's words, some not) graded by the survey against the strategy.
- Advocacy: referral and review events of some demo customers over the last year, imported like the
  complaints (one batch of the events dataset, idempotent ids): a few dozen advocates with two or more, more
  customers with one.

Each part draws from a ``random.Random`` of its own seeded with the demo's seed, so adding them left the rest
of the demo as it was; everything is dated back from the demo's day (``timeline.demo_moment``).
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from fractions import Fraction

import pyarrow as pa
from sqlalchemy import select
from sqlalchemy.orm import Session

from segone.accounts import service as accounts
from segone.accounts.schemas import Actor, Role
from segone.behaviour import ingest
from segone.clock import fixed_at
from segone.demo.events import event_table
from segone.demo.timeline import demo_moment
from segone.demo.users import ADMIN_EMAIL, DEMO_DOMAIN, DEMO_USERS, FRONTLINE_EMAIL, MANAGER_EMAIL, TEAM_USERS
from segone.encounters.models import Encounter
from segone.quality import service as quality
from segone.quality.periods import of_day
from segone.quality.schemas import RATING_WINDOW_DAYS, AnswerCreate, SurveyCreate, SurveyGroup
from segone.runtime import Runtime
from segone.storage.batching import chunks

Said = dict[int, list[tuple[datetime, Fraction]]]
"""Each demo customer's external report-card ratings: when, and the mean of its scores (oldest first)."""

WINDOW = timedelta(days=RATING_WINDOW_DAYS)
AWAITING_DAYS = 7  # the last week's encounters: their customers have not rated yet
RECORDED = 0.85  # the share of encounters whose employee records a prediction


@dataclass(frozen=True)
class Predictor:
    """How an employee misreads their customers: a bias (predicted - actual) a year ago and last month,
    moving evenly in between, and how widely they miss either way."""

    bias_then: float
    bias_now: float
    spread: float


PREDICTORS: dict[str, Predictor] = {
    FRONTLINE_EMAIL: Predictor(0.1, 0.0, 0.35),  # Priya Shah reads her customers well
    MANAGER_EMAIL: Predictor(0.5, 0.4, 0.5),  # Tom Whitaker hopes for the best
    f"owen.lloyd@{DEMO_DOMAIN}": Predictor(1.0, 0.2, 0.45),  # too hopeful, coached in the spring
    f"lucy.fernandes@{DEMO_DOMAIN}": Predictor(0.3, 0.1, 0.6),
    f"megan.clarke@{DEMO_DOMAIN}": Predictor(-0.5, -0.4, 0.4),  # hears the complaints, expects the worst
}
USUAL_RATING = Fraction(21, 5)  # what a customer usually gives (4.2): the guess while the rating is awaited


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    return demo_moment(day) + timedelta(hours=hour, minutes=minute)


def _actor(db: Session, email: str) -> Actor:
    return accounts.actor_for(accounts.get_by_email(db, email=email))


def _own_rating(said: Sequence[tuple[datetime, Fraction]], at: datetime) -> Fraction | None:
    """The customer's own rating of an encounter at ``at``, as ``quality.think`` finds it: their first
    external rating at or after it, within the window."""
    for rated_at, mean in said:
        if at <= rated_at <= at + WINDOW:
            return mean
    return None


def load_predictions(db: Session, rng: random.Random, day: date, said: Said) -> tuple[int, int]:
    """Predictions after the demo customers' encounters with the employees of ``PREDICTORS``; returns
    (predictions, of them awaiting the customer's rating)."""
    now = demo_moment(day)
    start = now - timedelta(days=365)
    recent = now - timedelta(days=AWAITING_DAYS)
    employees = accounts.user_ids_by_email(db, emails=list(PREDICTORS))
    by_id = {user_id: email for email, user_id in employees.items()}
    actors = {email: _actor(db, email) for email in PREDICTORS}
    rows: list[tuple[int, int, int, datetime, int | None]] = []
    customer_ids = sorted(said)
    for part in chunks(customer_ids, 500):
        rows.extend(
            (e.id, e.customer_id, e.employee_id, e.occurred_at, e.duration_minutes)
            for e in db.execute(
                select(
                    Encounter.id,
                    Encounter.customer_id,
                    Encounter.employee_id,
                    Encounter.occurred_at,
                    Encounter.duration_minutes,
                ).where(
                    Encounter.customer_id.in_(part),
                    Encounter.employee_id.in_(list(by_id)),
                    Encounter.occurred_at >= start,
                    Encounter.occurred_at < now,
                )
            )
        )
    rows.sort(key=lambda row: (row[3], row[0]))
    made = awaiting = 0
    for encounter_id, customer_id, employee_id, occurred_at, minutes in rows:
        at = occurred_at if occurred_at.tzinfo else occurred_at.replace(tzinfo=now.tzinfo)
        actual = _own_rating(said[customer_id], at)
        if (actual is None and at < recent) or rng.random() >= RECORDED:
            continue
        email = by_id[employee_id]
        predictor = PREDICTORS[email]
        along = (at - start) / (now - start)
        bias = predictor.bias_then + (predictor.bias_now - predictor.bias_then) * along
        guess = float(actual if actual is not None else USUAL_RATING) + bias + rng.gauss(0, predictor.spread)
        recorded = min(
            at + timedelta(minutes=(minutes or 10) + rng.randint(1, 20)), now - timedelta(minutes=1)
        )
        with fixed_at(recorded):
            quality.record_prediction(
                db, actor=actors[email], encounter_id=encounter_id, data=min(5, max(1, round(guess)))
            )
        made += 1
        awaiting += actual is None
    return made, awaiting


# --- the differentiation survey --------------------------------------------------------------------------

SURVEY_DAYS_AGO = 21
CUSTOMERS_ASKED = 300
# How likely each answer, 1 (strongly disagree) to 5 (strongly agree), is in each group: about 80% of
# executives agree that our offering is different in a way that matters, under half of the front line,
# about one customer in ten.
AGREEMENT: dict[SurveyGroup, tuple[float, float, float, float, float]] = {
    SurveyGroup.EXECUTIVES: (0.0, 0.05, 0.15, 0.45, 0.35),
    SurveyGroup.FRONTLINE: (0.05, 0.2, 0.3, 0.3, 0.15),
    SurveyGroup.CUSTOMERS: (0.2, 0.35, 0.35, 0.07, 0.03),
}
# What front-line staff say makes us different: in the strategy's words, in its spirit but not its words
# (the check cannot tell), and what every shop would say.
STATEMENTS = (
    "We keep the promises we make to customers.",
    "We sell quality solutions and support them, not just boxes.",
    "If the site says it is in stock, it is on the shelf.",
    "We are easy to deal with and we care about the customer.",
    "Recovery is our number one priority.",
    "When something goes wrong we put it right first, before anything else.",
    "Staff who know the music.",
    "Our prices are lower than the supermarket's.",
    "A bigger range of CDs than anyone in town.",
    "Friendly people.",
    "Not sure; we sell what everyone sells.",
    "Quick delivery.",
)


def load_survey(db: Session, rng: random.Random, day: date, customer_ids: Sequence[int]) -> int:
    """The differentiation survey of three weeks ago with the answers of the three groups; returns the
    answers."""
    admin = _actor(db, ADMIN_EMAIL)
    asked = _at(day - timedelta(days=SURVEY_DAYS_AGO), 9)
    with fixed_at(asked):
        survey = quality.create_survey(
            db, actor=admin, data=SurveyCreate(name=f"Differentiation survey, {of_day(asked.date()).label}")
        )

    def agreement(group: SurveyGroup) -> int:
        return rng.choices(range(1, 6), weights=AGREEMENT[group])[0]

    staff: list[AnswerCreate] = []
    statements = rng.sample(STATEMENTS, len(STATEMENTS))
    # Everyone who serves customers or runs a team; the analyst, who does neither, was not asked.
    for user in (*DEMO_USERS, *TEAM_USERS):
        if user.role in (Role.ADMIN, Role.MANAGER):
            staff.append(AnswerCreate(user=user.email, agreement=agreement(SurveyGroup.EXECUTIVES)))
        elif user.role is Role.FRONTLINE:
            said = statements.pop() if statements else ""
            staff.append(
                AnswerCreate(user=user.email, agreement=agreement(SurveyGroup.FRONTLINE), statement=said)
            )
    chosen = rng.sample(sorted(customer_ids), min(len(customer_ids), CUSTOMERS_ASKED))
    # By id: the quickest reference to resolve.
    customers = [
        AnswerCreate(customer=str(customer_id), agreement=agreement(SurveyGroup.CUSTOMERS))
        for customer_id in chosen
    ]
    written = 0
    with fixed_at(asked + timedelta(days=2, hours=6)):
        written += quality.record_answers(db, actor=admin, survey_id=survey.id, answers=staff)
    with fixed_at(asked + timedelta(days=14, hours=8)):
        written += quality.record_answers(db, actor=admin, survey_id=survey.id, answers=customers)
    return written


# --- advocacy -------------------------------------------------------------------------------------------

ADVOCATES = 30  # customers with two to six referrals and reviews in the last year
ONCE = 60  # customers with one
REFERRALS = (
    ("store", "brought a friend in"),
    ("store", "sent a neighbour to the store"),
    ("web", "shared a referral link"),
    ("phone", "recommended us to a colleague"),
)
REVIEWS = (
    ("web", "five stars on our site"),
    ("web", "four stars on our site"),
    ("web", "five stars on a review site"),
    ("store", "wrote in the visitors' book"),
)


def advocacy_events(rng: random.Random, day: date, identities: Mapping[int, str]) -> pa.Table:
    """Referral and review events of demo customers over the last year, in working hours."""
    found: list[dict[str, object]] = []
    chosen = rng.sample(sorted(identities), min(len(identities), ADVOCATES + ONCE))
    for number, customer_id in enumerate(chosen):
        events = rng.randint(2, 6) if number < ADVOCATES else 1
        refers = rng.random() < 0.5  # some mostly refer, others mostly review
        for _ in range(events):
            kind = "referral" if rng.random() < (0.7 if refers else 0.25) else "review"
            channel, reason = rng.choice(REFERRALS if kind == "referral" else REVIEWS)
            when = _at(day - timedelta(days=rng.randint(1, 360)), rng.randint(9, 17), rng.choice((0, 20, 40)))
            found.append(
                {
                    "customer": identities[customer_id],
                    "type": kind,
                    "ts": when,
                    "channel": channel,
                    "reason": reason,
                }
            )
    return event_table(found)


def load_advocacy(
    runtime: Runtime, *, actor: Actor, rng: random.Random, day: date, identities: Mapping[int, str]
) -> int:
    """The referral and review events, imported as one batch of the events dataset; returns how many."""
    events = advocacy_events(rng, day, identities)
    with fixed_at(demo_moment(day)):
        ingest.import_events(
            runtime.sessions,
            dataset=ingest.dataset_of(runtime.settings.data_dir),
            actor=actor,
            events=events,
            unknown="reject",
            name="The demo's referrals and reviews",
        )
    return int(events.num_rows)
