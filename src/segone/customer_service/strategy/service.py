"""Use cases of the service strategy: read the one in force, set a new version, read the history.

Everybody who may look up customers reads the strategy (the front line must know it); setting it takes
the settings permission (administrators). Each change is a new version, never an edit, and an entry in
the audit trail naming the fields that changed; setting the strategy in force again changes nothing.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from segone.accounts import service as accounts
from segone.accounts.schemas import Actor, AuditAction, Permission
from segone.accounts.service import record_audit, require
from segone.customer_service.strategy.models import StrategyVersion
from segone.customer_service.strategy.schemas import StrategyIn, StrategyOut, StrategyVersionOut
from segone.errors import NotFound

_CONTENT = tuple(name for name in StrategyIn.model_fields if name != "note")


def _content(row: StrategyVersion) -> dict[str, Any]:
    return {
        "core_service": list(row.core_service),
        "service_experience": list(row.service_experience),
        "exceptions": list(row.exceptions),
        "target_hours_high": row.target_hours_high,
        "target_hours_normal": row.target_hours_normal,
        "note": row.note,
    }


def _out(row: StrategyVersion | None, names: dict[int, str]) -> StrategyOut:
    if row is None:
        return StrategyOut(version=0, on_record=False, changed_at=None, changed_by=None)
    by = names.get(row.created_by_id) if row.created_by_id is not None else None
    return StrategyOut(
        **_content(row), version=row.version, on_record=True, changed_at=row.created_at, changed_by=by
    )


def _names(db: Session, rows: list[StrategyVersion]) -> dict[int, str]:
    people = accounts.people_by_id(db, (row.created_by_id for row in rows))
    return {user_id: person.name for user_id, person in people.items()}


# Every briefing reads it; built once, as building costs as much as running it.
_LATEST = select(StrategyVersion).order_by(StrategyVersion.version.desc()).limit(1)


def _latest(db: Session) -> StrategyVersion | None:
    return db.scalars(_LATEST).first()


def in_force(db: Session) -> StrategyOut:
    """The strategy in force (version 0, with the default targets and no exceptions, before the first is
    set), for the checks of the other use cases of this domain."""
    row = _latest(db)
    return _out(row, _names(db, [row] if row else []))


def current(db: Session, *, actor: Actor) -> StrategyOut:
    require(actor, Permission.READ_CUSTOMERS)
    return in_force(db)


def history(db: Session, *, actor: Actor) -> list[StrategyVersionOut]:
    """Every version, the newest first, each with the fields it changed from the one before."""
    require(actor, Permission.READ_CUSTOMERS)
    rows = list(db.scalars(select(StrategyVersion).order_by(StrategyVersion.version)))
    names = _names(db, rows)
    found: list[StrategyVersionOut] = []
    before = _out(None, names)
    for row in rows:
        out = _out(row, names)
        found.append(StrategyVersionOut(**out.model_dump(), changed=changed_fields(before, out)))
        before = out
    return found[::-1]


def get_version(db: Session, *, actor: Actor, version: int) -> StrategyOut:
    require(actor, Permission.READ_CUSTOMERS)
    row = db.scalars(select(StrategyVersion).where(StrategyVersion.version == version)).first()
    if row is None:
        raise NotFound(f"There is no version {version} of the service strategy.")
    return _out(row, _names(db, [row]))


def changed_fields(before: StrategyIn, after: StrategyIn) -> list[str]:
    """The fields of the strategy (not the note) that differ, in the order of the form."""
    old, new = before.model_dump(mode="json"), after.model_dump(mode="json")
    return [name for name in _CONTENT if old[name] != new[name]]


def set_strategy(db: Session, *, actor: Actor, data: StrategyIn) -> StrategyOut:
    """A new version with this content, unless it is the content in force (then nothing changes)."""
    require(actor, Permission.MANAGE_SETTINGS)
    before = in_force(db)
    changes = changed_fields(before, data)
    if before.on_record and not changes:
        return before
    version = int(db.scalar(select(func.max(StrategyVersion.version))) or 0) + 1
    values = data.model_dump(mode="json")
    row = StrategyVersion(version=version, created_by_id=actor.user_id, **values)
    db.add(row)
    db.flush()
    old = before.model_dump(mode="json")
    record_audit(
        db,
        actor=actor,
        action=AuditAction.STRATEGY_CHANGED,
        summary=f"Service strategy version {version}: " + (", ".join(changes) or "first set"),
        details={
            "version": version,
            "note": data.note,
            **{name: {"from": old[name], "to": values[name]} for name in changes},
        },
    )
    return _out(row, _names(db, [row]))
