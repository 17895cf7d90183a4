"""Use cases of the accounts domain: users, teams, sign-in and API tokens."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Collection, Iterable, Iterator, Sequence
from datetime import timedelta

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from segone.accounts import audit
from segone.accounts.audit import ReadLog as ReadLog
from segone.accounts.audit import audit_trail as audit_trail
from segone.accounts.audit import close_erasure as close_erasure
from segone.accounts.audit import erasure_of as erasure_of
from segone.accounts.audit import open_erasure as open_erasure
from segone.accounts.audit import record_audit as record_audit
from segone.accounts.audit import record_audits as record_audits
from segone.accounts.audit import record_read as record_read
from segone.accounts.models import ApiToken, AuditEntry, Erasure, Team, User
from segone.accounts.passwords import hash_password, verify_password
from segone.accounts.schemas import (
    Actor,
    AuditAction,
    AuditEntryOut,
    AuditFilter,
    AuditPage,
    Member,
    Permission,
    Person,
    Role,
    TokenCreated,
    TokenOut,
    UserCreate,
    UserOut,
    UserUpdate,
)
from segone.clock import utcnow
from segone.errors import Conflict, Forbidden, Invalid, NotFound, Unauthenticated
from segone.exporting import Export
from segone.storage.batching import chunks
from segone.storage.subject import Rows, rows_about

TOKEN_PREFIX = "sg1_"


def require(actor: Actor, permission: Permission) -> None:
    if not actor.can(permission):
        raise Forbidden(
            f"The {actor.role.value} role may not {permission.value.replace('_', ' ')}.",
            details={"permission": permission.value, "role": actor.role.value},
        )


def actor_for(user: User) -> Actor:
    return Actor(user_id=user.id, email=user.email, role=Role(user.role))


def to_out(user: User) -> UserOut:
    return UserOut(
        id=user.id,
        email=user.email,
        name=user.name,
        role=Role(user.role),
        team=user.team.name if user.team else None,
        active=user.active,
        created_at=user.created_at,
    )


def _team_named(db: Session, name: str) -> Team:
    team = db.scalar(select(Team).where(Team.name == name))
    if team is None:
        team = Team(name=name)
        db.add(team)
        db.flush()
    return team


def get(db: Session, *, actor: Actor, user_id: int) -> User:
    if actor.user_id != user_id:
        require(actor, Permission.MANAGE_USERS)
    user = db.get(User, user_id)
    if user is None:
        raise NotFound(f"There is no user {user_id}.")
    return user


def get_by_email(db: Session, *, email: str) -> User:
    user = db.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None:
        raise NotFound(f"There is no user with the e-mail address '{email}'.")
    return user


def list_users(db: Session, *, actor: Actor) -> list[User]:
    require(actor, Permission.MANAGE_USERS)
    return list(db.scalars(select(User).order_by(User.email)))


def create(db: Session, *, actor: Actor, data: UserCreate) -> User:
    require(actor, Permission.MANAGE_USERS)
    if db.scalar(select(User.id).where(User.email == data.email)) is not None:
        raise Conflict(f"A user with the e-mail address '{data.email}' exists already.")
    user = User(
        email=data.email,
        name=data.name or data.email.split("@")[0],
        role=data.role.value,
        team=_team_named(db, data.team) if data.team else None,
        password_hash=hash_password(data.password) if data.password else None,
    )
    db.add(user)
    db.flush()
    record_audit(
        db, actor=actor, action=AuditAction.USER_CREATED, summary=f"User {user.email} ({user.role}) created"
    )
    return user


def update(db: Session, *, actor: Actor, user_id: int, data: UserUpdate) -> User:
    require(actor, Permission.MANAGE_USERS)
    user = get(db, actor=actor, user_id=user_id)
    changes = data.model_dump(exclude_unset=True)
    loses_admin = (data.role is not None and data.role != Role.ADMIN) or data.active is False
    if user.role == Role.ADMIN.value and user.active and loses_admin:
        other_admins = db.scalar(
            select(func.count(User.id)).where(
                User.role == Role.ADMIN.value, User.active.is_(True), User.id != user.id
            )
        )
        if not other_admins:
            raise Conflict(
                f"{user.email} is the last active admin; make another user admin first, "
                "or nobody could manage users any more."
            )
    if "name" in changes and data.name is not None:
        user.name = data.name
    if data.role is not None:
        user.role = data.role.value
    if "team" in changes:
        user.team = _team_named(db, data.team) if data.team else None
    if data.password is not None:
        user.password_hash = hash_password(data.password)
    if data.active is not None:
        user.active = data.active
    if data.password is not None or data.active is False:
        end_sessions(user)
    changes.pop("password", None)
    record_audit(
        db,
        actor=actor,
        action=AuditAction.USER_UPDATED,
        summary=f"User {user.email} updated",
        details={k: str(v) for k, v in changes.items()},
    )
    return user


def authenticate(db: Session, *, email: str, password: str) -> User:
    """The active user with this e-mail and password; one message for every failure, by design."""
    user = db.scalar(select(User).where(User.email == email.strip().lower()))
    if (
        user is None
        or not user.active
        or not user.password_hash
        or not verify_password(user.password_hash, password)
    ):
        raise Unauthenticated("The e-mail address or the password is wrong.")
    return user


def session_user(db: Session, *, user_id: int, session_version: int) -> User:
    """The active user a web session names; Unauthenticated once they are gone or deactivated, or once
    their sessions were ended (sign-out anywhere, a new password)."""
    user = db.get(User, user_id)
    if user is None or not user.active or user.session_version != session_version:
        raise Unauthenticated("Your session has ended; sign in again.")
    return user


def end_sessions(user: User) -> None:
    """Every web session of this user stops working at its next request."""
    user.session_version = (user.session_version or 0) + 1


def sign_out(db: Session, *, user_id: int) -> None:
    """Signing out ends the user's sessions everywhere: a copied cookie is worthless afterwards."""
    user = db.get(User, user_id)
    if user is not None:
        end_sessions(user)


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _token_out(token: ApiToken) -> TokenOut:
    return TokenOut(
        id=token.id,
        name=token.name,
        prefix=token.prefix,
        created_at=token.created_at,
        last_used_at=token.last_used_at,
        revoked_at=token.revoked_at,
    )


