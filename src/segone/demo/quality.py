"""The demo's report cards, service strategy, recovery cases and promises (docs/quality.md,
docs/customer-service.md), written through the domains' services on the demo's timeline.

- Teams: Store York, Store Leeds, Customer Service and Business Sales, and the internal suppliers they rate
  (Marketing, Warehouse, Repairs), each with a few demo users (``users.TEAM_USERS`` besides ``DEMO_USERS``).
- Report cards: five external cards (the stores, phone, web, delivery) rated by demo customers and four
  internal ones, six deliverables each, target 4.0, twelve monthly periods ending last month. Two
  deliverables fall short by design (``SHORTFALLS``), with action plans (some done, some open, one overdue).
- Recovery: complaint and return events of demo customers go through the behaviour ingestion (idempotent
  ids), a weekly ``sync_from_events`` opens their cases, most are put right (a few with exceptions within the
  strategy's limits) and closed with the customer's verdict; the latest stay open, some overdue.
- Promises: kept, broken, open and overdue, made by members of four teams.
- "Think customer" predictions after the demo customers' encounters, the differentiation survey and the
  referral and review events: ``perception``, on the ratings written here.

Everything is drawn from a ``random.Random`` seeded with the demo's seed and dated back from the demo's day
(``timeline.demo_moment``): two loads on one day write the same rows.
"""

from __future__ import annotations

import random
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from fractions import Fraction

import pyarrow as pa
import pyarrow.compute as pc
from pydantic import BaseModel
from sqlalchemy.orm import Session

from segone.accounts import service as accounts
from segone.accounts.schemas import Actor, Permission, Role
from segone.accounts.service import require
from segone.behaviour import ingest
from segone.clock import fixed_at
from segone.customer_service.promises import service as promises
from segone.customer_service.promises.schemas import PromiseCreate, PromiseMark
from segone.customer_service.recovery import service as recovery
from segone.customer_service.recovery.schemas import ActionCreate, CaseClose, Verdict
from segone.customer_service.strategy import service as strategies
from segone.customer_service.strategy.schemas import ExceptionRule, StrategyIn
from segone.customers import service as customers
from segone.demo.events import event_table
from segone.demo.generate import DEFAULT_SEED
from segone.demo.load import create_users
from segone.demo.perception import Said, load_advocacy, load_predictions, load_survey
from segone.demo.timeline import demo_moment
from segone.demo.users import ADMIN_EMAIL, DEMO_USERS, TEAM_USERS
from segone.quality import service as quality
from segone.quality.periods import of_day
from segone.quality.schemas import ActionPlanCreate, ActionPlanUpdate, CardCreate, PlanStatus, RatingAnswers
from segone.runtime import Runtime

PERIODS = 12
TARGET = 4.0
TEAMS = (
    "Store York",
    "Store Leeds",
    "Customer Service",
    "Business Sales",
    "Marketing",
    "Warehouse",
    "Repairs",
)


@dataclass(frozen=True)
class CardPlan:
    supplier: str | None  # None: the company as a whole
    customer: str | None  # None: external customers
    touch_point: str | None
    deliverables: tuple[str, ...]
    level: float  # the usual mean of its deliverables


