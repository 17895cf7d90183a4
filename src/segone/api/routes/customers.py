"""Customers: create, read, update, search and page, merge, history."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response, status

from segone.accounts.schemas import AuditEntryOut
from segone.api.deps import (
    MAX_ID,
    Categories,
    CurrentActor,
    CustomerId,
    Db,
    Read,
    RuntimeDep,
)
from segone.api.errors import responses
from segone.api.versions import STALE, IfMatch, expected_version, tag
from segone.customers import service as customers
from segone.customers.schemas import (
    IDENTITY_PATTERN,
    ConsentChange,
    ConsentOut,
    ConsentSource,
    CustomerCreate,
    CustomerKind,
    CustomerOut,
    CustomerUpdate,
    MergeOut,
    MergeRequest,
)
from segone.views import customer_list, erasure
from segone.views import merge as merging
from segone.views.briefing import briefing
from segone.views.customer_sheet import customer_sheet
from segone.views.schemas import Briefing, CustomerPage, CustomerSheet, ErasureOut, SubjectExport
from segone.views.subject_export import subject_export

router = APIRouter(prefix="/customers", tags=["customers"])


@router.get(
    "",
    response_model=CustomerPage,
    summary="Find customers",
    responses=responses(401, 403, 422),
)
def list_customers(
    db: Db,
    actor: CurrentActor,
    q: str | None = Query(default=None, max_length=200, description="Name, id or any identity."),
    kind: CustomerKind | None = Query(default=None, description="Only people, or only businesses."),
    offset: int = Query(default=0, ge=0, le=MAX_ID, description="How many matches to skip."),
    limit: int = Query(default=50, ge=1, le=500, description="How many matches to return."),
) -> CustomerPage:
    """A page of customers whose name, id or identity contains `q`, ordered by name, with how many
    differentiators we know about each and how many of those the customer knows we know. Merged
    records are left out (their survivor is listed)."""
    return customer_list.page(db, actor=actor, query=q, kind=kind, offset=offset, limit=limit)


@router.post(
    "",
    response_model=CustomerOut,
    status_code=status.HTTP_201_CREATED,
    summary="Add a customer",
    responses=responses(401, 403, 409, 422),
)
def create_customer(db: Db, actor: CurrentActor, data: CustomerCreate) -> CustomerOut:
    """A new customer record, a person or a business. Identities (`system:id`, e.g.
    `email:ann@example.com`, `crm:00042`) must not belong to another customer already (409)."""
    return customers.to_out(customers.create(db, actor=actor, data=data))


@router.get(
    "/by-identity/{identity}",
    response_model=CustomerOut,
    summary="Find a customer by identity",
    responses=responses(401, 403, 404, 422),
)
def get_customer_by_identity(
    db: Db,
    actor: CurrentActor,
    response: Response,
    identity: Annotated[
        str,
        Path(
            max_length=400,
            json_schema_extra={"pattern": IDENTITY_PATTERN},
            description="`system:id`, e.g. `email:ann@example.com`.",
        ),
    ],
) -> CustomerOut:
    """The customer who holds this identity in some system (e-mail addresses are case-insensitive). The
    `ETag` header is the record's version."""
    return tag(response, customers.to_out(customers.get_by_identity(db, actor=actor, identity=identity)))


@router.get(
    "/{customer_id}",
    response_model=CustomerOut,
    summary="Get a customer",
    responses=responses(401, 403, 404, 422),
)
def get_customer(db: Db, actor: CurrentActor, customer_id: CustomerId, response: Response) -> CustomerOut:
    """The customer's record. The id of a record merged into another gives the surviving record. The
    `ETag` header is the record's version: send it back as `If-Match` with a change."""
    return tag(response, customers.to_out(customers.get(db, actor=actor, customer_id=customer_id)))


