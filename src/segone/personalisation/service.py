"""Use cases of the personalisation domain: the catalogue of offerings, and each customer's offers.

Anybody who may look up customers may read the catalogue (front-line staff see what to offer); changing
it takes the settings permission (administrators). Every change is in the audit trail. An offering is
never deleted: purchases name its key, so it is deactivated instead and left out of the active list.

A customer's offers are those the last refresh stored (``refresh``; computing them takes the analytics
permission, reading them that of looking up customers), read in a few indexed queries for the briefing.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import String, and_, bindparam, cast, func, or_, select
from sqlalchemy.orm import Session

from segone.accounts.schemas import Actor, AuditAction, Permission
from segone.accounts.service import record_audit, require
from segone.behaviour import service as behaviour
from segone.clock import utcnow
from segone.customers import service as customers
from segone.errors import Conflict, NotFound
from segone.knowledge.facts import service as knowledge
from segone.personalisation import advice as advising
from segone.personalisation.models import Offering, Recommendation, RecommendationRun
from segone.personalisation.rules import ELIGIBLE_IF, REPEATABLE, attribute, parse_repeatable, parse_rule
from segone.personalisation.schemas import (
    Advice,
    AdviceOption,
    AdviceRequest,
    CustomerOffers,
    OfferingCreate,
    OfferingDetail,
    OfferingOut,
    OfferingPage,
    OfferingUpdate,
    OfferReasonOut,
    OfferScores,
    ReasonKind,
    RecommendationOut,
    RecommendationRunOut,
)
from segone.segmentation import service as segmentation
from segone.settings import Settings
from segone.storage.patterns import contains_text
from segone.storage.subject import Rows, delete_about, rows_about

READ = Permission.READ_CUSTOMERS
CHANGE = Permission.MANAGE_SETTINGS
_FIELDS = ("name", "description", "attributes", "price_band", "needs", "active")


def to_out(offering: Offering) -> OfferingOut:
    return OfferingOut.model_validate(offering)


def _by_key(db: Session, key: str) -> Offering:
    offering = db.scalars(select(Offering).where(Offering.key == key)).first()
    if offering is None:
        raise NotFound(f"There is no offering '{key}'.")
    return offering


def get(db: Session, *, actor: Actor, offering_id: int) -> OfferingOut:
    require(actor, READ)
    offering = db.get(Offering, offering_id)
    if offering is None:
        raise NotFound(f"There is no offering {offering_id}.")
    return to_out(offering)


def get_by_key(db: Session, *, actor: Actor, key: str) -> OfferingOut:
    require(actor, READ)
    return to_out(_by_key(db, key))


def detail(db: Session, *, actor: Actor, key: str, data_dir: Path, analytics_url: str) -> OfferingDetail:
    """The offering and how many purchase events name it (read from the events dataset)."""
    offering = get_by_key(db, actor=actor, key=key)
    counts = behaviour.purchases_by_offering(
        actor=actor, data_dir=data_dir, analytics_url=analytics_url, offerings=[offering.key]
    )
    return OfferingDetail(**offering.model_dump(), purchases=counts[offering.key])


def list_offerings(
    db: Session,
    *,
    actor: Actor,
    search: str | None = None,
    active_only: bool = True,
    offset: int = 0,
    limit: int = 50,
) -> OfferingPage:
    """Offerings by name whose key, name, description or needs contain ``search`` (any case)."""
    require(actor, READ)
    stmt = select(Offering)
    if active_only:
        stmt = stmt.where(Offering.active.is_(True))
    if search and search.strip():
        stmt = stmt.where(
            or_(
                *(
                    contains_text(column, search.strip())
                    for column in (
                        Offering.key,
                        Offering.name,
                        Offering.description,
                        cast(Offering.needs, String),
                    )
                )
            )
        )
    total = int(db.scalar(select(func.count()).select_from(stmt.subquery())) or 0)
    rows = db.scalars(stmt.order_by(func.lower(Offering.name), Offering.id).offset(offset).limit(limit))
    return OfferingPage(items=[to_out(row) for row in rows], total=total, offset=offset, limit=limit)


def create(db: Session, *, actor: Actor, data: OfferingCreate) -> OfferingOut:
    require(actor, CHANGE)
    if db.scalars(select(Offering.id).where(Offering.key == data.key)).first() is not None:
        raise Conflict(f"There is an offering '{data.key}' already; change it instead.")
    offering = Offering(**data.model_dump(mode="json"))
    db.add(offering)
    db.flush()
    record_audit(
        db,
        actor=actor,
        action=AuditAction.OFFERING_CREATED,
        summary=f"Offering {offering.name} ({offering.key}) added",
        details={"key": offering.key},
    )
    return to_out(offering)


def update(db: Session, *, actor: Actor, key: str, data: OfferingUpdate) -> OfferingOut:
    """Change the fields sent (a price band sent as null clears it; any other field sent as null stays as
    it is: the stored offering has a name, a description, attributes, needs and a state)."""
    require(actor, CHANGE)
    offering = _by_key(db, key)
    sent = {
        name: value
        for name, value in data.model_dump(mode="json", include=data.model_fields_set).items()
        if value is not None or name == "price_band"
    }
    changes = _apply(offering, {name: value for name, value in sent.items() if name in _FIELDS})
    if changes:
        offering.updated_at = utcnow()
        db.flush()
        action = (
            AuditAction.OFFERING_DEACTIVATED
            if list(changes) == ["active"] and not offering.active
            else AuditAction.OFFERING_UPDATED
        )
        record_audit(
            db,
            actor=actor,
            action=action,
            summary=f"Offering {offering.name} ({offering.key}) changed: " + ", ".join(changes),
            details={"key": offering.key, **changes},
        )
    return to_out(offering)


def deactivate(db: Session, *, actor: Actor, key: str) -> OfferingOut:
    """No longer offered: left out of the active list, kept for the purchases that name it."""
    return update(db, actor=actor, key=key, data=OfferingUpdate(active=False))


def _apply(offering: Offering, values: dict[str, Any]) -> dict[str, Any]:
    """Set the values that differ; returns the changes as the audit trail records them."""
    changes: dict[str, Any] = {}
    for name, value in values.items():
        old = getattr(offering, name)
        if old != value:
            changes[name] = {"from": old, "to": value}
            setattr(offering, name, value)
    return changes


# --- offers ----------------------------------------------------------------------------------------------


def latest_run(db: Session, *, actor: Actor) -> RecommendationRunOut | None:
    """The newest refresh of the offers that is done (what is served), or None before the first."""
    require(actor, READ)
    run = _served(db)
    return RecommendationRunOut.model_validate(run) if run is not None else None


def _served(db: Session) -> RecommendationRun | None:
    return db.scalars(
        select(RecommendationRun)
        .where(RecommendationRun.status == "done")
        .order_by(RecommendationRun.id.desc())
        .limit(1)
    ).first()


# The served refresh with the customer's offers in one statement (a row without an offer when it stored
# none for them): every briefing reads them, so it is built once.
_SERVED_OFFERS = (
    select(RecommendationRun.id, RecommendationRun.finished_at, Recommendation, Offering)
    .select_from(RecommendationRun)
    .outerjoin(
        Recommendation,
        and_(
            Recommendation.run_id == RecommendationRun.id,
            Recommendation.customer_id == bindparam("customer_id"),
        ),
    )
    .outerjoin(Offering, Offering.id == Recommendation.offering_id)
    .where(
        RecommendationRun.id
        == select(RecommendationRun.id)
        .where(RecommendationRun.status == "done")
        .order_by(RecommendationRun.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    .order_by(Recommendation.rank)
)


def customer_offers(
    db: Session, *, actor: Actor, customer_id: int, limit: int | None = None
) -> CustomerOffers:
    """The customer's offers as the last refresh stored them, best first (a merged record's id gives the
    survivor's). An offering deactivated since is left out, and so is a reason citing a fact that is no
    longer current (with its offer when no reason is left): an offer is never shown without a reason."""
    customer = customers.get(db, actor=actor, customer_id=customer_id)
    require(actor, READ)
    found = db.execute(_SERVED_OFFERS, {"customer_id": customer.id}).all()
    if not found:
        return CustomerOffers(customer_id=customer.id, run_id=None, computed_at=None, items=[])
    run_id, computed_at = found[0][0], found[0][1]
    rows = [(rec, offering) for _, _, rec, offering in found if rec is not None]
    cited = {r["fact_id"] for rec, _ in rows for r in rec.reasons if r.get("fact_id") is not None}
    owners = knowledge.current_owners(db, cited) if cited else {}
    items: list[RecommendationOut] = []
    for rec, offering in rows:
        if not offering.active:
            continue
        reasons = [
            OfferReasonOut.model_validate(reason)
            for reason in rec.reasons
            if reason.get("kind") != ReasonKind.FACT or owners.get(reason.get("fact_id") or 0) == customer.id
        ]
        if not reasons:
            continue
        items.append(
            RecommendationOut(
                rank=rec.rank,
                offering=to_out(offering),
                score=rec.score,
                scores=OfferScores(
                    collaborative=rec.collaborative, content=rec.content, popularity=rec.popularity
                ),
                reasons=reasons,
            )
        )
        if limit is not None and len(items) >= limit:
            break
    return CustomerOffers(customer_id=customer.id, run_id=run_id, computed_at=computed_at, items=items)


def advise(db: Session, settings: Settings, *, actor: Actor, customer_id: int, data: AdviceRequest) -> Advice:
    """ "It depends": the offerings the question is about, each judged for this customer with reasons
    citing their own facts and purchases (``advice``). Reads the stored offers, the customer's facts,
    profile and purchases of offerings; writes nothing."""
    customer = customers.get(db, actor=actor, customer_id=customer_id)
    require(actor, READ)
    options = [_option(row) for row in db.scalars(select(Offering).order_by(Offering.key))]
    method = settings.knowledge_method
    about = advising.relevant(data.question, [o for o in options if o.active], method=method)
    stored = customer_offers(db, actor=actor, customer_id=customer.id)
    asked_about_none = not about
    if asked_about_none:
        by_key = {o.key: o for o in options}
        about = [(by_key[item.offering.key], 0.0) for item in stored.items[: advising.OPTIONS_MAX]]
    profile = behaviour.behaviour_of(
        db, actor=actor, customer_id=customer.id, currency=settings.currency
    ).profile
    bought: dict[str, tuple[str, Any]] = {}
    if about:
        table = behaviour.offering_purchases(
            actor=actor,
            data_dir=settings.data_dir,
            analytics_url=settings.analytics_url,
            customer_ids=[customer.id],
        )
        for row in table.to_pylist():  # oldest first: the latest of each offering stays
            bought[row["offering"]] = (row["event_id"], row["ts"])
    named = {name for option, _ in about if option.rule for name in option.rule.audiences}
    seen = advising.Customer(
        kind=customer.kind,
        attributes=dict(customer.attributes),
        facts=[
            (f.id, f.text, f.learned_at)
            for f in knowledge.list_for_customer(db, actor=actor, customer_id=customer.id)
        ],
        bought=bought,
        offered={
            item.offering.key: [r.model_dump(mode="json") for r in item.reasons] for item in stored.items
        },
        audiences=_audiences_of(db, actor, customer.id, named),
        mean_value=profile.mean_value if profile is not None else None,
    )
    judged = advising.judge(about, seen, method=method, currency=settings.currency)
    by_key_out = {
        row.key: to_out(row)
        for row in db.scalars(select(Offering).where(Offering.key.in_([j.option.key for j in judged])))
    }
    return Advice(
        customer_id=customer.id,
        question=data.question,
        answer=advising.summary(judged, asked_about_none=asked_about_none),
        asked_about_none=asked_about_none,
        options=[
            AdviceOption(
                offering=by_key_out[j.option.key],
                verdict=j.verdict,
                reasons=[OfferReasonOut.model_validate(r) for r in j.reasons],
                caveats=j.caveats,
                ask=j.ask,
                relevance=round(j.relevance, 3),
            )
            for j in judged
        ],
    )


def _option(row: Offering) -> advising.Option:
    try:
        repeatable = parse_repeatable(attribute(row.attributes, REPEATABLE))
        rule = parse_rule(attribute(row.attributes, ELIGIBLE_IF))
        active = row.active
    except ValueError:
        repeatable, rule, active = False, None, False  # a rule stored before rules were checked: not offered
    return advising.Option(
        key=row.key,
        name=row.name,
        description=row.description,
        needs=list(row.needs),
        price_band=row.price_band,
        active=active,
        repeatable=repeatable,
        rule=rule,
    )


def _audiences_of(db: Session, actor: Actor, customer_id: int, names: set[str]) -> set[str]:
    """Of the audiences named (as rules write them), those the customer is in, in lower case."""
    inside: set[str] = set()
    if not names:
        return inside
    stored = {" ".join(a.name.split()).casefold(): a for a in segmentation.list_audiences(db, actor=actor)}
    for name in sorted(names):
        key = " ".join(name.split()).casefold()
        audience = stored.get(key)
        if audience is None:
            continue
        members, _total = segmentation.audience_members(db, actor=actor, audience_id=audience.id)
        if any(m.customer_id == customer_id for m in members):
            inside.add(key)
    return inside


def data_about(db: Session, *, customer_ids: Sequence[int]) -> dict[str, Rows]:
    """The offers recommended to these customers by the last run, with their reasons, as stored."""
    return {"recommendations": rows_about(db, Recommendation, "customer_id", customer_ids)}


def erase_about(db: Session, *, customer_ids: Sequence[int]) -> dict[str, int]:
    """Delete the offers recommended to these customers."""
    return {"recommendations": delete_about(db, Recommendation, "customer_id", customer_ids)}
