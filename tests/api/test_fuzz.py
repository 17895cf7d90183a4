"""Every operation of the OpenAPI document, fuzzed by schemathesis as each role (docs/security.md, "Input").

For each role a server of its own over a throwaway store seeded with the demo's customers, facts,
encounters, users and offerings (ids from 1, so the small integers hypothesis likes name real records some
of the time) answers generated requests, valid and invalid; every answer must be no 5xx, a status the
document lists for the operation, with the content type and body schema it declares.

The examples per operation are few in ``make test`` and the seed is fixed, so a run is reproducible;
``SEGONE_FUZZ_EXAMPLES=200 pytest tests/api/test_fuzz.py`` is the longer run (docs/security.md).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import BaseSchema, Case, GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from segone import demo
from segone.accounts import service as accounts
from segone.accounts.schemas import SYSTEM, Role, UserUpdate
from segone.errors import Unauthenticated
from segone.knowledge.categories.service import in_force as categories_in_force
from segone.runtime import Runtime
from segone.server import create_app
from segone.settings import Settings
from segone.storage.engine import create_engine_for
from tests.api.helpers import api_user
from tests.conftest import UNTHROTTLED, LiveServer

# One worker runs them all (make test runs pytest -n 2): each worker would seed the stores again.
pytestmark = pytest.mark.xdist_group("fuzz")

EXAMPLES = int(os.environ.get("SEGONE_FUZZ_EXAMPLES", "4"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]


@dataclass
class Fuzzed:
    runtime: Runtime
    server: LiveServer
    user_id: int
    role: Role
    token: str


def _runtime(data_dir: Path) -> Runtime:
    settings_ = Settings(
        data_dir=data_dir,
        database_url=f"sqlite:///{data_dir / 'segone.db'}",
        secret_key="test-secret-key",
        flush_interval_seconds=0,
        **UNTHROTTLED,
    )
    return Runtime(settings_, engine=create_engine_for(settings_))


def _seed(runtime: Runtime) -> None:
    """A small demo (customers, facts, encounters, users, offerings), and one record of each kind the
    demo does not make, through the API as their owners make them."""
    with runtime.session() as db:
        demo.load(
            db,
            actor=SYSTEM,
            categories=categories_in_force(runtime.settings),
            people=12,
            businesses=4,
            day=date(2026, 11, 30),
        )
    admin = api_user(runtime, Role.ADMIN, team="Marketing")
    api_user(runtime, Role.FRONTLINE, team="Sales")
    server = LiveServer(runtime)
    headers = {"Authorization": f"Bearer {admin.token}"}
    try:
        with httpx.Client(base_url=f"{server.url}/api/v1", headers=headers, timeout=60) as client:
            for path, body in [
                ("/surveys", {"name": "Seeded survey"}),
                ("/promises", {"customer_id": 1, "text": "Call back", "due_on": "2099-01-01"}),
                ("/recovery-cases", {"customer_id": 1, "summary": "Late delivery"}),
                (
                    "/cards",
                    {"supplier_team": "Marketing", "customer_team": "Sales", "deliverables": ["Leads"]},
                ),
                ("/surveys/1/answers", {"agreement": 4}),
            ]:
                made = client.post(path, json=body)
                assert made.status_code == 201, (path, made.text)
    finally:
        server.stop()


@pytest.fixture(scope="session")
def seeded_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The seeded store's folder, made once and copied for each role."""
    data_dir = tmp_path_factory.mktemp("fuzz-seed")
    runtime = _runtime(data_dir)
    try:
        runtime.upgrade_schema()
        _seed(runtime)
    finally:
        runtime.dispose()
    return data_dir


@pytest.fixture(scope="module", params=[role.value for role in Role])
def fuzzed(
    request: pytest.FixtureRequest, seeded_store: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Fuzzed]:
    role = Role(request.param)
    data_dir = tmp_path_factory.mktemp(f"fuzz-{role.value}") / "store"
    shutil.copytree(seeded_store, data_dir)
    runtime = _runtime(data_dir)
    user = api_user(runtime, role)
    server = LiveServer(runtime)
    try:
        yield Fuzzed(runtime, server, user.id, role, user.token)
    finally:
        server.stop()
        runtime.dispose()


def _document() -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as scratch:
        return create_app(Settings(data_dir=Path(scratch), secret_key="fuzz")).openapi()


# The servers under test are made with the same (default) settings, so they serve this same document.
DOCUMENT = _document()
OPERATIONS = [f"{method.upper()} {path}" for path, item in DOCUMENT["paths"].items() for method in item]


@pytest.fixture(scope="session")
def api_schema() -> BaseSchema:
    return schemathesis.openapi.from_dict(DOCUMENT)


def _keep_acting(fuzzed: Fuzzed) -> None:
    """The fuzzer may revoke its own token, deactivate or demote its own user: put it back, so the next
    request is still made as the role under test."""
    with fuzzed.runtime.session() as db:
        user = accounts.get(db, actor=SYSTEM, user_id=fuzzed.user_id)
        if not user.active or user.role != fuzzed.role:
            accounts.update(
                db, actor=SYSTEM, user_id=fuzzed.user_id, data=UserUpdate(active=True, role=fuzzed.role)
            )
        try:
            accounts.user_for_token(db, token=fuzzed.token)
        except Unauthenticated:
            fuzzed.token = accounts.create_token(db, actor=SYSTEM, user_id=fuzzed.user_id, name="fuzz").token


@pytest.mark.parametrize("label", OPERATIONS)
def test_every_operation_as_every_role(label: str, fuzzed: Fuzzed, api_schema: BaseSchema) -> None:
    operation = api_schema.find_operation_by_label(label)
    assert operation is not None, label
    cases = st.one_of(
        operation.as_strategy(GenerationMode.POSITIVE), operation.as_strategy(GenerationMode.NEGATIVE)
    )

    # Derandomised and without hypothesis's example database, so every run sends the same requests; no
    # shrinking (a failure is reported as found, with its curl line) and no deadline or health checks:
    # a request to a real server over a real store is slower than hypothesis expects of a test function.
    @given(cases)
    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def answers_as_documented(case: Case) -> None:
        _keep_acting(fuzzed)
        case.call_and_validate(
            base_url=fuzzed.server.url,
            headers={"Authorization": f"Bearer {fuzzed.token}"},
            checks=CHECKS,
            timeout=60,
        )

    answers_as_documented()
