"""Named audiences (docs/segmentation.md, "Audiences"): a segment saved under a name, evaluated again on
today's values after every build and by a refresh, with customers added or removed by hand.

An audience keeps the conditions of its segment's path from the root as data (each ``Segment.rule``, with
the variable's label of the day it was saved) and in words. Evaluating it reads those variables of every
customer (``variables.gather``) and keeps who meets every condition (``rules.path_matches``); then the
hand changes apply: the latest hand decision about a customer wins over the conditions. The members are
stored, so that reading them costs no evaluation.

When a condition cannot be evaluated any more (its variable is gone, has another kind, or means something
else: a knowledge refresh numbers the traits anew), the audience keeps its last members and is marked
``stale`` with the reason; a build never fails for an audience.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

import numpy as np
import numpy.typing as npt
from sqlalchemy import Table, and_, delete, func, select
from sqlalchemy.orm import Session, sessionmaker

from segone.accounts import service as accounts
from segone.accounts.schemas import Actor, Permission
from segone.accounts.service import require
from segone.clock import utcnow
from segone.customers import service as customers
from segone.errors import Conflict, Invalid, NotFound
from segone.progress import Progress, silent
from segone.segmentation import rules
from segone.segmentation import variables as catalogue_module
from segone.segmentation.models import (
    Audience,
    AudienceEdit,
    AudienceMember,
    Segment,
    SegmentationVersion,
)
from segone.segmentation.schemas import (
    AudienceEditOut,
    AudienceMemberOut,
    AudienceOut,
    Condition,
    Variable,
    VariableKind,
    VersionStatus,
)
from segone.settings import Settings
from segone.storage import bulk
from segone.storage.batching import batched, chunks, values_per_statement
from segone.storage.engine import session_scope

_MEMBERS = cast(Table, AudienceMember.__table__)
NAME_LENGTH = 200
WRITE_CHUNK = 20_000
STAGE = "Re-evaluating the audiences"


@dataclass(frozen=True)
class _Values:
    """Today's values of some variables for every customer not merged into another (ids ascending), and
    every variable there is today by name (those not read included)."""

    ids: npt.NDArray[np.int64]
    columns: Mapping[str, npt.NDArray[Any]]
    catalogue: Mapping[str, Variable]


def _catalogue(db: Session, actor: Actor, settings: Settings) -> dict[str, Variable]:
    """Every variable there is, left-out ones too (with their inferred kind): an audience saved from a build
    that took a variable in keeps following it."""
    return {
        info.name: Variable(
            name=info.name,
            label=info.label,
            kind=info.kind or info.inferred_kind,
            source=info.source,
            unit=info.unit,
        )
        for info in catalogue_module.describe_variables(db, actor=actor, settings=settings)
    }


def _read(
    db: Session, actor: Actor, settings: Settings, wanted: Iterable[str], catalogue: Mapping[str, Variable]
) -> _Values:
    variables = [catalogue[name] for name in dict.fromkeys(wanted) if name in catalogue]
    table = catalogue_module.gather(db, actor=actor, settings=settings, variables=variables)
    return _Values(
        ids=np.asarray(table.column("customer_id").to_numpy(), dtype=np.int64),
        columns={v.name: table.column(v.name).to_numpy() for v in variables},
        catalogue=catalogue,
    )


def _conditions(audience: Audience) -> list[Condition]:
    return [c for c in (rules.from_json(rule) for rule in audience.rules) if c is not None]


def _check(audience: Audience, catalogue: Mapping[str, Variable]) -> list[Variable]:
    """The variables the audience's conditions read, as they are today; ``Invalid`` saying why when they
    cannot be evaluated any more."""
    names = list(dict.fromkeys(rule["variable"] for rule in audience.rules))
    gone = [name for name in names if name not in catalogue]
    if gone:
        verb = "no longer exists" if len(gone) == 1 else "no longer exist"
        raise Invalid(f"The variable{'s' if len(gone) > 1 else ''} {', '.join(gone)} {verb}.")
    for rule in audience.rules:
        variable = catalogue[rule["variable"]]
        saved = rule.get("label")
        if saved is not None and saved != variable.label:
            raise Invalid(
                f"{variable.name} now reads '{variable.label}', not '{saved}' as when the audience was "
                "saved (a knowledge refresh numbers the traits anew)."
            )
        if rule.get("threshold") is not None and variable.kind is not VariableKind.NUMERIC:
            raise Invalid(
                f"{variable.name} is {variable.kind.value} now; the audience compares it with a number."
            )
        if rule.get("levels") and variable.kind is VariableKind.NUMERIC:
            raise Invalid(f"{variable.name} is numeric now; the audience names levels of it.")
    return [catalogue[name] for name in names]


def _matching(audience: Audience, values: _Values) -> npt.NDArray[np.int64]:
    """The ids of the customers who meet every condition on today's values."""
    variables = _check(audience, values.catalogue)
    conditions = _conditions(audience)
    if not conditions:  # the root: everyone
        return values.ids
    columns = {v.name: values.columns[v.name] for v in variables}
    met = rules.path_matches(conditions, columns, variables)
    return values.ids[met]


