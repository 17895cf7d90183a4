"""``segone knowledge search``: ranked hits as text or JSON, and plain errors."""

from __future__ import annotations

from segone.accounts.schemas import SYSTEM
from segone.customers.schemas import CustomerKind
from segone.knowledge.categories.service import in_force as categories_in_force
from segone.knowledge.facts import service as knowledge
from segone.knowledge.facts.schemas import DifferentiatorCreate
from segone.runtime import Runtime
from tests.cli.conftest import Invoke, as_json, one_line_error
from tests.factories import make_customer


def _facts(store: Runtime) -> tuple[int, list[int]]:
    customer = make_customer(store, name="Harbour Cafe", kind=CustomerKind.BUSINESS)
    ids = []
    with store.session() as db:
        for text in (
            "Plans to expand into new markets along the coast",
            "New owner since spring",
            "Sells at three markets a week",
        ):
            ids.append(
                knowledge.add(
                    db,
                    actor=SYSTEM,
                    customer_id=customer,
                    data=DifferentiatorCreate(text=text, category="growth_plans"),
                    categories=categories_in_force(store.settings),
                ).id
            )
    return customer, ids


def test_search_prints_ranked_hits(segone: Invoke, store: Runtime) -> None:
    customer, ids = _facts(store)
    result = segone("knowledge", "search", "who is expanding into new markets?")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith(f"Harbour Cafe (customer {customer}; fact {ids[0]},")
    assert lines[1].strip() == "Plans to *expand* into *new* *markets* along the coast"
    assert lines[-1] == "3 matches for: expanding, new, markets."


def test_search_as_json_with_a_limit(segone: Invoke, store: Runtime) -> None:
    _, ids = _facts(store)
    page = as_json(segone("knowledge", "search", "expanding new markets", "--limit", "2", "--json"))
    assert [hit["id"] for hit in page["hits"]][:1] == [ids[0]]
    assert len(page["hits"]) == 2 and page["total"] == 3 and page["more"] is True
    assert page["hits"][0]["kind"] == "differentiator" and page["hits"][0]["matched_all_terms"] is True
    assert "2 of 3 matches" in segone("knowledge", "search", "new markets", "--limit", "2").stdout


def test_nothing_found_and_bad_searches(segone: Invoke, store: Runtime) -> None:
    _facts(store)
    assert segone("knowledge", "search", "harpsichord").stdout.strip() == "Nothing matches harpsichord."
    assert "no words" in one_line_error(segone("knowledge", "search", "?!"))
    assert "only common words" in one_line_error(segone("knowledge", "search", "who is it"))
    assert "keep it to 200" in one_line_error(segone("knowledge", "search", "x" * 201))


def test_the_group_says_what_it_is(segone: Invoke) -> None:
    result = segone("knowledge", "--help")
    assert result.exit_code == 0
    assert "search what we know" in result.stdout