CARDS: tuple[CardPlan, ...] = (
    CardPlan(
        "Store York",
        None,
        "store",
        (
            "Greeted within a minute",
            "Staff know the products",
            "Queues at the till are short",
            "Stock on the shelf",
            "Returns without fuss",
            "The store is tidy",
        ),
        4.35,
    ),
    CardPlan(
        "Store Leeds",
        None,
        "store",
        (
            "Greeted within a minute",
            "Staff know the products",
            "Queues at the till are short",
            "Stock on the shelf",
            "Returns without fuss",
            "The store is tidy",
        ),
        4.25,
    ),
    CardPlan(
        "Customer Service",
        None,
        "phone",
        (
            "Answered within two minutes",
            "Solved on the first call",
            "Called back when promised",
            "Knows my history",
            "Clear about what happens next",
            "Polite and patient",
        ),
        4.3,
    ),
    CardPlan(
        None,
        None,
        "web",
        (
            "Easy to find what I want",
            "Stock shown is right",
            "Checkout is quick",
            "Order confirmed at once",
            "Help when I need it",
            "Prices as shown in store",
        ),
        4.2,
    ),
    CardPlan(
        "Warehouse",
        None,
        "delivery",
        (
            "Arrives on the day promised",
            "Told the delivery slot",
            "Parcel undamaged",
            "Driver courteous",
            "Everything ordered arrived",
            "Easy to rearrange",
        ),
        4.3,
    ),
    CardPlan(
        "Warehouse",
        "Store York",
        None,
        (
            "Stock arrives on the day promised",
            "Orders complete with nothing missing",
            "Damaged goods replaced within a week",
            "Stock levels visible to the store",
            "Answers the store's calls",
            "Returns collected on time",
        ),
        4.25,
    ),
    CardPlan(
        "Repairs",
        "Store Leeds",
        None,
        (
            "Repairs back within ten days",
            "Quote before work starts",
            "Customer told of progress",
            "Fixed first time",
            "Loan units available",
            "Clear notes on what was done",
        ),
        4.2,
    ),
    CardPlan(
        "Marketing",
        "Business Sales",
        None,
        (
            "Leads followed up within a day",
            "Brochures up to date",
            "Prices agreed before campaigns",
            "Case studies we can use",
            "Events planned with us",
            "Answers within two days",
        ),
        4.3,
    ),
    CardPlan(
        "Warehouse",
        "Customer Service",
        None,
        (
            "Stock figures we can trust",
            "Dispatch times as promised",
            "Lost parcels traced in two days",
            "Replacements sent the same day",
            "Tells us of delays first",
            "Returns booked in within a day",
        ),
        4.3,
    ),
)


@dataclass(frozen=True)
class Shortfall:
    """A deliverable that falls short by design: its means over the last periods (the oldest first)."""

    card: str
    deliverable: str
    recent: tuple[float, ...]


SHORTFALLS: tuple[Shortfall, ...] = (
    # Fell two months in a row, to below target last month.
    Shortfall("Warehouse for Store York", "Stock arrives on the day promised", (4.33, 4.0, 3.67)),
    # Below target for four months, recovering a little but not there yet.
    Shortfall("Store Leeds for customers: store", "Queues at the till are short", (3.6, 3.4, 3.5, 3.7)),
    # Fell two months in a row, still above target: a warning.
    Shortfall("Customer Service for customers: phone", "Called back when promised", (4.6, 4.35, 4.1)),
)

GOOD_COMMENTS = (
    "Really helpful, thank you.",
    "Quick and friendly as always.",
    "Sorted in one go.",
    "Could not ask for more.",
    "Knew exactly what I needed.",
    "Kept me informed all the way.",
)
POOR_COMMENTS = {
    "Queues at the till are short": "Waited a quarter of an hour at the till on Saturday.",
    "Stock arrives on the day promised": "Two deliveries a day late this month; customers waited.",
    "Called back when promised": "Promised a call back that never came.",
}
INTERNAL_COMMENTS = (
    "Good month, thanks to the team.",
    "Much better than last quarter.",
    "One late answer, otherwise fine.",
)


class QualitySummary(BaseModel):
    users: int
    cards: int
    ratings: int
    plans: int
    events: int
    cases: int
    cases_open: int
    promises: int
    predictions: int
    predictions_awaiting: int
    survey_answers: int
    advocacy_events: int
    seconds: float


def _actor(db: Session, email: str) -> Actor:
    return accounts.actor_for(accounts.get_by_email(db, email=email))


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    return demo_moment(day) + timedelta(hours=hour, minutes=minute)


def _name(plan: CardPlan) -> str:
    supplier = plan.supplier or "Our company"
    return quality.default_name(supplier, plan.customer or "", plan.touch_point)


def _scores(rng: random.Random, mean: float, raters: int) -> list[int]:
    """Scores of 1 to 5 spread around ``mean`` whose mean is as near it as ``raters`` scores allow."""
    scores = [min(5, max(1, round(rng.gauss(mean, 0.7)))) for _ in range(raters)]
    total = min(5 * raters, max(raters, round(mean * raters)))
    while sum(scores) < total:
        i = rng.choice([i for i, s in enumerate(scores) if s < 5])
        scores[i] += 1
    while sum(scores) > total:
        i = rng.choice([i for i, s in enumerate(scores) if s > 1])
        scores[i] -= 1
    return scores