def create_token(db: Session, *, actor: Actor, user_id: int, name: str = "api") -> TokenCreated:
    if actor.user_id != user_id:
        require(actor, Permission.MANAGE_USERS)
    else:
        require(actor, Permission.MANAGE_OWN_TOKENS)
    user = db.get(User, user_id)
    if user is None:
        raise NotFound(f"There is no user {user_id}.")
    if not user.active:
        raise Invalid(f"User {user.email} is deactivated; activate them before creating a token.")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user_id=user.id, name=name, token_hash=_hash_token(secret), prefix=secret[:10])
    db.add(token)
    db.flush()
    record_audit(
        db, actor=actor, action=AuditAction.TOKEN_CREATED, summary=f"API token '{name}' for {user.email}"
    )
    return TokenCreated(**_token_out(token).model_dump(), token=secret)


def list_tokens(db: Session, *, actor: Actor, user_id: int) -> list[TokenOut]:
    if actor.user_id != user_id:
        require(actor, Permission.MANAGE_USERS)
    rows = db.scalars(select(ApiToken).where(ApiToken.user_id == user_id).order_by(ApiToken.id))
    return [_token_out(t) for t in rows]


def revoke_token(db: Session, *, actor: Actor, token_id: int) -> TokenOut:
    token = db.get(ApiToken, token_id)
    if token is None or (actor.user_id != token.user_id and not actor.can(Permission.MANAGE_USERS)):
        raise NotFound(f"There is no token {token_id}.")
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        record_audit(db, actor=actor, action=AuditAction.TOKEN_REVOKED, summary=f"API token {token.prefix}…")
    return _token_out(token)


# The token with its user, in one query built once: every API request asks.
_TOKEN_WITH_USER = (
    select(ApiToken, User)
    .outerjoin(User, User.id == ApiToken.user_id)
    .where(ApiToken.token_hash == bindparam("token_hash"))
)


def user_for_token(db: Session, *, token: str) -> User:
    found = db.execute(_TOKEN_WITH_USER, {"token_hash": _hash_token(token)}).first()
    if found is None or found[0].revoked_at is not None:
        raise Unauthenticated("The API token is unknown or revoked.")
    row, user = found
    if user is None or not user.active:
        raise Unauthenticated("The API token's user is deactivated.")
    now = utcnow()
    # Written at most once a minute, so that reads through the API stay reads.
    if row.last_used_at is None or now - row.last_used_at > timedelta(minutes=1):
        row.last_used_at = now
    return user


def count_users(db: Session) -> int:
    return int(db.scalar(select(func.count(User.id))) or 0)


# Built once: pages, the API and every briefing name people, and building costs as much as running it.
_PEOPLE = select(User.id, User.name, User.email).where(User.id.in_(bindparam("ids", expanding=True)))


def people_by_id(db: Session, user_ids: Iterable[int | None]) -> dict[int, Person]:
    """The name and e-mail of each of these users (None ids skipped): how pages and the API name who did
    what."""
    ids = sorted({i for i in user_ids if i is not None})
    found: dict[int, Person] = {}
    for chunk in chunks(ids, 1000):
        rows = db.execute(_PEOPLE, {"ids": chunk})
        found.update(
            {user_id: Person(name=name.strip() or email, email=email) for user_id, name, email in rows}
        )
    return found


def count_active_users(db: Session) -> int:
    return int(db.scalar(select(func.count()).where(User.active.is_(True))) or 0)


