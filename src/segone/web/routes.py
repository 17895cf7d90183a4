"""The web UI: server-rendered pages for people, over the same services as the API.

Every page is in one of the area modules below; this router only combines them.
"""

from __future__ import annotations

from fastapi import APIRouter

from segone.web import (
    account,
    admin,
    analytics,
    api_docs,
    audiences,
    audit,
    auth,
    briefing,
    cards,
    customer_import,
    customers,
    dashboards,
    encounters,
    exports,
    home,
    knowledge,
    messages,
    offerings,
    recovery,
    search,
    segments,
    strategy,
)

router = APIRouter(include_in_schema=False)
# customer_import before customers: /customers/import is not the page of a customer numbered "import".
for area in (
    auth,
    home,
    customer_import,
    customers,
    briefing,
    knowledge,
    encounters,
    analytics,
    dashboards,
    segments,
    audiences,
    account,
    admin,
    audit,
    offerings,
    messages,
    strategy,
    recovery,
    search,
    api_docs,
    exports,
    cards,
):
    router.include_router(area.router)
