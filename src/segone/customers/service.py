"""Use cases of the customers domain: create, read, update, search, history, merging the records.

A merge moves the facts and encounters of other domains too: ``segone.views.merge`` moves them and calls
``merge_records`` here for what is the customers' own (identities, attributes, the merge record).
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, or_, select
from sqlalchemy import update as update_rows
from sqlalchemy.orm import Session, joinedload

from segone.accounts import service as accounts
from segone.accounts.schemas import Actor, AuditAction, AuditEntryOut, AuditRecord, Permission
from segone.accounts.service import audit_trail, record_audit, require
from segone.clock import utcnow
from segone.customers import repository
from segone.customers.layout import CONSENT_COLUMNS, attribute_headers
from segone.customers.models import ConsentRecord, Customer, CustomerIdentity, CustomerMerge
from segone.customers.schemas import (
    ConsentChange,
    ConsentOut,
    ConsentPurpose,
    ConsentRecordOut,
    ConsentSource,
    CustomerCreate,
    CustomerKind,
    CustomerOut,
    CustomerRef,
    CustomerUpdate,
    PurposeConsent,
    parse_identity,
)
from segone.errors import Conflict, Invalid, NotFound, StaleVersion
from segone.exporting import Batch, Column, Export, Kind
from segone.storage.batching import among, batched, chunks, values_per_statement
from segone.storage.subject import Rows, delete_about, rows_about
from segone.storage.versions import bump, lock_for_edit


def to_out(customer: Customer) -> CustomerOut:
    return CustomerOut(
        id=customer.id,
        kind=CustomerKind(customer.kind),
        name=customer.name,
        attributes=dict(customer.attributes or {}),
        identities=[i.key for i in customer.identities],
        created_at=customer.created_at,
        updated_at=customer.updated_at,
        since=customer.since,
        merged_into_id=customer.merged_into_id,
        version=customer.version,
    )


_WITH_IDENTITIES = [joinedload(Customer.identities)]


def get(db: Session, *, actor: Actor, customer_id: int, follow_merges: bool = True) -> Customer:
    """The customer; a merged record resolves to the one it was merged into."""
    require(actor, Permission.READ_CUSTOMERS)
    # With the identities joined in: a second statement otherwise, on every page that names a customer.
    customer = db.get(Customer, customer_id, options=_WITH_IDENTITIES)
    if customer is None:
        raise NotFound(f"There is no customer {customer_id}.")
    seen = {customer.id}
    while follow_merges and customer.merged_into_id is not None:
        survivor = db.get(Customer, customer.merged_into_id)
        if survivor is None or survivor.id in seen:
            break
        seen.add(survivor.id)
        customer = survivor
    return customer


def get_by_identity(db: Session, *, actor: Actor, identity: str) -> Customer:
    require(actor, Permission.READ_CUSTOMERS)
    try:
        system, value = parse_identity(identity)
    except ValueError as exc:
        raise Invalid(str(exc)) from exc
    customer = repository.by_identity(db, system=system, value=value)
    if customer is None:
        raise NotFound(f"No customer has the identity '{system}:{value}'.")
    return customer


def resolve(db: Session, *, actor: Actor, reference: str) -> Customer:
    """A customer named by its id (``42``) or by any of its identities (``email:ann@x.com``)."""
    reference = reference.strip()
    if reference.isascii() and reference.isdigit():
        return get(db, actor=actor, customer_id=int(reference))
    return get_by_identity(db, actor=actor, identity=reference)


def _claim_identities(db: Session, customer: Customer, keys: list[str]) -> None:
    pairs = [parse_identity(k) for k in keys]
    owners = repository.identity_owners(db, keys=pairs)
    taken = {f"{s}:{v}": owner for (s, v), owner in owners.items() if owner != customer.id}
    if taken:
        raise Conflict(
            "These identities belong to another customer already: "
            + ", ".join(f"{k} (customer {o})" for k, o in sorted(taken.items()))
            + ". Merge the two records if they are the same customer.",
            details={"taken": taken},
        )
    held = {(i.system, i.value) for i in customer.identities}
    for system, value in pairs:
        if (system, value) not in held:
            customer.identities.append(CustomerIdentity(system=system, value=value))


def create(db: Session, *, actor: Actor, data: CustomerCreate) -> Customer:
    require(actor, Permission.WRITE_CUSTOMERS)
    now = utcnow()
    customer = Customer(
        kind=data.kind.value, name=data.name, attributes=dict(data.attributes), created_at=now, since=now
    )
    db.add(customer)
    _claim_identities(db, customer, data.identities)
    db.flush()
    record_audit(
        db,
        actor=actor,
        action=AuditAction.CUSTOMER_CREATED,
        customer_id=customer.id,
        summary=f"Customer {customer.name} created",
        details={"identities": data.identities},
    )
    return customer


def update(db: Session, *, actor: Actor, customer_id: int, data: CustomerUpdate) -> Customer:
    require(actor, Permission.WRITE_CUSTOMERS)
    customer = get(db, actor=actor, customer_id=customer_id, follow_merges=False)
    current = lock_for_edit(db, customer)
    if customer.merged_into_id is not None:
        raise Conflict(
            f"Customer {customer.id} was merged into customer {customer.merged_into_id}; "
            "change that one instead."
        )
    if data.version is not None and data.version != current:
        raise StaleVersion(
            f"{customer.name} was changed by someone else since you opened it (you had version "
            f"{data.version}, it is at version {current} now): nothing was changed. Make your change "
            "again on the current record.",
            details={"version": current, "current": to_out(customer).model_dump(mode="json")},
        )
    changes: dict[str, Any] = {}
    if data.name is not None and data.name.strip() != customer.name:
        changes["name"] = {"from": customer.name, "to": data.name.strip()}
        customer.name = data.name.strip()
    if data.kind is not None and data.kind.value != customer.kind:
        changes["kind"] = {"from": customer.kind, "to": data.kind.value}
        customer.kind = data.kind.value
    if data.attributes:
        attributes = dict(customer.attributes or {})
        for key, value in data.attributes.items():
            if value is None:
                if key in attributes:
                    changes[f"attributes.{key}"] = {"from": attributes.pop(key), "to": None}
            elif key not in attributes or (type(attributes[key]), attributes[key]) != (type(value), value):
                changes[f"attributes.{key}"] = {"from": attributes.get(key), "to": value}
                attributes[key] = value
        customer.attributes = attributes
    if data.remove_identities:
        remove = {parse_identity(k) for k in data.remove_identities}
        for identity in list(customer.identities):
            if (identity.system, identity.value) in remove:
                customer.identities.remove(identity)
                db.delete(identity)
        changes["identities_removed"] = data.remove_identities
        db.flush()
    if data.add_identities:
        _claim_identities(db, customer, data.add_identities)
        changes["identities_added"] = data.add_identities
    if changes:
        # Set even when only identities changed, so that the row, and with it the version, is written.
        customer.updated_at = utcnow()
        bump(customer)
        db.flush()
        record_audit(
            db,
            actor=actor,
            action=AuditAction.CUSTOMER_UPDATED,
            customer_id=customer.id,
            summary=f"Customer {customer.name} updated: " + ", ".join(changes),
            details=changes,
        )
    return customer


def search(
    db: Session,
    *,
    actor: Actor,
    query: str | None = None,
    kind: CustomerKind | None = None,
    offset: int = 0,
    limit: int = 50,
) -> tuple[list[Customer], int]:
    require(actor, Permission.READ_CUSTOMERS)
    if limit < 1 or limit > 500:
        raise Invalid("limit must be between 1 and 500.")
    if offset < 0:
        raise Invalid("offset may not be negative.")
    stmt = repository.search_statement(query, kind.value if kind else None)
    total = repository.count(db, stmt)
    rows = db.scalars(stmt.order_by(Customer.name, Customer.id).offset(offset).limit(limit))
    return list(rows), total


def recently_active(db: Session, *, actor: Actor, limit: int = 8) -> list[Customer]:
    """The customers whose records changed most recently (facts, encounters, edits), newest first."""
    require(actor, Permission.READ_CUSTOMERS)
    found: list[Customer] = []
    for ids in batched(accounts.customers_by_latest_change(db), limit * 4):
        by_id = {c.id: c for c in db.scalars(select(Customer).where(Customer.id.in_(ids)))}
        found += [by_id[i] for i in ids if i in by_id and by_id[i].merged_into_id is None]
        if len(found) >= limit:
            break
    return found[:limit]


def merged_ids(db: Session, *, customer_id: int) -> list[int]:
    """This customer's id and those of every record merged into it, directly or not."""
    ids = [customer_id]
    frontier = [customer_id]
    while frontier:
        children = list(db.scalars(select(Customer.id).where(Customer.merged_into_id.in_(frontier))))
        ids.extend(children)
        frontier = children
    return ids