def _hand_decisions(db: Session, audience_id: int) -> tuple[set[int], set[int]]:
    """The customers added and removed by hand. A decision about a record since merged into another counts
    for the record it was merged into; the latest decision about a customer wins."""
    survivors = customers.final_survivors(db)
    decided: dict[int, bool] = {}
    for customer_id, added in db.execute(
        select(AudienceEdit.customer_id, AudienceEdit.added)
        .where(AudienceEdit.audience_id == audience_id)
        .order_by(AudienceEdit.at, AudienceEdit.customer_id)
    ):
        decided[survivors.get(customer_id, customer_id)] = added
    added_ids = {customer for customer, added in decided.items() if added}
    return added_ids, set(decided) - added_ids


def _store_members(db: Session, audience_id: int, members: set[int]) -> None:
    """Make the stored members these, writing only what changed (a rebuild changes few)."""
    stored = set(
        db.scalars(select(AudienceMember.customer_id).where(AudienceMember.audience_id == audience_id))
    )
    for chunk in chunks(sorted(stored - members), values_per_statement(db)):
        db.execute(
            delete(AudienceMember).where(
                AudienceMember.audience_id == audience_id, AudienceMember.customer_id.in_(chunk)
            )
        )
    new = ({"audience_id": audience_id, "customer_id": c} for c in sorted(members - stored))
    connection = db.connection()
    for rows in batched(new, WRITE_CHUNK):
        bulk.insert_rows(connection, _MEMBERS, rows)


def _evaluate(
    db: Session, audience: Audience, values: _Values | None, version_id: int | None, read: _Reader
) -> None:
    """Evaluate the audience and store its members, or mark it stale with the reason."""
    now = utcnow()
    audience.checked_at, audience.checked_version_id = now, version_id
    try:
        matched = _matching(audience, values if values is not None else read(audience))
    except Invalid as exc:
        audience.stale = exc.message
        return
    added, removed = _hand_decisions(db, audience.id)
    members = (set(matched.tolist()) | added) - removed
    _store_members(db, audience.id, members)
    audience.size, audience.matched = len(members), int(matched.size)
    audience.evaluated_at, audience.evaluated_version_id, audience.stale = now, version_id, None


class _Reader:
    """Reads the values one audience needs (when they were not read for all at once)."""

    def __init__(self, db: Session, actor: Actor, settings: Settings) -> None:
        self.db, self.actor, self.settings = db, actor, settings

    def __call__(self, audience: Audience) -> _Values:
        catalogue = _catalogue(self.db, self.actor, self.settings)
        _check(audience, catalogue)
        names = [rule["variable"] for rule in audience.rules]
        return _read(self.db, self.actor, self.settings, names, catalogue)


# --- saving -----------------------------------------------------------------------------------------------


def _clean_name(name: str) -> str:
    cleaned = " ".join(name.split())
    if not cleaned:
        raise Invalid.of_field("name", "An audience needs a name.")
    if len(cleaned) > NAME_LENGTH:
        raise Invalid.of_field("name", f"An audience's name has at most {NAME_LENGTH} characters.")
    return cleaned


