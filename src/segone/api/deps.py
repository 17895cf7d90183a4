"""What every API route depends on: the runtime, a transaction, and the authenticated actor."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Annotated, TypeVar

from fastapi import Depends, Path, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from segone.accounts import service as accounts
from segone.accounts.schemas import Actor
from segone.accounts.throttle import AuthThrottle
from segone.errors import Unauthenticated
from segone.jobs import Jobs
from segone.knowledge.categories.schemas import CategoryList
from segone.knowledge.categories.service import in_force as categories_in_force
from segone.runtime import Runtime


# The dependencies that only read the application's state are coroutines: a plain function would be run
# in the thread pool, a hop (and a turn at the GIL) per dependency on every request.
async def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


def get_db(runtime: Annotated[Runtime, Depends(get_runtime)]) -> Iterator[Session]:
    with runtime.session() as db:
        yield db


# "function" scope commits before the response is sent, so a client never sees success for a
# transaction that then fails to commit.
Db = Annotated[Session, Depends(get_db, scope="function")]

_bearer = HTTPBearer(auto_error=False, description="An API token: `segone tokens create EMAIL`.")


def get_actor(
    request: Request,
    db: Db,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Actor:
    return _actor(request, db, credentials)


T = TypeVar("T")


@dataclass(frozen=True)
class Reading:
    """The work of a route read most (the sheet, the briefing), run in one turn of the thread pool: the
    session of ``Runtime.reads``, the token's check and the view. Sync dependencies and a sync route take
    five turns a request (the session in and out, the actor, the route, the answer's validation), and each
    turn waits for the interpreter lock again behind whatever else the worker is doing."""

    request: Request
    credentials: HTTPAuthorizationCredentials | None

    async def __call__(self, view: Callable[[Session, Actor], T]) -> T:
        return await run_in_threadpool(self._run, view)

    def _run(self, view: Callable[[Session, Actor], T]) -> T:
        runtime: Runtime = self.request.app.state.runtime
        with runtime.reading() as db:
            return view(db, _actor(self.request, db, self.credentials))


async def get_reading(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Reading:
    return Reading(request, credentials)


def _actor(request: Request, db: Session, credentials: HTTPAuthorizationCredentials | None) -> Actor:
    # Failed token checks count against the caller's address, as failed sign-ins do (accounts/throttle.py).
    throttle: AuthThrottle = request.app.state.auth_throttle
    address = request.client.host if request.client else "unknown"
    throttle.check(address=address)
    try:
        if credentials is None or not credentials.credentials:
            raise Unauthenticated(
                "Send an API token as 'Authorization: Bearer <token>' (create one with "
                "'segone tokens create EMAIL')."
            )
        return accounts.actor_for(accounts.user_for_token(db, token=credentials.credentials))
    except Unauthenticated:
        throttle.failed(address=address)
        raise


async def get_jobs(request: Request) -> Jobs:
    jobs: Jobs = request.app.state.jobs
    return jobs


async def get_categories(runtime: Annotated[Runtime, Depends(get_runtime)]) -> CategoryList:
    return categories_in_force(runtime.settings)


CurrentActor = Annotated[Actor, Depends(get_actor)]
Read = Annotated[Reading, Depends(get_reading)]
RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
Categories = Annotated[CategoryList, Depends(get_categories)]
JobsDep = Annotated[Jobs, Depends(get_jobs)]


# Ids are 32-bit integers on PostgreSQL: larger ones are refused as invalid, not looked up.
MAX_ID = 2**31 - 1
CustomerId = Annotated[int, Path(ge=1, le=MAX_ID, description="The customer's id.")]
DifferentiatorId = Annotated[int, Path(ge=1, le=MAX_ID, description="The differentiator's id.")]
EncounterId = Annotated[int, Path(ge=1, le=MAX_ID, description="The encounter's id.")]
UserId = Annotated[int, Path(ge=1, le=MAX_ID, description="The user's id.")]
TokenId = Annotated[int, Path(ge=1, le=MAX_ID, description="The API token's id.")]