def history(db: Session, *, actor: Actor, customer_id: int, limit: int = 200) -> list[AuditEntryOut]:
    """What happened to this customer's record, newest first, including records merged into it."""
    customer = get(db, actor=actor, customer_id=customer_id)
    entries = audit_trail(db, customer_ids=merged_ids(db, customer_id=customer.id), limit=limit)
    people = accounts.people_by_id(db, [entry.actor_id for entry in entries])
    return [
        AuditEntryOut.model_validate(entry).model_copy(
            update={"actor_name": people[entry.actor_id].name if entry.actor_id in people else None}
        )
        for entry in entries
    ]


# The per-customer reads of every customer sheet, built once: building costs as much as running them.
_MERGES_INTO = (
    select(CustomerMerge)
    .where(CustomerMerge.survivor_id == bindparam("customer_id"))
    .order_by(CustomerMerge.merged_at)
)
_NAMES = select(Customer.id, Customer.name).where(Customer.id.in_(bindparam("ids", expanding=True)))
_CONSENT_RECORDS = (
    select(ConsentRecord)
    .where(ConsentRecord.customer_id == bindparam("customer_id"))
    .order_by(ConsentRecord.id.desc())
)


def merges_into(db: Session, *, customer_id: int) -> list[CustomerMerge]:
    return list(db.scalars(_MERGES_INTO, {"customer_id": customer_id}))


