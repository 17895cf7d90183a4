"""The web UI: server-rendered pages for people, over the same services as the API.

Every page is in one of the area modules below; this router only combines them.
"""

from __future__ import annotations

from fastapi import APIRouter

from segone.web import (
    account,
    admin,
    analytics,
    auth,
    customers,
    dashboards,
    encounters,
    exports,
    home,
    knowledge,
    search,
)

router = APIRouter(include_in_schema=False)
for area in (
    auth,
    home,
    customers,
    knowledge,
    encounters,
    analytics,
    dashboards,
    account,
    admin,
    search,
    exports,
):
    router.include_router(area.router)
