"""The demo: a realistic, deterministic customer base to try segone on (``segone demo``).

About 1,500 consumers (the CDNOW customers ``cdnow:00001``...``cdnow:01500``) and 500 businesses, what
employees learned about them over two years, their encounters, and who knows that we know, with the CDNOW
purchase history moved to end on the day it is loaded (``timeline``); its other 22,070 buyers are named,
and over a quarter of them known (``behaviour``). Times fall in working hours (``working_hours``). Sign in
as any role with ``DEMO_LOGINS[role]`` and ``DEMO_PASSWORD``.
"""

from segone.demo.generate import DEFAULT_SEED
from segone.demo.load import DemoSummary, customer_count, empty_store, load
from segone.demo.users import (
    ADMIN_EMAIL,
    ANALYST_EMAIL,
    DEMO_LOGINS,
    DEMO_PASSWORD,
    DEMO_USERS,
    FRONTLINE_EMAIL,
    MANAGER_EMAIL,
)

__all__ = [
    "ADMIN_EMAIL",
    "ANALYST_EMAIL",
    "DEFAULT_SEED",
    "DEMO_LOGINS",
    "DEMO_PASSWORD",
    "DEMO_USERS",
    "FRONTLINE_EMAIL",
    "MANAGER_EMAIL",
    "DemoSummary",
    "customer_count",
    "empty_store",
    "load",
]
