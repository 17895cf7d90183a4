"""Erasure: a customer's marker, seeded into every text column of every table that holds rows about them,
their events and the category model, is found nowhere afterwards — not in any table, not in any Parquet
file, not in any byte of any file under the data directory (the SQLite file, its log, the search index) —
while another customer's marker is still everywhere it was.

The seed is generic (``Base.metadata``, as the data export's test walks it), so a table added later is
seeded and checked without touching this file.
"""

from __future__ import annotations

import secrets
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sqlalchemy import JSON, Column, Engine, String, Table, TypeDecorator, select, text, update
from sqlalchemy.exc import DBAPIError

from segone.accounts import service as accounts
from segone.accounts.models import AuditEntry
from segone.accounts.schemas import SYSTEM, AuditAction, Role
from segone.behaviour import ingest
from segone.behaviour.events import validate_events
from segone.errors import Forbidden, NotFound
from segone.knowledge.categories.classifier import model_path
from segone.migrations.tables import Base
from segone.runtime import Runtime
from segone.storage import uploads
from segone.views import erasure, merge
from segone.views.schemas import ErasureOut
from tests.factories import make_customer, make_user
from tests.views.test_subject_export import NOW, Seeder, _value, points_at_customer, tables_about_customers

# Written by the erasure itself (no row exists about a customer still held).
_WRITTEN_BY_ERASURE = {"erasures"}
# What an erased customer's audit entries keep: which action, by which employee (not about the customer).
_KEPT = {("audit_log", "action"), ("audit_log", "actor_email")}
# Derived from their rows without a customer column: a trait's label is a fact's wording.
_DERIVED = {"knowledge_traits"}


def marked_tables() -> set[str]:
    """Every table holding rows about a customer: those pointing at one, and those pointing at such rows."""
    marked = {t.name for t in tables_about_customers()} | _DERIVED
    grown = True
    while grown:
        grown = False
        for table in Base.metadata.sorted_tables:
            refers = {fk.column.table.name for fk in table.foreign_keys}
            if table.name not in marked and refers & (marked - {"customers"}) - _DERIVED:
                marked.add(table.name)
                grown = True
    return marked - _WRITTEN_BY_ERASURE


def _is_text(column: Column[Any]) -> bool:
    kind = column.type
    while isinstance(kind, TypeDecorator):
        kind = kind.impl_instance
    return isinstance(kind, String | JSON)


class MarkedSeeder(Seeder):
    """The generic seed with the owner's marker in every text and JSON column of the tables about them."""

    def __init__(self, connection: Any, markers: dict[int, str]) -> None:
        super().__init__(connection)
        self.markers = markers
        self.marked = marked_tables()

    def _marks(self, column: Column[Any]) -> bool:
        return (
            column.table.name in self.marked
            and (column.table.name, column.name) not in _KEPT
            and _is_text(column)
            and not column.foreign_keys
        )

    def fills(self, column: Column[Any]) -> bool:
        return super().fills(column) or self._marks(column)

    def value(self, column: Column[Any], owner: int) -> Any:
        if not self._marks(column):
            return _value(column, owner)
        marker = self.markers[owner]
        kind = column.type
        while isinstance(kind, TypeDecorator):
            kind = kind.impl_instance
        return {"note": marker} if isinstance(kind, JSON) else marker


def _marker(start: str) -> str:
    # Seven characters (the shortest text column about a customer), unlikely anywhere else in a store. The
    # search index stores a word after the one before it as the letters they do not share: a first letter
    # no other word has keeps the whole marker in its bytes.
    return start + "q" + secrets.token_hex(3)[:5]


def _events(identity: str, marker: str) -> pa.Table:
    validated = validate_events(
        pa.table(
            {
                "customer": pa.array([identity, identity]),
                "type": pa.array(["purchase", "complaint"]),
                "ts": pa.array(
                    [NOW - timedelta(days=30), NOW - timedelta(days=3)], pa.timestamp("us", tz="UTC")
                ),
                "value": pa.array([10.0, None], pa.float64()),
                "offering": pa.array([marker, marker]),
                "reason": pa.array([marker, marker]),
                "properties": pa.array([f'{{"note": "{marker}"}}'] * 2),
            }
        )
    )
    assert validated.table is not None, validated.errors[:3]
    return validated.table


