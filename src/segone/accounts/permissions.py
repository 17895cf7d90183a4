"""Roles and what each may do: the one permission table of the product.

Roles are cumulative: a manager can do all a front-line employee can, and more.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from segone.errors import Forbidden


class Role(enum.StrEnum):
    FRONTLINE = "frontline"
    MANAGER = "manager"
    ANALYST = "analyst"
    ADMIN = "admin"


class Permission(enum.StrEnum):
    READ_CUSTOMERS = "read_customers"
    WRITE_CUSTOMERS = "write_customers"
    ADD_DIFFERENTIATORS = "add_differentiators"
    ADD_ENCOUNTERS = "add_encounters"
    ACKNOWLEDGE = "acknowledge"
    VIEW_TEAM_DASHBOARDS = "view_team_dashboards"
    MERGE_CUSTOMERS = "merge_customers"
    IMPORT_DATA = "import_data"
    EXPORT_DATA = "export_data"
    RUN_ANALYTICS = "run_analytics"
    MANAGE_USERS = "manage_users"
    MANAGE_SETTINGS = "manage_settings"
    MANAGE_OWN_TOKENS = "manage_own_tokens"


_FRONTLINE = frozenset(
    {
        Permission.READ_CUSTOMERS,
        Permission.WRITE_CUSTOMERS,
        Permission.ADD_DIFFERENTIATORS,
        Permission.ADD_ENCOUNTERS,
        Permission.ACKNOWLEDGE,
        Permission.MANAGE_OWN_TOKENS,
    }
)
_MANAGER = _FRONTLINE | {Permission.VIEW_TEAM_DASHBOARDS, Permission.MERGE_CUSTOMERS}
_ANALYST = _MANAGER | {Permission.IMPORT_DATA, Permission.EXPORT_DATA, Permission.RUN_ANALYTICS}
_ADMIN = _ANALYST | {Permission.MANAGE_USERS, Permission.MANAGE_SETTINGS}

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.FRONTLINE: _FRONTLINE,
    Role.MANAGER: _MANAGER,
    Role.ANALYST: _ANALYST,
    Role.ADMIN: _ADMIN,
}


@dataclass(frozen=True)
class Actor:
    """Who is acting: a signed-in user, or the operator at the CLI (``user_id`` None)."""

    user_id: int | None
    email: str
    role: Role

    def can(self, permission: Permission) -> bool:
        return permission in ROLE_PERMISSIONS[self.role]


SYSTEM = Actor(user_id=None, email="system", role=Role.ADMIN)


def require(actor: Actor, permission: Permission) -> None:
    if not actor.can(permission):
        raise Forbidden(
            f"The {actor.role.value} role may not {permission.value.replace('_', ' ')}.",
            details={"permission": permission.value, "role": actor.role.value},
        )