def _path(db: Session, version_id: int, node_id: int) -> tuple[Segment, list[dict[str, Any]]]:
    """The segment and its path's rules from the root down."""
    version = db.get(SegmentationVersion, version_id)
    if version is None:
        raise NotFound(f"There is no segmentation version {version_id}.")
    if version.status != VersionStatus.DONE.value:
        raise Invalid(f"Version {version_id} is not a finished build; save an audience from a finished one.")
    segment = db.get(Segment, (version_id, node_id))
    if segment is None:
        raise NotFound(f"Version {version_id} has no segment {node_id}.")
    path: list[dict[str, Any]] = []
    row: Segment | None = segment
    while row is not None and row.parent_node_id is not None:
        if row.rule is None:
            raise Invalid(
                f"Version {version_id} was built before segments kept their conditions as data: build "
                "again and save the audience from the new version."
            )
        path.append(dict(row.rule))
        row = db.get(Segment, (version_id, row.parent_node_id))
    return segment, path[::-1]


def _labelled(path: list[dict[str, Any]], words: Sequence[str], catalogue: Mapping[str, Variable]) -> None:
    """Note each rule's variable label as the segment's words read it (one line per variable, in the order
    of the path), so that a variable that comes to mean something else is noticed; refuse a variable that
    already does."""
    names = list(dict.fromkeys(rule["variable"] for rule in path))
    for name, line in zip(names, words, strict=False):
        variable = catalogue.get(name)
        if variable is None:
            raise Invalid(f"The variable {name} no longer exists: build again and save from the new version.")
        if not line.startswith(f"{variable.label}: "):
            raise Invalid(
                f"{name} now reads '{variable.label}', not as in the segment ('{line}'): build again and "
                "save from the new version."
            )
    for rule in path:
        rule["label"] = catalogue[rule["variable"]].label


def save(
    db: Session, settings: Settings, *, actor: Actor, name: str, version_id: int, node_id: int
) -> AudienceOut:
    require(actor, Permission.RUN_ANALYTICS)
    name = _clean_name(name)
    if db.scalar(select(Audience.id).where(Audience.name == name)) is not None:
        raise Conflict(
            f"There is an audience named '{name}' already: choose another name, or delete it first."
        )
    segment, path = _path(db, version_id, node_id)
    catalogue = _catalogue(db, actor, settings)
    _labelled(path, segment.conditions, catalogue)
    audience = Audience(
        name=name,
        rules=path,
        conditions=list(segment.conditions),
        version_id=version_id,
        node_id=node_id,
        created_by_id=actor.user_id,
    )
    db.add(audience)
    db.flush()
    _evaluate(db, audience, None, None, _Reader(db, actor, settings))
    db.flush()
    return _outs(db, [audience])[0]


# --- re-evaluating ----------------------------------------------------------------------------------------


def refresh(db: Session, settings: Settings, *, actor: Actor, audience_id: int) -> AudienceOut:
    """Evaluate one audience again now (a stale one says why it still is)."""
    require(actor, Permission.RUN_ANALYTICS)
    audience = _audience(db, audience_id)
    _evaluate(db, audience, None, None, _Reader(db, actor, settings))
    db.flush()
    return _outs(db, [audience])[0]


def refresh_all(
    sessions: sessionmaker[Session],
    settings: Settings,
    *,
    actor: Actor,
    version_id: int | None = None,
    progress: Progress = silent,
) -> list[AudienceOut]:
    """Evaluate every audience again, each in a transaction of its own, after the build ``version_id``
    (None: by hand). The variables of all of them are read once. An audience that cannot be evaluated is
    marked stale and the others go on: whatever goes wrong, this raises nothing for an audience."""
    require(actor, Permission.RUN_ANALYTICS)
    with session_scope(sessions) as db:
        found = [
            (audience.id, list(audience.rules))
            for audience in db.scalars(select(Audience).order_by(Audience.id))
        ]
    if not found:
        return []
    values = _shared_values(
        sessions, actor, settings, [rule["variable"] for _, path in found for rule in path]
    )
    outcomes: list[AudienceOut] = []
    for done, (audience_id, _path) in enumerate(found):
        progress(STAGE, done, len(found))
        outcome = _refresh_one(sessions, settings, actor, audience_id, values, version_id)
        if outcome is not None:
            outcomes.append(outcome)
    progress(STAGE, len(found), len(found))
    return outcomes