@router.get(
    "/{customer_id}/sheet",
    response_model=CustomerSheet,
    summary="A customer's easel sheet, whole",
    responses=responses(401, 403, 404, 422),
)
async def get_customer_sheet(
    read: Read, customer_id: CustomerId, categories: Categories, runtime: RuntimeDep
) -> CustomerSheet:
    """Everything the customer page shows, in one call: the customer and their identities; the current
    differentiators by category (each with who learned it, whether the customer knows we know it, its
    rarity and whether it is stale); the categories not known yet; facts no longer true; the recognition
    ratio; how well we tell the customer apart (distinguishability, look-alikes, the next question, rare
    facts to show them we know); the five most recent encounters; the behaviour profile and scores; and
    the records merged into this one. The id of a merged record gives the surviving record's sheet."""
    settings = runtime.settings
    return await read(
        lambda db, actor: customer_sheet(
            db,
            actor=actor,
            customer_id=customer_id,
            categories=categories,
            freshness_months=settings.freshness_months,
            currency=settings.currency,
            consent_default=settings.consent_granted_by_default,
        )
    )


@router.get(
    "/{customer_id}/briefing",
    response_model=Briefing,
    summary="What to know before meeting a customer",
    responses=responses(401, 403, 404, 422),
)
async def get_customer_briefing(
    read: Read, customer_id: CustomerId, categories: Categories, runtime: RuntimeDep
) -> Briefing:
    """The briefing before an encounter, read from stored results (the sheet's): their rarest facts first,
    how they differ from most customers, rare facts they do not know we know (bring them up) and stale
    facts to re-confirm; what changed in their behaviour since the last encounter (cadence slowing, buying
    less, P(alive) falling, a complaint or a return), each saying what it measured; open recovery cases
    and promises (empty until service quality lands); what to ask next and the categories not known yet;
    offers with their reasons (empty until offers are matched); the last three encounters in one line
    each; their segment path. The id of a merged record gives the surviving record's briefing."""
    settings = runtime.settings
    return await read(
        lambda db, actor: briefing(
            db,
            actor=actor,
            customer_id=customer_id,
            categories=categories,
            freshness_months=settings.freshness_months,
            currency=settings.currency,
            consent_default=settings.consent_granted_by_default,
        )
    )


@router.patch(
    "/{customer_id}",
    response_model=CustomerOut,
    summary="Change a customer",
    responses={**responses(401, 403, 404, 422), **STALE},
)
def update_customer(
    db: Db,
    actor: CurrentActor,
    customer_id: CustomerId,
    data: CustomerUpdate,
    if_match: IfMatch,
    response: Response,
) -> CustomerOut:
    """Change the name or kind, set attributes (a null value removes one), add or remove identities.
    Only the fields sent change; every change is in the customer's history. Name the version the change
    was made from (`If-Match: "3"` or `"version": 3`) and a change made by someone else in between is not
    overwritten: the answer is 409 with the current version and record. Without one, the last writer
    wins. The `ETag` header is the new version."""
    data = data.model_copy(update={"version": expected_version(if_match, data.version)})
    return tag(
        response, customers.to_out(customers.update(db, actor=actor, customer_id=customer_id, data=data))
    )


@router.post(
    "/{customer_id}/merge",
    response_model=MergeOut,
    summary="Merge a duplicate record into this customer",
    responses=responses(401, 403, 404, 409, 422),
)
def merge_customer(db: Db, actor: CurrentActor, customer_id: CustomerId, data: MergeRequest) -> MergeOut:
    """Fold the record `merged_id` into this one: its identities, differentiators and encounters move
    here; attributes this record lacks are copied. Nothing is lost: the merged record stays, pointing
    here, so its old id still resolves. Needs the merge_customers permission (managers and up)."""
    survivor, moved = merging.merge(db, actor=actor, survivor_id=customer_id, merged_id=data.merged_id)
    return MergeOut(survivor=survivor, merged_id=data.merged_id, moved=moved)


