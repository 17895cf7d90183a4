"""What the accounts domain takes in and gives out, and the permission vocabulary every domain checks.

Roles are cumulative: a manager can do all a front-line employee can, and more.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from segone.inputs import InputModel, Name


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
    RATE_SERVICE = "rate_service"
    MANAGE_REPORT_CARDS = "manage_report_cards"


_FRONTLINE = frozenset(
    {
        Permission.READ_CUSTOMERS,
        Permission.WRITE_CUSTOMERS,
        Permission.ADD_DIFFERENTIATORS,
        Permission.ADD_ENCOUNTERS,
        Permission.ACKNOWLEDGE,
        Permission.MANAGE_OWN_TOKENS,
        Permission.RATE_SERVICE,
    }
)
_MANAGER = _FRONTLINE | {
    Permission.VIEW_TEAM_DASHBOARDS,
    Permission.MERGE_CUSTOMERS,
    Permission.MANAGE_REPORT_CARDS,
}
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


def _normalise_email(value: str) -> str:
    value = value.strip().lower()
    local, _, domain = value.partition("@")
    if not local or "." not in domain or " " in value:
        raise ValueError(f"'{value}' is not an e-mail address")
    return value


class UserCreate(InputModel):
    email: str = Field(max_length=320)
    name: Name | None = Field(default=None, max_length=200, description="Default: the e-mail's local part.")
    role: Role
    team: Name | None = Field(default=None, max_length=120)
    password: str | None = Field(default=None, min_length=8, max_length=200)

    _email = field_validator("email")(_normalise_email)


class UserUpdate(InputModel):
    name: Name | None = Field(default=None, max_length=200)
    role: Role | None = None
    team: Name | None = Field(default=None, max_length=120, description="null: no team.")
    password: str | None = Field(default=None, min_length=8, max_length=200)
    active: bool | None = None


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    email: str
    name: str
    role: Role
    team: str | None
    active: bool
    created_at: datetime


@dataclass(frozen=True)
class Person:
    """A user as pages name who did something: ``name`` (their e-mail when they gave none) and ``email``,
    which tells two people of the same name apart."""

    name: str
    email: str


@dataclass(frozen=True)
class Member:
    """A user as other domains need them: who they are, their team, whether they may still sign in."""

    id: int
    email: str
    name: str
    team_id: int | None
    team: str | None
    active: bool


class TokenCreate(InputModel):
    name: Name = Field(default="api", max_length=120)


class TokenOut(BaseModel):
    id: int
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class TokenCreated(TokenOut):
    token: str = Field(description="Shown once; keep it safe. Send as 'Authorization: Bearer <token>'.")


class AuditEntryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    at: datetime
    actor_email: str
    actor_name: str | None = Field(
        default=None,
        description="The name of the user who made the change (their e-mail when they have none); null for "
        "the operator at the command line.",
    )
    action: str
    customer_id: int | None
    summary: str
    details: dict[str, Any]


class AuditAction(enum.StrEnum):
    """What an audit entry records; the values are the ``action`` strings stored in ``audit_log``."""

    CUSTOMER_CREATED = "customer.created"
    CUSTOMER_UPDATED = "customer.updated"
    CUSTOMER_MERGED = "customer.merged"
    CUSTOMER_MERGED_AWAY = "customer.merged_away"
    CONSENT_RECORDED = "customer.consent_recorded"
    CUSTOMERS_CREATED_FROM_EVENTS = "customers.created_from_events"
    DIFFERENTIATOR_ADDED = "differentiator.added"
    DIFFERENTIATOR_EDITED = "differentiator.edited"
    DIFFERENTIATOR_OUTDATED = "differentiator.outdated"
    DIFFERENTIATOR_ACKNOWLEDGED = "differentiator.acknowledged"
    ENCOUNTER_RECORDED = "encounter.recorded"
    SUGGESTION_REJECTED = "suggestion.rejected"
    USER_CREATED = "user.created"
    USER_UPDATED = "user.updated"
    TOKEN_CREATED = "token.created"
    TOKEN_REVOKED = "token.revoked"
    DATA_EXPORTED = "data.exported"
    OFFERING_CREATED = "offering.created"
    OFFERING_UPDATED = "offering.updated"
    OFFERING_DEACTIVATED = "offering.deactivated"
    MESSAGE_TEMPLATE_CHANGED = "message_template.changed"
    MESSAGE_SENT = "message.sent"
    STRATEGY_CHANGED = "strategy.changed"
    RECOVERY_OPENED = "recovery.opened"
    RECOVERY_CHANGED = "recovery.changed"
    RECOVERY_ACTION = "recovery.action"
    RECOVERY_CLOSED = "recovery.closed"
    RECOVERY_SYNCED = "recovery.synced"
    PROMISE_MADE = "promise.made"
    PROMISE_KEPT = "promise.kept"
    PROMISE_BROKEN = "promise.broken"
    REPORT_CARD_CREATED = "report_card.created"
    REPORT_CARD_UPDATED = "report_card.updated"
    REPORT_CARD_RATED = "report_card.rated"
    RATING_LINK_MADE = "report_card.link_made"
    ACTION_PLAN_ADDED = "action_plan.added"
    ACTION_PLAN_UPDATED = "action_plan.updated"
    RATING_PREDICTED = "encounter.rating_predicted"
    # Reads of a customer's data (who looked at whom), as the issue on personal data asks.
    CUSTOMER_VIEWED = "customer.viewed"
    BRIEFING_VIEWED = "customer.briefing_viewed"
    CUSTOMER_DATA_EXPORTED = "customer.data_exported"
    CUSTOMER_ERASED = "customer.erased"

    @property
    def label(self) -> str:
        """What a page calls the action (a customer's history)."""
        return _ACTION_LABELS[self]


_ACTION_LABELS = {
    AuditAction.CUSTOMER_CREATED: "Record created",
    AuditAction.CUSTOMER_UPDATED: "Details changed",
    AuditAction.CUSTOMER_MERGED: "Duplicate merged in",
    AuditAction.CUSTOMER_MERGED_AWAY: "Merged into another record",
    AuditAction.CONSENT_RECORDED: "Consent recorded",
    AuditAction.CUSTOMERS_CREATED_FROM_EVENTS: "Customers created from events",
    AuditAction.DIFFERENTIATOR_ADDED: "Learned",
    AuditAction.DIFFERENTIATOR_EDITED: "Differentiator changed",
    AuditAction.DIFFERENTIATOR_OUTDATED: "No longer true",
    AuditAction.DIFFERENTIATOR_ACKNOWLEDGED: "Knows we know",
    AuditAction.ENCOUNTER_RECORDED: "Encounter",
    AuditAction.SUGGESTION_REJECTED: "Suggestion rejected",
    AuditAction.USER_CREATED: "User created",
    AuditAction.USER_UPDATED: "User changed",
    AuditAction.TOKEN_CREATED: "API token created",
    AuditAction.TOKEN_REVOKED: "API token revoked",
    AuditAction.DATA_EXPORTED: "Data exported",
    AuditAction.CUSTOMER_VIEWED: "Sheet read",
    AuditAction.BRIEFING_VIEWED: "Briefing read",
    AuditAction.CUSTOMER_DATA_EXPORTED: "Everything about them exported",
    AuditAction.CUSTOMER_ERASED: "Personal data erased",
    AuditAction.OFFERING_CREATED: "Offering added",
    AuditAction.OFFERING_UPDATED: "Offering changed",
    AuditAction.OFFERING_DEACTIVATED: "Offering withdrawn",
    AuditAction.MESSAGE_TEMPLATE_CHANGED: "Message template changed",
    AuditAction.MESSAGE_SENT: "Message sent",
    AuditAction.STRATEGY_CHANGED: "Service strategy changed",
    AuditAction.RECOVERY_OPENED: "Recovery case opened",
    AuditAction.RECOVERY_CHANGED: "Recovery case changed",
    AuditAction.RECOVERY_ACTION: "Recovery action",
    AuditAction.RECOVERY_CLOSED: "Recovery case closed",
    AuditAction.RECOVERY_SYNCED: "Recovery cases opened from events",
    AuditAction.PROMISE_MADE: "Promise made",
    AuditAction.PROMISE_KEPT: "Promise kept",
    AuditAction.PROMISE_BROKEN: "Promise broken",
    AuditAction.REPORT_CARD_CREATED: "Report card set up",
    AuditAction.REPORT_CARD_UPDATED: "Report card changed",
    AuditAction.REPORT_CARD_RATED: "Rated a report card",
    AuditAction.RATING_LINK_MADE: "Rating link made",
    AuditAction.ACTION_PLAN_ADDED: "Action plan added",
    AuditAction.ACTION_PLAN_UPDATED: "Action plan changed",
    AuditAction.RATING_PREDICTED: "Predicted the customer's rating",
}

# Pages read: in the audit log, but a customer's history shows what happened to the record, not every look.
READ_ACTIONS = frozenset({AuditAction.CUSTOMER_VIEWED, AuditAction.BRIEFING_VIEWED})


@dataclass(frozen=True)
class AuditRecord:
    """One entry of a bulk write to the audit trail (``record_audits``)."""

    actor_id: int | None
    actor_email: str
    action: AuditAction
    summary: str
    customer_id: int | None = None
    details: dict[str, Any] = field(default_factory=dict)
    at: datetime | None = None
    """When it happened; None means now."""

    @classmethod
    def by(
        cls,
        actor: Actor,
        action: AuditAction,
        summary: str,
        *,
        customer_id: int | None = None,
        details: dict[str, Any] | None = None,
        at: datetime | None = None,
    ) -> AuditRecord:
        return cls(actor.user_id, actor.email, action, summary, customer_id, details or {}, at)


@dataclass(frozen=True)
class AuditFilter:
    """Which entries of the audit log to show: every given condition holds (``user``: an e-mail, or a
    user's id); ``since`` inclusive, ``until`` exclusive."""

    customer_id: int | None = None
    user: str | None = None
    action: str | None = None
    since: datetime | None = None
    until: datetime | None = None


class AuditPage(BaseModel):
    entries: list[AuditEntryOut]
    total: int = Field(description="How many entries match, over every page.")
    offset: int
    limit: int
