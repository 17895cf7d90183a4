"""Rating links: signed addresses that let one external customer rate one card for one period, once,
without signing in; nothing else opens the form."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from segone.accounts.schemas import SYSTEM, Role
from segone.clock import fixed_at
from segone.errors import Conflict, Forbidden, Invalid, NotFound
from segone.quality import links
from segone.quality import service as quality
from segone.quality.schemas import RatingAnswers
from segone.runtime import Runtime
from tests.factories import make_customer
from tests.quality.helpers import external_card, internal_card, member, today

SECRET = "test-secret-key"


@pytest.fixture(autouse=True)
def _november() -> Iterator[None]:
    with today():
        yield


def test_a_link_opens_the_form_of_its_customer_card_and_period_once(runtime: Runtime) -> None:
    manager = member(runtime, "Store York", Role.MANAGER)
    card = external_card(runtime)
    ann = make_customer(runtime, name="Ann", identities=["email:ann@example.com"])
    with runtime.session() as db:
        link = quality.make_link(
            db,
            actor=manager.actor,
            card_id=card.id,
            customer="email:ann@example.com",
            period="2026-11",
            secret=SECRET,
        )
    assert (link.customer_id, link.customer, link.period) == (ann, "Ann", "2026-11")
    assert link.path == f"/r/{link.token}" and link.valid_until.isoformat() == "2026-12-31"
    with runtime.session() as db:
        form = quality.link_form(db, token=link.token, secret=SECRET)
    assert (form.card, form.customer, form.period_label, form.deliverables) == (
        card.name,
        "Ann",
        "November 2026",
        ["Welcome", "Advice"],
    )
    assert form.rated_at is None
    answers = RatingAnswers(scores={"Welcome": 5, "Advice": 4}, nps=10, csat=5, comment="Lovely shop")
    with runtime.session() as db:
        made = quality.rate_by_link(db, token=link.token, secret=SECRET, answers=answers)
    assert (made.rater_customer_id, made.source, made.period) == (ann, "link", "2026-11")
    with runtime.session() as db:
        assert quality.link_form(db, token=link.token, secret=SECRET).rated_at is not None
        with pytest.raises(Conflict, match="Ann rated"):
            quality.rate_by_link(db, token=link.token, secret=SECRET, answers=answers)


def test_an_altered_or_foreign_token_opens_nothing(runtime: Runtime) -> None:
    member(runtime, "Store York")
    card = external_card(runtime)
    ann = make_customer(runtime, name="Ann")
    token = links.sign(SECRET, links.LinkClaims(card.id, ann, "2026-11"))
    other_card = links.sign(SECRET, links.LinkClaims(card.id + 1, ann, "2026-11"))
    with runtime.session() as db:
        for bad in (
            token[:-2] + "xx",
            links.sign("another-key", links.LinkClaims(card.id, ann, "2026-11")),
            "nonsense",
            other_card,
        ):
            with pytest.raises(NotFound, match="not valid"):
                quality.link_form(db, token=bad, secret=SECRET)


def test_a_link_closes_at_the_end_of_the_next_period(runtime: Runtime) -> None:
    member(runtime, "Store York")
    card = external_card(runtime)
    ann = make_customer(runtime, name="Ann")
    token = links.sign(SECRET, links.LinkClaims(card.id, ann, "2026-10"))
    with runtime.session() as db:
        assert quality.link_form(db, token=token, secret=SECRET).period == "2026-10"
    closed = "This link was for October 2026 and closed on 30 November 2026"
    with (
        fixed_at(datetime(2026, 12, 1, tzinfo=UTC)),
        runtime.session() as db,
        pytest.raises(Conflict, match=closed),
    ):
        quality.link_form(db, token=token, secret=SECRET)


def test_links_are_made_by_managers_of_external_cards_only(runtime: Runtime) -> None:
    clerk = member(runtime, "Store York")
    member(runtime, "Marketing")
    member(runtime, "Sales")
    store = external_card(runtime)
    internal = internal_card(runtime)
    ann = make_customer(runtime, name="Ann")
    with runtime.session() as db:
        with pytest.raises(Forbidden, match="manage report cards"):
            quality.make_link(
                db, actor=clerk.actor, card_id=store.id, customer=str(ann), period="2026-11", secret=SECRET
            )
        with pytest.raises(Invalid, match="is an internal card"):
            quality.make_link(
                db, actor=SYSTEM, card_id=internal.id, customer=str(ann), period="2026-11", secret=SECRET
            )
        with pytest.raises(Invalid, match="in the future"):
            quality.make_link(
                db, actor=SYSTEM, card_id=store.id, customer=str(ann), period="2026-12", secret=SECRET
            )
        with pytest.raises(Invalid, match="There is no customer 999999"):
            quality.make_link(
                db, actor=SYSTEM, card_id=store.id, customer="999999", period="2026-11", secret=SECRET
            )