def _seed(runtime: Runtime) -> dict[int, str]:
    """Ann and Bob, each with their own marker everywhere; returns {customer id: marker}, Ann first."""
    markers: dict[int, str] = {}
    for first, start in (("Ann", "x"), ("Bob", "z")):
        marker = _marker(start)
        cid = make_customer(
            runtime,
            name=f"{first} {marker}",
            identities=[f"email:{marker}@example.com"],
            attributes={"note": marker},
        )
        markers[cid] = marker
    with runtime.engine.begin() as connection:
        seeder = MarkedSeeder(connection, markers)
        for owner in markers:
            for table in Base.metadata.sorted_tables:
                if table.name in seeder.marked and table.name != "customers":
                    seeder.row(table, owner)
    dataset = ingest.dataset_of(runtime.settings.data_dir)
    for marker in markers.values():
        with runtime.session() as db:
            resolved = ingest.resolve_customers(
                db, actor=SYSTEM, events=_events(f"email:{marker}@example.com", marker), unknown="reject"
            )
        assert resolved.table is not None
        dataset.write_batch(resolved.table)
        # Events named by the identity only (not resolved to the id): theirs too.
        dataset.write_batch(_events(f"email:{marker}@example.com", marker))
    # A trained category model learns the words of every fact: one of the caches erasure must clear.
    path = model_path(runtime.settings.data_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(("vocabulary " + " ".join(markers.values())).encode())
    # A customer file checked on the import page and not imported yet: kept until "Import" (or a day).
    for marker in markers.values():
        uploads.keep(runtime.settings.data_dir, 1, f"name,email\n{marker},{marker}@example.com\n".encode())
    return markers


def tables_holding(engine: Engine, marker: str) -> set[str]:
    """The tables with the marker in any column of any row (every column read as text)."""
    found = set()
    with engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            for row in connection.execute(select(table)):
                if any(marker in str(value) for value in row):
                    found.add(table.name)
                    break
    return found


def parquet_rows_holding(data_dir: Path, marker: str) -> int:
    """Rows, decoded, of every Parquet file under the data directory holding the marker."""
    return sum(
        sum(1 for row in pq.read_table(path).to_pylist() if marker in str(row))
        for path in data_dir.rglob("*.parquet")
    )


# Read in a process of its own: opening and closing the SQLite files here would drop every lock this
# process's connections hold on them (POSIX locks belong to the process, and any close releases them all),
# and another process would then fold and delete the write-ahead log under them, corrupting the store.
_FILES_HOLDING = """
import sys
from pathlib import Path
data_dir, needle = Path(sys.argv[1]), sys.argv[2].lower().encode()
for path in sorted(data_dir.rglob("*")):
    if path.is_file() and needle in path.read_bytes().lower():
        print(path.relative_to(data_dir))
"""


def files_holding(data_dir: Path, marker: str) -> list[str]:
    """Files under the data directory whose bytes hold the marker, in any case (an index lower-cases)."""
    found = subprocess.run(
        [sys.executable, "-c", _FILES_HOLDING, str(data_dir), marker],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return found.stdout.splitlines()


def _erase(runtime: Runtime, customer_id: int, actor: Any = SYSTEM) -> ErasureOut:
    with runtime.session() as db:
        done = erasure.erase(db, actor=actor, customer_id=customer_id, data_dir=runtime.settings.data_dir)
    erasure.settle(runtime.engine)
    return done


def test_an_erased_customers_marker_is_found_nowhere_and_anothers_is_untouched(runtime: Runtime) -> None:
    markers = _seed(runtime)
    (ann, ann_marker), (_bob, bob_marker) = markers.items()
    data_dir = runtime.settings.data_dir
    ann_tables = tables_holding(runtime.engine, ann_marker)
    with_text = {
        t.name
        for t in Base.metadata.sorted_tables
        if t.name in marked_tables() and any(_is_text(c) and (t.name, c.name) not in _KEPT for c in t.columns)
    }
    assert ann_tables >= with_text, "the seed put the marker in every table about a customer with text"
    bob_tables = tables_holding(runtime.engine, bob_marker)
    bob_events = parquet_rows_holding(data_dir, bob_marker)
    assert parquet_rows_holding(data_dir, ann_marker) == 4 and bob_events == 4
    if runtime.engine.dialect.name == "sqlite":
        assert "segone.db" in " ".join(files_holding(data_dir, ann_marker))

    done = _erase(runtime, ann)

    assert done.customer_id == ann and done.record_ids == [ann] and done.events == 4
    assert done.category_model_removed and done.uploads_removed == 2
    assert tables_holding(runtime.engine, ann_marker) == set()
    assert parquet_rows_holding(data_dir, ann_marker) == 0
    assert files_holding(data_dir, ann_marker) == []
    # Nor any row pointing at them, text or not; the audit trail and the erasure record keep the number.
    with runtime.engine.connect() as connection:
        pointing = {
            table.name
            for table in tables_about_customers()
            for column in table.columns
            if points_at_customer(column)
            and connection.execute(select(column).where(column == ann).limit(1)).first() is not None
        }
    assert pointing == {"audit_log", "erasures"}
    # Bob keeps everything, the category model aside (trained on everyone's words: trained again later)
    # and his file waiting for its import (any kept file may hold Ann: uploaded again).
    assert tables_holding(runtime.engine, bob_marker) == bob_tables
    assert parquet_rows_holding(data_dir, bob_marker) == bob_events
    with runtime.session() as db:
        entries = db.scalars(select(AuditEntry).where(AuditEntry.customer_id == ann)).all()
    assert entries, "the audit entries about Ann stay, redacted"
    erased = [e for e in entries if e.action == AuditAction.CUSTOMER_ERASED.value]
    assert [(e.summary, e.details) for e in erased] == [(f"Customer {ann} erased", {"records": [ann]})]
    assert {e.summary for e in entries if e not in erased} == {"Personal data erased"}


def test_erasing_twice_is_a_clear_not_found(sqlite_runtime: Runtime) -> None:
    ann = make_customer(sqlite_runtime, name="Ann Archer")
    _erase(sqlite_runtime, ann)
    with pytest.raises(NotFound, match=f"Customer {ann}'s personal data was erased on"):
        _erase(sqlite_runtime, ann)
    with pytest.raises(NotFound, match="There is no customer 987654"):
        _erase(sqlite_runtime, 987654)
    with sqlite_runtime.session() as db:
        erasures = db.scalars(
            select(AuditEntry).where(AuditEntry.action == AuditAction.CUSTOMER_ERASED.value)
        ).all()
    assert len(erasures) == 1


def test_the_audit_log_stays_append_only_outside_an_erasure(runtime: Runtime) -> None:
    """The path an erasure takes is narrow: not another customer, not after it, not a change of action."""
    ann = make_customer(runtime, name="Ann Archer")
    bob = make_customer(runtime, name="Bob Baker")
    _erase(runtime, ann)
    table: Table = AuditEntry.__table__  # type: ignore[assignment]
    for customer_id in (ann, bob):
        with pytest.raises(DBAPIError, match="append-only"), runtime.engine.begin() as connection:
            connection.execute(
                update(table).where(table.c.customer_id == customer_id).values(summary="rewritten")
            )
    if runtime.engine.dialect.name == "postgresql":
        # Even with the setting on, only an erasure under way opens the door.
        with runtime.engine.connect() as connection:
            connection.execute(text("SELECT set_config('segone.erasing', 'on', true)"))
            with pytest.raises(DBAPIError, match="append-only"):
                connection.execute(update(table).where(table.c.customer_id == bob).values(summary="x"))
            connection.rollback()


@pytest.mark.parametrize("role", [Role.FRONTLINE, Role.MANAGER, Role.ANALYST])
def test_only_administrators_erase(sqlite_runtime: Runtime, role: Role) -> None:
    ann = make_customer(sqlite_runtime)
    with pytest.raises(Forbidden):
        _erase(sqlite_runtime, ann, make_user(sqlite_runtime, role).actor)


def test_a_merged_records_id_erases_the_survivor_and_every_record_merged_into_it(
    sqlite_runtime: Runtime,
) -> None:
    ann = make_customer(sqlite_runtime, name="Ann Archer", identities=["email:ann@example.com"])
    twin = make_customer(sqlite_runtime, name="A. Archer", identities=["crm:A7"])
    make_customer(sqlite_runtime, name="Bob Baker")
    with sqlite_runtime.session() as db:
        merge.merge(db, actor=SYSTEM, survivor_id=ann, merged_id=twin)
    done = _erase(sqlite_runtime, twin, make_user(sqlite_runtime, Role.ADMIN).actor)
    assert done.customer_id == ann and done.record_ids == sorted([ann, twin])
    assert done.rows["customer_merges"] == 1 and done.rows["customers"] == 2
    assert tables_holding(sqlite_runtime.engine, "Archer") == set()
    assert "customers" in tables_holding(sqlite_runtime.engine, "Bob Baker")
    with sqlite_runtime.session() as db:
        assert accounts.erasure_of(db, twin) is not None
