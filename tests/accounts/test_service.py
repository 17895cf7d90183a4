"""Users, sign-in and API tokens."""

from __future__ import annotations

import itertools

import pytest

from segone.accounts import service as accounts
from segone.accounts.schemas import ROLE_PERMISSIONS, SYSTEM, Permission, Role, UserCreate, UserUpdate
from segone.accounts.service import require
from segone.errors import Conflict, Forbidden, Unauthenticated
from segone.runtime import Runtime
from tests.factories import PASSWORD, make_user


def test_roles_are_cumulative() -> None:
    order = [Role.FRONTLINE, Role.MANAGER, Role.ANALYST, Role.ADMIN]
    for lower, higher in itertools.pairwise(order):
        assert ROLE_PERMISSIONS[lower] < ROLE_PERMISSIONS[higher]
    assert Permission.ACKNOWLEDGE in ROLE_PERMISSIONS[Role.FRONTLINE]
    assert Permission.IMPORT_DATA not in ROLE_PERMISSIONS[Role.MANAGER]
    assert Permission.MANAGE_USERS not in ROLE_PERMISSIONS[Role.ANALYST]


def test_create_user_hashes_the_password_and_signs_in(runtime: Runtime) -> None:
    with runtime.session() as db:
        user = accounts.create(
            db,
            actor=SYSTEM,
            data=UserCreate(email=" Ann@Example.COM ", role=Role.MANAGER, team="Leeds", password=PASSWORD),
        )
        assert user.email == "ann@example.com"
        assert user.password_hash is not None and PASSWORD not in user.password_hash
    with runtime.session() as db:
        signed_in = accounts.authenticate(db, email="ANN@example.com", password=PASSWORD)
        assert accounts.to_out(signed_in).team == "Leeds"
        with pytest.raises(Unauthenticated, match="wrong"):
            accounts.authenticate(db, email="ann@example.com", password="not the password")


def test_duplicate_email_is_a_conflict(runtime: Runtime) -> None:
    made = make_user(runtime)
    with runtime.session() as db, pytest.raises(Conflict, match="exists already"):
        accounts.create(db, actor=SYSTEM, data=UserCreate(email=made.email, role=Role.ADMIN))


def test_deactivated_user_cannot_sign_in_or_use_tokens(runtime: Runtime) -> None:
    made = make_user(runtime)
    with runtime.session() as db:
        accounts.update(db, actor=SYSTEM, user_id=made.id, data=UserUpdate(active=False))
    with runtime.session() as db:
        with pytest.raises(Unauthenticated):
            accounts.authenticate(db, email=made.email, password=PASSWORD)
        with pytest.raises(Unauthenticated):
            accounts.user_for_token(db, token=made.token)


def test_tokens_resolve_until_revoked(runtime: Runtime) -> None:
    made = make_user(runtime)
    with runtime.session() as db:
        assert accounts.user_for_token(db, token=made.token).id == made.id
        (listed,) = accounts.list_tokens(db, actor=made.actor, user_id=made.id)
        assert made.token.startswith(listed.prefix)
        accounts.revoke_token(db, actor=made.actor, token_id=listed.id)
    with runtime.session() as db, pytest.raises(Unauthenticated, match="revoked"):
        accounts.user_for_token(db, token=made.token)


def test_only_admins_manage_other_users(runtime: Runtime) -> None:
    frontline = make_user(runtime, Role.FRONTLINE)
    other = make_user(runtime, Role.FRONTLINE)
    with runtime.session() as db:
        with pytest.raises(Forbidden):
            accounts.list_users(db, actor=frontline.actor)
        with pytest.raises(Forbidden):
            accounts.create_token(db, actor=frontline.actor, user_id=other.id)
        with pytest.raises(Forbidden, match="frontline role may not manage users"):
            require(frontline.actor, Permission.MANAGE_USERS)


def test_the_last_active_admin_cannot_be_demoted_or_deactivated(runtime: Runtime) -> None:
    admin = make_user(runtime, Role.ADMIN)
    with runtime.session() as db:
        with pytest.raises(Conflict, match="last active admin"):
            accounts.update(db, actor=SYSTEM, user_id=admin.id, data=UserUpdate(role=Role.MANAGER))
        with pytest.raises(Conflict, match="last active admin"):
            accounts.update(db, actor=SYSTEM, user_id=admin.id, data=UserUpdate(active=False))
    second = make_user(runtime, Role.ADMIN)
    with runtime.session() as db:
        accounts.update(db, actor=SYSTEM, user_id=admin.id, data=UserUpdate(role=Role.MANAGER))
        assert accounts.get(db, actor=SYSTEM, user_id=second.id).role == Role.ADMIN.value
