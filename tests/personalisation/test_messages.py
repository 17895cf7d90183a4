"""Messages on SQLite and PostgreSQL: templates checked in a sandbox, drafts in the customer's own facts,
and marking a message sent, which acknowledges exactly the facts it revealed, through that message."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from segone.accounts.models import AuditEntry
from segone.accounts.schemas import SYSTEM, AuditAction, Role
from segone.clock import utcnow
from segone.errors import Conflict, Forbidden, Invalid
from segone.knowledge.categories.service import in_force as categories_in_force
from segone.knowledge.facts import service as knowledge
from segone.knowledge.facts.schemas import AcknowledgeRequest, DifferentiatorCreate, OutdateRequest
from segone.knowledge.models import Acknowledgement
from segone.personalisation.messages import about_them, rendering
from segone.personalisation.messages import service as messages
from segone.personalisation.messages.defaults import DEFAULTS, made_up_customers
from segone.personalisation.messages.models import Message
from segone.personalisation.messages.rendering import TemplateFailed
from segone.personalisation.messages.schemas import (
    About,
    CheckRequest,
    DraftRequest,
    MessageChannel,
    Purpose,
    SendRequest,
    TemplateIn,
)
from segone.runtime import Runtime
from segone.views import merge as merging
from segone.views.customer_sheet import customer_sheet
from tests.behaviour.conftest import DUCKDB_WARNING
from tests.factories import make_customer, make_user, refuse_consent

pytestmark = pytest.mark.filterwarnings(DUCKDB_WARNING)

FIDDLE = "Plays fiddle in a ceilidh band"
CAFE = "Opening a second café in Otley in spring"
KIDS = "Has two children"


@dataclass
class Ann:
    id: int
    fiddle: int
    cafe: int
    kids: int


def _fact(runtime: Runtime, customer_id: int, text: str, category: str) -> int:
    with runtime.session() as db:
        return knowledge.add(
            db,
            actor=SYSTEM,
            customer_id=customer_id,
            data=DifferentiatorCreate(text=text, category=category),
            categories=categories_in_force(runtime.settings),
        ).id


def ann(runtime: Runtime) -> Ann:
    customer = make_customer(runtime, name="Ann Archer", identities=["email:ann@example.com"])
    return Ann(
        customer,
        _fact(runtime, customer, FIDDLE, "free_time"),
        _fact(runtime, customer, CAFE, "motivations"),
        _fact(runtime, customer, KIDS, "family"),
    )


def _draft(runtime: Runtime, customer_id: int, purpose: Purpose = Purpose.FOLLOW_UP, actor=SYSTEM):  # type: ignore[no-untyped-def]
    settings = runtime.settings
    with runtime.session() as db:
        return messages.draft(
            db,
            actor=actor,
            customer_id=customer_id,
            request=DraftRequest(purpose=purpose),
            categories=categories_in_force(settings),
            freshness_months=settings.freshness_months,
            currency=settings.currency,
            default_granted=settings.consent_granted_by_default,
        )


def _send(runtime: Runtime, customer_id: int, text: str, facts: list[int], actor=SYSTEM, **more):  # type: ignore[no-untyped-def]
    with runtime.session() as db:
        return messages.send(
            db,
            actor=actor,
            customer_id=customer_id,
            data=SendRequest(
                purpose=more.pop("purpose", Purpose.FOLLOW_UP),
                text=text,
                channel=more.pop("channel", MessageChannel.EMAIL),
                revealed_fact_ids=facts,
                **more,
            ),
            categories=categories_in_force(runtime.settings),
            freshness_months=runtime.settings.freshness_months,
            default_granted=runtime.settings.consent_granted_by_default,
        )


def _set(runtime: Runtime, purpose: Purpose, body: str, actor=SYSTEM):  # type: ignore[no-untyped-def]
    with runtime.session() as db:
        return messages.set_template(db, actor=actor, purpose=purpose, data=TemplateIn(template=body))


def _acknowledgements(runtime: Runtime) -> dict[int, Acknowledgement]:
    with runtime.session() as db:
        rows = db.scalars(select(Acknowledgement)).all()
        db.expunge_all()
        return {row.differentiator_id: row for row in rows}


# ---- templates -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("purpose", list(Purpose))
def test_every_default_renders_for_both_made_up_customers_and_reads_about_them(purpose: Purpose) -> None:
    for made_up in made_up_customers(purpose):
        text = rendering.render(DEFAULTS[purpose], made_up).text
        who = about_them.Customer(made_up.customer.name, "Ann", [f.text for f in made_up.facts])
        checked = about_them.check(text, who, ["Ten guitar lessons"])
        assert checked.about_us == 0 and checked.verdict == "About them", [s.text for s in checked.sentences]
        assert text.startswith(f"Dear {made_up.customer.first_name},")


def test_a_template_is_saved_once_it_renders_and_reset_with_the_audit_trail(runtime: Runtime) -> None:
    admin = make_user(runtime, Role.ADMIN)
    with runtime.session() as db:
        listed = messages.list_templates(db, actor=SYSTEM)
    assert [t.purpose for t in listed] == list(Purpose) and all(t.is_default for t in listed)
    body = (
        "Dear {{ customer.first_name }},\n\n"
        "{% for fact in untold %}{{ mention(fact, you=True) }}. {% endfor %}"
    )
    saved = _set(runtime, Purpose.CHECK_IN, body, actor=admin.actor)
    assert (saved.template, saved.is_default, saved.updated_by) == (body, False, admin.email)
    assert _draft(runtime, ann(runtime).id, Purpose.CHECK_IN).text.startswith("Dear Ann,")
    with runtime.session() as db:
        back = messages.reset_template(db, actor=admin.actor, purpose=Purpose.CHECK_IN)
        actions = list(db.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))
    assert back.is_default and back.template == DEFAULTS[Purpose.CHECK_IN]
    assert actions.count(AuditAction.MESSAGE_TEMPLATE_CHANGED.value) == 2
    with runtime.session() as db, pytest.raises(Forbidden):
        messages.set_template(
            db,
            actor=make_user(runtime, Role.ANALYST).actor,
            purpose=Purpose.OFFER,
            data=TemplateIn(template="Hi"),
        )


@pytest.mark.parametrize(
    ("body", "line", "says"),
    [
        (
            "Dear {{ customer.first_name }},\n\n{% if facts %}\n{{ facts[0].text }\n{% endif %}",
            4,
            "unexpected '}'",
        ),
        ("Hello\n{% for fact in facts %}\n{{ fact.text }}\n", 3, "Unexpected end of template"),
        ("Hello\n{{ frist_name }}", 2, "'frist_name' is not a name a message template can use"),
        (
            "Hello\n\n{{ ''.__class__.__mro__ }}",
            3,
            "access to attribute '__class__' of 'str' object is unsafe",
        ),
        ("{{ customer.__init__.__globals__ }}", 1, "unsafe"),
        ("Hi\n{{ facts.append(1) }}", 2, "access to attribute 'append' of 'list' object is unsafe"),
        ("Hi\n{{ 'a' * 100000000 }}", 2, "longer than a message may be"),
        ("{% for i in range(1000000) %}{% endfor %}", 1, "Range too big"),
        ("{{ offer.name }}", 1, "has no attribute 'name'"),  # offer is none but for an offer
        ("{{ facts[0].text }}", 1, "no element 0"),  # the made-up customer who has no fact
        ("{{ mention('a string') }}", 1, "mention() takes one of the facts"),
        ("Hi\n{{ mention(untold[0]) }}", 2, "list object has no element 0"),
        ("Hi\n\n{% include 'secrets.txt' %}", 3, "cannot include, import or extend"),
    ],
)
def test_a_broken_or_unsafe_template_is_refused_with_its_line(
    sqlite_runtime: Runtime, body: str, line: int, says: str
) -> None:
    with pytest.raises(TemplateFailed) as refused:
        _set(sqlite_runtime, Purpose.FOLLOW_UP, body)
    assert refused.value.problem.line == line
    assert says in refused.value.message and refused.value.message.startswith(
        f"Line {line} of the template: "
    )
    assert isinstance(refused.value, Invalid) and refused.value.http_status == 422
    with sqlite_runtime.session() as db:
        assert messages.get_template(db, actor=SYSTEM, purpose=Purpose.FOLLOW_UP).is_default


def test_a_template_that_fails_on_one_customer_is_a_422_when_drafting(sqlite_runtime: Runtime) -> None:
    # It renders for the made-up customers (two facts, none) but divides by the number of facts less
    # three: Ann, who has three, fails when drafted, and the error names the line.
    _set(sqlite_runtime, Purpose.CHECK_IN, "Hi\n{% if facts %}{{ 1 // (facts|length - 3) }}{% endif %}")
    customer = ann(sqlite_runtime)
    with pytest.raises(TemplateFailed, match=r"^Line 2 of the template: integer division or modulo by zero"):
        _draft(sqlite_runtime, customer.id, Purpose.CHECK_IN)


# ---- drafts ----------------------------------------------------------------------------------------------


def test_a_draft_reveals_what_it_mentions_and_checks_itself(runtime: Runtime) -> None:
    customer = ann(runtime)
    _set(
        runtime,
        Purpose.FOLLOW_UP,
        "Dear {{ customer.first_name }},\n\n"
        "{% if facts %}You told me: {{ mention(facts[0], you=True) }}.{% endif %} We sell strings.",
    )
    drafted = _draft(runtime, customer.id)
    # No refresh has measured rarity yet: the newest fact first.
    assert drafted.revealed[0].id == customer.kids and len(drafted.revealed) == 1
    assert drafted.text == "Dear Ann,\n\nYou told me: you have two children. We sell strings."
    assert (drafted.check.about_them, drafted.check.about_us, drafted.check.score) == (1, 1, 0.5)
    assert [s.about for s in drafted.check.sentences] == [About.NEUTRAL, About.THEM, About.US]
    assert not drafted.template_is_default and drafted.customer_name == "Ann Archer"


def test_a_default_draft_brings_up_what_they_do_not_know_we_know(runtime: Runtime) -> None:
    customer = ann(runtime)
    with runtime.session() as db:  # the two newest are known to them already: the oldest is brought up
        for fact_id in (customer.kids, customer.cafe):
            knowledge.acknowledge(db, actor=SYSTEM, differentiator_id=fact_id, data=AcknowledgeRequest())
    drafted = _draft(runtime, customer.id)
    assert [f.id for f in drafted.revealed] == [customer.fiddle]
    assert "What you told me has stayed with me: you play fiddle in a ceilidh band." in drafted.text
    assert drafted.check.verdict == "About them"


def test_an_edited_draft_no_longer_counts_a_mention_taken_out(runtime: Runtime) -> None:
    customer = ann(runtime)
    with runtime.session() as db:
        checked = messages.check(
            db,
            actor=SYSTEM,
            customer_id=customer.id,
            data=CheckRequest(
                text="Good luck with the new café!", revealed_fact_ids=[customer.fiddle, customer.cafe]
            ),
            categories=categories_in_force(runtime.settings),
            freshness_months=6,
        )
    assert checked.revealed == [] and [f.id for f in checked.dropped] == [customer.fiddle, customer.cafe]


# ---- marking sent ----------------------------------------------------------------------------------------


def test_marking_sent_acknowledges_exactly_the_revealed_facts_through_the_message(runtime: Runtime) -> None:
    customer = ann(runtime)
    employee = make_user(runtime, Role.FRONTLINE)
    with runtime.session() as db:  # known to them before, in an encounter: its first record stays
        knowledge.acknowledge(
            db, actor=SYSTEM, differentiator_id=customer.kids, data=AcknowledgeRequest(how="said so")
        )
    before = _acknowledgements(runtime)[customer.kids]
    text = (
        "Dear Ann,\n\nYou play fiddle in a ceilidh band, you have two children, and you are opening a second "
        "café in Otley in spring."
    )
    # The café is in the text but was not among the facts its draft revealed: it is not acknowledged.
    sent = _send(runtime, customer.id, text, [customer.fiddle, customer.kids], actor=employee.actor)
    assert [f.id for f in sent.revealed] == [customer.fiddle, customer.kids]
    assert sent.acknowledged == [customer.fiddle] and sent.already_known == [customer.kids]
    assert sent.dropped == [] and sent.sent_by == employee.email and sent.score == 1.0

    acks = _acknowledgements(runtime)
    assert set(acks) == {customer.fiddle, customer.kids}
    assert acks[customer.fiddle].message_id == sent.id
    assert acks[customer.fiddle].acknowledged_by_id == employee.id
    assert acks[customer.kids].message_id is None
    assert (
        acks[customer.kids].acknowledged_at == before.acknowledged_at and acks[customer.kids].how == "said so"
    )
    with runtime.session() as db:
        entry = db.scalars(
            select(AuditEntry).where(AuditEntry.action == AuditAction.MESSAGE_SENT.value)
        ).one()
        listed = messages.list_for_customer(db, actor=SYSTEM, customer_id=customer.id)
    assert entry.customer_id == customer.id and entry.details["acknowledged"] == [customer.fiddle]
    assert [m.id for m in listed] == [sent.id] and listed[0].text == text


def test_a_mention_edited_away_is_not_acknowledged(runtime: Runtime) -> None:
    customer = ann(runtime)
    sent = _send(
        runtime,
        customer.id,
        "Dear Ann, how is the ceilidh band? You play fiddle in a ceilidh band.",
        [customer.fiddle, customer.cafe],
    )
    assert sent.acknowledged == [customer.fiddle]
    assert [f.id for f in sent.dropped] == [customer.cafe]
    assert set(_acknowledgements(runtime)) == {customer.fiddle}


def test_another_customers_fact_or_an_outdated_one_refuses_the_whole_message(runtime: Runtime) -> None:
    customer = ann(runtime)
    bob = make_customer(runtime, name="Bob Baker")
    bobs = _fact(runtime, bob, "Sings in a choir", "free_time")
    text = "You play fiddle in a ceilidh band, and you sing in a choir."
    with pytest.raises(
        Invalid, match=rf"^Fact {bobs} is not Ann Archer's: a message to them can only reveal"
    ):
        _send(runtime, customer.id, text, [customer.fiddle, bobs])
    with runtime.session() as db:
        knowledge.outdate(db, actor=SYSTEM, differentiator_id=customer.cafe, data=OutdateRequest())
    with pytest.raises(Invalid, match=rf"^No longer true, .*: {customer.cafe} \(Opening a second café"):
        _send(runtime, customer.id, f"{text} And the café!", [customer.fiddle, customer.cafe])
    with pytest.raises(Invalid, match="is in the future"):
        _send(runtime, customer.id, text, [customer.fiddle], sent_at=utcnow() + timedelta(days=2))
    assert _acknowledgements(runtime) == {}
    with runtime.session() as db:
        assert db.scalar(select(func.count(Message.id))) == 0


def test_the_sheet_says_which_message_a_fact_came_through_and_a_merge_keeps_it(runtime: Runtime) -> None:
    customer = ann(runtime)
    sent = _send(
        runtime,
        customer.id,
        "You play fiddle in a ceilidh band.",
        [customer.fiddle],
        purpose=Purpose.THANK_YOU,
        sent_at=utcnow() - timedelta(days=3),
        channel=MessageChannel.LETTER,
    )
    duplicate = make_customer(runtime, name="A. Archer")
    dupe_fact = _fact(runtime, duplicate, "Drives a red van", "lifestyle")
    other = _send(runtime, duplicate, "You drive a red van.", [dupe_fact], purpose=Purpose.CHECK_IN)
    with runtime.session() as db:
        merging.merge(db, actor=SYSTEM, survivor_id=customer.id, merged_id=duplicate)
    with runtime.session() as db:
        sheet = customer_sheet(
            db,
            actor=SYSTEM,
            customer_id=customer.id,
            categories=categories_in_force(runtime.settings),
            freshness_months=6,
            currency="USD",
        )
        listed = messages.list_for_customer(db, actor=SYSTEM, customer_id=duplicate)
    through = {fact.id: fact.through_message for fact in sheet.facts()}
    assert through[customer.fiddle] is not None and through[customer.fiddle].id == sent.id
    assert through[customer.fiddle].purpose_label == "Thank-you"
    assert through[customer.fiddle].sent_at.date() == (utcnow() - timedelta(days=3)).date()
    assert through[customer.cafe] is None
    assert through[dupe_fact] is not None and through[dupe_fact].id == other.id
    assert [m.id for m in listed] == [other.id, sent.id]  # the duplicate's id gives the survivor's


def test_drafting_and_sending_take_the_permission_to_acknowledge(sqlite_runtime: Runtime) -> None:
    customer = ann(sqlite_runtime)
    for role in Role:  # every role may acknowledge today; the check is the service's own
        drafted = _draft(sqlite_runtime, customer.id, actor=make_user(sqlite_runtime, role).actor)
        assert drafted.revealed


def test_without_personalisation_consent_a_draft_uses_none_of_their_facts(runtime: Runtime) -> None:
    customer = ann(runtime)
    _set(
        runtime,
        Purpose.FOLLOW_UP,
        "Dear {{ customer.first_name }},\n\n"
        "{% if facts %}You told me: {{ mention(facts[0], you=True) }}.{% endif %} We sell strings.",
    )
    refuse_consent(runtime, customer.id, "personalisation")
    drafted = _draft(runtime, customer.id)
    assert drafted.revealed == [] and drafted.text == "Dear Ann,\n\n We sell strings."


def test_without_contact_consent_no_draft_is_made(runtime: Runtime) -> None:
    customer = ann(runtime)
    refuse_consent(runtime, customer.id, "contact")
    with pytest.raises(Conflict, match="No contact consent: Ann Archer has not agreed to be contacted"):
        _draft(runtime, customer.id)


def test_a_message_drafted_before_contact_consent_was_withdrawn_is_not_recorded_as_sent(
    runtime: Runtime,
) -> None:
    customer = ann(runtime)
    drafted = _draft(runtime, customer.id)
    refuse_consent(runtime, customer.id, "contact")
    with pytest.raises(Conflict, match="so no message is recorded as sent"):
        _send(runtime, customer.id, drafted.text, [f.id for f in drafted.revealed])
    with runtime.session() as db:
        facts = knowledge.list_for_customer(db, actor=SYSTEM, customer_id=customer.id)
    assert all(fact.acknowledgement is None for fact in facts)
