"""Plain factory functions for tests: each makes one committed row and returns what tests need."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from segone.accounts import service as accounts
from segone.accounts.schemas import SYSTEM, Actor, Role, UserCreate
from segone.customers import service as customers
from segone.customers.schemas import ConsentChange, ConsentSource, CustomerCreate, CustomerKind
from segone.runtime import Runtime

PASSWORD = "correct horse battery"
_counter = itertools.count(1)


@dataclass(frozen=True)
class MadeUser:
    id: int
    email: str
    role: Role
    actor: Actor
    token: str


def make_user(runtime: Runtime, role: Role = Role.FRONTLINE, team: str | None = "Store 1") -> MadeUser:
    n = next(_counter)
    email = f"{role.value}{n}@example.com"
    with runtime.session() as db:
        user = accounts.create(
            db,
            actor=SYSTEM,
            data=UserCreate(
                email=email, name=f"{role.value.title()} {n}", role=role, team=team, password=PASSWORD
            ),
        )
        token = accounts.create_token(db, actor=SYSTEM, user_id=user.id, name="tests").token
        return MadeUser(user.id, email, role, accounts.actor_for(user), token)


def make_customer(
    runtime: Runtime,
    name: str | None = None,
    kind: CustomerKind = CustomerKind.PERSON,
    identities: list[str] | None = None,
    attributes: dict[str, object] | None = None,
) -> int:
    n = next(_counter)
    with runtime.session() as db:
        customer = customers.create(
            db,
            actor=SYSTEM,
            data=CustomerCreate(
                name=name or f"Customer {n}",
                kind=kind,
                identities=identities if identities is not None else [f"email:customer{n}@example.com"],
                attributes=attributes or {},
            ),
        )
        return customer.id


def refuse_consent(runtime: Runtime, customer_id: int, *purposes: str) -> None:
    """Record that the customer refuses ``purposes`` (the test suite grants consent by default)."""
    record_consent(runtime, customer_id, source=ConsentSource.API, **dict.fromkeys(purposes, False))


def record_consent(
    runtime: Runtime,
    customer_id: int,
    *,
    default_granted: bool = True,
    source: ConsentSource = ConsentSource.FORM,
    **purposes: bool,
) -> None:
    """Record the customer's consent to ``purposes`` (``profiling=True``, …), as said on a form."""
    with runtime.session() as db:
        customers.record_consent(
            db,
            actor=SYSTEM,
            customer_id=customer_id,
            change=ConsentChange(**purposes),
            source=source,
            default_granted=default_granted,
        )
