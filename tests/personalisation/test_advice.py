""" "It depends": a question about our offerings answered for one customer, in the service, over HTTP, at
the terminal and on the briefing's page; every reason cites a fact or purchase of that customer."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import text

from segone.accounts.schemas import SYSTEM
from segone.behaviour import service as behaviour
from segone.customers import service as customers
from segone.personalisation import service as personalisation
from segone.personalisation.schemas import AdviceRequest, AdviceVerdict, OfferingCreate
from segone.runtime import Runtime
from tests.behaviour.conftest import DUCKDB_WARNING
from tests.personalisation.planted import World, load

pytestmark = pytest.mark.filterwarnings(DUCKDB_WARNING)

LEARNED = datetime(2024, 3, 12, tzinfo=UTC)
BOUGHT = datetime(2024, 5, 7, tzinfo=UTC)


def _shop(runtime: Runtime) -> dict[str, int]:
    """Ann wants to learn guitar and bought drum lessons; Bob told us nothing and bought nothing; the
    studio plan is for business customers only."""
    offerings = [
        OfferingCreate(
            key="guitar-lessons",
            name="Guitar lessons",
            description="Ten weekly guitar lessons with a teacher, for beginners who want to learn guitar.",
            needs=["learn guitar"],
            price_band="50_200",
        ),
        OfferingCreate(
            key="drum-lessons",
            name="Drum lessons",
            description="Ten weekly drum lessons with a teacher, any level.",
            needs=["learn drums"],
        ),
        OfferingCreate(
            key="studio-plan",
            name="Studio plan",
            description="Recording studio time every month for bands, with lessons in mixing.",
            needs=["recording"],
            attributes={"eligible_if": "kind = business"},
        ),
        OfferingCreate(key="gift-card", name="Gift card", description="A card for any shop purchase."),
    ]
    world = World(
        offerings=offerings,
        group_of_offering={o.key: None for o in offerings},
        customers=["crm:ANN", "crm:BOB"],
        group_of_customer={},
        purchases=[("crm:ANN", "drum-lessons", BOUGHT)],
        facts=[("crm:ANN", "Wants to learn guitar this year", LEARNED)],
    )
    load(runtime, world)
    with runtime.session() as db:
        return {
            name: customers.resolve(db, actor=SYSTEM, reference=f"crm:{name.upper()}").id
            for name in ("ann", "bob")
        }


def _owned(runtime: Runtime, customer_id: int) -> tuple[set[int], set[str]]:
    """The customer's own fact ids and purchase event ids, read straight from the store and events."""
    with runtime.session() as db:
        facts = set(
            db.scalars(text("SELECT id FROM differentiators WHERE customer_id = :c"), {"c": customer_id})
        )
    table = behaviour.offering_purchases(
        actor=SYSTEM,
        data_dir=runtime.settings.data_dir,
        analytics_url=runtime.settings.analytics_url,
        customer_ids=[customer_id],
    )
    return facts, set(table.column("event_id").to_pylist())


def test_each_option_is_judged_for_the_customer_with_reasons_that_are_theirs(runtime: Runtime) -> None:
    ids = _shop(runtime)
    with runtime.session() as db:
        ann = personalisation.advise(
            db,
            runtime.settings,
            actor=SYSTEM,
            customer_id=ids["ann"],
            data=AdviceRequest(question="Which lessons suit me?"),
        )
        bob = personalisation.advise(
            db,
            runtime.settings,
            actor=SYSTEM,
            customer_id=ids["bob"],
            data=AdviceRequest(question="Which lessons suit me?"),
        )
    verdicts = {o.offering.key: o.verdict for o in ann.options}
    assert verdicts["guitar-lessons"] is AdviceVerdict.FITS
    assert verdicts["drum-lessons"] is AdviceVerdict.HAS_IT
    assert ann.options[0].offering.key == "guitar-lessons"  # fits comes first
    assert ann.answer.endswith("Guitar lessons fits best.") and not ann.asked_about_none
    guitar = ann.options[0]
    assert guitar.reasons[0].text == "You told us in March 2024: “Wants to learn guitar this year”."
    drums = next(o for o in ann.options if o.offering.key == "drum-lessons")
    assert drums.reasons[0].text == "You bought Drum lessons on 7 May 2024."

    facts, events = _owned(runtime, ids["ann"])
    cited = [r for o in ann.options for r in o.reasons]
    assert cited and all((r.fact_id in facts) or (r.event_id in events) for r in cited)

    # Bob: nothing we know of him speaks for or against either lesson; ask first. No reason at all.
    assert {o.verdict for o in bob.options} == {AdviceVerdict.DEPENDS}
    assert all(not o.reasons for o in bob.options)
    assert (
        next(o for o in bob.options if o.offering.key == "guitar-lessons").ask
        == "Ask whether they need: learn guitar."
    )
    assert bob.answer.endswith("we do not know enough about them yet to choose; ask first.")


def test_a_rule_leaves_a_customer_out_and_a_question_naming_nothing_falls_back_to_their_offers(
    runtime: Runtime,
) -> None:
    ids = _shop(runtime)
    with runtime.session() as db:
        studio = personalisation.advise(
            db,
            runtime.settings,
            actor=SYSTEM,
            customer_id=ids["ann"],
            data=AdviceRequest(question="Can I book recording studio time?"),
        )
        vague = personalisation.advise(
            db,
            runtime.settings,
            actor=SYSTEM,
            customer_id=ids["bob"],
            data=AdviceRequest(question="Hello there"),
        )
    plan = next(o for o in studio.options if o.offering.key == "studio-plan")
    assert plan.verdict is AdviceVerdict.NOT_FOR_THEM
    assert plan.caveats == ["It is only for customers with kind = business."]
    assert vague.asked_about_none and vague.options == []  # no stored offers for Bob yet
    assert vague.answer == "We have nothing in our catalogue that answers this, and no offers for them yet."


def test_a_messages_template_sees_the_customers_stored_offers(runtime: Runtime) -> None:
    from segone.knowledge.categories.service import in_force
    from segone.personalisation import refresh
    from segone.personalisation.messages import service as messages
    from segone.personalisation.messages.schemas import Purpose

    ids = _shop(runtime)

    def offers_in_context() -> list[str]:
        with runtime.session() as db:
            context = messages.context_of(
                db,
                actor=SYSTEM,
                customer_id=ids["ann"],
                purpose=Purpose.OFFER,
                offering=None,
                categories=in_force(runtime.settings),
                freshness_months=runtime.settings.freshness_months,
                currency=runtime.settings.currency,
                default_granted=True,
            )
        return [o.key for o in context.offers]

    assert offers_in_context() == []  # before the first offers refresh
    refresh.refresh(runtime.sessions, runtime.settings, actor=SYSTEM)
    with runtime.session() as db:
        stored = personalisation.customer_offers(db, actor=SYSTEM, customer_id=ids["ann"], limit=3)
    assert stored.items and offers_in_context() == [item.offering.key for item in stored.items]
