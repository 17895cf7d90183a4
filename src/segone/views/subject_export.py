"""The data-subject export: everything held about one customer as one document, for the CLI
(``segone customers export-data``), the API (``GET /api/v1/customers/{id}/data-export``) and the button on
the customer sheet.

Each domain gives its own stored rows about the customer (``data_about`` in its service); this composes
them once. ``tests/views/test_subject_export.py`` walks every table that points at a customer and fails
when one has no section here, so a table added later cannot be left out silently. Administrators only;
the export is recorded in the audit trail before it is read, so the document holds its own entry.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session

from segone.accounts import service as accounts
from segone.accounts.schemas import Actor, AuditAction, Permission
from segone.behaviour import service as behaviour
from segone.clock import utcnow
from segone.customer_service.promises import service as promises
from segone.customer_service.recovery import service as recovery
from segone.customers import service as customers
from segone.encounters import service as encounters
from segone.knowledge.distinguishability import service as insights
from segone.knowledge.facts import service as knowledge
from segone.personalisation import service as personalisation
from segone.personalisation.messages import service as messages
from segone.quality import service as quality
from segone.segmentation import service as segmentation
from segone.views.schemas import SubjectExport


def subject_export(
    db: Session,
    *,
    actor: Actor,
    customer_id: int,
    data_dir: Path,
    analytics_url: str,
    currency: str,
) -> SubjectExport:
    """Everything about the customer (a merged record's id gives the survivor's, which holds it all)."""
    accounts.require(actor, Permission.MANAGE_USERS)
    customer = customers.get(db, actor=actor, customer_id=customer_id)
    ids = customers.merged_ids(db, customer_id=customer.id)
    accounts.record_audit(
        db,
        actor=actor,
        action=AuditAction.CUSTOMER_DATA_EXPORTED,
        customer_id=customer.id,
        summary=f"Exported everything held about {customer.name}",
        details={"records": ids},
    )
    db.flush()
    tables = {
        **customers.data_about(db, customer_ids=ids),
        **knowledge.data_about(db, customer_ids=ids),
        **encounters.data_about(db, customer_ids=ids),
        **behaviour.data_about(db, customer_ids=ids),
        **personalisation.data_about(db, customer_ids=ids),
        **messages.data_about(db, customer_ids=ids),
        **segmentation.data_about(db, customer_ids=ids),
        **recovery.data_about(db, customer_ids=ids),
        **promises.data_about(db, customer_ids=ids),
        **quality.data_about(db, customer_ids=ids),
        **accounts.data_about(db, customer_ids=ids),
    }
    fact_ids = [row["id"] for row in tables["differentiators"]]
    tables.update(insights.data_about(db, customer_ids=ids, differentiator_ids=fact_ids))
    return SubjectExport(
        customer=customers.to_out(customer),
        exported_at=utcnow(),
        exported_by=actor.email,
        record_ids=ids,
        behaviour=behaviour.behaviour_of(db, actor=actor, customer_id=customer.id, currency=currency),
        tables=dict(sorted(tables.items())),
        events=behaviour.events_about(
            actor=actor, data_dir=data_dir, analytics_url=analytics_url, customer_ids=ids
        ),
    )