def _means(rng: random.Random, plan: CardPlan, card: str, deliverable: str) -> list[float]:
    """The deliverable's mean in each of the twelve periods: its card's level with a little drift, the
    designed shortfalls at the end; the last period never lower than the one before (no shortfall but
    those designed)."""
    base = plan.level + rng.uniform(-0.15, 0.2)
    means = [min(4.9, base + rng.uniform(-0.12, 0.12)) for _ in range(PERIODS)]
    means[-1] = max(means[-1], means[-2] + 0.05, TARGET + 0.1)
    for designed in SHORTFALLS:
        if designed.card == card and designed.deliverable == deliverable:
            means[-len(designed.recent) :] = designed.recent
    return means


def _ratings(
    db: Session,
    actor: Actor,
    rng: random.Random,
    day: date,
    pool: Sequence[tuple[int, str]],
    said: Said,
) -> tuple[int, dict[str, int]]:
    """The cards and their twelve months of ratings; returns the ratings written and the cards' ids, and
    adds each customer's external ratings (when, the mean of its scores) to ``said``."""
    periods = of_day(day).previous().last(PERIODS)
    ids: dict[str, int] = {}
    written = 0
    teams = accounts.teams(db)
    members = accounts.members_by_email(db, emails=[u.email for u in (*DEMO_USERS, *TEAM_USERS)])
    for plan in CARDS:
        name = _name(plan)
        with fixed_at(_at(periods[0].start, 9)):
            out = quality.create(
                db,
                actor=actor,
                data=CardCreate(
                    supplier_team=plan.supplier,
                    customer_team=plan.customer,
                    touch_point=plan.touch_point,
                    deliverables=list(plan.deliverables),
                    target=TARGET,
                    name=name,
                ),
            )
        ids[name] = out.id
        card = quality.cards_by_id(db, [out.id])[out.id]
        deliverables = quality.current_deliverables(db, card)
        means = {d: _means(rng, plan, name, d) for d in plan.deliverables}
        if plan.customer is None:
            raters = None
        else:
            raters = [m for m in members.values() if m.team_id == card.customer_team_id]
            for member in raters:
                quality.check_rater(card, member, teams)
        for index, period in enumerate(periods):
            who: list[quality.Rater]
            if raters is None:
                chosen = rng.sample(list(pool), min(len(pool), rng.randint(14, 22)))
                who = [quality.Rater(None, cid, cname) for cid, cname in chosen]
            else:
                who = [quality.Rater(m.id, None, m.name) for m in raters]
            by_deliverable = {d: _scores(rng, means[d][index], len(who)) for d in plan.deliverables}
            prepared = []
            last = index == PERIODS - 1
            for position, rater in enumerate(who):
                scores = {d: by_deliverable[d][position] for d in plan.deliverables}
                mean = sum(scores.values()) / len(scores)
                low = min(scores, key=lambda d: (scores[d], d))
                comment = ""
                if scores[low] <= 3 and low in POOR_COMMENTS and rng.random() < (0.6 if last else 0.3):
                    comment = POOR_COMMENTS[low]
                elif raters is None and mean >= 4.3 and rng.random() < 0.15:
                    comment = rng.choice(GOOD_COMMENTS)
                elif raters is not None and rng.random() < 0.2:
                    comment = rng.choice(INTERNAL_COMMENTS)
                nps = csat = None
                if raters is None:
                    nps = min(10, max(0, round((mean - 1) * 2.5 + rng.gauss(0, 1.2))))
                    csat = min(5, max(1, round(mean + rng.gauss(0, 0.4))))
                answers = RatingAnswers(scores=scores, nps=nps, csat=csat, comment=comment)
                prepared.append(
                    quality.prepare(
                        db, card, str(period), rater, answers, day, deliverables=deliverables, given={}
                    )
                )
            rated_at = _at(period.end, 17)
            with fixed_at(rated_at):
                written += len(quality.store_ratings(db, actor, prepared, "import", names={card.id: name}))
            if raters is None:
                for rater, ready in zip(who, prepared, strict=True):
                    if rater.customer_id is not None:
                        given = list(ready.scores.values())
                        said.setdefault(rater.customer_id, []).append(
                            (rated_at, Fraction(sum(given), len(given)))
                        )
    return written, ids


