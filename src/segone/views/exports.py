"""The exports: which domain gives the rows of each, and the one audit entry every export writes.

The CLI (``segone export``), the API (``GET /api/v1/exports/{what}``) and the web's Export buttons all start
an export here, in the caller's transaction, then stream its rows in a session of their own
(``segone.exporting.stream``): the audit entry is committed before the first row goes out.
"""

from __future__ import annotations

import enum
from collections.abc import Callable

from sqlalchemy.orm import Session

from segone.accounts import service as accounts
from segone.accounts.schemas import Actor, AuditAction, AuditFilter, Permission
from segone.accounts.service import record_audit, require
from segone.customers import service as customers
from segone.encounters import service as encounters
from segone.exporting import Export, Format
from segone.knowledge.facts import service as knowledge
from segone.quality import service as quality
from segone.segmentation import service as segmentation


class ExportKind(enum.StrEnum):
    CUSTOMERS = "customers"
    FACTS = "facts"
    ENCOUNTERS = "encounters"
    AUDIT_LOG = "audit-log"


_SOURCES: dict[ExportKind, Callable[..., Export]] = {
    ExportKind.CUSTOMERS: customers.export_customers,
    ExportKind.FACTS: knowledge.export_facts,
    ExportKind.ENCOUNTERS: encounters.export_encounters,
    ExportKind.AUDIT_LOG: accounts.export_audit_log,  # administrators only
}


def start(db: Session, *, actor: Actor, what: ExportKind, fmt: Format) -> Export:
    """The export, once the actor may export (``Forbidden`` otherwise), recorded in the audit trail as
    who exported what, in which format, and how many rows there were at the start."""
    export: Export = _SOURCES[what](db, actor=actor)
    record_audit(
        db,
        actor=actor,
        action=AuditAction.DATA_EXPORTED,
        summary=f"Exported {export.rows:,} {export.name} as {fmt.value.upper()}",
        details={"export": export.name, "format": fmt.value, "rows": export.rows},
    )
    return export


def start_segment(db: Session, *, actor: Actor, version_id: int, node_id: int, fmt: Format) -> Export:
    """The customers of one segment (every leaf below it), in the customers export's layout: an audience
    for a campaign. Recorded in the audit trail like every export."""
    require(actor, Permission.EXPORT_DATA)  # before reading the segment: a manager may read, not export
    members = segmentation.members(db, actor=actor, version_id=version_id, node_id=node_id)
    export = customers.export_customers(
        db, actor=actor, only=members, name=f"segment-{version_id}-{node_id}-customers"
    )
    record_audit(
        db,
        actor=actor,
        action=AuditAction.DATA_EXPORTED,
        summary=f"Exported the {export.rows:,} customers of segment {node_id} (version {version_id}) as "
        f"{fmt.value.upper()}",
        details={"export": export.name, "format": fmt.value, "rows": export.rows},
    )
    return export


def start_audience(db: Session, *, actor: Actor, audience_id: int, fmt: Format) -> Export:
    """The members of an audience as last evaluated, in the customers export's layout; audited."""
    require(actor, Permission.EXPORT_DATA)  # before reading the audience: a manager may read, not export
    audience = segmentation.get_audience(db, actor=actor, audience_id=audience_id)
    page, _total = segmentation.audience_members(db, actor=actor, audience_id=audience_id)
    export = customers.export_customers(
        db, actor=actor, only=[m.customer_id for m in page], name=f"audience-{audience.id}-customers"
    )
    record_audit(
        db,
        actor=actor,
        action=AuditAction.DATA_EXPORTED,
        summary=f"Exported the {export.rows:,} customers of audience '{audience.name}' as "
        f"{fmt.value.upper()}",
        details={"export": export.name, "format": fmt.value, "rows": export.rows, "audience": audience.id},
    )
    return export


def start_card_scores(db: Session, *, actor: Actor, period: str, team: str | None, fmt: Format) -> Export:
    """The scores each team received on its report cards in a period (``team``: that supplier's only), for
    the bonus plan; audited like every export."""
    export = quality.export_scores(db, actor=actor, period=period, team=team)
    record_audit(
        db,
        actor=actor,
        action=AuditAction.DATA_EXPORTED,
        summary=f"Exported the report card scores of {period}"
        + (f" for {team}" if team else "")
        + f" ({export.rows:,} rows) as {fmt.value.upper()}",
        details={"export": export.name, "format": fmt.value, "rows": export.rows, "period": period},
    )
    return export


def start_audit_log(db: Session, *, actor: Actor, wanted: AuditFilter, fmt: Format) -> Export:
    """The audit log as filtered on the admin page or in the API; administrators only, and the export is
    itself an entry of the log (written before the rows are read, so the file holds it)."""
    export = accounts.export_audit_log(db, actor=actor, wanted=wanted)
    record_audit(
        db,
        actor=actor,
        action=AuditAction.DATA_EXPORTED,
        summary=f"Exported {export.rows:,} audit log entries as {fmt.value.upper()}",
        details={
            "export": export.name,
            "format": fmt.value,
            "rows": export.rows,
            "filter": _described(wanted),
        },
    )
    return export


def _described(wanted: AuditFilter) -> dict[str, str | int]:
    return {
        name: value.isoformat() if hasattr(value, "isoformat") else value
        for name, value in vars(wanted).items()
        if value not in (None, "")
    }
