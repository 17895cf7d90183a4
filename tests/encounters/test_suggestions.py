"""Fact suggestions: sentences of an encounter's notes proposed as differentiators; confirm or reject."""

from __future__ import annotations

import shutil

import pytest
from sqlalchemy import select

from segone.accounts.models import AuditEntry
from segone.accounts.schemas import SYSTEM
from segone.channels import Channel
from segone.customers.schemas import CustomerKind
from segone.encounters import service as encounters
from segone.encounters import suggestions
from segone.encounters.models import RejectedSuggestion
from segone.encounters.schemas import EncounterCreate
from segone.encounters.suggestions import SuggestionConfirm, SuggestionReject
from segone.errors import Invalid, NotFound
from segone.knowledge.categories.service import in_force as categories_in_force
from segone.knowledge.facts import service as knowledge
from segone.knowledge.facts.schemas import DifferentiatorCreate
from segone.knowledge.models import Differentiator
from segone.runtime import Runtime
from tests.factories import MadeUser, make_customer, make_user

NOTES = (
    "Came in for new strings. Mentioned: daughter plays cello in the youth orchestra; a grade 5 exam in May. "
    "Told me: worried about noise for the neighbours in the new flat. Thanks! Left with new strings.\n"
    "They are saving for a professional cello by the spring."
)


def _encounter(runtime: Runtime, customer: int, notes: str = NOTES, **more: str) -> int:
    with runtime.session() as db:
        return encounters.record(
            db,
            actor=SYSTEM,
            customer_id=customer,
            data=EncounterCreate(channel=Channel.STORE, notes=notes, **more),
            categories=categories_in_force(runtime.settings),
        ).id


def _suggest(runtime: Runtime, encounter: int, user: MadeUser | None = None) -> list[suggestions.Suggestion]:
    shutil.rmtree(runtime.settings.data_dir / "models", ignore_errors=True)  # the rules, not a model
    with runtime.session() as db:
        return suggestions.suggest(
            db,
            actor=user.actor if user else SYSTEM,
            encounter_id=encounter,
            categories=categories_in_force(runtime.settings),
            data_dir=runtime.settings.data_dir,
        )


def test_sentences_become_suggestions_without_small_talk_or_lead_ins(runtime: Runtime) -> None:
    customer = make_customer(runtime)
    encounter = _encounter(runtime, customer, cares_about="a fair price", worries_about="delivery timing")
    found = _suggest(runtime, encounter)
    assert [(s.text, s.source) for s in found] == [
        ("Daughter plays cello in the youth orchestra; a grade 5 exam in May", "notes"),
        ("Worried about noise for the neighbours in the new flat", "notes"),
        ("They are saving for a professional cello by the spring", "notes"),
        ("Cares about a fair price", "cares_about"),
        ("Worried about delivery timing", "worries_about"),
    ]
    categories = {s.text: s.category for s in found}
    assert categories["Daughter plays cello in the youth orchestra; a grade 5 exam in May"] == "family"
    assert categories["Worried about noise for the neighbours in the new flat"] == "worries"
    assert categories["Cares about a fair price"] == "cares_about"
    assert all(len(s.id) == 64 and 0 < s.confidence <= 1 for s in found)
    # The same sentence has the same id on every view.
    assert [s.id for s in _suggest(runtime, encounter)] == [s.id for s in found]


def test_facts_on_the_sheet_already_are_not_suggested(runtime: Runtime) -> None:
    customer = make_customer(runtime)
    with runtime.session() as db:
        knowledge.add(
            db,
            actor=SYSTEM,
            customer_id=customer,
            # Case and punctuation differ from the notes: the same fact all the same.
            data=DifferentiatorCreate(
                text="daughter plays cello in the Youth Orchestra, a grade 5 exam in May.", category="family"
            ),
            categories=categories_in_force(runtime.settings),
        )
    found = _suggest(runtime, _encounter(runtime, customer))
    assert "Daughter plays cello in the youth orchestra; a grade 5 exam in May" not in [s.text for s in found]
    assert len(found) == 2