def _plans(db: Session, day: date, cards: dict[str, int]) -> int:
    """Action plans on the designed shortfalls: done, open and overdue, and open for last month's review."""
    last = of_day(day).previous()
    admin = _actor(db, ADMIN_EMAIL)
    made = 0

    def add(card: str, deliverable: str, period_back: int, owner: str, due_days: int, notes: str) -> int:
        nonlocal made
        period = last.shifted(-period_back)
        # The review early the next month; last month's this month, no later than the demo's moment.
        reviewed = min(_at(period.end + timedelta(days=3), 10), demo_moment(day))
        due = reviewed.date() + timedelta(days=due_days)
        if period_back == 0:
            due = max(due, day + timedelta(days=7))  # last month's plans are still to do
        card_out = quality.get(db, actor=admin, card_id=cards[card])
        manager = next(
            u.email
            for u in (*DEMO_USERS, *TEAM_USERS)
            if u.team == card_out.supplier and u.role is Role.MANAGER
        )
        with fixed_at(reviewed):
            plan = quality.add_plan(
                db,
                actor=_actor(db, manager),
                card_id=cards[card],
                data=ActionPlanCreate(
                    deliverable=deliverable,
                    period=str(period),
                    owner=owner,
                    due=due,
                    notes=notes,
                ),
            )
        made += 1
        return plan.id

    def update(plan_id: int, at: datetime, status: PlanStatus, notes: str, actor: Actor) -> None:
        with fixed_at(at):
            quality.update_plan(
                db,
                actor=actor,
                card_id=None,
                plan_id=plan_id,
                data=ActionPlanUpdate(status=status, notes=notes),
            )

    queues = "Store Leeds for customers: store"
    tom = "manager@demo.segone.local"
    done = add(queues, "Queues at the till are short", 3, tom, 21, "Open a second till on Saturdays.")
    update(
        done,
        _at(last.shifted(-2).start + timedelta(days=15), 16),
        PlanStatus.DONE,
        "Second till opens on Saturdays from 10:00.",
        admin,
    )
    overdue = add(
        queues,
        "Queues at the till are short",
        1,
        "frontline@demo.segone.local",
        20,
        "Train two more on the till.",
    )
    update(
        overdue,
        _at(last.start + timedelta(days=5), 11),
        PlanStatus.IN_PROGRESS,
        "One of two trained; rota to change.",
        admin,
    )
    add(queues, "Queues at the till are short", 0, tom, 30, "Self-service till by the door; measure waits.")
    stock = "Warehouse for Store York"
    sam = "sam.turner@demo.segone.local"
    kofi = "kofi.mensah@demo.segone.local"
    early = add(
        stock, "Stock arrives on the day promised", 1, kofi, 14, "Check the Tuesday van's loading time."
    )
    update(
        early,
        _at(last.start + timedelta(days=12), 15),
        PlanStatus.DONE,
        "Loading moved to 06:00; the van was leaving late.",
        admin,
    )
    add(stock, "Stock arrives on the day promised", 0, sam, 21, "Second driver on Mondays and Fridays.")
    calls = "Customer Service for customers: phone"
    add(
        calls,
        "Called back when promised",
        0,
        "ravi.patel@demo.segone.local",
        14,
        "Call-back list at each shift.",
    )
    return made


STRATEGY = StrategyIn(
    core_service=[
        "We provide and support quality solutions, not just products.",
        "We make promises and always keep them.",
        "What we say is in stock is on the shelf or at your door on the day we said.",
    ],
    service_experience=[
        "We are easy to do business with.",
        "We care.",
        "When we fall short, recovery is our number one priority.",
    ],
    exceptions=[
        ExceptionRule(
            key="refund", label="Refund", limits={Role.FRONTLINE: 50, Role.MANAGER: 250, Role.ADMIN: 1000}
        ),
        ExceptionRule(
            key="replacement",
            label="Replacement at no charge",
            limits={Role.FRONTLINE: 100, Role.MANAGER: 500},
        ),
        ExceptionRule(
            key="voucher", label="Goodwill voucher", limits={Role.FRONTLINE: 20, Role.MANAGER: 100}
        ),
        ExceptionRule(key="free-delivery", label="Free delivery", limits={Role.FRONTLINE: 15}),
    ],
    target_hours_high=24,
    target_hours_normal=72,
    note="The demo's strategy: the service strategy workshop's words.",
)

