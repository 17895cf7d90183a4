"""What the report-card tests share: teams with their people, cards, and ratings made through the service."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from segone.accounts.schemas import SYSTEM, Actor, Role
from segone.clock import fixed_at
from segone.quality import service as quality
from segone.quality.schemas import CardCreate, CardOut, RatingCreate, RatingOut
from segone.runtime import Runtime
from tests.api.helpers import api_user
from tests.factories import MadeUser, make_user

# The tests' "today": 20 November 2026, so that September to November 2026 may be rated.
TODAY = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
L, C, M = "Leads qualified", "Campaign calendar", "Sales materials"
DELIVERABLES = [L, C, M]


@contextmanager
def today() -> Iterator[None]:
    with fixed_at(TODAY):
        yield


def member(
    runtime: Runtime, team: str | None, role: Role = Role.FRONTLINE, *, password: bool = False
) -> MadeUser:
    """A user of the team (None: of no team), without a password unless the test signs in (hashing one is
    slow)."""
    if password:
        return make_user(runtime, role, team=team)
    return api_user(runtime, role, team=team)


def internal_card(
    runtime: Runtime,
    *,
    supplier: str = "Marketing",
    customer: str = "Sales",
    deliverables: list[str] | None = None,
    target: float = 4.0,
    actor: Actor = SYSTEM,
) -> CardOut:
    with runtime.session() as db:
        return quality.create(
            db,
            actor=actor,
            data=CardCreate(
                supplier_team=supplier,
                customer_team=customer,
                deliverables=deliverables or DELIVERABLES,
                target=target,
            ),
        )


def external_card(
    runtime: Runtime, *, supplier: str | None = "Store York", touch_point: str = "store", target: float = 4.0
) -> CardOut:
    with runtime.session() as db:
        return quality.create(
            db,
            actor=SYSTEM,
            data=CardCreate(
                supplier_team=supplier,
                touch_point=touch_point,
                deliverables=["Welcome", "Advice"],
                target=target,
            ),
        )


def rate(
    runtime: Runtime,
    card: CardOut,
    by: MadeUser,
    period: str,
    scores: dict[str, int],
    comment: str = "",
) -> RatingOut:
    with runtime.session() as db:
        return quality.rate(
            db,
            actor=by.actor,
            card_id=card.id,
            data=RatingCreate(period=period, scores=scores, comment=comment),
        )


def three_months(runtime: Runtime) -> tuple[CardOut, list[MadeUser]]:
    """Three Sales people rate Marketing, September to November 2026:

    | deliverable       | September   | October     | November    |
    | Leads qualified   | 5, 4, 5     | 4, 4, 5     | 4, 4, 4     |  14/3 > 13/3 > 12/3: falling, 4.00 meets 4
    | Campaign calendar | 3, 4, -     | 2, 3, 4     | 3, 3, 5     |  3.50, 3.00, 3.67: below the target
    | Sales materials   | -, -, -     | 5, -, -     | 5, 5, 4     |  4.67: fine
    """
    member(runtime, "Marketing")
    raters = [member(runtime, "Sales") for _ in range(3)]
    card = internal_card(runtime)
    given = {
        "2026-09": [{L: 5, C: 3}, {L: 4, C: 4}, {L: 5}],
        "2026-10": [{L: 4, C: 2, M: 5}, {L: 4, C: 3}, {L: 5, C: 4}],
        "2026-11": [{L: 4, C: 3, M: 5}, {L: 4, C: 3, M: 5}, {L: 4, C: 5, M: 4}],
    }
    for period, ratings in given.items():
        for rater, scores in zip(raters, ratings, strict=True):
            comment = "Calendar late again." if (period, rater) == ("2026-11", raters[1]) else ""
            rate(runtime, card, rater, period, scores, comment=comment)
    return card, raters
