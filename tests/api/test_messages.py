"""Messages over real HTTP: templates refused with their line, drafts, checks, and marking a message sent."""

from __future__ import annotations

import pytest

from segone.accounts.schemas import SYSTEM, Role
from segone.knowledge.categories.service import in_force as categories_in_force
from segone.knowledge.facts import service as knowledge
from segone.knowledge.facts.schemas import DifferentiatorCreate
from segone.personalisation import service as offerings
from segone.personalisation.messages.defaults import DEFAULTS
from segone.personalisation.messages.schemas import Purpose
from segone.personalisation.schemas import OfferingCreate
from segone.runtime import Runtime
from tests.api.conftest import ClientFactory
from tests.api.helpers import api_user, error_of, fields_at_fault
from tests.behaviour.conftest import DUCKDB_WARNING
from tests.factories import make_customer

pytestmark = pytest.mark.filterwarnings(DUCKDB_WARNING)


def _fact(runtime: Runtime, customer_id: int, text: str, category: str = "free_time") -> int:
    with runtime.session() as db:
        return knowledge.add(
            db,
            actor=SYSTEM,
            customer_id=customer_id,
            data=DifferentiatorCreate(text=text, category=category),
            categories=categories_in_force(runtime.settings),
        ).id


@pytest.mark.parametrize(
    ("body", "line", "says"),
    [
        (
            "Dear {{ customer.first_name }},\n\n{% if facts %}\n{{ facts[0].text }\n{% endif %}",
            4,
            "unexpected '}'",
        ),
        (
            "Hello\n\n{{ ''.__class__.__mro__ }}",
            3,
            "access to attribute '__class__' of 'str' object is unsafe",
        ),
        ("Hi {{ customer.firstname }}", 1, "has no attribute 'firstname'"),
    ],
)
def test_a_broken_or_unsafe_template_is_a_422_with_its_line(
    sqlite_runtime: Runtime, sqlite_api: ClientFactory, body: str, line: int, says: str
) -> None:
    admin = sqlite_api(api_user(sqlite_runtime, Role.ADMIN).token)
    error = error_of(admin.put("/message-templates/follow-up", json={"template": body}), 422, "invalid")
    assert error["message"].startswith(f"Line {line} of the template: ") and says in error["message"]
    assert error["details"] == [
        {"field": "template", "line": line, "problem": error["details"][0]["problem"]}
    ]
    assert admin.get("/message-templates/follow-up").json()["is_default"] is True


def test_templates_are_listed_changed_and_put_back(runtime: Runtime, api: ClientFactory) -> None:
    admin = api(api_user(runtime, Role.ADMIN).token)
    frontline = api(api_user(runtime, Role.FRONTLINE).token)
    listed = frontline.get("/message-templates").json()
    assert [t["purpose"] for t in listed] == [p.value for p in Purpose]
    assert listed[3]["label"] == "Recovery apology" and listed[3]["template"] == DEFAULTS[Purpose.RECOVERY]
    body = "Dear {{ customer.first_name }},\n\nHow is it?{% if untold %} {{ mention(untold[0]) }}.{% endif %}"
    error_of(frontline.put("/message-templates/check-in", json={"template": body}), 403, "forbidden")
    saved = admin.put("/message-templates/check-in", json={"template": body})
    assert saved.status_code == 200, saved.text
    assert (
        saved.json()["is_default"] is False and saved.json()["default_template"] == DEFAULTS[Purpose.CHECK_IN]
    )
    assert frontline.get("/message-templates/check-in").json()["template"] == body
    assert fields_at_fault(admin.get("/message-templates/birthday")) == {"purpose"}
    assert fields_at_fault(admin.put("/message-templates/offer", json={"template": "  "})) == {"template"}
    back = admin.delete("/message-templates/check-in").json()
    assert back["is_default"] is True and back["template"] == DEFAULTS[Purpose.CHECK_IN]


def test_a_draft_is_edited_checked_and_marked_sent(
    sqlite_runtime: Runtime, sqlite_api: ClientFactory
) -> None:
    runtime = sqlite_runtime
    ann = make_customer(runtime, name="Ann Archer")
    fiddle = _fact(runtime, ann, "Plays fiddle in a ceilidh band")
    cafe = _fact(runtime, ann, "Opening a second café in Otley in spring", "motivations")
    bob = make_customer(runtime, name="Bob Baker")
    choir = _fact(runtime, bob, "Sings in a choir")
    with runtime.session() as db:
        offerings.create(db, actor=SYSTEM, data=OfferingCreate(key="fiddle-strings", name="Fiddle strings"))
    client = sqlite_api(api_user(runtime, Role.FRONTLINE).token)

    drafted = client.post(
        f"/customers/{ann}/messages/draft", json={"purpose": "offer", "offering": "fiddle-strings"}
    )
    assert drafted.status_code == 200, drafted.text
    draft = drafted.json()
    assert [f["id"] for f in draft["revealed"]] == [cafe]  # the newest they do not know we know
    assert (
        "For you, Fiddle strings could be a good fit." in draft["text"]
        and draft["offering"] == "fiddle-strings"
    )
    assert draft["check"]["verdict"] == "About them"
    wrong = client.post(
        f"/customers/{ann}/messages/draft", json={"purpose": "thank-you", "offering": "fiddle-strings"}
    )
    assert fields_at_fault(wrong) == {"offering"}
    error_of(
        client.post(f"/customers/{ann}/messages/draft", json={"purpose": "offer", "offering": "nope"}),
        404,
        "not_found",
    )

    edited = "Dear Ann,\n\nHow is the band? You play fiddle in a ceilidh band. We sell Fiddle strings."
    checked = client.post(
        f"/customers/{ann}/messages/check", json={"text": edited, "revealed_fact_ids": [fiddle, cafe]}
    ).json()
    assert [f["id"] for f in checked["revealed"]] == [fiddle] and [f["id"] for f in checked["dropped"]] == [
        cafe
    ]
    assert [s["about"] for s in checked["check"]["sentences"]] == ["neutral", "neutral", "them", "us"]
    assert checked["check"]["sentences"][3]["us"] == ["We", "Fiddle strings"]

    theirs = {"purpose": "offer", "text": edited, "channel": "email", "revealed_fact_ids": [fiddle, choir]}
    refused = error_of(client.post(f"/customers/{ann}/messages", json=theirs), 422, "invalid")
    assert refused["details"][0]["fact_ids"] == [choir] and "not Ann Archer's" in refused["message"]
    sent = client.post(
        f"/customers/{ann}/messages",
        json={
            "purpose": "offer",
            "text": edited,
            "channel": "email",
            "revealed_fact_ids": [fiddle, cafe],
            "offering": "fiddle-strings",
        },
    )
    assert sent.status_code == 201, sent.text
    message = sent.json()
    assert message["acknowledged"] == [fiddle] and [f["id"] for f in message["dropped"]] == [cafe]
    assert message["purpose_label"] == "Offer" and message["score"] == 0.5

    sheet = client.get(f"/customers/{ann}/sheet").json()
    facts = {f["id"]: f for group in sheet["groups"] for f in group["facts"]}
    assert facts[fiddle]["acknowledgement"]["message_id"] == message["id"]
    assert facts[fiddle]["through_message"]["purpose"] == "offer"
    assert facts[cafe]["acknowledgement"] is None
    assert [m["id"] for m in client.get(f"/customers/{ann}/messages").json()] == [message["id"]]
    assert client.get(f"/customers/{bob}/messages").json() == []
    assert fields_at_fault(
        client.post(f"/customers/{ann}/messages", json={**theirs, "channel": "pigeon"})
    ) == {"channel"}
