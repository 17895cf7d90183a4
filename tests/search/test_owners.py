"""The parts search is composed of: each owner searches its own table through ``storage.fulltext``."""

from __future__ import annotations

import ast
import importlib.util
from pathlib import Path

import pytest

from segone.accounts.schemas import SYSTEM
from segone.channels import Channel
from segone.customers import service as customers
from segone.customers.schemas import CustomerKind
from segone.encounters import service as encounters
from segone.encounters.schemas import EncounterCreate
from segone.knowledge.categories.service import in_force as categories_in_force
from segone.knowledge.facts import service as facts
from segone.knowledge.facts.schemas import DifferentiatorCreate, OutdateRequest
from segone.migrations.fulltext import SEARCH_SCHEMA_OBJECTS
from segone.runtime import Runtime
from segone.storage import fulltext
from segone.views import merge as merging
from tests.factories import make_customer

SRC = Path(__file__).resolve().parents[2] / "src" / "segone"


def _fact(runtime: Runtime, customer_id: int, text: str) -> int:
    with runtime.session() as db:
        data = DifferentiatorCreate(text=text, category="growth_plans")
        return facts.add(
            db,
            actor=SYSTEM,
            customer_id=customer_id,
            data=data,
            categories=categories_in_force(runtime.settings),
        ).id


def test_facts_search_their_own_table_current_unless_asked(runtime: Runtime) -> None:
    customer = make_customer(runtime, name="Harbour Cafe", kind=CustomerKind.BUSINESS)
    both = _fact(runtime, customer, "Opening a second cafe in Whitby")
    one = _fact(runtime, customer, "A cafe regular since 2019")
    with runtime.session() as db:
        old = facts.outdate(db, actor=SYSTEM, differentiator_id=one, data=OutdateRequest()).id
        every = facts.search_facts(db, ["cafe", "whitby"], all_terms=True, limit=10)
        some = facts.search_facts(db, ["cafe", "whitby"], all_terms=False, limit=10)
        with_old = facts.search_facts(
            db, ["cafe", "whitby"], all_terms=False, limit=10, include_outdated=True
        )
        assert [(m.id, m.all_terms) for m in every] == [(both, True)]
        assert [m.id for m in some] == [both]
        assert sorted(m.id for m in with_old) == sorted([both, old])
        assert facts.search_facts(db, ["cafe"], all_terms=True, limit=1, include_outdated=True)[0].score > 0

        hits = facts.fact_hits(db, with_old, ["cafe", "whitby"])
    assert {h.id: h.outdated for h in hits} == {both: False, old: True}
    assert {h.customer_id for h in hits} == {customer}
    hit = next(h for h in hits if h.id == both)
    assert f"{fulltext.MARK_START}Whitby{fulltext.MARK_END}" in hit.snippet
    assert hit.category == "growth_plans" and not hit.matched_all_terms


def test_notes_search_notes_cares_and_worries(runtime: Runtime) -> None:
    customer = make_customer(runtime, name="Ann Lee")
    data = EncounterCreate(channel=Channel.MEETING, notes="Talked", worries_about="Rent in Leeds")
    with runtime.session() as db:
        meeting = encounters.record(
            db,
            actor=SYSTEM,
            customer_id=customer,
            data=data,
            categories=categories_in_force(runtime.settings),
        )
        found = encounters.search_notes(db, ["leeds"], all_terms=True, limit=5)
        assert [m.id for m in found] == [meeting.id]
        (hit,) = encounters.note_hits(db, found, ["leeds"])
    assert (hit.customer_id, hit.channel, hit.matched_all_terms) == (customer, "meeting", True)
    assert hit.occurred_at == meeting.occurred_at
    assert f"{fulltext.MARK_START}Leeds{fulltext.MARK_END}" in hit.snippet


def test_survivors_follow_a_merge(runtime: Runtime) -> None:
    survivor = make_customer(runtime, name="Survivor Ltd")
    merged = make_customer(runtime, name="Survivor Limited")
    other = make_customer(runtime, name="Other")
    with runtime.session() as db:
        merging.merge(db, actor=SYSTEM, survivor_id=survivor, merged_id=merged)
    with runtime.session() as db:
        names = {
            cid: (ref.id, ref.name)
            for cid, ref in customers.survivors(db, customer_ids=[merged, other, survivor]).items()
        }
        assert customers.survivors(db, customer_ids=[]) == {}
    assert names == {
        merged: (survivor, "Survivor Ltd"),
        survivor: (survivor, "Survivor Ltd"),
        other: (other, "Other"),
    }


def test_fulltext_takes_only_words_and_names_its_objects() -> None:
    assert fulltext.words("Café, CAFÉ — owners' plans_2?") == ["café", "café", "owners", "plans", "2"]
    assert fulltext.unmarked(f"a {fulltext.MARK_START}b{fulltext.MARK_END}") == "a b"
    with pytest.raises(ValueError, match="one word"):
        fulltext._tsquery(["new markets"], "&")
    index = fulltext.FullTextIndex("encounters", ("notes", "cares_about"))
    assert index.tsvector == "to_tsvector('english'::regconfig, t.notes || ' ' || t.cares_about)"
    assert {index.fts_table, index.postgres_index} <= SEARCH_SCHEMA_OBJECTS
    assert "differentiators_fts_docsize" in SEARCH_SCHEMA_OBJECTS


def _imported(path: Path) -> set[str]:
    """The modules (or, for ``from package import module``, package.module) a file imports from segone."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("segone"):
            last = node.module.rsplit(".", 1)[-1]
            names |= (
                {node.module}
                if last in {"service", "schemas"}
                else {f"{node.module}.{a.name}" for a in node.names}
            )
        elif isinstance(node, ast.Import):
            names |= {a.name for a in node.names if a.name.startswith("segone")}
    return names


def test_search_uses_only_the_owners_public_surface_and_storage_no_domain() -> None:
    domains = {"accounts", "customers", "behaviour", "encounters", "knowledge"}
    used = set().union(*(_imported(p) for p in (SRC / "search").glob("*.py")))
    foreign = {n for n in used if n.split(".")[1] in domains}
    assert foreign and all(n.rsplit(".", 1)[-1] in {"service", "schemas"} for n in foreign), foreign
    outside = {n for n in _imported(SRC / "storage" / "fulltext.py") if not n.startswith("segone.storage.")}
    assert outside == set()


def test_the_owners_search_the_very_expressions_migration_0004_indexed() -> None:
    # PostgreSQL uses an expression index only for the same expression (the alias aside).
    path = SRC / "migrations" / "versions" / "0004_knowledge_search.py"
    spec = importlib.util.spec_from_file_location("migration_0004", path)
    assert spec is not None and spec.loader is not None
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    assert facts.FACTS_INDEX.tsvector.replace("t.", "") == migration._DIFFERENTIATOR_TSVECTOR
    assert encounters.NOTES_INDEX.tsvector.replace("t.", "") == migration._ENCOUNTER_TSVECTOR
