"""The start page: find a customer, pick up where you left off."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from segone.views.home import home as home_page
from segone.web.deps import Reader, RuntimeDep, web_router
from segone.web.render import render

router = web_router()


@router.get("/")
def home(request: Request, viewer: Reader, runtime: RuntimeDep) -> Response:
    with runtime.session() as db:
        page = home_page(db, actor=viewer.actor, employee_id=viewer.user_id)
    return render(
        request,
        "home/home.html",
        recent=page.recent,
        my_encounters=page.my_encounters,
        total_customers=page.total_customers,
        recovery=page.recovery,
        promises_due=page.promises_due,
        strategy=page.strategy,
    )