def team_names_by_user(db: Session) -> dict[int, str]:
    """The team of every user who is in one."""
    return dict(db.execute(select(User.id, Team.name).join(Team, Team.id == User.team_id)).all())


def customers_by_latest_change(db: Session) -> Iterator[int]:
    """Ids of the customers the audit trail names, the most recently changed first."""
    latest = func.max(AuditEntry.at)
    stmt = (
        select(AuditEntry.customer_id)
        .where(AuditEntry.customer_id.is_not(None))
        .group_by(AuditEntry.customer_id)
        .order_by(latest.desc(), AuditEntry.customer_id.desc())
    )
    for customer_id in db.scalars(stmt.execution_options(yield_per=500)):
        if customer_id is not None:
            yield customer_id


def user_ids_by_email(db: Session, *, emails: Collection[str]) -> dict[str, int]:
    """The ids of the users with these e-mail addresses (compared without case), by lowercase address."""
    wanted = sorted({email.strip().lower() for email in emails})
    found: dict[str, int] = {}
    for chunk in chunks(wanted, 1000):
        query = select(User.email, User.id).where(func.lower(User.email).in_(chunk))
        found.update({email.lower(): user_id for email, user_id in db.execute(query)})
    return found


# --- teams and their members, as other domains need them (report cards) -------------------------------


def teams(db: Session) -> dict[int, str]:
    """Every team's name by its id, in the order of the names."""
    return dict(db.execute(select(Team.id, Team.name).order_by(func.lower(Team.name), Team.id)).all())


def team_named(db: Session, *, name: str) -> int:
    """The id of the team of this name (compared without case); NotFound naming the teams there are."""
    wanted = " ".join(name.split())
    found = db.scalar(select(Team.id).where(func.lower(Team.name) == wanted.lower()))
    if found is None:
        known = ", ".join(teams(db).values()) or "none yet (a team is made with its first user)"
        raise NotFound(f"There is no team '{wanted}'; the teams are: {known}.")
    return found


def _member(user: User) -> Member:
    return Member(
        id=user.id,
        email=user.email,
        name=user.name.strip() or user.email,
        team_id=user.team_id,
        team=user.team.name if user.team else None,
        active=user.active,
    )


def member(db: Session, *, user_id: int) -> Member:
    user = db.get(User, user_id)
    if user is None:
        raise NotFound(f"There is no user {user_id}.")
    return _member(user)


def member_by_email(db: Session, *, email: str) -> Member:
    return _member(get_by_email(db, email=email))


def members_by_email(db: Session, *, emails: Collection[str]) -> dict[str, Member]:
    """The users with these e-mail addresses (compared without case), by lowercase address."""
    wanted = sorted({email.strip().lower() for email in emails})
    found: dict[str, Member] = {}
    for chunk in chunks(wanted, 1000):
        for user in db.scalars(select(User).where(func.lower(User.email).in_(chunk))):
            found[user.email.lower()] = _member(user)
    return found


def data_about(db: Session, *, customer_ids: Sequence[int]) -> dict[str, Rows]:
    """Every audit entry about these customers: who read or changed what, and when; and the erasure records
    of those ids (none for a customer still held: an erased record is gone)."""
    return {
        "audit_log": rows_about(db, AuditEntry, "customer_id", customer_ids),
        "erasures": rows_about(db, Erasure, "customer_id", customer_ids),
    }


def erase_about(db: Session, *, customer_ids: Sequence[int]) -> dict[str, int]:
    """Blank the summary and details of the audit entries about these customers (the entries stay: who
    did what when); only between ``open_erasure`` and ``close_erasure``, which the triggers check."""
    return {"audit_log": audit.redact_about(db, customer_ids=customer_ids)}


def audit_log(
    db: Session, *, actor: Actor, wanted: AuditFilter, offset: int = 0, limit: int = 100
) -> AuditPage:
    """Who read or changed which customer's data, and every other change, newest first, as filtered;
    administrators only (the user-management permission)."""
    require(actor, Permission.MANAGE_USERS)
    entries, total = audit.search(db, wanted, offset=offset, limit=limit)
    people = people_by_id(db, [entry.actor_id for entry in entries])
    return AuditPage(
        entries=[
            AuditEntryOut.model_validate(entry).model_copy(
                update={"actor_name": people[entry.actor_id].name if entry.actor_id in people else None}
            )
            for entry in entries
        ],
        total=total,
        offset=offset,
        limit=limit,
    )


def export_audit_log(db: Session, *, actor: Actor, wanted: AuditFilter | None = None) -> Export:
    """The audit log (as filtered) for a file, oldest first; administrators only. Entry points go through
    ``segone.views.exports``, which records the export in the log itself."""
    require(actor, Permission.MANAGE_USERS)
    return audit.export(db, wanted or AuditFilter())
