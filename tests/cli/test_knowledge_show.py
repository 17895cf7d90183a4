"""``segone knowledge show``: what we know of one customer, each fact in words with how rare it is."""

from __future__ import annotations

from segone.accounts.schemas import SYSTEM
from segone.knowledge.categories.service import in_force as categories_in_force
from segone.knowledge.facts import service as knowledge
from segone.knowledge.facts.schemas import AcknowledgeRequest, DifferentiatorCreate
from segone.runtime import Runtime
from tests.cli.conftest import Invoke, as_json
from tests.factories import make_customer

CHILDREN, CELLO, MOTORBIKES, BEES = (
    "Has two children",
    "Plays the cello in an orchestra",
    "Restores vintage motorbikes",
    "Keeps bees on the roof",
)


def _store(store: Runtime) -> dict[str, int]:
    """Ann alone restores motorbikes and keeps bees (she knows we know about the bees); four of five have
    children."""
    people = {name: make_customer(store, name=name) for name in ("Ann", "Cy", "Di", "Ed", "Fay")}
    with store.session() as db:
        for name, facts in {
            "Ann": [(CHILDREN, "family"), (CELLO, "free_time"), (MOTORBIKES, "lifestyle"), (BEES, "values")],
            "Cy": [(CHILDREN, "family"), (CELLO, "free_time")],
            "Di": [(CHILDREN, "family"), (CELLO, "free_time")],
            "Ed": [(CHILDREN, "family")],
        }.items():
            for text, category in facts:
                fact = knowledge.add(
                    db,
                    actor=SYSTEM,
                    customer_id=people[name],
                    data=DifferentiatorCreate(text=text, category=category),
                    categories=categories_in_force(store.settings),
                )
                if text == BEES:
                    shown = AcknowledgeRequest()
                    knowledge.acknowledge(db, actor=SYSTEM, differentiator_id=fact.id, data=shown)
    return people


def test_show_prints_each_fact_with_its_category_and_rarity(segone: Invoke, store: Runtime) -> None:
    people = _store(store)
    before = segone("knowledge", "show", str(people["Ann"]))
    assert before.exit_code == 0, before.output
    assert before.stdout.splitlines()[0] == "Not measured yet: run 'segone knowledge refresh'."
    assert "  Lifestyle: Restores vintage motorbikes (not measured yet)" in before.stdout.splitlines()

    assert segone("knowledge", "refresh").exit_code == 0
    result = segone("knowledge", "show", str(people["Ann"]))
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "A segment of one: no other customer has everything we know of this one."
    show = lines.index("Show them you know:")
    assert sorted(lines[1:show]) == [
        "  Family make-up: Has two children (4 of 4 customers we know about in family make-up)",
        "  Free time: Plays the cello in an orchestra (3 of 3 customers we know about in free time)",
        "  Lifestyle: Restores vintage motorbikes (1 of 1 customer we know about in lifestyle) [rare]",
        "  Personal values: Keeps bees on the roof (1 of 1 customer we know about in personal values) [rare]"
        " [they know we know]",
    ]
    # The rare facts not shown to her yet, in words: not their numbers.
    assert lines[show + 1 :] == [
        "  Lifestyle: Restores vintage motorbikes (1 of 1 customer we know about in lifestyle) [rare]"
    ]

    knowledge_json = as_json(segone("knowledge", "show", str(people["Ann"]), "--json"))
    motorbikes = next(f for f in knowledge_json["facts"] if f["text"] == MOTORBIKES)
    assert knowledge_json["show_them_you_know"] == [motorbikes["id"]]

    cy = segone("knowledge", "show", str(people["Cy"])).stdout.splitlines()
    assert cy[0].startswith("2 other customers look like this one to us: ")
    assert "Show them you know:" not in cy
