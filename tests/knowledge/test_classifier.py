"""The category classifier: keyword rules to start, a model trained on confirmed facts that beats them."""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest

from segone.accounts.schemas import SYSTEM, Actor, Role
from segone.customers.schemas import CustomerKind
from segone.demo.load import load as load_demo
from segone.errors import Forbidden, Invalid
from segone.knowledge.categories import classifier
from segone.knowledge.categories.schemas import DEFAULT_CATEGORIES
from segone.knowledge.categories.service import in_force as categories_in_force
from segone.knowledge.facts import service as knowledge
from segone.knowledge.facts.schemas import DifferentiatorCreate
from segone.progress import Progress, silent
from segone.runtime import Runtime
from tests.factories import make_customer, make_user

# One plain sentence per default category, as an employee might write it.
EXAMPLES = {
    "business_quirks": "Closes early on Fridays; busiest on Sunday mornings",
    "growth_plans": "Plans to expand into a second site next year",
    "challenges": "Struggling with noise complaints from the neighbours",
    "competitive_threats": "A competitor is undercutting them on price",
    "team": "The new bar manager does the ordering; staff turn over fast",
    "strengths": "Known for the best acoustics in town; won an award",
    "lifestyle": "Works from home and commutes to London once a week",
    "values": "Vegan; buys second-hand wherever possible",
    "product_fit": "Has a turntable and buys vinyl most months",
    "free_time": "Sings in a choir and plays in a band at weekends",
    "family": "Has two children; daughter starts school in September",
    "cares_about": "Cares about honest advice and wants things explained",
    "worries": "Worried about the cost and nervous about paying online",
    "motivations": "Chose us because a friend recommended us",
    "preferences": "Prefers e-mail to phone calls; no marketing",
}


@pytest.fixture(autouse=True)
def _no_model(runtime: Runtime) -> Iterator[None]:
    """Each test starts, and leaves the store, without a trained model."""
    shutil.rmtree(runtime.settings.data_dir / "models", ignore_errors=True)
    yield
    shutil.rmtree(runtime.settings.data_dir / "models", ignore_errors=True)


def test_the_rules_know_every_default_category() -> None:
    assert set(classifier.RULES) == {c.name for c in DEFAULT_CATEGORIES}
    for category in DEFAULT_CATEGORIES:
        kind = "business" if category.kind == "business" else "person"
        name, confidence = classifier.rule_category(EXAMPLES[category.name], kind)
        assert name == category.name, (category.name, EXAMPLES[category.name], name)
        assert 0.2 <= confidence <= 0.75


def test_only_categories_that_fit_the_customer_are_suggested() -> None:
    # "children" is a family (consumer) word; a business gets one of its own categories.
    name, _ = classifier.rule_category("Has two children at the school", "business")
    assert name in {c.name for c in DEFAULT_CATEGORIES if c.kind != "consumer"}
    assert classifier.suggest_category(["Opening a second store in York"], "person")[0][0] != "growth_plans"


def test_nothing_recognised_is_a_low_confidence_guess() -> None:
    assert classifier.suggest_category(["Xyzzy plugh"], "person") == [("cares_about", 0.1)]


def _train(runtime: Runtime, actor: Actor, progress: Progress = silent) -> classifier.TrainingReport:
    with runtime.session() as db:
        return classifier.train(
            db,
            actor=actor,
            categories=categories_in_force(runtime.settings),
            data_dir=runtime.settings.data_dir,
            progress=progress,
        )


def test_training_needs_the_analytics_permission(runtime: Runtime) -> None:
    for role in (Role.FRONTLINE, Role.MANAGER):
        with pytest.raises(Forbidden):
            _train(runtime, make_user(runtime, role).actor)


def test_too_few_confirmed_facts_is_explained(runtime: Runtime) -> None:
    customer = make_customer(runtime)
    with runtime.session() as db:
        knowledge.add(
            db,
            actor=SYSTEM,
            customer_id=customer,
            data=DifferentiatorCreate(text="Has two children", category="family"),
            categories=categories_in_force(runtime.settings),
        )
    with pytest.raises(Invalid, match="Too few confirmed facts"):
        _train(runtime, make_user(runtime, Role.ANALYST).actor)
    assert not classifier.model_path(runtime.settings.data_dir).exists()


def test_a_model_trained_on_the_demo_beats_the_rules_on_held_out_facts(runtime: Runtime) -> None:
    with runtime.session() as db:
        load_demo(
            db, actor=SYSTEM, categories=categories_in_force(runtime.settings), people=60, businesses=20
        )
    said: list[str] = []
    report = _train(
        runtime,
        make_user(runtime, Role.ANALYST).actor,
        progress=lambda stage, _done, _total: said.append(stage),
    )

    assert report.facts >= 100 and report.held_out >= 20
    assert report.accuracy > report.rule_accuracy, report
    assert report.accuracy >= 0.6
    assert all(c.facts >= classifier.MIN_PER_CATEGORY for c in report.categories)
    assert all(c.facts < classifier.MIN_PER_CATEGORY for c in report.left_to_rules)
    assert said and said[-1].startswith("Saving the model")
    models = runtime.settings.data_dir / "models"
    # Written atomically: the model and nothing half-written beside it.
    assert [p.name for p in models.iterdir()] == ["fact_categories.pkl"]

    model = classifier.load_model(classifier.model_path(runtime.settings.data_dir))
    assert model is not None and set(model.classes) == {c.name for c in report.categories}
    guesses = classifier.suggest_category(
        ["Granddaughter plays flute in the school jazz band; a grade 4 exam in June"],
        "person",
        categories=categories_in_force(runtime.settings),
        data_dir=runtime.settings.data_dir,
    )
    assert guesses[0][0] == "family"


def test_categories_the_model_never_saw_are_left_to_the_rules(runtime: Runtime) -> None:
    person = make_customer(runtime)
    facts = [
        ("Has three children at home", "family"),
        ("Daughter plays violin", "family"),
        ("Son starts university in October", "family"),
        ("Lives with their partner and a baby", "family"),
        ("Buys presents for the grandchildren", "family"),
        ("Plays golf every Sunday", "free_time"),
        ("Collects old film posters", "free_time"),
        ("Goes to the theatre most months", "free_time"),
        ("Paints watercolours in the summer", "free_time"),
        ("Goes fishing on the canal", "free_time"),
    ]
    with runtime.session() as db:
        for text, category in facts:
            knowledge.add(
                db,
                actor=SYSTEM,
                customer_id=person,
                data=DifferentiatorCreate(text=text, category=category),
                categories=categories_in_force(runtime.settings),
            )
    report = _train(runtime, SYSTEM)
    assert {c.name for c in report.categories} == {"family", "free_time"}
    data_dir = runtime.settings.data_dir
    worried = "Worried and anxious, nervous about the risk"
    assert classifier.suggest_category([worried], "person", data_dir=data_dir)[0][0] == "worries"
    assert (
        classifier.suggest_category(["Daughter plays the cello"], "person", data_dir=data_dir)[0][0]
        == "family"
    )
    # A business: the model knows none of its categories, so the rules decide.
    business = "Plans to expand into a second site next year"
    assert classifier.suggest_category([business], CustomerKind.BUSINESS.value, data_dir=data_dir)[0][0] == (
        "growth_plans"
    )
