"""segone's templates, one per purpose, until the business writes its own; and the two made-up customers
every template is tried on before it is saved.

They are written the seeds' way: about the customer, not about us. Each opens with something the
customer told us (``untold`` first: what they do not know we know yet), asks about them, and names what we
sell only as it fits them. Each scores "About them" on the check (a test keeps it so).
"""

from __future__ import annotations

from segone.personalisation.messages.rendering import (
    Cadence,
    Context,
    CustomerItem,
    FactItem,
    Moment,
    OfferItem,
    SenderItem,
)
from segone.personalisation.messages.schemas import Purpose


def _template(*paragraphs: str) -> str:
    """A template from its paragraphs (each may be given in pieces), with the shared opening and close."""
    opening = "{% set told = untold or facts %}\nDear {{ customer.first_name }},\n"
    closing = "\nBest wishes,\n{{ sender.name }}\n"
    return opening + "".join(f"\n{paragraph}\n" for paragraph in paragraphs) + closing


DEFAULTS: dict[Purpose, str] = {
    Purpose.FOLLOW_UP: _template(
        "Thank you for your time when we last spoke.{% if told %} What you told me has stayed with me: "
        "{{ mention(told[0], you=True) }}.{% endif %}",
        "Is there anything you would like to go over again, or anything that has changed for you since? "
        "You can simply reply to this message.",
    ),
    Purpose.OFFER: _template(
        "{% if told %}You told us this: {{ mention(told[0], you=True) }}.{% endif %}",
        "{% if offer %}For you, {{ offer.name }} could be a good fit.{% if offer.description %} "
        "{{ offer.description }}{% endif %}\n\n"
        "Would you like to know more? Just reply to this message."
        "{% else %}Is there something you are planning that you would like a hand with? Your answer "
        "would help you get exactly what suits you.{% endif %}",
    ),
    Purpose.THANK_YOU: _template(
        "Thank you for your visit{% if last_purchase %} and your purchase on {{ last_purchase.date }}"
        "{% endif %}.{% if told %} It was good to hear what matters to you: "
        "{{ mention(told[0], you=True) }}.{% endif %}",
        "If anything is not quite right for you, tell us and you will have our full attention.",
    ),
    Purpose.RECOVERY: _template(
        "You deserved better{% if last_complaint %} on {{ last_complaint.date }}{% endif %}, and I am sorry."
        "{% if told %} You have told us what matters to you: {{ mention(told[0], you=True) }}, and you "
        "should have felt it.{% endif %}",
        "What would put it right for you? Your answer decides what happens next.",
    ),
    Purpose.CHECK_IN: _template(
        "It has been a while{% if last_purchase %} since {{ last_purchase.date }}{% endif %}, and you have "
        "been on my mind.{% if told %} When we last spoke, you told me this: "
        "{{ mention(told[0], you=True) }}. How is it going?{% endif %}",
        "If there is anything you need, simply reply to this message.",
    ),
}


def _made_up(purpose: Purpose, *, rich: bool) -> Context:
    """A customer with everything known (rich) or nothing known: a template must render for both."""
    if not rich:
        return Context(
            customer=CustomerItem(
                id=0, name="Hollis Hardware", first_name="Hollis Hardware", kind="business"
            ),
            facts=(),
            today="1 March 2026",
        )
    offer = OfferItem(
        key="guitar-lessons-10",
        name="Ten guitar lessons",
        description="One lesson a week with a teacher from the shop, any level.",
        needs=("learn an instrument",),
        price_band="$50-200",
    )
    return Context(
        customer=CustomerItem(id=0, name="Ann Archer", first_name="Ann", kind="person"),
        facts=(
            FactItem(1, "Plays fiddle in a ceilidh band", "free_time", "Free time", rare=True, known=False),
            FactItem(2, "Has two children", "family", "Family make-up", rare=False, known=True),
        ),
        today="1 March 2026",
        last_purchase=Moment(date="3 February 2026", days_ago=26),
        cadence=Cadence(purchase_days=6, usual_gap_days=30, days_since=26),
        last_complaint=Moment(date="10 February 2026", days_ago=19),
        last_return=Moment(date="12 February 2026", days_ago=17),
        offer=offer if purpose is Purpose.OFFER else None,
        offers=(),
        sender=SenderItem(name="Sam"),
    )


def made_up_customers(purpose: Purpose) -> list[Context]:
    return [_made_up(purpose, rich=True), _made_up(purpose, rich=False)]