def _shared_values(
    sessions: sessionmaker[Session], actor: Actor, settings: Settings, names: Sequence[str]
) -> _Values | None:
    """The values every audience needs, read once; None when reading them fails (a value that no longer
    fits its variable's kind, say): each audience then reads its own and only those concerned go stale."""
    try:
        with session_scope(sessions) as db:
            return _read(db, actor, settings, names, _catalogue(db, actor, settings))
    except Exception:  # reported per audience by _refresh_one, which reads again
        return None


def _refresh_one(
    sessions: sessionmaker[Session],
    settings: Settings,
    actor: Actor,
    audience_id: int,
    values: _Values | None,
    version_id: int | None,
) -> AudienceOut | None:
    try:
        with session_scope(sessions) as db:
            audience = db.get(Audience, audience_id)
            if audience is None:  # deleted meanwhile
                return None
            _evaluate(db, audience, values, version_id, _Reader(db, actor, settings))
            db.flush()
            return _outs(db, [audience])[0]
    # A build reports an audience it could not evaluate, whatever the reason; it never fails for one.
    except Exception as exc:
        with session_scope(sessions) as db:
            audience = db.get(Audience, audience_id)
            if audience is None:
                return None
            audience.checked_at, audience.checked_version_id = utcnow(), version_id
            audience.stale = f"{type(exc).__name__}: {exc}"[:2000]
            db.flush()
            return _outs(db, [audience])[0]


# --- by hand ----------------------------------------------------------------------------------------------


def add(db: Session, *, actor: Actor, audience_id: int, customer_id: int) -> AudienceOut:
    """Add the customer (the record a merged one went into) by hand: a member whatever the conditions say,
    until removed by hand."""
    return _decide(db, actor, audience_id, customer_id, added=True)


def remove(db: Session, *, actor: Actor, audience_id: int, customer_id: int) -> AudienceOut:
    """Remove the customer by hand: never a member, whatever the conditions say, until added by hand."""
    return _decide(db, actor, audience_id, customer_id, added=False)


def _decide(db: Session, actor: Actor, audience_id: int, customer_id: int, *, added: bool) -> AudienceOut:
    require(actor, Permission.RUN_ANALYTICS)
    audience = _audience(db, audience_id)
    customer = customers.get(db, actor=actor, customer_id=customer_id).id
    edit = db.get(AudienceEdit, (audience.id, customer))
    if edit is None:
        edit = AudienceEdit(audience_id=audience.id, customer_id=customer)
        db.add(edit)
    edit.added, edit.by_id, edit.at = added, actor.user_id, utcnow()
    member = db.get(AudienceMember, (audience.id, customer))
    if added and member is None:
        db.add(AudienceMember(audience_id=audience.id, customer_id=customer))
    elif not added and member is not None:
        db.delete(member)
    db.flush()
    audience.size = _count_members(db, audience.id)
    db.flush()
    return _outs(db, [audience])[0]


def delete_audience(db: Session, *, actor: Actor, audience_id: int) -> AudienceOut:
    require(actor, Permission.RUN_ANALYTICS)
    audience = _audience(db, audience_id)
    gone = _outs(db, [audience])[0]
    db.execute(delete(AudienceMember).where(AudienceMember.audience_id == audience.id))
    db.execute(delete(AudienceEdit).where(AudienceEdit.audience_id == audience.id))
    db.delete(audience)
    db.flush()
    return gone


# --- reading ----------------------------------------------------------------------------------------------


def _audience(db: Session, audience_id: int) -> Audience:
    audience = db.get(Audience, audience_id)
    if audience is None:
        raise NotFound(f"There is no audience {audience_id}.")
    return audience


def _count_members(db: Session, audience_id: int) -> int:
    return int(db.scalar(select(func.count()).where(AudienceMember.audience_id == audience_id)) or 0)