COMPLAINTS = (
    ("store", "kept waiting at the till"),
    ("phone", "promised call back never came"),
    ("delivery", "parcel arrived damaged"),
    ("delivery", "delivery a day late"),
    ("web", "charged twice at checkout"),
    ("store", "item out of stock though the site said in stock"),
    ("phone", "passed between three people"),
)
RETURNS = (
    ("store", "faulty on arrival", 24.99),
    ("delivery", "wrong item sent", 15.5),
    ("web", "not as described", 39.0),
)
ACTIONS = (
    ("Apologised and explained what went wrong", None, None),
    ("Refunded the delivery charge", "free-delivery", 4.95),
    ("Sent a replacement by courier", "replacement", 24.99),
    ("Refunded part of the price", "refund", 15.0),
    ("Goodwill voucher for the next visit", "voucher", 10.0),
)
HANDLERS = (
    "megan.clarke@demo.segone.local",
    "ben.ashworth@demo.segone.local",
    "owen.lloyd@demo.segone.local",
)
RESOLUTIONS = (
    "Replacement delivered and the customer thanked us",
    "Refund made and the customer called back to confirm",
    "Apology accepted; the order went out the next day",
)


def _events(
    rng: random.Random, day: date, pool: Sequence[tuple[int, str]], identities: dict[int, str]
) -> pa.Table:
    """Complaints and returns of demo customers over the last nine weeks, in working hours."""
    found: list[dict[str, object]] = []
    chosen = rng.sample(list(pool), min(len(pool), 40))
    for number, (customer_id, _) in enumerate(chosen):
        back = 1 + (number * 62) // len(chosen) + rng.randint(0, 1)
        when = _at(day - timedelta(days=back), rng.randint(9, 16), rng.choice((0, 15, 30, 45)))
        if number % 4 == 3:
            channel, reason, value = rng.choice(RETURNS)
            kind, offering = "return", "CD order"
        else:
            channel, reason = rng.choice(COMPLAINTS)
            kind, offering, value = "complaint", None, None
        found.append(
            {
                "customer": identities[customer_id],
                "type": kind,
                "ts": when,
                "value": value,
                "channel": channel,
                "offering": offering,
                "reason": reason,
            }
        )
    return event_table(found)


def _recovery(
    runtime: Runtime,
    actor: Actor,
    rng: random.Random,
    day: date,
    pool: Sequence[tuple[int, str]],
    identities: dict[int, str],
) -> tuple[int, int, int]:
    """Events in, cases opened by a sync each Monday morning, most put right: (events, cases, open)."""
    now = demo_moment(day)
    events = _events(rng, day, pool, identities)
    dataset = ingest.dataset_of(runtime.settings.data_dir)
    stamps = events.column("ts")
    # A sync each Monday morning opens the cases of the week before: the events of each week go in first.
    syncs = sorted({min(now, _at(s.date() + timedelta(days=7 - s.weekday()), 8)) for s in stamps.to_pylist()})
    recent = now - timedelta(days=6)  # what was reported this last week waits to be put right
    cases = still_open = 0
    previous: datetime | None = None
    for synced in syncs:
        after = pc.less(stamps, pa.scalar(synced, stamps.type))
        if previous is not None:
            after = pc.and_(after, pc.greater_equal(stamps, pa.scalar(previous, stamps.type)))
        since, previous = previous, synced
        with fixed_at(synced):
            ingest.import_events(
                runtime.sessions, dataset=dataset, actor=actor, events=events.filter(after), unknown="reject"
            )
            report = recovery.sync_from_events(
                runtime.sessions,
                actor=actor,
                data_dir=runtime.settings.data_dir,
                analytics_url=runtime.settings.analytics_url,
                currency=runtime.settings.currency,
                since=since,
            )
        cases += report.opened
        with runtime.session() as db:
            for case_id in report.case_ids:
                found = recovery.get_case(db, actor=actor, case_id=case_id)
                acted = synced + timedelta(hours=rng.randint(1, 6))
                closed = min(acted + timedelta(hours=rng.randint(2, 30)), now - timedelta(minutes=30))
                if found.reported_at >= recent or closed <= acted:
                    still_open += 1
                    continue
                handler = _actor(db, rng.choice(HANDLERS))
                text, exception, cost = rng.choice(ACTIONS)
                with fixed_at(acted):
                    recovery.act(
                        db,
                        actor=handler,
                        case_id=case_id,
                        data=ActionCreate(text=text, exception=exception, cost=cost),
                        currency=runtime.settings.currency,
                    )
                satisfied = rng.random() < 0.8
                with fixed_at(closed):
                    recovery.close_case(
                        db,
                        actor=handler,
                        case_id=case_id,
                        data=CaseClose(
                            resolution=rng.choice(RESOLUTIONS),
                            verdict=Verdict.SATISFIED if satisfied else Verdict.NOT_SATISFIED,
                        ),
                    )
    return events.num_rows, cases, still_open