def test_confirm_adds_the_fact_learned_in_the_encounter(runtime: Runtime) -> None:
    customer = make_customer(runtime)
    encounter = _encounter(runtime, customer)
    employee = make_user(runtime)
    first = _suggest(runtime, encounter)[0]
    with runtime.session() as db:
        fact = suggestions.confirm(
            db,
            actor=employee.actor,
            encounter_id=encounter,
            data=SuggestionConfirm(id=first.id),
            categories=categories_in_force(runtime.settings),
        )
        fact_id = fact.id
    with runtime.session() as db:
        stored = db.get(Differentiator, fact_id)
        assert stored is not None
        assert (stored.text, stored.category, stored.encounter_id) == (first.text, "family", encounter)
        assert (stored.learned_by_id, stored.channel, stored.customer_id) == (employee.id, "store", customer)
        assert (
            db.scalar(
                select(AuditEntry.action).where(
                    AuditEntry.details["differentiator_id"].as_integer() == fact_id
                )
            )
            == "differentiator.added"
        )
    left = _suggest(runtime, encounter)
    assert first.id not in [s.id for s in left] and len(left) == 2
    with runtime.session() as db:
        encounter_out = encounters.to_out_many(db, [encounters.get(db, actor=SYSTEM, encounter_id=encounter)])
    assert encounter_out[0].differentiator_ids == [fact_id]


def test_confirm_with_edited_text_and_category(runtime: Runtime) -> None:
    customer = make_customer(runtime)
    encounter = _encounter(runtime, customer)
    saving = next(s for s in _suggest(runtime, encounter) if s.text.startswith("They are saving"))
    with runtime.session() as db:
        fact = suggestions.confirm(
            db,
            actor=SYSTEM,
            encounter_id=encounter,
            data=SuggestionConfirm(
                id=saving.id, text="Saving  for a professional cello ", category="motivations"
            ),
            categories=categories_in_force(runtime.settings),
        )
        assert (fact.text, fact.category, fact.encounter_id) == (
            "Saving for a professional cello",
            "motivations",
            encounter,
        )
    assert saving.id not in [s.id for s in _suggest(runtime, encounter)]


def test_confirm_refuses_unknown_suggestions_and_categories_that_do_not_fit(runtime: Runtime) -> None:
    customer = make_customer(runtime)
    encounter = _encounter(runtime, customer)
    first = _suggest(runtime, encounter)[0]
    with runtime.session() as db, pytest.raises(NotFound):
        suggestions.confirm(
            db,
            actor=SYSTEM,
            encounter_id=encounter,
            data=SuggestionConfirm(id="0" * 64),
            categories=categories_in_force(runtime.settings),
        )
    with runtime.session() as db, pytest.raises(Invalid, match="business category"):
        suggestions.confirm(
            db,
            actor=SYSTEM,
            encounter_id=encounter,
            data=SuggestionConfirm(id=first.id, category="growth_plans"),
            categories=categories_in_force(runtime.settings),
        )
    with runtime.session() as db:
        assert db.scalars(select(Differentiator)).all() == []


def test_rejected_suggestions_are_not_proposed_again(runtime: Runtime) -> None:
    customer = make_customer(runtime, kind=CustomerKind.PERSON)
    encounter = _encounter(runtime, customer)
    employee = make_user(runtime)
    worried = next(s for s in _suggest(runtime, encounter) if s.text.startswith("Worried"))
    for _twice in range(2):  # rejecting twice keeps the first record
        with runtime.session() as db:
            suggestions.reject(
                db,
                actor=employee.actor,
                encounter_id=encounter,
                data=SuggestionReject(id=worried.id),
                categories=categories_in_force(runtime.settings),
            )
    assert worried.id not in [s.id for s in _suggest(runtime, encounter)]
    # Nor in a later encounter with the same customer whose notes say it again.
    later = _encounter(runtime, customer, notes="Worried about noise for the neighbours in the new flat.")
    assert _suggest(runtime, later) == []
    with runtime.session() as db:
        rows = db.scalars(select(RejectedSuggestion)).all()
        assert [(r.encounter_id, r.sentence_hash, r.text, r.rejected_by_id) for r in rows] == [
            (encounter, worried.id, worried.text, employee.id)
        ]
        assert db.scalars(
            select(AuditEntry.action).where(AuditEntry.action == "suggestion.rejected")
        ).all() == ["suggestion.rejected"]
    # Another customer saying the same thing still gets the suggestion.
    other = _encounter(
        runtime, make_customer(runtime), notes="Worried about noise for the neighbours in the new flat."
    )
    assert [s.id for s in _suggest(runtime, other)] == [worried.id]


def test_rejecting_what_was_never_suggested_is_not_found(runtime: Runtime) -> None:
    encounter = _encounter(runtime, make_customer(runtime))
    with runtime.session() as db, pytest.raises(NotFound):
        suggestions.reject(db, actor=SYSTEM, encounter_id=encounter, data=SuggestionReject(id="f" * 64))
    with runtime.session() as db, pytest.raises(NotFound):
        suggestions.suggest(db, actor=SYSTEM, encounter_id=999_999)
