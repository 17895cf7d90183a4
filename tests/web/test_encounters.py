"""Logging an encounter from the web form, with what was learned and what was shown; reading it back."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import httpx

from segone.accounts.schemas import SYSTEM
from segone.encounters import service as encounters
from segone.knowledge.categories.service import in_force as categories_in_force
from segone.knowledge.facts import service as knowledge
from segone.knowledge.facts.schemas import DifferentiatorCreate
from tests.conftest import LiveServer
from tests.factories import MadeUser, make_customer
from tests.web.conftest import field_error, token_of


def test_log_an_encounter_with_facts_learned_and_shown(
    live_server: LiveServer, frontline_client: tuple[httpx.Client, MadeUser]
) -> None:
    client, user = frontline_client
    runtime = live_server.runtime
    customer_id = make_customer(runtime, name="Gus Grissom")
    with runtime.session() as db:
        known = knowledge.add(
            db,
            actor=SYSTEM,
            customer_id=customer_id,
            data=DifferentiatorCreate(text="Restores old motorbikes", category="free_time"),
            categories=categories_in_force(runtime.settings),
        ).id
    form = client.get(f"/customers/{customer_id}/encounters/new")
    assert form.status_code == 200
    assert "Did you show them that we know?" in form.text and "Restores old motorbikes" in form.text
    token = token_of(client, f"/customers/{customer_id}/encounters/new")

    response = client.post(
        f"/customers/{customer_id}/encounters",
        data={
            "csrf_token": token,
            "channel": "store",
            "duration_minutes": "20",
            "occurred_at": "2026-03-01T14:30",
            "tz_offset": "-60",  # the browser is one hour ahead of UTC
            "notes": "Came in for gloves.\nTalked about the rally.",
            "cares_about": "Quality leather",
            "worries_about": "Sizes running small",
            "listening_share": "70",
            "listening_touched": "1",
            "fact_text": ["Rides in the Isle of Man rally each June", ""],
            "fact_category": ["free_time", ""],
            "acknowledge": [str(known)],
        },
    )
    assert response.status_code == 303
    encounter_id = int(re.search(r"logged=(\d+)", response.headers["location"]).group(1))  # type: ignore[union-attr]
    sheet = client.get(response.headers["location"]).text
    assert "Encounter logged. 1 new differentiator on the easel sheet." in sheet
    assert f'data-clear-draft="encounter-{customer_id}"' in sheet  # the browser may forget its draft now
    assert "Rides in the Isle of Man rally each June" in sheet

    with runtime.session() as db:
        encounter = encounters.get(db, actor=SYSTEM, encounter_id=encounter_id)
        out = encounters.to_out_many(db, [encounter])[0]
        assert out.employee == user.email
        assert out.channel.value == "store"
        assert out.duration_minutes == 20
        assert out.occurred_at == datetime(2026, 3, 1, 13, 30, tzinfo=UTC)
        assert out.listening_share == 0.7
        assert len(out.differentiator_ids) == 1
        shown = knowledge.get(db, actor=SYSTEM, differentiator_id=known).acknowledgement
        assert shown is not None and shown.encounter_id == encounter_id

    detail = client.get(f"/encounters/{encounter_id}").text
    assert "Store visit with Gus Grissom" in detail
    assert "Came in for gloves." in detail and "Quality leather" in detail and "Sizes running small" in detail
    assert "70% of the time listening and asking" in detail
    assert "Rides in the Isle of Man rally each June" in detail
    assert "Restores old motorbikes" in detail  # shown that we know, in this encounter
    listing = client.get(f"/customers/{customer_id}/encounters").text
    assert f"/encounters/{encounter_id}" in listing


def test_a_bad_encounter_form_comes_back_with_the_problems_marked(
    live_server: LiveServer, frontline_client: tuple[httpx.Client, MadeUser]
) -> None:
    client, _ = frontline_client
    customer_id = make_customer(live_server.runtime)
    token = token_of(client, f"/customers/{customer_id}/encounters/new")
    future = (datetime.now(UTC) + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M")
    response = client.post(
        f"/customers/{customer_id}/encounters",
        data={
            "csrf_token": token,
            "duration_minutes": "lots",
            "occurred_at": future,
            "notes": "Keep me",
            "fact_text": ["Has twins"],
            "fact_category": [""],
        },
    )
    assert response.status_code == 422
    errors = field_error(response.text)
    assert "Choose how you met." in errors
    assert "Give the minutes as a whole number, at most 1440." in errors
    assert "The encounter's date is in the future; log an encounter once it has happened." in errors
    assert "Choose a category for every fact you learned." in errors
    assert "Keep me" in response.text and 'value="Has twins"' in response.text
    with live_server.runtime.session() as db:
        assert encounters.list_for_customer(db, actor=SYSTEM, customer_id=customer_id) == []

    # A category the customer's kind does not have is refused by the service, and nothing is saved.
    wrong = client.post(
        f"/customers/{customer_id}/encounters",
        data={
            "csrf_token": token,
            "channel": "call",
            "fact_text": "Expanding",
            "fact_category": "growth_plans",
        },
    )
    assert wrong.status_code == 422
    assert any("is a business category" in e for e in field_error(wrong.text))
    with live_server.runtime.session() as db:
        assert encounters.list_for_customer(db, actor=SYSTEM, customer_id=customer_id) == []

    # The slider not touched means "not estimated", not 50%.
    plain = client.post(
        f"/customers/{customer_id}/encounters",
        data={"csrf_token": token, "channel": "email", "listening_share": "50"},
    )
    assert plain.status_code == 303
    with live_server.runtime.session() as db:
        (only,) = encounters.list_for_customer(db, actor=SYSTEM, customer_id=customer_id)
        assert only.listening_share is None


def test_the_form_refuses_what_the_service_refuses_with_its_message(
    live_server: LiveServer, frontline_client: tuple[httpx.Client, MadeUser]
) -> None:
    client, _ = frontline_client
    runtime = live_server.runtime
    ann, bob = make_customer(runtime, name="Ann Example"), make_customer(runtime, name="Bob")
    with runtime.session() as db:
        sails = knowledge.add(
            db,
            actor=SYSTEM,
            customer_id=bob,
            data=DifferentiatorCreate(text="Sails", category="free_time"),
            categories=categories_in_force(runtime.settings),
        ).id
    token = token_of(client, f"/customers/{ann}/encounters/new")

    early = client.post(
        f"/customers/{ann}/encounters",
        data={"csrf_token": token, "channel": "call", "occurred_at": "1800-01-01T10:00", "tz_offset": "0"},
    )
    assert early.status_code == 422
    assert field_error(early.text) == [
        "Please check the parts marked below.",
        "The encounter's date is before 1900-01-01, the earliest an encounter may have; check the year.",
    ]
    # A fact of another customer (a form sent from a stale or edited page) is named, not skipped.
    other = client.post(
        f"/customers/{ann}/encounters",
        data={"csrf_token": token, "channel": "call", "acknowledge": str(sails)},
    )
    assert other.status_code == 422
    assert (
        f"Differentiator {sails} is not a current fact of Ann Example; only the customer's own current facts "
        "can be acknowledged." in field_error(other.text)
    )
    with runtime.session() as db:
        assert encounters.list_for_customer(db, actor=SYSTEM, customer_id=ann) == []
        assert knowledge.get(db, actor=SYSTEM, differentiator_id=sails).acknowledgement is None
