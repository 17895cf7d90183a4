"""Ratings on SQLite and PostgreSQL: one per rater, card and period; every bad rating refused with what is
wrong, and nothing of it stored."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pydantic import ValidationError
from sqlalchemy import func, select

from segone.accounts.models import AuditEntry
from segone.accounts.schemas import SYSTEM, Role
from segone.errors import Conflict, Forbidden, Invalid
from segone.quality import service as quality
from segone.quality.models import Rating, Score
from segone.quality.schemas import CardUpdate, RatingCreate
from segone.runtime import Runtime
from tests.factories import make_customer
from tests.quality.helpers import external_card, internal_card, member, rate, today


@pytest.fixture(autouse=True)
def _november() -> Iterator[None]:
    with today():
        yield


def _stored(runtime: Runtime) -> tuple[int, int]:
    with runtime.session() as db:
        return (
            int(db.scalar(select(func.count()).select_from(Rating)) or 0),
            int(db.scalar(select(func.count()).select_from(Score)) or 0),
        )


def test_a_member_of_the_customer_team_rates_the_card(runtime: Runtime) -> None:
    member(runtime, "Marketing")
    seller = member(runtime, "Sales")
    card = internal_card(runtime)
    rating = rate(
        runtime,
        card,
        seller,
        "2026-11",
        {"leads QUALIFIED": 4, "Sales materials": 5},
        comment="  Good leads. ",
    )
    assert rating.scores == {"Leads qualified": 4, "Sales materials": 5}
    assert (rating.period, rating.rater_user_id, rating.comment, rating.source) == (
        "2026-11",
        seller.id,
        "Good leads.",
        "api",
    )
    assert _stored(runtime) == (1, 2)
    with runtime.session() as db:
        entry = db.scalars(select(AuditEntry).where(AuditEntry.action == "report_card.rated")).one()
    assert entry.actor_email == seller.email and entry.details["period"] == "2026-11"


@pytest.mark.parametrize(
    ("answers", "says"),
    [
        ({"scores": {"Leads qualified": 6}}, "the score of 'Leads qualified' is 6; a score is 1 to 5"),
        ({"scores": {"Leads qualified": 0}}, "the score of 'Leads qualified' is 0"),
        ({"scores": {}}, "scores no deliverable; rate at least one"),
        ({"scores": {"Leads qualified": 3}, "nps": 11}, "the NPS answer is 11; it is 0 to 10"),
        ({"scores": {"Leads qualified": 3}, "csat": 0}, "the CSAT answer is 0; it is 1 to 5"),
        ({"scores": {"Leads qualified": 3, "leads qualified": 4}}, "is scored twice"),
    ],
)
def test_out_of_range_answers_are_refused_by_the_schema(answers: dict[str, object], says: str) -> None:
    with pytest.raises(ValidationError, match=says):
        RatingCreate.model_validate({"period": "2026-11", **answers})


@pytest.mark.parametrize(
    ("period", "scores", "field", "says"),
    [
        (
            "2026-12",
            {"Leads qualified": 4},
            "period",
            "2026-12 is in the future; the latest period that may be rated is 2026-11",
        ),
        ("2026-13", {"Leads qualified": 4}, "period", "there is no month 13"),
        ("November", {"Leads qualified": 4}, "period", "'November' is not a period; write YYYY-MM"),
        ("2026-Q4", {"Leads qualified": 4}, "period", "is a quarter, but this card's periods are months"),
        (
            "2026-11",
            {"Leads qualified": 4, "Coffee": 5},
            "scores",
            "the card has no deliverable 'Coffee'; its deliverables are 'Leads qualified', 'Campaign "
            "calendar', 'Sales materials'",
        ),
    ],
)
def test_a_wrong_period_or_an_unknown_deliverable_stores_nothing(
    runtime: Runtime, period: str, scores: dict[str, int], field: str, says: str
) -> None:
    member(runtime, "Marketing")
    seller = member(runtime, "Sales")
    card = internal_card(runtime)
    with pytest.raises(Invalid) as refused:
        rate(runtime, card, seller, period, scores)
    assert refused.value.field == field
    assert says in refused.value.message
    assert _stored(runtime) == (0, 0)


def test_a_rater_rates_a_card_once_per_period(runtime: Runtime) -> None:
    member(runtime, "Marketing")
    seller = member(runtime, "Sales")
    card = internal_card(runtime)
    rate(runtime, card, seller, "2026-10", {"Leads qualified": 3})
    rate(runtime, card, seller, "2026-11", {"Leads qualified": 4})
    with pytest.raises(Conflict, match="rated 'Marketing for Sales' for 2026-11 already, on 20 Nov 2026"):
        rate(runtime, card, seller, "2026-11", {"Campaign calendar": 2})
    assert _stored(runtime) == (2, 2)


def test_only_the_customer_team_rates_an_internal_card(runtime: Runtime) -> None:
    marketer = member(runtime, "Marketing")
    seller = member(runtime, "Sales")
    card = internal_card(runtime)
    with pytest.raises(
        Invalid, match=f"{marketer.email} is in Marketing; members of Sales rate 'Marketing for Sales'"
    ):
        rate(runtime, card, marketer, "2026-11", {"Leads qualified": 4})
    with runtime.session() as db:
        with pytest.raises(Invalid, match="an internal card: it asks no NPS question"):
            quality.rate(
                db,
                actor=seller.actor,
                card_id=card.id,
                data=RatingCreate(period="2026-11", scores={"Leads qualified": 4}, nps=9),
            )
        with pytest.raises(Invalid, match="members of Sales rate it, not customers"):
            quality.rate(
                db,
                actor=seller.actor,
                card_id=card.id,
                data=RatingCreate(period="2026-11", scores={"Leads qualified": 4}, customer="1"),
            )
        # Recording a colleague's rating takes the import permission.
        other = member(runtime, "Sales")
        with pytest.raises(Forbidden, match="import data"):
            quality.rate(
                db,
                actor=seller.actor,
                card_id=card.id,
                data=RatingCreate(period="2026-11", scores={"Leads qualified": 4}, rater=other.email),
            )
        with pytest.raises(Invalid, match="Name the member of Sales who rates"):
            quality.rate(
                db,
                actor=SYSTEM,
                card_id=card.id,
                data=RatingCreate(period="2026-11", scores={"Leads qualified": 4}),
            )
        on_behalf = quality.rate(
            db,
            actor=SYSTEM,
            card_id=card.id,
            data=RatingCreate(period="2026-11", scores={"Leads qualified": 4}, rater=other.email.upper()),
        )
    assert on_behalf.rater_user_id == other.id
    assert _stored(runtime) == (1, 1)


def test_customers_rate_an_external_card_with_nps_and_csat(runtime: Runtime) -> None:
    member(runtime, "Store York")
    clerk = member(runtime, "Store York")
    analyst = member(runtime, "Head office", Role.ANALYST)
    card = external_card(runtime)
    ann = make_customer(runtime, name="Ann", identities=["email:ann@example.com"])
    data = RatingCreate(
        period="2026-11", scores={"Welcome": 5}, nps=9, csat=4, customer="email:ann@example.com"
    )
    with runtime.session() as db:
        with pytest.raises(Forbidden, match="import data"):
            quality.rate(db, actor=clerk.actor, card_id=card.id, data=data)
        with pytest.raises(Invalid, match="an external card: customers rate it"):
            quality.rate(
                db, actor=analyst.actor, card_id=card.id, data=data.model_copy(update={"rater": clerk.email})
            )
        with pytest.raises(Invalid, match="Name the customer who rates"):
            quality.rate(
                db, actor=analyst.actor, card_id=card.id, data=data.model_copy(update={"customer": None})
            )
        with pytest.raises(Invalid, match=r"No customer has the identity 'email:bob@example\.com'"):
            quality.rate(
                db,
                actor=analyst.actor,
                card_id=card.id,
                data=data.model_copy(update={"customer": "email:bob@example.com"}),
            )
        made = quality.rate(db, actor=analyst.actor, card_id=card.id, data=data)
    assert (made.rater_customer_id, made.rater, made.nps, made.csat) == (ann, "Ann", 9, 4)
    with runtime.session() as db, pytest.raises(Conflict, match="Ann rated"):
        quality.rate(
            db, actor=analyst.actor, card_id=card.id, data=data.model_copy(update={"customer": str(ann)})
        )
    with runtime.session() as db:
        history = db.scalars(select(AuditEntry).where(AuditEntry.customer_id == ann)).all()
    assert [e.action for e in history][-1] == "report_card.rated"


def test_a_deactivated_card_takes_no_ratings(runtime: Runtime) -> None:
    member(runtime, "Marketing")
    seller = member(runtime, "Sales")
    card = internal_card(runtime)
    with runtime.session() as db:
        quality.update(db, actor=SYSTEM, card_id=card.id, data=CardUpdate(active=False))
    with pytest.raises(Conflict, match="no longer in use"):
        rate(runtime, card, seller, "2026-11", {"Leads qualified": 4})
    assert _stored(runtime) == (0, 0)


def test_the_rate_form_says_who_may_rate_and_what_was_given(runtime: Runtime) -> None:
    marketer = member(runtime, "Marketing")
    seller = member(runtime, "Sales")
    card = internal_card(runtime)
    with runtime.session() as db:
        form = quality.rate_form(db, actor=seller.actor, card_id=card.id)
        assert (form.period, form.can_rate, form.why_not, form.periods) == (
            "2026-11",
            True,
            None,
            ["2026-11", "2026-10", "2026-09"],
        )
        assert (
            quality.rate_form(db, actor=marketer.actor, card_id=card.id).why_not
            == "Members of Sales rate this card."
        )
    rate(runtime, card, seller, "2026-10", {"Leads qualified": 2})
    with runtime.session() as db:
        october = quality.rate_form(db, actor=seller.actor, card_id=card.id, period="2026-10")
    assert (
        not october.can_rate and october.rated is not None and october.rated.scores == {"Leads qualified": 2}
    )
