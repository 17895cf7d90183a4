"""Managers' pages: the self-assessment dashboard ("Do we know a lot about our customers?") and the
top-10 exercise (our most valuable customers side by side: what makes each unique, what each knows we know).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends
from sqlalchemy import desc, func, select
from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import Response

from segone.accounts.schemas import Permission
from segone.behaviour.models import BehaviourProfile
from segone.customers import service as customers
from segone.customers.models import Customer
from segone.errors import NotFound
from segone.knowledge.assessment.schemas import Month
from segone.knowledge.distinguishability import service as insights
from segone.knowledge.distinguishability.schemas import KnowledgeOut
from segone.knowledge.models import Differentiator
from segone.views.self_assessment import self_assessment
from segone.web.deps import RuntimeDep, Viewer, requires, web_router
from segone.web.render import render

router = web_router()
Manager = Annotated[Viewer, Depends(requires(Permission.VIEW_TEAM_DASHBOARDS))]
WIDTH, HEIGHT, PAD = 300, 110, 18
TOP = 10
RANKINGS = {"clv": "Value of the next year (CLV)", "value": "Spent so far", "facts": "Most known about"}


@dataclass
class Chart:
    title: str
    points: str
    dots: list[tuple[str, str, str]]  # x, y, title
    first: str
    last: str
    latest: str
    width: int = WIDTH
    height: int = HEIGHT


@router.get("/dashboards/knowledge")
def knowledge_dashboard(request: Request, viewer: Manager, runtime: RuntimeDep) -> Response:
    months = runtime.settings.freshness_months
    with runtime.session() as db:
        found = self_assessment(db, actor=viewer.actor, freshness_months=months)
    rows = found.months
    charts = [
        _chart("Customers we know anything about", [m.known_share for m in rows], rows, percent=True),
        _chart("Facts per customer", [m.facts_per_customer for m in rows], rows),
        _chart("Categories known, per known customer", [m.categories_per_customer for m in rows], rows),
        _chart(
            "Recognition ratio: they know we know", [m.recognition_ratio for m in rows], rows, percent=True
        ),
        _chart("Employees who recorded a fact", [m.contributors_share for m in rows], rows, percent=True),
        _chart("Listening share in encounters", [m.listening_share for m in rows], rows, percent=True),
    ]
    latest = found.refreshes[-1] if found.refreshes else None
    spread = []
    if latest is not None:
        top = max(latest.distribution.values(), default=0) or 1
        spread = [
            {"size": size, "count": count, "width": round(100 * count / top, 1)}
            for size, count in latest.distribution.items()
        ]
    return render(
        request,
        "dashboards/knowledge.html",
        charts=charts,
        found=found,
        latest=latest,
        spread=spread,
        segments=_chart(
            "Segments of one, by knowledge refresh",
            [float(r.segments_of_one) for r in found.refreshes],
            None,
            labels=[r.at.strftime("%Y-%m-%d") for r in found.refreshes],
        )
        if len(found.refreshes) > 1
        else None,
    )


@router.get("/dashboards/top")
def top_ten(
    request: Request, viewer: Manager, runtime: RuntimeDep, by: str = "clv", ids: str = ""
) -> Response:
    """The top customers side by side: by CLV, by value, by facts known, or the ones chosen (``ids``)."""
    chosen = [int(part) for part in ids.replace(" ", "").split(",") if part.isdigit() and len(part) < 10][
        :TOP
    ]
    ranking = by if by in RANKINGS else "clv"
    with runtime.session() as db:
        customer_ids = chosen or _ranked(db, ranking)
        sheets = []
        for customer_id in customer_ids:
            try:
                customer = customers.get(db, actor=viewer.actor, customer_id=customer_id)
            except NotFound:
                continue
            known = insights.knowledge_of(
                db,
                actor=viewer.actor,
                customer_id=customer.id,
                categories=runtime.categories,
                freshness_months=runtime.settings.freshness_months,
            )
            sheets.append(_sheet(db, customer, known))
    return render(
        request,
        "dashboards/top.html",
        sheets=sheets,
        by=ranking,
        rankings=RANKINGS,
        chosen=",".join(map(str, chosen)),
    )


def _ranked(db: Session, by: str) -> list[int]:
    active = Customer.merged_into_id.is_(None)
    if by == "facts":
        count = func.count(Differentiator.id)
        stmt = (
            select(Differentiator.customer_id)
            .join(Customer, Customer.id == Differentiator.customer_id)
            .where(Differentiator.status == "current", active)
            .group_by(Differentiator.customer_id)
            .order_by(desc(count), Differentiator.customer_id)
        )
    else:
        column = BehaviourProfile.clv if by == "clv" else BehaviourProfile.total_value
        stmt = (
            select(BehaviourProfile.customer_id)
            .join(Customer, Customer.id == BehaviourProfile.customer_id)
            .where(column.is_not(None), active)
            .order_by(desc(column), BehaviourProfile.customer_id)
        )
    return list(db.scalars(stmt.limit(TOP)))


def _sheet(db: Session, customer: Customer, known: KnowledgeOut) -> dict[str, Any]:
    profile = db.get(BehaviourProfile, customer.id)
    return {
        "id": customer.id,
        "name": customer.name,
        "kind": customer.kind,
        "distinguishability": known.distinguishability,
        "unique": [f for f in known.facts if f.holders == 1],
        "rare": [f for f in known.facts if f.rare and f.holders != 1],
        "acknowledged": [f for f in known.facts if f.acknowledged],
        "facts": len(known.facts),
        "recognition": known.recognition.ratio,
        "next_question": known.next_question,
        "clv": None if profile is None else profile.clv,
        "spent": None if profile is None else profile.total_value,
    }


def _chart(
    title: str,
    values: list[float | None],
    months: list[Month] | None,
    *,
    percent: bool = False,
    labels: list[str] | None = None,
) -> Chart:
    names = labels if labels is not None else [m.month for m in months or []]
    known = [(i, v) for i, v in enumerate(values) if v is not None]
    top = max((v for _, v in known), default=0.0) or 1.0
    n = max(len(values) - 1, 1)

    def x(i: int) -> float:
        return PAD + i * (WIDTH - 2 * PAD) / n

    def y(v: float) -> float:
        return HEIGHT - PAD - v / top * (HEIGHT - 2 * PAD)

    def shown(value: float) -> str:
        return f"{value:.0%}" if percent else f"{value:,.2f}"

    return Chart(
        title=title,
        points=" ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in known),
        dots=[(f"{x(i):.1f}", f"{y(v):.1f}", f"{names[i]}: {shown(v)}") for i, v in known],
        first=names[0] if names else "",
        last=names[-1] if names else "",
        latest=shown(known[-1][1]) if known else "\u2013",
    )