@router.get(
    "/{customer_id}/history",
    response_model=list[AuditEntryOut],
    summary="A customer's history",
    responses=responses(401, 403, 404, 422),
)
def customer_history(
    db: Db,
    actor: CurrentActor,
    customer_id: CustomerId,
    limit: int = Query(default=200, ge=1, le=1000, description="How many entries to return."),
) -> list[AuditEntryOut]:
    """Every change to the customer's record, newest first: who did what and when, including the
    history of records merged into it."""
    entries = customers.history(db, actor=actor, customer_id=customer_id, limit=limit)
    return [AuditEntryOut.model_validate(e) for e in entries]


@router.get(
    "/{customer_id}/data-export",
    response_model=SubjectExport,
    summary="Everything held about a customer",
    responses=responses(401, 403, 404, 422),
)
def customer_data_export(
    db: Db, actor: CurrentActor, customer_id: CustomerId, runtime: RuntimeDep
) -> SubjectExport:
    """A data-subject access export: the record, the behaviour profile and model scores, every stored row
    about the customer (and the records merged into it) by table — identities, differentiators with who
    learned them where, acknowledgements, encounters, segment and audience memberships, ratings, recovery
    cases, promises, predictions, survey answers, messages, offers, audit entries — and their events. The
    id of a merged record gives the survivor's. Administrators only; recorded in the audit log."""
    return subject_export(
        db,
        actor=actor,
        customer_id=customer_id,
        data_dir=runtime.settings.data_dir,
        analytics_url=runtime.settings.analytics_url,
        currency=runtime.settings.currency,
    )


@router.delete(
    "/{customer_id}/personal-data",
    response_model=ErasureOut,
    summary="Erase everything held about a customer",
    responses=responses(401, 403, 404, 422),
)
def erase_personal_data(actor: CurrentActor, customer_id: CustomerId, runtime: RuntimeDep) -> ErasureOut:
    """The right to erasure: deletes the customer's records (and those merged into them) and every row
    about them, rewrites the events dataset without their events, drops them from the search indexes and
    derived tables (behaviour profiles, scores, segment memberships, knowledge refresh results, offers,
    messages); audit entries about them keep only who did what when. Cannot be undone. Answers with the
    counts removed; an id already erased is 404 (the message says when). Administrators only; recorded in
    the audit log as "Customer N erased"."""
    with runtime.session() as db:  # committed here, before the store's log is settled and the answer sent
        done = erasure.erase(db, actor=actor, customer_id=customer_id, data_dir=runtime.settings.data_dir)
    erasure.settle(runtime.engine)
    return done


@router.get(
    "/{customer_id}/consent",
    response_model=ConsentOut,
    summary="A customer's consent per purpose",
    responses=responses(401, 403, 404, 422),
)
def get_consent(db: Db, actor: CurrentActor, customer_id: CustomerId, runtime: RuntimeDep) -> ConsentOut:
    """Their consent now to each purpose (contact, profiling, personalisation): the latest record, or the
    default (`SEGONE_CONSENT_DEFAULT`) where none is recorded (`recorded` false); then the records,
    newest first, with who recorded each, when and from where."""
    return customers.consent_of(
        db,
        actor=actor,
        customer_id=customer_id,
        default_granted=runtime.settings.consent_granted_by_default,
    )


@router.put(
    "/{customer_id}/consent",
    response_model=ConsentOut,
    summary="Record a customer's consent",
    responses=responses(401, 403, 404, 422),
)
def put_consent(
    db: Db, actor: CurrentActor, customer_id: CustomerId, data: ConsentChange, runtime: RuntimeDep
) -> ConsentOut:
    """Record each purpose sent as granted (true) or refused (false); purposes left out keep their
    consent. Earlier records stay in the history. Without profiling consent the customer is left out of
    segments, scores and offers; without personalisation consent, out of offers and of the facts a
    message draft uses; without contact consent no message is drafted."""
    return customers.record_consent(
        db,
        actor=actor,
        customer_id=customer_id,
        change=data,
        source=ConsentSource.API,
        default_granted=runtime.settings.consent_granted_by_default,
    )