PROMISE_TEXTS = (
    "Call back with the repair quote",
    "Order the album in and ring when it arrives",
    "Send the invoice copy by e-mail",
    "Collect the faulty player from home",
    "Hold the box set until Saturday",
    "Confirm the delivery slot by phone",
)
PROMISERS = (
    "owen.lloyd@demo.segone.local",
    "frontline@demo.segone.local",
    "megan.clarke@demo.segone.local",
    "daniel.byrne@demo.segone.local",
    "liam.doyle@demo.segone.local",
)


def _promises(db: Session, rng: random.Random, day: date, pool: Sequence[tuple[int, str]]) -> int:
    """Promises of five teams: kept, broken, open (not yet due) and overdue."""
    made = 0
    for number, (customer_id, _) in enumerate(rng.sample(list(pool), min(len(pool), 24))):
        state = ("kept", "kept", "kept", "broken", "open", "overdue")[number % 6]
        maker = _actor(db, PROMISERS[number % len(PROMISERS)])
        back = {"kept": rng.randint(8, 60), "broken": rng.randint(8, 60), "open": rng.randint(1, 3)}.get(
            state, rng.randint(7, 12)
        )
        made_on = day - timedelta(days=back)
        due = made_on + timedelta(days=rng.randint(2, 5))
        if state == "open":
            due = day + timedelta(days=rng.randint(1, 7))
        with fixed_at(_at(made_on, rng.randint(9, 16))):
            promise = promises.make(
                db,
                actor=maker,
                data=PromiseCreate(customer_id=customer_id, text=rng.choice(PROMISE_TEXTS), due_on=due),
            )
        if state in ("kept", "broken"):
            on = due - timedelta(days=rng.randint(0, 1)) if state == "kept" else due + timedelta(days=1)
            with fixed_at(_at(on, 17)):
                mark = promises.keep if state == "kept" else promises.mark_broken
                note = "" if state == "kept" else "Supplier let us down; apologised and set a new date."
                mark(db, actor=maker, promise_id=promise.id, data=PromiseMark(on=on, note=note))
        made += 1
    return made


def load_quality(runtime: Runtime, *, actor: Actor, day: date, seed: int = DEFAULT_SEED) -> QualitySummary:
    """The teams, the strategy, the report cards with their ratings and plans, the recovery cases, the
    promises, the predicted ratings, the differentiation survey and the advocacy events of the demo loaded
    on ``day``. The store holds the demo's customers already."""
    require(actor, Permission.MANAGE_SETTINGS)
    started = time.perf_counter()
    rng = random.Random(f"quality:{seed}")
    now = demo_moment(day)
    with runtime.session() as db:
        with fixed_at(now - timedelta(days=400)):
            users = create_users(db, actor, (*DEMO_USERS, *TEAM_USERS))
            admin = _actor(db, ADMIN_EMAIL)
            strategies.set_strategy(db, actor=admin, data=STRATEGY)
        held, owners = customers.identity_holders(
            db, system="cdnow", values=[f"{n:05d}" for n in range(1, 1501)]
        )
        identities = {owner: f"cdnow:{value}" for value, owner in zip(held, owners, strict=True)}
        names = customers.names_by_id(db, identities)
        pool = sorted((cid, names[cid]) for cid in identities if cid in names)
        said: Said = {}
        ratings, cards = _ratings(db, admin, rng, day, pool, said)
        plans = _plans(db, day, cards)
        promised = _promises(db, rng, day, pool)
        predictions, awaiting = load_predictions(db, random.Random(f"think:{seed}"), day, said)
        # The customers with a name: those the pages list.
        named = {cid: identities[cid] for cid, _ in pool}
        answers = load_survey(db, random.Random(f"survey:{seed}"), day, list(named))
    events, cases, still_open = _recovery(runtime, actor, rng, day, pool, identities)
    advocacy = load_advocacy(
        runtime, actor=actor, rng=random.Random(f"advocacy:{seed}"), day=day, identities=named
    )
    return QualitySummary(
        users=len(users),
        cards=len(cards),
        ratings=ratings,
        plans=plans,
        events=events,
        cases=cases,
        cases_open=still_open,
        promises=promised,
        predictions=predictions,
        predictions_awaiting=awaiting,
        survey_answers=answers,
        advocacy_events=advocacy,
        seconds=round(time.perf_counter() - started, 2),
    )