def count_active(db: Session) -> int:
    return int(db.scalar(select(func.count(Customer.id)).where(Customer.merged_into_id.is_(None))) or 0)


def kinds_and_attributes(db: Session) -> list[tuple[int, str, dict[str, Any]]]:
    """(id, kind, attributes) of every customer not merged into another, by id: what knowledge measures."""
    rows = db.execute(
        select(Customer.id, Customer.kind, Customer.attributes)
        .where(Customer.merged_into_id.is_(None))
        .order_by(Customer.id)
    )
    return [(customer_id, kind, attributes or {}) for customer_id, kind, attributes in rows]


def names_by_id(db: Session, customer_ids: Iterable[int]) -> dict[int, str]:
    """The names of these customers (as stored: a merged record keeps its own)."""
    wanted = sorted(set(customer_ids))
    if not wanted:
        return {}
    return dict(db.execute(_NAMES, {"ids": wanted}).all())


def kinds_by_id(db: Session, customer_ids: Iterable[int]) -> dict[int, str]:
    """The kind (person or business) of each of these customers."""
    wanted = sorted(set(customer_ids))
    if not wanted:
        return {}
    return dict(db.execute(select(Customer.id, Customer.kind).where(Customer.id.in_(wanted))).all())


def count_at(db: Session, moment: datetime) -> int:
    """How many customers there were at this moment: active by then (their first purchase, encounter or
    being added, ``since``) and not yet merged into another."""
    return int(
        db.scalar(
            select(func.count()).where(
                Customer.since <= moment,
                or_(Customer.merged_at.is_(None), Customer.merged_at > moment),
            )
        )
        or 0
    )


def note_first_activity(db: Session, firsts: Mapping[int, datetime]) -> int:
    """Lower each customer's ``since`` to the time of an activity of theirs (a purchase or other event,
    an encounter) where that is earlier; returns how many customers changed.

    Activity of a merged record counts for the record it was finally merged into (the merged one stays
    as it was when merged). ``updated_at`` stays: an import of old purchases does not make a customer's
    record "recently changed".
    """
    if not firsts:
        return 0
    # The merged records, not every customer named: few are merged, and an import names thousands.
    final = final_survivors(db)
    earliest: dict[int, datetime] = {}
    for customer_id, at in firsts.items():
        target = final.get(customer_id, customer_id)
        if target not in earliest or at < earliest[target]:
            earliest[target] = at
    return repository.lower_since(db, earliest)


