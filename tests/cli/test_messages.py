"""``segone messages`` against a real store: templates refused with their line, drafts, marking sent."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from segone.accounts.schemas import SYSTEM
from segone.customers import service as customers
from segone.customers.schemas import ConsentChange, ConsentSource
from segone.knowledge.categories.service import in_force as categories_in_force
from segone.knowledge.facts import service as knowledge
from segone.knowledge.facts.schemas import DifferentiatorCreate
from segone.knowledge.models import Acknowledgement
from segone.personalisation.messages.defaults import DEFAULTS
from segone.personalisation.messages.schemas import Purpose
from segone.runtime import Runtime
from segone.settings import Settings
from tests.behaviour.conftest import DUCKDB_WARNING
from tests.cli.conftest import Invoke, as_json, one_line_error
from tests.factories import make_customer

pytestmark = pytest.mark.filterwarnings(DUCKDB_WARNING)


def _fact(runtime: Runtime, customer_id: int, text: str) -> int:
    with runtime.session() as db:
        return knowledge.add(
            db,
            actor=SYSTEM,
            customer_id=customer_id,
            data=DifferentiatorCreate(text=text, category="free_time"),
            categories=categories_in_force(runtime.settings),
        ).id


def test_a_broken_template_is_refused_with_its_line_and_exit_code_2(
    segone: Invoke, store: Runtime, tmp_path: Path
) -> None:
    broken = tmp_path / "broken.txt"
    broken.write_text(
        "Dear {{ customer.first_name }},\n\n{% for fact in facts %}\n{{ fact.text }\n{% endfor %}\n"
    )
    assert one_line_error(segone("messages", "template-set", "follow-up", str(broken))) == (
        "Error: Line 4 of the template: unexpected '}'"
    )
    unsafe = tmp_path / "unsafe.txt"
    unsafe.write_text("Hello\n{{ ''.__class__.__mro__ }}\n")
    assert one_line_error(segone("messages", "template-set", "follow-up", str(unsafe))) == (
        "Error: Line 2 of the template: access to attribute '__class__' of 'str' object is unsafe."
    )
    assert "follow-up   Follow-up         segone's default" in segone("messages", "templates").stdout
    unknown = segone("messages", "template-show", "birthday")
    assert unknown.exit_code == 2 and "'birthday' is not one of" in unknown.output


def test_a_template_is_set_shown_and_reset(segone: Invoke, store: Runtime, tmp_path: Path) -> None:
    own = tmp_path / "own.txt"
    own.write_text(
        "Hi {{ customer.first_name }}!{% if untold %} {{ mention(untold[0], you=True) }}.{% endif %}\n"
    )
    saved = segone("messages", "template-set", "check-in", str(own))
    assert saved.exit_code == 0, saved.output
    assert saved.stdout == "Saved the check-in template.\n"
    assert segone("messages", "template-show", "check-in").stdout == own.read_text()
    assert segone("messages", "template-show", "check-in", "--default").stdout == DEFAULTS[Purpose.CHECK_IN]
    listed = as_json(segone("messages", "templates", "--json"))
    assert [t["is_default"] for t in listed] == [True, True, True, True, False]
    assert "changed " in segone("messages", "templates").stdout
    assert segone("messages", "template-reset", "check-in").exit_code == 0
    assert as_json(segone("messages", "template-show", "check-in", "--json"))["is_default"] is True


def test_draft_send_and_list(segone: Invoke, store: Runtime, tmp_path: Path) -> None:
    ann = make_customer(store, name="Ann Archer", identities=["email:ann@example.com"])
    fiddle = _fact(store, ann, "Plays fiddle in a ceilidh band")
    bob = make_customer(store, name="Bob Baker")
    choir = _fact(store, bob, "Sings in a choir")

    drafted = segone("messages", "draft", "email:ann@example.com", "--purpose", "check-in")
    assert drafted.exit_code == 0, drafted.output
    assert "When we last spoke, you told me this: you play fiddle in a ceilidh band." in drafted.stdout
    assert f"Reveals: Plays fiddle in a ceilidh band (fact {fiddle})" in drafted.stdout
    assert "About them: 100% (About them;" in drafted.stdout
    draft = as_json(segone("messages", "draft", str(ann), "--purpose", "check-in", "--json"))
    assert [f["id"] for f in draft["revealed"]] == [fiddle]

    text = tmp_path / "sent.txt"
    text.write_text("Dear Ann,\n\nYou play fiddle in a ceilidh band, and you sing in a choir.\n")
    refused = segone("messages", "send", str(ann), "--purpose", "check-in", "--channel", "letter",
                     "--file", str(text), "--fact", str(fiddle), "--fact", str(choir))  # fmt: skip
    assert one_line_error(refused).startswith(f"Error: Fact {choir} is not Ann Archer's")
    with store.session() as db:
        assert db.scalars(select(Acknowledgement)).all() == []

    sent = segone(
        "messages", "send", str(ann), "--purpose", "check-in", "--channel", "phone", "--at", "2026-01-05"
    )
    assert sent.exit_code == 0, sent.output
    assert "marked sent (phone, 2026-01-05 00:00 UTC)" in sent.stdout
    assert f"now known to them: Plays fiddle in a ceilidh band (fact {fiddle})" in sent.stdout
    with store.session() as db:
        (ack,) = db.scalars(select(Acknowledgement)).all()
        assert ack.differentiator_id == fiddle and ack.message_id is not None
        assert ack.acknowledged_at.date().isoformat() == "2026-01-05"

    listed = segone("messages", "list", "email:ann@example.com")
    assert (
        "2026-01-05 Check-in (phone) by the operator, 100% about them: 1 of 1 facts made known"
        in listed.stdout
    )
    assert "No message has been marked sent to Bob Baker yet." in segone("messages", "list", str(bob)).stdout
    shown = segone("customers", "show", str(ann))
    assert "knows we know (through message of 2026-01-05 (check-in))" in shown.stdout
    assert (
        one_line_error(
            segone("messages", "send", str(ann), "--purpose", "check-in", "--channel", "email", "--fact", "1")
        )
        == "Error: --fact goes with --file: without a file the draft's own facts are the ones revealed."
    )


def test_marking_sent_works_in_a_process_of_its_own(tmp_path: Path) -> None:
    """As a person runs it: a fresh process loads only what ``messages`` imports, and writing an
    acknowledgement must not need a table of another command's (the store orders writes by foreign keys)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SEGONE_")}
    env["SEGONE_DATA_DIR"] = str(tmp_path / "data")

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-c", "from segone.cli.main import main; main()", *args]
        return subprocess.run(command, env=env, capture_output=True, text=True, timeout=120, check=False)

    assert run("db", "upgrade").returncode == 0
    runtime = Runtime(Settings(data_dir=tmp_path / "data"))
    try:
        customer = make_customer(runtime, name="Ann Archer")
        fact = _fact(runtime, customer, "Plays fiddle in a ceilidh band")
        # Without SEGONE_ settings consent is refused where nothing is recorded: Ann agreed.
        with runtime.session() as db:
            customers.record_consent(
                db,
                actor=SYSTEM,
                customer_id=customer,
                change=ConsentChange(contact=True, personalisation=True),
                source=ConsentSource.FORM,
                default_granted=False,
            )
    finally:
        runtime.dispose()
    sent = run("messages", "send", str(customer), "--purpose", "follow-up", "--channel", "email")
    assert sent.returncode == 0, sent.stderr
    assert f"now known to them: Plays fiddle in a ceilidh band (fact {fact})" in sent.stdout
