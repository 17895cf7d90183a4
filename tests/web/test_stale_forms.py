"""An edit form carries the version it was opened on: sent after someone else changed the record, it is
refused with a clear message and the current values (not a 500, not a silent overwrite)."""

from __future__ import annotations

import re
from html import unescape

import httpx

from segone.accounts.schemas import SYSTEM
from segone.customers import service as customers
from segone.customers.schemas import CustomerUpdate
from segone.knowledge.categories.service import in_force as categories_in_force
from segone.knowledge.facts import service as knowledge
from segone.knowledge.facts.schemas import DifferentiatorCreate, DifferentiatorUpdate
from tests.conftest import LiveServer
from tests.factories import MadeUser, make_customer
from tests.web.conftest import csrf_of, field_error


def _version_in(html: str, action: str) -> str:
    form = re.search(rf'<form method="post" action="{re.escape(action)}".*?</form>', html, re.S)
    assert form, f"no form posting to {action}"
    version = re.search(r'name="version" value="(\d+)"', form.group(0))
    assert version, "the form carries no version"
    return version.group(1)


def test_a_stale_customer_form_shows_the_current_values(
    live_server: LiveServer, frontline_client: tuple[httpx.Client, MadeUser]
) -> None:
    client, _ = frontline_client
    runtime = live_server.runtime
    customer_id = make_customer(runtime, name="Cleo", attributes={"City": "York"})
    opened = client.get(f"/customers/{customer_id}/edit").text
    token, version = csrf_of(opened), _version_in(opened, f"/customers/{customer_id}/edit")
    with runtime.session() as db:  # someone else, meanwhile
        customers.update(db, actor=SYSTEM, customer_id=customer_id, data=CustomerUpdate(name="Cleo Laine"))

    form = {"csrf_token": token, "name": "Cleo Smith", "kind": "person", "attributes": "City: Leeds"}
    stale = client.post(f"/customers/{customer_id}/edit", data={**form, "version": version})
    assert stale.status_code == 409
    assert any("changed by someone else since you opened it" in e for e in field_error(stale.text))
    assert 'value="Cleo Laine"' in stale.text  # the current name, to redo the change on
    assert "York" in unescape(stale.text) and "Leeds" not in stale.text
    current = _version_in(stale.text, f"/customers/{customer_id}/edit")
    assert int(current) == int(version) + 1
    with runtime.session() as db:
        out = customers.to_out(customers.get(db, actor=SYSTEM, customer_id=customer_id))
    assert (out.name, out.attributes) == ("Cleo Laine", {"City": "York"})

    redone = client.post(f"/customers/{customer_id}/edit", data={**form, "version": current})
    assert redone.status_code == 303
    with runtime.session() as db:
        out = customers.to_out(customers.get(db, actor=SYSTEM, customer_id=customer_id))
    assert (out.name, out.attributes, out.version) == ("Cleo Smith", {"City": "Leeds"}, int(current) + 1)


def test_a_stale_fact_form_shows_what_the_fact_says_now(
    live_server: LiveServer, frontline_client: tuple[httpx.Client, MadeUser]
) -> None:
    client, _ = frontline_client
    runtime = live_server.runtime
    categories = categories_in_force(runtime.settings)
    customer_id = make_customer(runtime, name="Dana")
    with runtime.session() as db:
        fact_id = knowledge.add(
            db,
            actor=SYSTEM,
            customer_id=customer_id,
            data=DifferentiatorCreate(text="Runs a book club", category="free_time"),
            categories=categories,
        ).id
    sheet = client.get(f"/customers/{customer_id}").text
    token, version = csrf_of(sheet), _version_in(sheet, f"/differentiators/{fact_id}/edit")
    with runtime.session() as db:
        knowledge.edit(
            db,
            actor=SYSTEM,
            differentiator_id=fact_id,
            data=DifferentiatorUpdate(text="Runs two book clubs"),
            categories=categories,
        )

    form = {"csrf_token": token, "text": "Left the book club", "category": "free_time", "confidence": "0.8"}
    stale = client.post(f"/differentiators/{fact_id}/edit", data={**form, "version": version})
    assert stale.status_code == 409
    assert any("changed by someone else since you opened it" in e for e in field_error(stale.text))
    assert "Runs two book clubs" in stale.text and "Left the book club" not in stale.text
    assert '<details class="fact-more" open>' in stale.text
    current = _version_in(stale.text, f"/differentiators/{fact_id}/edit")
    assert (
        client.post(f"/differentiators/{fact_id}/edit", data={**form, "version": current}).status_code == 303
    )
    with runtime.session() as db:
        assert knowledge.get(db, actor=SYSTEM, differentiator_id=fact_id).text == "Left the book club"