def final_survivors(db: Session) -> dict[int, int]:
    """Each merged record's final survivor (merges can chain: A into B, later B into C)."""
    rows = db.execute(
        select(Customer.id, Customer.merged_into_id).where(Customer.merged_into_id.is_not(None))
    )
    into = {merged: survivor for merged, survivor in rows if survivor is not None}
    final: dict[int, int] = {}
    for merged in into:
        target = into[merged]
        seen = {merged}
        while target in into and target not in seen:
            seen.add(target)
            target = into[target]
        final[merged] = target
    return final


def current_ids(db: Session) -> list[int]:
    """The ids of every customer not merged into another."""
    return list(db.scalars(select(Customer.id).where(Customer.merged_into_id.is_(None))))


def active_ids(db: Session, customer_ids: list[int]) -> set[int]:
    """Those of these ids that are not merged into another record."""
    if not customer_ids:
        return set()
    return set(
        db.scalars(
            select(Customer.id).where(Customer.id.in_(customer_ids), Customer.merged_into_id.is_(None))
        )
    )


def check_merge(db: Session, *, actor: Actor, survivor_id: int, merged_id: int) -> tuple[Customer, Customer]:
    """The two records of a merge, once it is sure they may be merged (neither merged already)."""
    require(actor, Permission.MERGE_CUSTOMERS)
    if survivor_id == merged_id:
        raise Invalid("A customer cannot be merged into itself.")
    survivor = get(db, actor=actor, customer_id=survivor_id, follow_merges=False)
    merged = get(db, actor=actor, customer_id=merged_id, follow_merges=False)
    for record in (survivor, merged):
        if record.merged_into_id is not None:
            raise Conflict(f"Customer {record.id} was merged into customer {record.merged_into_id} already.")
    return survivor, merged


def merge_records(
    db: Session, *, actor: Actor, survivor_id: int, merged_id: int, moved: Mapping[str, int]
) -> tuple[Customer, dict[str, int]]:
    """Fold one customer record into another: identities and statements of consent move (the latest
    statement of each purpose, from either record, is then the customer's consent), attributes the
    survivor lacks are copied.

    Where both hold a different value the survivor's stays and the other is kept in the merge record's
    snapshot, with the whole merged record as it was. The merged record stays, pointing at the survivor,
    so old ids, links and later events that name its identities still resolve. ``moved`` counts what other
    domains moved for this merge; it is recorded in the history with the identities moved here.
    """
    survivor, merged = check_merge(db, actor=actor, survivor_id=survivor_id, merged_id=merged_id)
    snapshot = to_out(merged).model_dump(mode="json")
    attributes = dict(survivor.attributes or {})
    conflicts = {}
    for key, value in (merged.attributes or {}).items():
        if key not in attributes:
            attributes[key] = value
        elif attributes[key] != value:
            conflicts[key] = value
    survivor.attributes = attributes
    survivor.since = min(survivor.since, merged.since)
    snapshot["conflicting_attributes"] = conflicts

    identities = db.execute(
        update_rows(CustomerIdentity)
        .where(CustomerIdentity.customer_id == merged.id)
        .values(customer_id=survivor.id)
        .execution_options(synchronize_session="fetch")
    ).rowcount  # type: ignore[attr-defined]
    # Their statements of consent too: the latest of either record, purpose by purpose, is the customer's
    # consent (a refusal given on the duplicate must not be lost to the survivor's default).
    consents = db.execute(
        update_rows(ConsentRecord)
        .where(ConsentRecord.customer_id == merged.id)
        .values(customer_id=survivor.id)
        .execution_options(synchronize_session="fetch")
    ).rowcount  # type: ignore[attr-defined]
    counts = {"identities": int(identities or 0), "consent_records": int(consents or 0), **moved}
    merged.merged_into_id = survivor.id
    merged.merged_at = utcnow()
    # An edit opened on either record before the merge would undo part of it.
    bump(survivor)
    bump(merged)
    db.add(
        CustomerMerge(
            survivor_id=survivor.id, merged_id=merged.id, merged_by_id=actor.user_id, snapshot=snapshot
        )
    )
    # Records merged into the merged one earlier now point straight at the survivor.
    db.execute(
        update_rows(Customer)
        .where(Customer.merged_into_id == merged.id, Customer.id != merged.id)
        .values(merged_into_id=survivor.id)
        .execution_options(synchronize_session="fetch")
    )
    db.flush()
    db.expire(survivor, ["identities"])
    db.expire(merged, ["identities"])
    summary = f"Merged customer {merged.id} ({merged.name}) into {survivor.id} ({survivor.name})"
    details = {"survivor_id": survivor.id, "merged_id": merged.id, "moved": counts}
    merges = ((AuditAction.CUSTOMER_MERGED, survivor.id), (AuditAction.CUSTOMER_MERGED_AWAY, merged.id))
    for action, customer_id in merges:
        record_audit(
            db, actor=actor, action=action, customer_id=customer_id, summary=summary, details=details
        )
    return survivor, counts


