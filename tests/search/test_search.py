"""Search across differentiators and encounter notes, on SQLite (FTS5) and PostgreSQL (GIN, tsvector)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from segone.accounts.schemas import ROLE_PERMISSIONS, SYSTEM, Actor, Role
from segone.channels import Channel
from segone.customers.schemas import CustomerKind
from segone.encounters import service as encounters
from segone.encounters.schemas import EncounterCreate
from segone.errors import Forbidden, Invalid
from segone.knowledge.categories.service import in_force as categories_in_force
from segone.knowledge.facts import service as knowledge
from segone.knowledge.facts.schemas import DifferentiatorCreate, DifferentiatorUpdate, OutdateRequest
from segone.runtime import Runtime
from segone.search.schemas import SEARCH_MARK_END, SEARCH_MARK_START, SearchKind, SearchPage
from segone.search.service import search, terms_of
from segone.views import merge as merging
from tests.factories import make_customer

QUESTION = "who is expanding into new markets?"


def _fact(runtime: Runtime, customer_id: int, text: str, category: str = "growth_plans") -> int:
    with runtime.session() as db:
        return knowledge.add(
            db,
            actor=SYSTEM,
            customer_id=customer_id,
            data=DifferentiatorCreate(text=text, category=category),
            categories=categories_in_force(runtime.settings),
        ).id


def _encounter(runtime: Runtime, customer_id: int, **text: str) -> int:
    with runtime.session() as db:
        return encounters.record(
            db,
            actor=SYSTEM,
            customer_id=customer_id,
            data=EncounterCreate(channel=Channel.MEETING, **text),
            categories=categories_in_force(runtime.settings),
        ).id


def _search(runtime: Runtime, query: str, **options: object) -> SearchPage:
    categories = categories_in_force(runtime.settings)
    with runtime.session() as db:
        return search(db, actor=SYSTEM, query=query, categories=categories, **options)  # type: ignore[arg-type]


def _ids(page: SearchPage) -> list[tuple[str, int]]:
    return [(hit.kind.value, hit.id) for hit in page.hits]


def _business(runtime: Runtime, name: str) -> int:
    return make_customer(runtime, name=name, kind=CustomerKind.BUSINESS)


def test_a_question_finds_word_stems_and_ranks_documents_with_more_words_first(runtime: Runtime) -> None:
    expanding = _business(runtime, "Harbour Cafe")
    shop = _business(runtime, "York Vinyl")
    other = _business(runtime, "Dales Brewery")
    all_three = _fact(runtime, expanding, "Plans to expand into new markets in Scotland next year")
    two = _fact(runtime, shop, "Looking at new markets for their records")
    one = _fact(runtime, other, "Bought a new van")
    _fact(runtime, other, "Busiest on Sunday mornings")  # matches nothing
    notes = _encounter(runtime, shop, notes="They talked about expanding: new markets abroad.")

    page = _search(runtime, QUESTION)

    assert page.terms == ["expanding", "new", "markets"]
    ranked = _ids(page)
    assert set(ranked[:2]) == {("differentiator", all_three), ("encounter", notes)}
    assert ranked[2:] == [("differentiator", two), ("differentiator", one)]
    assert [hit.matched_all_terms for hit in page.hits] == [True, True, False, False]
    assert page.total == 4 and not page.more
    first = next(hit for hit in page.hits if hit.id == all_three and hit.kind is SearchKind.DIFFERENTIATOR)
    assert first.customer_id == expanding and first.customer_name == "Harbour Cafe"
    assert first.category == "growth_plans" and first.category_label
    assert f"{SEARCH_MARK_START}expand{SEARCH_MARK_END}" in first.snippet
    assert f"{SEARCH_MARK_START}markets{SEARCH_MARK_END}" in first.snippet
    encounter = next(hit for hit in page.hits if hit.kind is SearchKind.ENCOUNTER)
    assert encounter.channel == "meeting" and encounter.category is None
    assert f"{SEARCH_MARK_START}expanding{SEARCH_MARK_END}" in encounter.snippet
    # more of the same word is no substitute for the words it lacks
    assert page.hits[0].score > 0 and page.hits[-1].score > 0


def test_stemming_finds_other_forms_of_a_word(runtime: Runtime) -> None:
    customer = _business(runtime, "Otley Music")
    fact = _fact(runtime, customer, "Wants to expand into new markets")
    assert _ids(_search(runtime, "expanding"))[:1] == [("differentiator", fact)]
    assert _ids(_search(runtime, "market"))[:1] == [("differentiator", fact)]
    assert _ids(_search(runtime, "Expands!"))[:1] == [("differentiator", fact)]


def test_kind_limit_offset_and_encounter_columns(runtime: Runtime) -> None:
    customer = _business(runtime, "Leeds Studios")
    facts = [_fact(runtime, customer, f"Touring studio number {n}") for n in range(5)]
    cares = _encounter(runtime, customer, cares_about="A quiet studio for recording")
    worries = _encounter(runtime, customer, worries_about="Studio rent going up")
    assert {hit.kind for hit in _search(runtime, "studio", kind="encounter").hits} == {SearchKind.ENCOUNTER}
    assert {i for _, i in _ids(_search(runtime, "studio", kind=SearchKind.ENCOUNTER))} == {cares, worries}
    only_facts = _search(runtime, "studio", kind="differentiator")
    assert sorted(i for _, i in _ids(only_facts)) == facts
    first = _search(runtime, "studio", limit=3)
    rest = _search(runtime, "studio", limit=4, offset=3)
    assert first.total == rest.total == 7 and first.more and not rest.more
    assert len(first.hits) == 3 and len(rest.hits) == 4
    assert not set(_ids(first)) & set(_ids(rest))


def test_the_index_follows_add_edit_outdate_and_merge(runtime: Runtime) -> None:
    survivor = _business(runtime, "Survivor Ltd")
    duplicate = _business(runtime, "Survivor Limited")
    fact = _fact(runtime, duplicate, "Opening a second studio in Ripon")
    assert _ids(_search(runtime, "ripon")) == [("differentiator", fact)]

    with runtime.session() as db:
        knowledge.edit(
            db,
            actor=SYSTEM,
            differentiator_id=fact,
            data=DifferentiatorUpdate(text="Opening a second studio in Whitby"),
            categories=categories_in_force(runtime.settings),
        )
    assert _search(runtime, "ripon").hits == []
    assert _ids(_search(runtime, "whitby")) == [("differentiator", fact)]

    with runtime.session() as db:
        merging.merge(db, actor=SYSTEM, survivor_id=survivor, merged_id=duplicate)
    hit = _search(runtime, "whitby").hits[0]
    assert (hit.customer_id, hit.customer_name) == (survivor, "Survivor Ltd")

    with runtime.session() as db:
        replacement = knowledge.outdate(
            db,
            actor=SYSTEM,
            differentiator_id=fact,
            data=OutdateRequest(replacement="Opened the Whitby studio; now looking at Skipton"),
        ).id
    assert _ids(_search(runtime, "whitby")) == [("differentiator", replacement)]
    with_old = _search(runtime, "whitby", include_outdated=True)
    assert sorted(i for _, i in _ids(with_old)) == sorted([fact, replacement])
    assert {hit.id: hit.outdated for hit in with_old.hits} == {fact: True, replacement: False}

    encounter = _encounter(runtime, survivor, notes="Asked about acoustic panels")
    assert _ids(_search(runtime, "acoustics panel")) == [("encounter", encounter)]


def test_snippets_are_plain_text_with_only_our_marks(runtime: Runtime) -> None:
    customer = _business(runtime, "Tag & Co")
    _fact(runtime, customer, "Sells <b>vinyl</b> & cassettes")
    snippet = _search(runtime, "vinyl").hits[0].snippet
    assert "<b>" in snippet  # not escaped here: plain text, escaped by whoever renders it
    assert snippet.count(SEARCH_MARK_START) == snippet.count(SEARCH_MARK_END) >= 1


def test_dates_are_when_learned_or_when_it_happened(runtime: Runtime) -> None:
    customer = _business(runtime, "Dated Ltd")
    when = datetime(2024, 3, 1, 9, 30, tzinfo=UTC)
    with runtime.session() as db:
        knowledge.add(
            db,
            actor=SYSTEM,
            customer_id=customer,
            data=DifferentiatorCreate(text="Hosts jazz nights", category="growth_plans", learned_at=when),
            categories=categories_in_force(runtime.settings),
        )
    assert _search(runtime, "jazz").hits[0].date == when


def test_reading_customers_is_needed(runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> None:
    # Every role may read customers today; a role without the permission is refused.
    actor = Actor(user_id=None, email="x@example.com", role=Role.FRONTLINE)
    with runtime.session() as db:
        search(db, actor=actor, query="studio")
    monkeypatch.setitem(ROLE_PERMISSIONS, Role.FRONTLINE, frozenset())
    with runtime.session() as db, pytest.raises(Forbidden, match="read customers"):
        search(db, actor=actor, query="studio")


@pytest.mark.parametrize(
    ("query", "says"),
    [
        ("", "Type what to search for"),
        ("   ", "Type what to search for"),
        ("?!… --- ***", "no words"),
        ("who is it?", "only common words"),
        ("x" * 201, "keep it to 200"),
    ],
)
def test_bad_searches_are_refused_with_a_reason(runtime: Runtime, query: str, says: str) -> None:
    with runtime.session() as db, pytest.raises(Invalid, match=says):
        search(db, actor=SYSTEM, query=query)


@pytest.mark.parametrize(
    ("options", "says"),
    [({"limit": 0}, "limit"), ({"limit": 101}, "limit"), ({"offset": -1}, "offset"), ({"kind": "x"}, "kind")],
)
def test_bad_options_are_refused(runtime: Runtime, options: dict[str, object], says: str) -> None:
    with runtime.session() as db, pytest.raises(Invalid, match=says):
        search(db, actor=SYSTEM, query="studio", **options)  # type: ignore[arg-type]


def test_search_syntax_is_not_interpreted(runtime: Runtime) -> None:
    customer = _business(runtime, "Quotes Ltd")
    fact = _fact(runtime, customer, 'Says "NEAR" and OR a lot')
    for query in ('"near', "near*", "NEAR(or and)", "says OR NOT", "text:near", "a & b | !c"):
        page = _search(runtime, query)  # no syntax error from either database
        assert all(hit.id == fact for hit in page.hits)


def test_terms_drop_punctuation_common_words_and_repeats() -> None:
    assert terms_of(QUESTION) == ["expanding", "new", "markets"]
    assert terms_of("Café, café; CAFÉ — owners' plans?") == ["café", "owners", "plans"]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(query=st.text(min_size=1, max_size=60))
def test_any_text_either_searches_or_is_refused_plainly(runtime: Runtime, query: str) -> None:
    with runtime.session() as db:
        try:
            page = search(db, actor=SYSTEM, query=query)
        except Invalid:
            return
    assert page.terms and page.hits == []
