"""The demo's employees: one sign-in per role (documented in the README), and colleagues who learn too.

Every demo user's password is ``DEMO_PASSWORD``.
"""

from __future__ import annotations

from dataclasses import dataclass

from segone.accounts.schemas import Role

DEMO_PASSWORD = "segone-demo"
DEMO_DOMAIN = "demo.segone.local"

FRONTLINE_EMAIL = f"frontline@{DEMO_DOMAIN}"
MANAGER_EMAIL = f"manager@{DEMO_DOMAIN}"
ANALYST_EMAIL = f"analyst@{DEMO_DOMAIN}"
ADMIN_EMAIL = f"admin@{DEMO_DOMAIN}"

# The sign-in of each role, for the README, the tests and anyone trying the product.
DEMO_LOGINS: dict[Role, str] = {
    Role.FRONTLINE: FRONTLINE_EMAIL,
    Role.MANAGER: MANAGER_EMAIL,
    Role.ANALYST: ANALYST_EMAIL,
    Role.ADMIN: ADMIN_EMAIL,
}


@dataclass(frozen=True)
class DemoUser:
    email: str
    name: str
    role: Role
    team: str
    serves: str  # "person", "business" or "" (does not meet customers)
    weight: float  # how much of the learning this employee does, relative to colleagues
    listening: float  # their usual share of an encounter spent listening and asking


DEMO_USERS: tuple[DemoUser, ...] = (
    DemoUser(FRONTLINE_EMAIL, "Priya Shah", Role.FRONTLINE, "Store Leeds", "person", 3.0, 0.68),
    DemoUser(MANAGER_EMAIL, "Tom Whitaker", Role.MANAGER, "Store Leeds", "person", 1.0, 0.45),
    DemoUser(ANALYST_EMAIL, "Grace Okafor", Role.ANALYST, "Marketing", "", 0.0, 0.5),
    DemoUser(ADMIN_EMAIL, "Morgan Reid", Role.ADMIN, "Head Office", "", 0.0, 0.5),
    DemoUser(f"owen.lloyd@{DEMO_DOMAIN}", "Owen Lloyd", Role.FRONTLINE, "Store York", "person", 2.0, 0.52),
    DemoUser(
        f"lucy.fernandes@{DEMO_DOMAIN}", "Lucy Fernandes", Role.FRONTLINE, "Store York", "person", 0.4, 0.6
    ),
    DemoUser(
        f"megan.clarke@{DEMO_DOMAIN}", "Megan Clarke", Role.FRONTLINE, "Customer Service", "person", 1.6, 0.74
    ),
    DemoUser(
        f"daniel.byrne@{DEMO_DOMAIN}", "Daniel Byrne", Role.FRONTLINE, "Business Sales", "business", 2.0, 0.38
    ),
    DemoUser(
        f"aisha.rahman@{DEMO_DOMAIN}", "Aisha Rahman", Role.FRONTLINE, "Business Sales", "business", 2.2, 0.71
    ),
    DemoUser(
        f"jonas.weber@{DEMO_DOMAIN}", "Jonas Weber", Role.MANAGER, "Business Sales", "business", 0.8, 0.55
    ),
)


# Colleagues who do not meet customers in the demo's learning (weight 0): the managers and members of the
# teams whose report cards, recovery cases and promises the demo holds (``demo.quality``). Kept apart from
# ``DEMO_USERS`` so the customers and what was learned about them stay what they were.
TEAM_USERS: tuple[DemoUser, ...] = (
    DemoUser(f"hannah.price@{DEMO_DOMAIN}", "Hannah Price", Role.MANAGER, "Store York", "", 0.0, 0.5),
    DemoUser(f"zara.ahmed@{DEMO_DOMAIN}", "Zara Ahmed", Role.FRONTLINE, "Store Leeds", "", 0.0, 0.5),
    DemoUser(f"ravi.patel@{DEMO_DOMAIN}", "Ravi Patel", Role.MANAGER, "Customer Service", "", 0.0, 0.5),
    DemoUser(f"ben.ashworth@{DEMO_DOMAIN}", "Ben Ashworth", Role.FRONTLINE, "Customer Service", "", 0.0, 0.5),
    DemoUser(f"chloe.martin@{DEMO_DOMAIN}", "Chloe Martin", Role.MANAGER, "Marketing", "", 0.0, 0.5),
    DemoUser(f"sam.turner@{DEMO_DOMAIN}", "Sam Turner", Role.MANAGER, "Warehouse", "", 0.0, 0.5),
    DemoUser(f"kofi.mensah@{DEMO_DOMAIN}", "Kofi Mensah", Role.FRONTLINE, "Warehouse", "", 0.0, 0.5),
    DemoUser(f"elena.novak@{DEMO_DOMAIN}", "Elena Novak", Role.MANAGER, "Repairs", "", 0.0, 0.5),
    DemoUser(f"liam.doyle@{DEMO_DOMAIN}", "Liam Doyle", Role.FRONTLINE, "Repairs", "", 0.0, 0.5),
)