# --- identity resolution: the one place imports of every domain find (or create) customers by identity --

SCAN_FROM = 1000
"""From this many wanted identities of one system on, reading all the system's identities may be cheaper
than looking each up ..."""
SCAN_RATIO = 10
"""... which it is when the system has at most this many identities per identity wanted."""
_CREATE_BATCH = 10_000


def identity_owners(db: Session, *, keys: Collection[tuple[str, str]]) -> dict[tuple[str, str], int]:
    """Which customer holds each of these identities (``(system, value)`` as ``parse_identity`` gives
    them), for those that are taken; one query per system and few thousand keys."""
    return repository.identity_owners(db, keys=list(keys))


def identity_holders(db: Session, *, system: str, values: Collection[str]) -> tuple[list[str], list[int]]:
    """The values of one system that customers hold, each with its customer, as two lists (for imports
    that join them in Arrow). Holds every wanted value that is taken, and may hold others: when most of
    the system is wanted, the whole system is read in one query instead of each value looked up."""
    if len(values) >= SCAN_FROM and repository.identity_count(db, system=system) <= SCAN_RATIO * len(values):
        return repository.identities_of(db, system=system)
    owners = repository.identity_owners(db, keys=[(system, value) for value in values])
    return [value for _system, value in owners], list(owners.values())


def create_for_identities(
    db: Session, *, actor: Actor, keys: Sequence[tuple[str, str]], source: str
) -> dict[tuple[str, str], int]:
    """A new customer for each identity nobody holds ("Customer crm:42", a person), for imports of
    records about customers not met yet; one audit entry for them all. Returns their ids by identity."""
    require(actor, Permission.IMPORT_DATA)
    now = utcnow()
    owners: dict[tuple[str, str], int] = {}
    for chunk in chunks(keys, _CREATE_BATCH):
        new: list[repository.NewCustomer] = [
            ("person", f"Customer {system}:{value}", {}, [(system, value)]) for system, value in chunk
        ]
        owners.update(zip(chunk, repository.insert_customers(db, new, at=now), strict=True))
    record_audit(
        db,
        actor=actor,
        action=AuditAction.CUSTOMERS_CREATED_FROM_EVENTS,
        summary=f"{len(keys)} customers created for the {source} of unknown identities",
        details={"count": len(keys), "identities": [f"{s}:{v}" for s, v in keys[:20]], "source": source},
    )
    return owners


def survivors(db: Session, *, customer_ids: Collection[int]) -> dict[int, CustomerRef]:
    """The customer each id stands for (a merged record leads to the one it was finally merged into), for
    the ids that exist."""
    loaded = repository.refs_and_merges(db, customer_ids=sorted(set(customer_ids)))
    found: dict[int, CustomerRef] = {}
    for customer_id in list(loaded):
        current, seen = customer_id, {customer_id}
        while (merged_into := loaded[current][1]) is not None and merged_into not in seen:
            if merged_into not in loaded:
                loaded.update(repository.refs_and_merges(db, customer_ids=[merged_into]))
                if merged_into not in loaded:
                    break
            seen.add(merged_into)
            current = merged_into
        found[customer_id] = loaded[current][0]
    return found


# --- exports --------------------------------------------------------------------------------------------

EXPORT_BATCH = 10_000
"""Customers per page of an export: one query for them and one for their identities."""


