"""Erasure of a customer's personal data (the right to erasure), for the CLI (``segone customers erase``),
the API (``DELETE /api/v1/customers/{id}/personal-data``) and the button on the customer sheet.

Each domain deletes its own rows about the customer (``erase_about`` in its service, beside its
``data_about``); this composes them in the order the foreign keys need, rewrites the events dataset without
their events, removes the category model trained on their words, redacts the audit entries about them
through the narrow path migration 0029 opens, and records the erasure. The records themselves are deleted,
not kept as tombstones: figures already computed (segment sizes, refresh distributions) are anonymous
aggregates and stay. ``tests/views/test_erasure.py`` seeds a marker into every text column of every table
that points at a customer and proves it is found nowhere afterwards, so a table added later is covered.
Administrators only.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from segone.accounts import service as accounts
from segone.accounts.schemas import Actor, AuditAction, Permission
from segone.behaviour import service as behaviour
from segone.customer_service.promises import service as promises
from segone.customer_service.recovery import service as recovery
from segone.customers import service as customers
from segone.encounters import service as encounters
from segone.errors import NotFound
from segone.knowledge.categories import service as categories
from segone.knowledge.distinguishability import service as insights
from segone.knowledge.facts import service as knowledge
from segone.personalisation import service as personalisation
from segone.personalisation.messages import service as messages
from segone.quality import service as quality
from segone.segmentation import service as segmentation
from segone.storage import subject, uploads
from segone.views.schemas import ErasureOut


def erase(db: Session, *, actor: Actor, customer_id: int, data_dir: Path) -> ErasureOut:
    """Erase everything held about the customer (a merged record's id erases its survivor and every record
    merged into it). An id already erased, or never held, is ``NotFound``."""
    accounts.require(actor, Permission.MANAGE_USERS)
    try:
        customer = customers.get(db, actor=actor, customer_id=customer_id)
    except NotFound:
        done = accounts.erasure_of(db, customer_id)
        if done is None:
            raise
        raise NotFound(
            f"Customer {customer_id}'s personal data was erased on {done.erased_at:%Y-%m-%d %H:%M} UTC; "
            "nothing is held about them."
        ) from None
    survivor = customer.id
    ids = customers.merged_ids(db, customer_id=survivor)
    identities = customers.identity_keys(db, customer_ids=ids)
    facts = [row["id"] for row in knowledge.data_about(db, customer_ids=ids)["differentiators"]]
    with subject.overwriting_deleted(db):
        records = accounts.open_erasure(db, actor=actor, customer_ids=ids)
        rows = {
            **quality.erase_about(db, customer_ids=ids),
            **recovery.erase_about(db, customer_ids=ids),
            **promises.erase_about(db, customer_ids=ids),
            **segmentation.erase_about(db, customer_ids=ids),
            **personalisation.erase_about(db, customer_ids=ids),
            **messages.erase_about(db, customer_ids=ids),
            **behaviour.erase_about(db, customer_ids=ids, identities=identities),
            **encounters.erase_suggestions_about(db, customer_ids=ids),
            **insights.erase_about(db, customer_ids=ids, differentiator_ids=facts),
            **knowledge.erase_about(db, customer_ids=ids),
            **encounters.erase_about(db, customer_ids=ids),
            **customers.erase_about(db, customer_ids=ids),
            **accounts.erase_about(db, customer_ids=ids),
        }
        accounts.close_erasure(db, records)
        accounts.record_audit(
            db,
            actor=actor,
            action=AuditAction.CUSTOMER_ERASED,
            customer_id=survivor,
            summary=f"Customer {survivor} erased",
            details={"records": ids},
        )
        db.flush()
        # Files last: a failure before this leaves the transaction to roll back with the customer intact.
        events = behaviour.erase_events_about(data_dir=data_dir, customer_ids=ids, identities=identities)
        model_removed = categories.forget_model(data_dir)
        uploads_removed = uploads.drop_all(data_dir)
    return ErasureOut(
        customer_id=survivor,
        record_ids=sorted(ids),
        erased_at=records[0].erased_at,
        erased_by=actor.email,
        rows=dict(sorted(rows.items())),
        events=events,
        category_model_removed=model_removed,
        uploads_removed=uploads_removed,
    )


def settle(engine: Engine) -> None:
    """After the erasing transaction commits: leave no older copy of an erased page in the SQLite log."""
    subject.settle(engine)
