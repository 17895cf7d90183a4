"""The facts and encounters exports: every column, with the customer, the employees and the facts learned
looked up in their own domains; typed Parquet; one audit entry each."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sqlalchemy import select

from segone.accounts.models import AuditEntry
from segone.accounts.schemas import SYSTEM, Role
from segone.channels import Channel
from segone.encounters import service as encounters
from segone.encounters.schemas import EncounterCreate, NewFact
from segone.errors import Forbidden
from segone.exporting import Format, stream
from segone.knowledge.categories.service import in_force as categories_in_force
from segone.knowledge.facts import service as knowledge
from segone.knowledge.facts.schemas import AcknowledgeRequest, DifferentiatorCreate, OutdateRequest
from segone.runtime import Runtime
from segone.views import exports
from segone.views.exports import ExportKind
from tests.factories import MadeUser, make_customer, make_user

MET = datetime(2024, 5, 2, 9, 30, tzinfo=UTC)


def exported(runtime: Runtime, what: ExportKind, fmt: Format) -> bytes:
    with runtime.session() as db:
        started = exports.start(db, actor=SYSTEM, what=what, fmt=fmt)
    return b"".join(stream(started, fmt, runtime.session))


def csv_rows(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8"), newline="")))


def knowledge_of_two_customers(runtime: Runtime) -> tuple[MadeUser, MadeUser, int, int, int]:
    """Ann (two identities), met once, where a fact was learned and later acknowledged; a customer without
    identities with a fact that was outdated and replaced."""
    employee, manager = make_user(runtime, Role.FRONTLINE), make_user(runtime, Role.MANAGER)
    ann = make_customer(runtime, name="Ann Patel", identities=["crm:C001", "email:ann@example.com"])
    anonymous = make_customer(runtime, name="No Ids Yet", identities=[])
    categories = categories_in_force(runtime.settings)
    with runtime.session() as db:
        encounter = encounters.record(
            db,
            actor=employee.actor,
            customer_id=ann,
            data=EncounterCreate(
                channel=Channel.MEETING,
                occurred_at=MET,
                duration_minutes=30,
                notes="Training for her first marathon.\n-5 kg since spring",
                cares_about="=her time",
                worries_about="knee injuries",
                listening_share=0.7,
                facts=[NewFact(text="Runs marathons", category="free_time", confidence=0.9)],
            ),
            categories=categories,
        )
        fact = knowledge.list_for_customer(db, actor=SYSTEM, customer_id=ann)[0].id
        knowledge.acknowledge(
            db,
            actor=manager.actor,
            differentiator_id=fact,
            data=AcknowledgeRequest(how="asked about the race"),
        )
        old = knowledge.add(
            db,
            actor=SYSTEM,
            customer_id=anonymous,
            data=DifferentiatorCreate(
                text="Has one child", category="family", learned_at=MET, confidence=0.5
            ),
            categories=categories,
        ).id
        knowledge.outdate(db, actor=SYSTEM, differentiator_id=old, data=OutdateRequest(replacement="Has two"))
        return employee, manager, ann, anonymous, encounter.id


def test_facts_name_the_customer_who_learned_them_and_whether_the_customer_knows(runtime: Runtime) -> None:
    employee, manager, ann, anonymous, encounter = knowledge_of_two_customers(runtime)
    rows = csv_rows(exported(runtime, ExportKind.FACTS, Format.CSV))
    assert list(rows[0]) == [c.name for c in knowledge.EXPORT_COLUMNS]
    learned, outdated, replacement = rows
    assert learned == learned | {
        "customer_id": str(ann),
        "customer": "crm:C001",
        "customer_name": "Ann Patel",
        "category": "free_time",
        "text": "Runs marathons",
        "status": "current",
        "learned_at": "2024-05-02T09:30:00+00:00",
        "learned_by": employee.email,
        "learned_by_name": f"Frontline {employee.email.removeprefix('frontline').split('@')[0]}",
        "encounter_id": str(encounter),
        "channel": "meeting",
        "confidence": "0.9",
        "outdated_at": "",
        "replaced_by_id": "",
        "acknowledged": "true",
        "acknowledged_by": manager.email,
        "acknowledged_how": "asked about the race",
        "acknowledged_encounter_id": "",
    }
    assert (
        learned["acknowledged_at"].endswith("+00:00")
        and learned["last_confirmed_at"] == learned["learned_at"]
    )
    assert outdated == outdated | {
        "customer": str(anonymous),  # no identity: the id, which the facts import reads too
        "customer_name": "No Ids Yet",
        "status": "outdated",
        "learned_by": "",
        "learned_by_name": "",
        "encounter_id": "",
        "channel": "",
        "confidence": "0.5",
        "replaced_by_id": replacement["id"],
        "acknowledged": "false",
        "acknowledged_at": "",
        "acknowledged_by": "",
        "acknowledged_how": "",
    }
    assert outdated["outdated_at"].endswith("+00:00")
    assert (replacement["text"], replacement["status"]) == ("Has two", "current")


def test_encounters_carry_the_facts_learned_and_guard_their_notes(runtime: Runtime) -> None:
    employee, _manager, ann, _anonymous, encounter = knowledge_of_two_customers(runtime)
    data = exported(runtime, ExportKind.ENCOUNTERS, Format.CSV)
    assert "'=her time" in data.decode()
    [row] = csv_rows(data)
    with runtime.session() as db:
        fact = knowledge.list_for_customer(db, actor=SYSTEM, customer_id=ann)[0].id
    assert list(row) == [c.name for c in encounters.EXPORT_COLUMNS]
    assert row == row | {
        "id": str(encounter),
        "customer_id": str(ann),
        "customer": "crm:C001",
        "customer_name": "Ann Patel",
        "employee": employee.email,
        "channel": "meeting",
        "occurred_at": "2024-05-02T09:30:00+00:00",
        "duration_minutes": "30",
        "listening_share": "0.7",
        "cares_about": "'=her time",
        "worries_about": "knee injuries",
        "notes": "Training for her first marathon.\n-5 kg since spring",
        "facts_learned": "1",
        "fact_ids": str(fact),
    }
    assert row["employee_name"].startswith("Frontline ")


def test_parquet_types_of_facts_and_encounters(runtime: Runtime) -> None:
    knowledge_of_two_customers(runtime)
    facts = pq.read_table(pa.BufferReader(exported(runtime, ExportKind.FACTS, Format.PARQUET)))
    types = {field.name: field.type for field in facts.schema}
    assert (types["id"], types["encounter_id"], types["confidence"]) == (pa.int64(), pa.int64(), pa.float64())
    assert types["learned_at"] == types["acknowledged_at"] == pa.timestamp("us", tz="UTC")
    assert types["acknowledged"] == pa.bool_() and types["text"] == pa.string()
    assert facts.column("acknowledged").to_pylist() == [True, False, False]
    assert facts.column("learned_at")[0].as_py() == MET
    met = pq.read_table(pa.BufferReader(exported(runtime, ExportKind.ENCOUNTERS, Format.PARQUET)))
    assert met.column("cares_about").to_pylist() == ["=her time"]  # no guard: Parquet is not run as formulas
    assert met.schema.field("listening_share").type == pa.float64()
    assert met.column("duration_minutes").to_pylist() == [30]


@pytest.mark.parametrize("what", [ExportKind.FACTS, ExportKind.ENCOUNTERS])
def test_each_export_is_one_audit_entry_and_needs_the_permission(runtime: Runtime, what: ExportKind) -> None:
    knowledge_of_two_customers(runtime)
    admin = make_user(runtime, Role.ADMIN)
    with runtime.session() as db:
        started = exports.start(db, actor=admin.actor, what=what, fmt=Format.CSV)
        with pytest.raises(Forbidden):
            exports.start(db, actor=make_user(runtime, Role.MANAGER).actor, what=what, fmt=Format.CSV)
    rows = {ExportKind.FACTS: 3, ExportKind.ENCOUNTERS: 1}[what]
    assert started.rows == rows
    with runtime.session() as db:
        [entry] = db.scalars(select(AuditEntry).where(AuditEntry.action == "data.exported")).all()
    assert (entry.actor_email, entry.details) == (
        admin.email,
        {"export": what.value, "format": "csv", "rows": rows},
    )
