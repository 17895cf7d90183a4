"""The briefing before an encounter: one screen for a tablet, a print layout, and the home page's way in."""

from __future__ import annotations

from urllib.parse import urlencode

from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import Response

from segone.customers import service as customers
from segone.personalisation import service as personalisation
from segone.personalisation.messages.schemas import Purpose
from segone.personalisation.schemas import AdviceRequest
from segone.views.briefing import EMPTY, STRATEGY_TITLE, TITLES, briefing_lines
from segone.views.briefing import briefing as compose
from segone.views.customer_list import page as list_page
from segone.web.customers import redirect_if_merged
from segone.web.deps import Categories, Reader, RuntimeDep, see_other, web_router
from segone.web.render import render

router = web_router()
CHOICES = 10


@router.get("/briefing")
def find_for_briefing(request: Request, viewer: Reader, runtime: RuntimeDep, q: str = "") -> Response:
    """ "Who are you about to meet?": one match opens their briefing, several are listed to pick from."""
    query = q.strip()[:200]
    if not query:
        return render(request, "briefing/pick.html", q="", cards=[], total=0, all_matches="/customers")
    with runtime.session() as db:
        found = list_page(db, actor=viewer.actor, query=query, limit=CHOICES)
    if found.total == 1:
        return see_other(f"/customers/{found.items[0].id}/briefing")
    return render(
        request,
        "briefing/pick.html",
        q=query,
        cards=found.items,
        total=found.total,
        all_matches=f"/customers?{urlencode({'q': query})}",
    )


@router.get("/customers/{customer_id}/briefing")
def briefing_page(
    request: Request,
    customer_id: int,
    viewer: Reader,
    runtime: RuntimeDep,
    categories: Categories,
    print: str = "",
) -> Response:
    settings = runtime.settings
    with runtime.reading() as db:
        found = customers.get(db, actor=viewer.actor, customer_id=customer_id).id
        suffix = "/briefing?print=1" if print else "/briefing"
        if (moved := redirect_if_merged(request, found, customer_id, suffix)) is not None:
            return moved
        read = compose(
            db,
            actor=viewer.actor,
            customer_id=found,
            categories=categories,
            freshness_months=settings.freshness_months,
            currency=settings.currency,
            consent_default=settings.consent_granted_by_default,
        )
    return render(
        request,
        "briefing/briefing.html",
        briefing=read,
        lines=briefing_lines(read),
        titles=TITLES,
        empty=EMPTY,
        strategy_title=STRATEGY_TITLE,
        print_view=bool(print),
        purposes=[(purpose.value, purpose.label) for purpose in Purpose],
    )


@router.get("/customers/{customer_id}/advise")
def advise_page(
    request: Request, customer_id: int, viewer: Reader, runtime: RuntimeDep, question: str | None = None
) -> Response:
    """ "It depends": the briefing's box, answered for this customer (the API's advice, on a page);
    without a question, the box alone."""
    error, answer = None, None
    with runtime.session() as db:
        customer = customers.get(db, actor=viewer.actor, customer_id=customer_id)
        if question is None:
            return render(
                request, "briefing/advice.html", customer=customer, question="", advice=None, error=None
            )
        try:
            asked = AdviceRequest(question=question)
        except ValidationError:
            error = "Type the customer's question (up to 500 characters)."
        else:
            answer = personalisation.advise(
                db, runtime.settings, actor=viewer.actor, customer_id=customer.id, data=asked
            )
    status = 422 if error else 200
    return render(
        request,
        "briefing/advice.html",
        status=status,
        customer=customer,
        question=question,
        advice=answer,
        error=error,
    )