def attribute_pages(
    db: Session, *, batch_size: int = EXPORT_BATCH
) -> Iterator[list[tuple[int, dict[str, Any]]]]:
    """(id, attributes) of every customer not merged into another, by id, a page of at most ``batch_size``
    records at a time (keyset pages on the primary key, so a million customers never sit in memory as
    rows): what segmentation reads its attribute variables from. A page may be empty where every record
    of it was merged."""
    after = 0
    while True:
        page, last = repository.export_page(db, after=after, limit=batch_size)
        if last == after:
            return
        after = last
        yield [(customer_id, attributes) for customer_id, _kind, _name, attributes in page]


def attributes_of(db: Session, customer_ids: Sequence[int]) -> list[tuple[int, dict[str, Any]]]:
    """(id, attributes) of those of these customers that are not merged into another, by id: the attribute
    variables of a few customers (an assignment), without reading everyone."""
    found: list[tuple[int, dict[str, Any]]] = []
    for chunk in chunks(sorted(set(customer_ids)), values_per_statement(db)):
        rows = db.execute(
            select(Customer.id, Customer.attributes).where(
                among(db, Customer.id, chunk), Customer.merged_into_id.is_(None)
            )
        )
        found.extend((customer_id, attributes or {}) for customer_id, attributes in rows)
    return sorted(found, key=lambda row: row[0])


def attributes_of_one(db: Session, customer_id: int) -> dict[str, Any] | None:
    """``attributes_of`` for one customer: the session's copy when the request has read the customer
    already (a sheet's standing asks right after), else one read; None when merged or unknown."""
    customer = db.get(Customer, customer_id)
    if customer is None or customer.merged_into_id is not None:
        return None
    return customer.attributes or {}


def export_customers(
    db: Session,
    *,
    actor: Actor,
    batch_size: int = EXPORT_BATCH,
    only: Collection[int] | None = None,
    name: str = "customers",
) -> Export:
    """Every customer not merged into another, by id, in the layout the customer import reads back:
    ``id``, ``kind``, ``name``, ``identities`` (``system:value;system:value``, in the order they were added),
    ``consent:<purpose>`` for each purpose (``yes`` or ``no`` as recorded; empty where nothing is, so that
    the default applies, also after an import of the file) and a column per attribute name held at the
    start (``attribute:<name>`` where the plain name would not read back as that attribute:
    ``customers.layout``).

    With ``only``, just those customers (a segment's members, say), under ``name``.

    Entry points go through ``segone.views.exports.start``, which records the export in the audit trail.
    """
    require(actor, Permission.EXPORT_DATA)
    wanted = None if only is None else frozenset(only)
    headers = attribute_headers(repository.attribute_keys(db))
    columns = (
        Column("id", Kind.INTEGER),
        Column("kind"),
        Column("name"),
        Column("identities"),
        *(Column(header) for header in CONSENT_COLUMNS.values()),
        *(Column(header) for header in headers.values()),
    )

    def read(session: Session) -> Iterator[Batch]:
        after = 0
        while True:
            page, last = repository.export_page(session, after=after, limit=batch_size)
            if last == after:
                return
            after = last
            if not page:  # every record of the page was merged into another
                continue
            identities: dict[int, list[str]] = {}
            for customer_id, system, value in repository.identities_between(
                session, first=page[0][0], last=page[-1][0]
            ):
                identities.setdefault(customer_id, []).append(f"{system}:{value}")
            consents = repository.latest_consents_between(session, first=page[0][0], last=page[-1][0])
            rows = []
            for customer_id, kind, customer_name, attributes in page:
                if wanted is not None and customer_id not in wanted:
                    continue
                row: dict[str, Any] = {
                    "id": customer_id,
                    "kind": kind,
                    "name": customer_name,
                    "identities": ";".join(identities.get(customer_id, ())),
                    **_consent_cells(consents, customer_id),
                }
                for key, value in attributes.items():
                    if key in headers:  # an attribute first set after the export started has no column
                        row[headers[key]] = value
                rows.append(row)
            if rows:
                yield rows

    total = count_active(db) if wanted is None else len(wanted)
    return Export(name, columns, total, read)


def _consent_cells(consents: Mapping[tuple[int, str], bool], customer_id: int) -> dict[str, str]:
    """The customer's consent cells of an export: yes or no as recorded; none (an empty cell) where nothing
    is, so that the default still applies after the file is imported."""
    cells = {}
    for purpose, header in CONSENT_COLUMNS.items():
        granted = consents.get((customer_id, purpose.value))
        if granted is not None:
            cells[header] = "yes" if granted else "no"
    return cells


