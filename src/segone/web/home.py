"""The start page: find a customer, pick up where you left off."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from segone.customers import service as customers
from segone.encounters import service as encounters
from segone.web.deps import Reader, RuntimeDep, web_router
from segone.web.render import render
from segone.web.views import customer_cards, encounter_rows

router = web_router()


@router.get("/")
def home(request: Request, viewer: Reader, runtime: RuntimeDep) -> Response:
    with runtime.session() as db:
        recent = customers.recently_active(db, actor=viewer.actor, limit=6)
        mine = encounters.list_by_employee(db, actor=viewer.actor, employee_id=viewer.user_id, limit=6)
        return render(
            request,
            "home/home.html",
            recent=customer_cards(db, recent),
            my_encounters=encounter_rows(db, viewer, mine, with_customer=True),
            total_customers=customers.count_active(db),
        )
