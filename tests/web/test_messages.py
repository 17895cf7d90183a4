"""Messages on the web over real HTTP: the template admin (a broken template re-shown with its line), and
a draft from the briefing edited, checked and marked sent, which the customer sheet then shows."""

from __future__ import annotations

import re
from html import unescape

import httpx
import pytest

from segone.accounts.schemas import SYSTEM
from segone.knowledge.categories.service import in_force as categories_in_force
from segone.knowledge.facts import service as knowledge
from segone.knowledge.facts.schemas import DifferentiatorCreate
from segone.personalisation.messages.defaults import DEFAULTS
from segone.personalisation.messages.schemas import Purpose
from segone.runtime import Runtime
from tests.behaviour.conftest import DUCKDB_WARNING
from tests.conftest import LiveServer
from tests.factories import MadeUser, make_customer
from tests.web.conftest import csrf_of, field_error, token_of

pytestmark = pytest.mark.filterwarnings(DUCKDB_WARNING)
ADMIN = "/admin/message-templates"


def _fact(runtime: Runtime, customer_id: int, text: str) -> int:
    with runtime.session() as db:
        return knowledge.add(
            db,
            actor=SYSTEM,
            customer_id=customer_id,
            data=DifferentiatorCreate(text=text, category="free_time"),
            categories=categories_in_force(runtime.settings),
        ).id


def _textarea(html: str, name: str) -> str:
    found = re.search(rf'<textarea id="{name}" name="{name}"[^>]*>(.*?)</textarea>', html, flags=re.S)
    assert found, f"no textarea {name}"
    return unescape(found.group(1))


def test_a_broken_template_is_shown_again_with_its_line_and_a_good_one_saved(
    live_server: LiveServer, admin_client: tuple[httpx.Client, MadeUser]
) -> None:
    client, admin = admin_client
    assert f'href="{ADMIN}"' in client.get("/admin/offerings").text  # linked from the admin pages
    listed = client.get(ADMIN).text
    assert all(f'href="{ADMIN}/{p.value}"' in listed for p in Purpose)
    page = client.get(f"{ADMIN}/thank-you").text
    assert _textarea(page, "template") == DEFAULTS[Purpose.THANK_YOU]
    assert "Ann Archer, everything known" in page and "you play fiddle in a ceilidh band" in page

    broken = "Dear {{ customer.first_name }},\n\n{% if facts %}\n{{ facts[0].text }\n{% endif %}"
    token = csrf_of(page)
    refused = client.post(f"{ADMIN}/thank-you", data={"csrf_token": token, "template": broken})
    assert refused.status_code == 422
    assert field_error(refused.text) == ["Line 4 of the template: unexpected '}'"]
    assert "The problem is on line 4." in refused.text and _textarea(refused.text, "template") == broken
    unsafe = client.post(f"{ADMIN}/thank-you", data={"csrf_token": token, "template": "{{ ''.__class__ }}"})
    assert unsafe.status_code == 422 and "is unsafe" in unescape(unsafe.text)

    own = "Dear {{ customer.first_name }}, thank you!"
    saved = client.post(f"{ADMIN}/thank-you", data={"csrf_token": token, "template": own})
    assert saved.status_code == 303 and saved.headers["location"] == f"{ADMIN}/thank-you"
    shown = client.get(f"{ADMIN}/thank-you").text
    assert "Saved the thank-you template." in shown and _textarea(shown, "template") == own
    assert admin.email in shown and "Dear Ann, thank you!" in shown
    reset = client.post(f"{ADMIN}/thank-you/reset", data={"csrf_token": csrf_of(shown)})
    assert reset.status_code == 303
    assert _textarea(client.get(f"{ADMIN}/thank-you").text, "template") == DEFAULTS[Purpose.THANK_YOU]
    assert client.get(f"{ADMIN}/birthday").status_code == 404


def test_a_draft_from_the_briefing_is_checked_and_marked_sent(
    live_server: LiveServer, frontline_client: tuple[httpx.Client, MadeUser]
) -> None:
    client, _user = frontline_client
    runtime = live_server.runtime
    ann = make_customer(runtime, name="Ann Archer")
    fiddle = _fact(runtime, ann, "Plays fiddle in a ceilidh band")
    bees = _fact(runtime, ann, "Keeps bees on the roof")
    bob = make_customer(runtime, name="Bob Baker")
    choir = _fact(runtime, bob, "Sings in a choir")

    briefing = client.get(f"/customers/{ann}/briefing").text
    assert f'action="/customers/{ann}/messages/draft"' in briefing and "Draft a message" in briefing
    page = client.get(f"/customers/{ann}/messages/draft", params={"purpose": "follow-up"})
    assert page.status_code == 200, page.text
    text = _textarea(page.text, "text")
    assert "What you told me has stayed with me: you keep bees on the roof." in text
    assert f'name="fact" value="{bees}"' in page.text and f'name="fact" value="{fiddle}"' not in page.text
    assert "100%" in page.text and "About them" in page.text

    # Edited: the bees taken out, a sentence about us added.
    edited = "Dear Ann,\n\nThank you for your time. We have the best strings in Yorkshire."
    token = csrf_of(page.text)
    form = {"csrf_token": token, "purpose": "follow-up", "text": edited, "fact": [str(bees)]}
    checked = client.post(f"/customers/{ann}/messages/draft", data=form)
    html = unescape(checked.text)
    assert checked.status_code == 200
    assert (
        "No longer in the text, so no longer counted as revealed:" in html
        and "Keeps bees on the roof" in html
    )
    assert "<mark>We have the best strings in Yorkshire.</mark>" in html and "50%" in html

    refused = client.post(
        f"/customers/{ann}/messages",
        data={**form, "text": "You sing in a choir.", "fact": [str(choir)], "channel": "email"},
    )
    assert refused.status_code == 422 and f"Fact {choir} is not Ann Archer's" in unescape(refused.text)

    mentioned = "Dear Ann,\n\nYou play fiddle in a ceilidh band, and you keep bees on the roof."
    sent = client.post(
        f"/customers/{ann}/messages",
        data={**form, "text": mentioned, "fact": [str(bees)], "channel": "letter", "sent_on": "2026-01-05"},
    )
    assert sent.status_code == 303 and sent.headers["location"] == f"/customers/{ann}"
    sheet = unescape(client.get(f"/customers/{ann}").text)
    assert "Now they know we know: Keeps bees on the roof." in sheet
    bees_item = sheet[sheet.index(f'id="fact-{bees}"') :].split("</li>", 1)[0]
    assert "through message of" in bees_item and "5 Jan 2026" in bees_item and "(follow-up)" in bees_item
    fiddle_item = sheet[sheet.index(f'id="fact-{fiddle}"') :].split("</li>", 1)[0]
    assert "Knows we know" not in fiddle_item  # in the text, but not among the facts its draft revealed
    listed = unescape(client.get(f"/customers/{ann}/messages").text)
    assert "Follow-up" in listed and "You play fiddle in a ceilidh band" in listed and "letter" in listed
    assert client.get(f"/customers/{ann}/messages/draft", params={"purpose": "birthday"}).status_code == 422
    assert token_of(client, f"/customers/{bob}/messages")