def _outs(db: Session, found: Sequence[Audience]) -> list[AudienceOut]:
    ids = [a.id for a in found]
    counts: dict[tuple[int, bool], int] = {}
    if ids:
        for audience_id, added, count in db.execute(
            select(AudienceEdit.audience_id, AudienceEdit.added, func.count())
            .where(AudienceEdit.audience_id.in_(ids))
            .group_by(AudienceEdit.audience_id, AudienceEdit.added)
        ):
            counts[(audience_id, bool(added))] = int(count)
    people = accounts.people_by_id(db, (a.created_by_id for a in found))
    return [
        AudienceOut(
            id=a.id,
            name=a.name,
            conditions=list(a.conditions),
            rules=[dict(rule) for rule in a.rules],
            version_id=a.version_id,
            node_id=a.node_id,
            created_by_id=a.created_by_id,
            created_by=people[a.created_by_id].email if a.created_by_id in people else None,
            created_at=a.created_at,
            size=a.size,
            matched=a.matched,
            added=counts.get((a.id, True), 0),
            removed=counts.get((a.id, False), 0),
            evaluated_at=a.evaluated_at,
            evaluated_version_id=a.evaluated_version_id,
            checked_at=a.checked_at,
            checked_version_id=a.checked_version_id,
            stale=a.stale,
        )
        for a in found
    ]


def list_audiences(db: Session, *, actor: Actor) -> list[AudienceOut]:
    """Every audience, by name."""
    require(actor, Permission.VIEW_TEAM_DASHBOARDS)
    return _outs(db, list(db.scalars(select(Audience).order_by(Audience.name))))


def get(db: Session, *, actor: Actor, audience_id: int) -> AudienceOut:
    require(actor, Permission.VIEW_TEAM_DASHBOARDS)
    return _outs(db, [_audience(db, audience_id)])[0]


def named(db: Session, *, actor: Actor, name: str) -> AudienceOut:
    """The audience of this name (as the CLI names them); unknown names are refused with the close ones."""
    require(actor, Permission.VIEW_TEAM_DASHBOARDS)
    wanted = " ".join(name.split())
    audience = db.scalar(select(Audience).where(Audience.name == wanted))
    if audience is None:
        names = list(db.scalars(select(Audience.name)))
        close = difflib.get_close_matches(wanted, names, n=3, cutoff=0.6)
        hint = f" (did you mean {', '.join(repr(n) for n in close)}?)" if close else ""
        raise NotFound(f"There is no audience named '{wanted}'{hint}: 'segone audiences list' lists them.")
    return _outs(db, [audience])[0]


def members(
    db: Session, *, actor: Actor, audience_id: int, limit: int | None = None, offset: int = 0
) -> tuple[list[AudienceMemberOut], int]:
    """The members as last evaluated (with the hand changes since), by customer id: a page of them and how
    many there are in all."""
    require(actor, Permission.VIEW_TEAM_DASHBOARDS)
    audience = _audience(db, audience_id)
    query = (
        select(AudienceMember.customer_id, AudienceEdit.added)
        .outerjoin(
            AudienceEdit,
            and_(
                AudienceEdit.audience_id == AudienceMember.audience_id,
                AudienceEdit.customer_id == AudienceMember.customer_id,
            ),
        )
        .where(AudienceMember.audience_id == audience.id)
        .order_by(AudienceMember.customer_id)
        .offset(offset)
        .limit(limit)
    )
    page = [
        AudienceMemberOut(customer_id=customer_id, added_by_hand=bool(added))
        for customer_id, added in db.execute(query)
    ]
    return page, audience.size


def edits(db: Session, *, actor: Actor, audience_id: int) -> list[AudienceEditOut]:
    """The hand changes kept, the latest first."""
    require(actor, Permission.VIEW_TEAM_DASHBOARDS)
    audience = _audience(db, audience_id)
    found = list(
        db.scalars(
            select(AudienceEdit)
            .where(AudienceEdit.audience_id == audience.id)
            .order_by(AudienceEdit.at.desc(), AudienceEdit.customer_id)
        )
    )
    people = accounts.people_by_id(db, (e.by_id for e in found))
    return [
        AudienceEditOut(
            customer_id=e.customer_id,
            added=e.added,
            by_id=e.by_id,
            by=people[e.by_id].email if e.by_id in people else None,
            at=e.at,
        )
        for e in found
    ]
