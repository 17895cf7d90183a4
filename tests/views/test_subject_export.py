"""The data-subject export: every table that points at a customer has its section, a seeded customer's
export holds a row of each and nothing of another customer, and the export is in the audit log.

The seed is generic: a row in every such table (and the rows they need) for two customers, built from
``Base.metadata``, so a table added later is seeded, and checked, without touching this file.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

import pyarrow as pa
import pytest
from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Connection,
    Date,
    DateTime,
    Float,
    ForeignKeyConstraint,
    Integer,
    Numeric,
    String,
    Table,
    TypeDecorator,
    select,
)

from segone.accounts.models import AuditEntry
from segone.accounts.schemas import SYSTEM, AuditAction, Role
from segone.behaviour import ingest
from segone.behaviour.events import validate_events
from segone.errors import Forbidden
from segone.migrations.tables import Base
from segone.runtime import Runtime
from segone.views import merge
from segone.views.subject_export import subject_export
from tests.factories import make_customer, make_user

NOW = datetime(2026, 11, 27, 12, tzinfo=UTC)
_numbers = itertools.count(1)


def points_at_customer(column: Column[Any]) -> bool:
    """A column holding a customer's id: a foreign key to ``customers.id``, or named so (``customer_id``,
    ``rater_customer_id``) where the table keeps no foreign key (the audit log outlives records)."""
    if column.table.name == "customers":
        return column.name == "id"
    if any(fk.target_fullname == "customers.id" for fk in column.foreign_keys):
        return True
    named = column.name == "customer_id" or column.name.endswith("_customer_id")
    return named and "team" not in column.name


def tables_about_customers() -> list[Table]:
    return [t for t in Base.metadata.sorted_tables if any(points_at_customer(c) for c in t.columns)]


class Seeder:
    """A row in a table for an owner (a customer's id), with the rows its foreign keys need, each made
    once per owner; every column that points at a customer holds the owner's id."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.made: dict[tuple[str, int], dict[str, Any]] = {}

    def row(self, table: Table, owner: int) -> dict[str, Any]:
        if table.name == "customers":
            return {"id": owner}
        key = (table.name, owner)
        if key in self.made:
            return self.made[key]
        values: dict[str, Any] = {}
        for constraint in table.constraints:
            if isinstance(constraint, ForeignKeyConstraint):
                mine = [c for c in constraint.columns if not points_at_customer(c)]
                if not mine or (all(c.nullable for c in mine) and table.name != "acknowledgements"):
                    continue
                parent = self.row(constraint.referred_table, owner)
                for element in constraint.elements:
                    if not points_at_customer(element.parent):
                        values[element.parent.name] = parent[element.column.name]
        for column in table.columns:
            if column.name in values:
                continue
            if points_at_customer(column):
                values[column.name] = owner
            elif self.fills(column):
                if (
                    column.primary_key
                    and column.autoincrement in (True, "auto")
                    and len(table.primary_key) == 1
                ):
                    continue
                values[column.name] = self.value(column, owner)
        result = self.connection.execute(table.insert().values(**values))
        for column, made in zip(table.primary_key.columns, result.inserted_primary_key or (), strict=False):
            values[column.name] = made
        self.made[key] = values
        return values

    def fills(self, column: Column[Any]) -> bool:
        """Whether the seed gives the column a value (else its default, or null)."""
        return not column.nullable and column.default is None and column.server_default is None

    def value(self, column: Column[Any], owner: int) -> Any:
        return _value(column, owner)


def _value(column: Column[Any], owner: int) -> Any:
    kind = column.type
    while isinstance(kind, TypeDecorator):
        kind = kind.impl_instance
    if isinstance(kind, Boolean):
        return False
    if isinstance(kind, Integer):
        return next(_numbers)
    if isinstance(kind, Float | Numeric):
        return 0.5
    if isinstance(kind, DateTime):
        return NOW
    if isinstance(kind, Date):
        return NOW.date()
    if isinstance(kind, JSON):
        return {}
    if isinstance(kind, String):
        text = f"c{owner}-{next(_numbers)}"
        return text[: kind.length] if kind.length else text
    raise AssertionError(f"no seed value for {column.table.name}.{column.name} ({kind})")


def _events(*customers: str) -> pa.Table:
    rows = [(customer, NOW - timedelta(days=days)) for customer in customers for days in (30, 3)]
    validated = validate_events(
        pa.table(
            {
                "customer": pa.array([c for c, _ in rows]),
                "type": pa.array(["purchase"] * len(rows)),
                "ts": pa.array([ts for _, ts in rows], pa.timestamp("us", tz="UTC")),
                "value": pa.array([10.0] * len(rows), pa.float64()),
            }
        )
    )
    assert validated.table is not None, validated.errors[:3]
    return validated.table


def _seed(runtime: Runtime) -> tuple[int, int]:
    ann = make_customer(runtime, name="Ann Archer", identities=["email:ann@example.com"])
    bob = make_customer(runtime, name="Bob Baker", identities=["email:bob@example.com"])
    with runtime.engine.begin() as connection:
        seeder = Seeder(connection)
        for owner in (ann, bob):
            for table in Base.metadata.sorted_tables:
                if table in tables_about_customers() or table.name in _CHILDREN:
                    seeder.row(table, owner)
    with runtime.session() as db:
        resolved = ingest.resolve_customers(
            db,
            actor=SYSTEM,
            events=_events("email:ann@example.com", "email:bob@example.com"),
            unknown="reject",
        )
    assert resolved.table is not None
    ingest.dataset_of(runtime.settings.data_dir).write_batch(resolved.table)
    return ann, bob


# Rows about a customer through another row of theirs (no customer column of their own).
_CHILDREN = {"acknowledgements", "recovery_actions", "report_card_scores", "knowledge_fact_traits"}


def _export(runtime: Runtime, customer_id: int, actor: Any = SYSTEM) -> Any:
    with runtime.session() as db:
        return subject_export(
            db,
            actor=actor,
            customer_id=customer_id,
            data_dir=runtime.settings.data_dir,
            analytics_url=runtime.settings.analytics_url,
            currency="EUR",
        )


def test_every_table_that_points_at_a_customer_has_a_section(sqlite_runtime: Runtime) -> None:
    """A new table with a customer column fails here until the owning domain's ``data_about`` gives it."""
    ann = make_customer(sqlite_runtime, name="Ann Archer")
    document = _export(sqlite_runtime, ann)
    missing = [t.name for t in tables_about_customers() if t.name not in document.tables]
    assert missing == []
    assert set(document.tables) >= _CHILDREN


def test_the_export_holds_each_kind_of_data_and_nothing_of_another_customer(runtime: Runtime) -> None:
    ann, bob = _seed(runtime)
    document = _export(runtime, ann)
    assert document.customer.id == ann and document.record_ids == [ann]
    empty = [name for name, rows in document.tables.items() if not rows]
    assert empty == []
    for table in tables_about_customers():
        for row in document.tables[table.name]:
            for column in table.columns:
                if points_at_customer(column) and row[column.name] is not None:
                    assert row[column.name] == ann, (table.name, column.name)
    assert "email:ann@example.com" in {
        f"{r['system']}:{r['value']}" for r in document.tables["customer_identities"]
    }
    assert len(document.events) == 2 and {e["customer_id"] for e in document.events} == {ann}
    assert document.behaviour.customer_id == ann
    assert "Bob Baker" not in document.model_dump_json()
    bob_facts = _export(runtime, bob).tables["differentiators"]
    assert {row["id"] for row in bob_facts}.isdisjoint(
        {row["id"] for row in document.tables["differentiators"]}
    )


def test_the_export_is_recorded_in_the_audit_log_and_holds_its_own_entry(runtime: Runtime) -> None:
    ann = make_customer(runtime, name="Ann Archer")
    admin = make_user(runtime, Role.ADMIN)
    document = _export(runtime, ann, admin.actor)
    actions = [row["action"] for row in document.tables["audit_log"]]
    assert AuditAction.CUSTOMER_DATA_EXPORTED.value in actions
    with runtime.session() as db:
        entry = db.scalars(
            select(AuditEntry).where(AuditEntry.action == AuditAction.CUSTOMER_DATA_EXPORTED.value)
        ).one()
        assert (entry.customer_id, entry.actor_email) == (ann, admin.email)


@pytest.mark.parametrize("role", [Role.FRONTLINE, Role.MANAGER, Role.ANALYST])
def test_only_administrators_export_a_customers_data(sqlite_runtime: Runtime, role: Role) -> None:
    ann = make_customer(sqlite_runtime)
    with pytest.raises(Forbidden):
        _export(sqlite_runtime, ann, make_user(sqlite_runtime, role).actor)


def test_a_merged_record_gives_the_survivors_export_with_both_records(sqlite_runtime: Runtime) -> None:
    ann = make_customer(sqlite_runtime, name="Ann Archer", identities=["email:ann@example.com"])
    twin = make_customer(sqlite_runtime, name="A. Archer", identities=["crm:A7"])
    with sqlite_runtime.session() as db:
        merge.merge(db, actor=SYSTEM, survivor_id=ann, merged_id=twin)
    document = _export(sqlite_runtime, twin)
    assert document.customer.id == ann and sorted(document.record_ids) == sorted([ann, twin])
    assert {row["id"] for row in document.tables["customers"]} == {ann, twin}
    assert [row["merged_id"] for row in document.tables["customer_merges"]] == [twin]
    assert {"customer.merged", "customer.merged_away"} <= {r["action"] for r in document.tables["audit_log"]}