def names_and_first_identities(
    db: Session, *, customer_ids: Collection[int]
) -> dict[int, tuple[str, str | None]]:
    """Each customer's name and first identity (``crm:C001``; None when it has none), for exports of
    other domains that name the customer of each row."""
    return repository.names_and_first_identities(db, customer_ids=sorted(set(customer_ids)))


def data_about(db: Session, *, customer_ids: Sequence[int]) -> dict[str, Rows]:
    """The records (this customer's and those merged into it), their identities, merges and consent
    records, as stored: a data-subject export's part of this domain."""
    return {
        "customers": rows_about(db, Customer, "id", customer_ids),
        "customer_identities": rows_about(db, CustomerIdentity, "customer_id", customer_ids),
        "customer_merges": rows_about(db, CustomerMerge, "survivor_id", customer_ids),
        "customer_consents": rows_about(db, ConsentRecord, "customer_id", customer_ids),
    }


def identity_keys(db: Session, *, customer_ids: Sequence[int]) -> list[str]:
    """Every identity of these records as ``system:value``: how events and imports name them."""
    keys: list[str] = []
    for chunk in chunks(sorted(set(customer_ids)), values_per_statement(db)):
        found = db.scalars(select(CustomerIdentity).where(CustomerIdentity.customer_id.in_(chunk)))
        keys.extend(identity.key for identity in found)
    return keys


def erase_about(db: Session, *, customer_ids: Sequence[int]) -> dict[str, int]:
    """Delete the records themselves (no tombstone: an erased id resolves to nothing, and the erasure
    record in ``accounts`` says it was erased), their identities, merges and consent records; last, as
    every other table points at them."""
    for chunk in chunks(sorted(set(customer_ids)), values_per_statement(db)):
        db.execute(update_rows(Customer).where(Customer.id.in_(chunk)).values(merged_into_id=None))
    counts = {
        "customer_identities": delete_about(db, CustomerIdentity, "customer_id", customer_ids),
        "customer_consents": delete_about(db, ConsentRecord, "customer_id", customer_ids),
        "customer_merges": delete_about(db, CustomerMerge, "survivor_id", customer_ids)
        + delete_about(db, CustomerMerge, "merged_id", customer_ids),
    }
    # The session's copies of the deleted records must not be found by ``get`` later in this transaction.
    for held in [o for o in db.identity_map.values() if isinstance(o, Customer | CustomerIdentity)]:
        if getattr(held, "customer_id", getattr(held, "id", None)) in customer_ids:
            db.expunge(held)
    counts["customers"] = delete_about(db, Customer, "id", customer_ids)
    return counts


# --- consent ------------------------------------------------------------------------------------------------
# A history per customer and purpose: the latest record wins; with none, ``default_granted`` (the setting
# SEGONE_CONSENT_DEFAULT, passed in by the caller) applies.


def _latest_consents(db: Session, customer_ids: Collection[int] | None) -> dict[tuple[int, str], bool]:
    """``{(customer_id, purpose): granted}`` of the latest record of each, for these customers or all."""
    if customer_ids is not None:
        return repository.latest_consents(db, customer_ids=customer_ids)
    latest = select(func.max(ConsentRecord.id)).group_by(ConsentRecord.customer_id, ConsentRecord.purpose)
    query = select(ConsentRecord.customer_id, ConsentRecord.purpose, ConsentRecord.granted).where(
        ConsentRecord.id.in_(latest)
    )
    return {(customer_id, purpose): granted for customer_id, purpose, granted in db.execute(query)}


def consent_of(
    db: Session, *, actor: Actor, customer_id: int, default_granted: bool, history_limit: int = 50
) -> ConsentOut:
    """The customer's consent to each purpose now, and the records behind it, newest first."""
    customer = get(db, actor=actor, customer_id=customer_id)
    records = list(db.scalars(_CONSENT_RECORDS, {"customer_id": customer.id}))
    latest: dict[str, ConsentRecord] = {}
    for earlier in records:
        latest.setdefault(earlier.purpose, earlier)
    purposes = []
    for purpose in ConsentPurpose:
        record = latest.get(purpose.value)
        purposes.append(
            PurposeConsent(
                purpose=purpose,
                granted=default_granted if record is None else record.granted,
                recorded=record is not None,
                recorded_by=None if record is None else record.recorded_by,
                recorded_at=None if record is None else record.recorded_at,
                source=None if record is None else ConsentSource(record.source),
            )
        )
    return ConsentOut(
        customer_id=customer.id,
        default="granted" if default_granted else "refused",
        purposes=purposes,
        history=[ConsentRecordOut.model_validate(r) for r in records[:history_limit]],
    )


