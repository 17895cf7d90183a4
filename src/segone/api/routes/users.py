"""Your own account and API tokens; users, roles and teams (administrators)."""

from __future__ import annotations

from fastapi import APIRouter, Body, status

from segone.accounts import service as accounts
from segone.accounts.schemas import (
    Actor,
    TokenCreate,
    TokenCreated,
    TokenOut,
    UserCreate,
    UserOut,
    UserUpdate,
)
from segone.api.deps import CurrentActor, Db, TokenId, UserId
from segone.api.errors import responses
from segone.errors import Unauthenticated

router = APIRouter()


def _own_id(actor: Actor) -> int:
    if actor.user_id is None:  # only the CLI's operator has no user, and it never calls the API
        raise Unauthenticated("This request needs a user's API token.")
    return actor.user_id


@router.get("/me", response_model=UserOut, summary="Who am I?", tags=["me"], responses=responses(401))
def me(db: Db, actor: CurrentActor) -> UserOut:
    """The user the API token belongs to, with their role and team."""
    return accounts.to_out(accounts.get(db, actor=actor, user_id=_own_id(actor)))


@router.get(
    "/me/tokens",
    response_model=list[TokenOut],
    summary="My API tokens",
    tags=["me"],
    responses=responses(401, 403),
)
def my_tokens(db: Db, actor: CurrentActor) -> list[TokenOut]:
    """Your API tokens, revoked ones included; the secrets themselves are never shown again."""
    return accounts.list_tokens(db, actor=actor, user_id=_own_id(actor))


@router.post(
    "/me/tokens",
    response_model=TokenCreated,
    status_code=status.HTTP_201_CREATED,
    summary="Create an API token for myself",
    tags=["me"],
    responses=responses(401, 403, 422),
)
def create_my_token(
    db: Db, actor: CurrentActor, data: TokenCreate | None = Body(default=None)
) -> TokenCreated:
    """A new API token acting as you. The response holds the secret (`token`) this once only: keep it
    safe and send it as `Authorization: Bearer <token>`. The body may be left out (name `api`)."""
    name = (data or TokenCreate()).name
    return accounts.create_token(db, actor=actor, user_id=_own_id(actor), name=name)


@router.delete(
    "/me/tokens/{token_id}",
    response_model=TokenOut,
    summary="Revoke an API token",
    tags=["me"],
    responses=responses(401, 404, 422),
)
def revoke_my_token(db: Db, actor: CurrentActor, token_id: TokenId) -> TokenOut:
    """Revoke one of your API tokens (administrators may revoke anyone's): it stops working at once.
    Revoking a revoked token changes nothing. Another user's token is reported as not found."""
    return accounts.revoke_token(db, actor=actor, token_id=token_id)


@router.get(
    "/users",
    response_model=list[UserOut],
    summary="List users",
    tags=["users"],
    responses=responses(401, 403),
)
def list_users(db: Db, actor: CurrentActor) -> list[UserOut]:
    """Every user, by e-mail address. Administrators only."""
    return [accounts.to_out(u) for u in accounts.list_users(db, actor=actor)]


@router.post(
    "/users",
    response_model=UserOut,
    status_code=status.HTTP_201_CREATED,
    summary="Add a user",
    tags=["users"],
    responses=responses(401, 403, 409, 422),
)
def create_user(db: Db, actor: CurrentActor, data: UserCreate) -> UserOut:
    """A new user with a role (frontline, manager, analyst or admin) and, optionally, a team (created
    when new) and a password for the web UI. Administrators only."""
    return accounts.to_out(accounts.create(db, actor=actor, data=data))


@router.get(
    "/users/{user_id}",
    response_model=UserOut,
    summary="Get a user",
    tags=["users"],
    responses=responses(401, 403, 404, 422),
)
def get_user(db: Db, actor: CurrentActor, user_id: UserId) -> UserOut:
    """A user. Administrators may see anyone; everyone else only themselves."""
    return accounts.to_out(accounts.get(db, actor=actor, user_id=user_id))


@router.patch(
    "/users/{user_id}",
    response_model=UserOut,
    summary="Change a user",
    tags=["users"],
    responses=responses(401, 403, 404, 409, 422),
)
def update_user(db: Db, actor: CurrentActor, user_id: UserId, data: UserUpdate) -> UserOut:
    """Change a user's name, role, team or password, or deactivate them (`"active": false`: their
    tokens and sessions stop working). Only the fields sent change. Administrators only. 409 when the
    change would leave no active administrator."""
    return accounts.to_out(accounts.update(db, actor=actor, user_id=user_id, data=data))


@router.post(
    "/users/{user_id}/tokens",
    response_model=TokenCreated,
    status_code=status.HTTP_201_CREATED,
    summary="Create an API token for a user",
    tags=["users"],
    responses=responses(401, 403, 404, 422),
)
def create_user_token(
    db: Db, actor: CurrentActor, user_id: UserId, data: TokenCreate | None = Body(default=None)
) -> TokenCreated:
    """A new API token acting as that user, e.g. for a system that feeds data in. The secret is in the
    response this once only. Administrators only (or the user themselves)."""
    name = (data or TokenCreate()).name
    return accounts.create_token(db, actor=actor, user_id=user_id, name=name)
