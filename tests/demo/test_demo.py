"""The demo: loads fast, has the promised shape, and reads like data the services wrote."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from segone import demo
from segone.accounts import service as accounts
from segone.accounts.models import AuditEntry, User
from segone.accounts.schemas import SYSTEM, Role
from segone.customers import service as customers
from segone.customers.models import Customer, CustomerIdentity
from segone.customers.schemas import CustomerCreate
from segone.demo import content
from segone.demo.content import SharedFact
from segone.demo.generate import generate
from segone.encounters.models import Encounter
from segone.knowledge.categories.schemas import CategoryList
from segone.knowledge.categories.service import in_force as categories_in_force
from segone.knowledge.facts import service as knowledge
from segone.knowledge.facts.schemas import DifferentiatorCreate
from segone.knowledge.models import Acknowledgement, Differentiator
from segone.runtime import Runtime
from segone.settings import Settings
from segone.views import merge

DAY = date(2026, 11, 27)
NOW = datetime(2026, 11, 27, tzinfo=UTC)  # the demo's "now": the start of its day


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Runtime, demo.DemoSummary]]:
    """The full demo, loaded once into a SQLite store of its own."""
    settings = Settings(data_dir=tmp_path_factory.mktemp("demo"), secret_key="test-secret-key")
    runtime = Runtime(settings)
    runtime.upgrade_schema()
    with runtime.session() as db:
        summary = demo.load(db, actor=SYSTEM, categories=categories_in_force(runtime.settings), day=DAY)
    yield runtime, summary
    runtime.dispose()


def test_full_demo_loads_well_under_a_minute_with_the_promised_counts(
    loaded: tuple[Runtime, demo.DemoSummary],
) -> None:
    runtime, summary = loaded
    assert summary.seconds < 60
    assert (summary.people, summary.businesses) == (1502, 501)  # 1,500 + 500 and three duplicates
    with runtime.session() as db:
        assert db.scalar(select(func.count(Customer.id))) == summary.customers == 2003
        assert db.scalar(select(func.count(Differentiator.id))) == summary.differentiators
        assert db.scalar(select(func.count(Encounter.id))) == summary.encounters
        assert db.scalar(select(func.count(Acknowledgement.id))) == summary.acknowledged
        cdnow = list(
            db.scalars(
                select(CustomerIdentity.value)
                .where(CustomerIdentity.system == "cdnow")
                .order_by(CustomerIdentity.value)
            )
        )
        assert cdnow == [f"{n:05d}" for n in range(1, 1501)]
        for kind, system in (("person", "email"), ("business", "crm"), ("business", "email")):
            missing = db.scalar(
                select(func.count(Customer.id)).where(
                    Customer.kind == kind,
                    ~Customer.id.in_(
                        select(CustomerIdentity.customer_id).where(CustomerIdentity.system == system)
                    ),
                )
            )
            assert missing == 0, (kind, system)
        attributes = db.scalars(select(Customer.attributes).where(Customer.kind == "business")).first()
        assert attributes is not None and {"city", "industry", "segment", "since"} <= set(attributes)
    assert 0.25 < summary.acknowledged / summary.differentiators < 0.42  # about a third
    assert 5 <= summary.empty_customers <= 60
    assert summary.encounters > summary.customers


def test_every_role_signs_in_with_the_documented_password(loaded: tuple[Runtime, demo.DemoSummary]) -> None:
    runtime, _ = loaded
    assert set(demo.DEMO_LOGINS) == set(Role)
    with runtime.session() as db:
        for role, email in demo.DEMO_LOGINS.items():
            user = accounts.authenticate(db, email=email, password=demo.DEMO_PASSWORD)
            assert (user.role, user.email) == (role.value, email)
        teams = {accounts.to_out(u).team for u in db.scalars(select(User))}
        assert {"Store Leeds", "Business Sales"} <= teams


def _wordings(fact: SharedFact) -> re.Pattern[str]:
    """Every way the demo words a shared fact: its plain wordings, and its specific ones with any slot."""
    texts = [fact.text, *fact.wordings] if fact.detail < 1 else []
    patterns = [re.escape(text) for text in texts]
    patterns += [re.sub(r"\\\{\w+\\\}", ".+", re.escape(template)) for template in fact.specific]
    return re.compile("|".join(f"(?:{p})" for p in patterns))


def test_facts_range_from_common_through_rare_to_unique(loaded: tuple[Runtime, demo.DemoSummary]) -> None:
    runtime, summary = loaded
    with runtime.session() as db:
        rows = db.execute(select(Differentiator.text, Differentiator.customer_id).distinct()).all()
    holders = Counter(text for text, _ in rows)
    # Traits, not sentences: employees word a shared fact in several ways.
    share = {}
    for fact in content.SHARED_FACTS:
        wordings = _wordings(fact)
        share[fact.text] = len({c for text, c in rows if wordings.fullmatch(text)}) / summary.customers
    common = [t for t, s in share.items() if s > 0.20]
    rare = [t for t, s in share.items() if 0.005 <= s <= 0.03]
    unique = [t for t, n in holders.items() if n == 1]
    assert common and all(s <= 0.40 for s in share.values())
    assert len(rare) >= 20
    assert len(unique) >= 1500
    assert "Prefers e-mail to phone calls" in common


def test_every_category_of_each_kind_is_used_and_only_there(loaded: tuple[Runtime, demo.DemoSummary]) -> None:
    runtime, _ = loaded
    with runtime.session() as db:
        rows = db.execute(
            select(Customer.kind, Differentiator.category).join(
                Customer, Customer.id == Differentiator.customer_id
            )
        )
        used = {(kind, category) for kind, category in rows}
    for kind in ("person", "business"):
        expected = {c.name for c in categories_in_force(runtime.settings).for_kind(kind)}
        assert {category for k, category in used if k == kind} == expected


def test_learning_is_spread_over_employees_and_two_years(loaded: tuple[Runtime, demo.DemoSummary]) -> None:
    runtime, _ = loaded
    with runtime.session() as db:
        learners = Counter(db.scalars(select(Differentiator.learned_by_id)))
        assert len(learners) >= 6 and None not in learners
        first, last = db.execute(
            select(func.min(Differentiator.learned_at), func.max(Differentiator.learned_at))
        ).one()
        assert NOW - timedelta(days=731) <= first and last <= NOW
        assert last - first > timedelta(days=500)
        linked = db.execute(
            select(Differentiator, Encounter).join(Encounter, Encounter.id == Differentiator.encounter_id)
        ).all()
        assert len(linked) > 1000
        for fact, encounter in linked[:500]:
            assert fact.customer_id == encounter.customer_id
            assert (fact.learned_at, fact.learned_by_id, fact.channel) == (
                encounter.occurred_at,
                encounter.employee_id,
                encounter.channel,
            )
        for ack, fact in db.execute(
            select(Acknowledgement, Differentiator).join(
                Differentiator, Differentiator.id == Acknowledgement.differentiator_id
            )
        ).all()[:500]:
            assert fact.learned_at < ack.acknowledged_at <= NOW
        channels = set(db.scalars(select(Encounter.channel)))
        assert {"store", "call", "email", "chat", "meeting"} <= channels
        notes = db.scalars(select(Encounter.notes).where(Encounter.notes != "")).first()
        assert notes and notes.endswith(".")


def test_history_reads_as_if_the_services_had_written_it(loaded: tuple[Runtime, demo.DemoSummary]) -> None:
    runtime, _ = loaded
    with runtime.session() as db:
        fact = db.scalars(
            select(Differentiator).where(Differentiator.acknowledgement.has()).order_by(Differentiator.id)
        ).first()
        assert fact is not None
        history = customers.history(db, actor=SYSTEM, customer_id=fact.customer_id)
        actions = Counter(e.action for e in history)
        assert actions["customer.created"] == 1
        assert actions["differentiator.added"] == len(
            knowledge.list_for_customer(db, actor=SYSTEM, customer_id=fact.customer_id)
        )
        assert actions["differentiator.acknowledged"] >= 1 and actions["encounter.recorded"] >= 1
        added = next(
            e
            for e in history
            if e.action == "differentiator.added" and e.details["differentiator_id"] == fact.id
        )
        # The same fact added through the service now is summarised the same way.
        again = knowledge.add(
            db,
            actor=SYSTEM,
            customer_id=fact.customer_id,
            data=DifferentiatorCreate(text=fact.text, category=fact.category),
            categories=categories_in_force(runtime.settings),
        )
        written = db.scalars(
            select(AuditEntry).where(AuditEntry.details["differentiator_id"].as_integer() == again.id)
        ).one()
        assert (written.action, written.summary) == (added.action, added.summary)
        out = knowledge.to_out_many(db, [fact], categories_in_force(runtime.settings))[0]
        assert out.acknowledgement is not None and out.learned_by is not None
        db.rollback()


def test_duplicates_are_there_to_merge(loaded: tuple[Runtime, demo.DemoSummary]) -> None:
    runtime, summary = loaded
    assert len(summary.duplicates) == 3
    with runtime.session() as db:
        kinds = []
        for original, copy in summary.duplicates:
            first, second = (customers.get(db, actor=SYSTEM, customer_id=i) for i in (original, copy))
            assert first.kind == second.kind and first.attributes["city"] == second.attributes["city"]
            kinds.append(first.kind)
        assert sorted(kinds) == ["business", "person", "person"]
        _survivor, moved = merge.merge(
            db, actor=SYSTEM, survivor_id=summary.duplicates[0][0], merged_id=summary.duplicates[0][1]
        )
        assert moved["identities"] >= 1 and moved["differentiators"] >= 1 and moved["encounters"] == 1
        db.rollback()


def test_the_same_seed_gives_the_same_demo() -> None:
    categories = CategoryList()
    one = generate(seed=7, now=NOW, categories=categories, people=60, businesses=20)
    two = generate(seed=7, now=NOW, categories=categories, people=60, businesses=20)
    other = generate(seed=8, now=NOW, categories=categories, people=60, businesses=20)
    assert one == two
    assert [c.name for c in one.customers] != [c.name for c in other.customers]


def test_a_smaller_demo_on_each_backend_leaves_ids_ready_for_new_rows(runtime: Runtime) -> None:
    with runtime.session() as db:
        summary = demo.load(
            db,
            actor=SYSTEM,
            categories=categories_in_force(runtime.settings),
            people=40,
            businesses=10,
            day=DAY,
        )
    assert summary.customers == 50 + len(summary.duplicates)
    with runtime.session() as db:
        created = customers.create(db, actor=SYSTEM, data=CustomerCreate(name="New", identities=["crm:NEW1"]))
        assert created.id == summary.customers + 1
        assert customers.count_active(db) == summary.customers + 1
    with runtime.session() as db:
        demo.empty_store(db, actor=SYSTEM)
    with runtime.session() as db:
        assert demo.customer_count(db) == 0
        assert db.scalar(select(func.count(AuditEntry.id))) == 0