def record_consent(
    db: Session,
    *,
    actor: Actor,
    customer_id: int,
    change: ConsentChange,
    source: ConsentSource,
    default_granted: bool,
) -> ConsentOut:
    """Add a record per purpose named in ``change`` (earlier records stay: the history says who recorded
    what, when and from where), with an entry in the customer's history; needs write_customers: whoever
    the customer tells must be able to write down a refusal."""
    require(actor, Permission.WRITE_CUSTOMERS)
    customer = get(db, actor=actor, customer_id=customer_id)
    changes = change.changes()
    if not changes:
        raise Invalid("Name at least one purpose (contact, profiling, personalisation) to grant or refuse.")
    now = utcnow()
    for purpose, granted in changes.items():
        db.add(
            ConsentRecord(
                customer_id=customer.id,
                purpose=purpose.value,
                granted=granted,
                source=source.value,
                recorded_by_id=actor.user_id,
                recorded_by=actor.email,
                recorded_at=now,
                note=change.note,
            )
        )
    db.flush()
    entry = consent_audit(actor, customer_id=customer.id, changes=changes, source=source)
    record_audit(
        db,
        actor=actor,
        action=entry.action,
        customer_id=customer.id,
        summary=entry.summary,
        details=copy.deepcopy(entry.details),  # the entry's own: the statement's details are shared
    )
    return consent_of(db, actor=actor, customer_id=customer.id, default_granted=default_granted)


def consent_audit(
    actor: Actor,
    *,
    customer_id: int,
    changes: Mapping[ConsentPurpose, bool],
    source: ConsentSource,
    at: datetime | None = None,
) -> AuditRecord:
    """The entry of the customer's history that says which consents were recorded, from where: one per
    customer and occasion, whether a person recorded them or an import did."""
    summary, details = _consent_statement(tuple(changes.items()), source)
    return AuditRecord.by(
        actor, AuditAction.CONSENT_RECORDED, summary, customer_id=customer_id, details=details, at=at
    )


@functools.lru_cache(maxsize=256)
def _consent_statement(
    changes: tuple[tuple[ConsentPurpose, bool], ...], source: ConsentSource
) -> tuple[str, dict[str, Any]]:
    """The summary and details of ``consent_audit``: the same few for the many customers of an import,
    whose entries then share them (written as JSON once: ``storage.bulk``). Read only."""
    said = ", ".join(f"{purpose.value} {'granted' if granted else 'refused'}" for purpose, granted in changes)
    details = {"consent": {purpose.value: granted for purpose, granted in changes}, "source": source.value}
    return f"Consent recorded: {said}", details


def has_consent(db: Session, *, customer_id: int, purpose: ConsentPurpose, default_granted: bool) -> bool:
    """Whether the customer consents to ``purpose`` now (their latest record, else the default)."""
    granted = db.scalar(
        select(ConsentRecord.granted)
        .where(ConsentRecord.customer_id == customer_id, ConsentRecord.purpose == purpose.value)
        .order_by(ConsentRecord.id.desc())
        .limit(1)
    )
    return default_granted if granted is None else bool(granted)


def without_consent(
    db: Session,
    *,
    purposes: Collection[ConsentPurpose],
    default_granted: bool,
    customer_ids: Collection[int] | None = None,
) -> set[int]:
    """The customers (among ``customer_ids``, else every current one) who lack consent to any of
    ``purposes``: what builds, refreshes and offers leave out. With consent granted by default only the
    customers with records are read."""
    latest = _latest_consents(db, customer_ids)
    wanted = {purpose.value for purpose in purposes}
    if default_granted:
        return {
            customer for (customer, purpose), granted in latest.items() if purpose in wanted and not granted
        }
    among = set(current_ids(db) if customer_ids is None else customer_ids)
    return {
        customer
        for customer in among
        if not all(latest.get((customer, purpose), False) for purpose in wanted)
    }
