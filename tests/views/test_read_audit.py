"""Reads in the audit log: queued by a server's ``ReadLog`` and written in batches, each exactly once."""

from __future__ import annotations

import time

import httpx
import pytest
from sqlalchemy import func, select

from segone.accounts import service as accounts
from segone.accounts.audit import ERASED_SUMMARY
from segone.accounts.models import AuditEntry
from segone.accounts.schemas import READ_ACTIONS, Actor, AuditAction, Role
from segone.knowledge.categories.service import in_force as categories_in_force
from segone.runtime import Runtime
from segone.views import erasure
from segone.views.briefing import briefing
from segone.views.customer_sheet import customer_sheet
from tests.api.helpers import api_user
from tests.conftest import serving_with
from tests.factories import make_customer, make_user

NEVER = 3600.0  # no tick during a test: only ``flush`` and ``stop`` write


def _read(
    runtime: Runtime,
    actor: Actor,
    customer_id: int,
    *,
    sheet: bool = False,
    fail: bool = False,
    reading: bool = False,
) -> None:
    """A read in a transaction of its own (``reading``: in a session without one, as the pages read most
    are served); with ``fail``, one that raises after reading (rolled back)."""
    view = customer_sheet if sheet else briefing
    with runtime.reading() if reading else runtime.session() as db:
        view(
            db,
            actor=actor,
            customer_id=customer_id,
            categories=categories_in_force(runtime.settings),
            freshness_months=runtime.settings.freshness_months,
            currency=runtime.settings.currency,
        )
        if fail:
            raise RuntimeError("the answer was never sent")


def _reads(runtime: Runtime) -> list[tuple[str, int | None, str]]:
    with runtime.session() as db:
        rows = db.execute(
            select(AuditEntry.action, AuditEntry.customer_id, AuditEntry.actor_email)
            .where(AuditEntry.action.in_([a.value for a in READ_ACTIONS]))
            .order_by(AuditEntry.id)
        )
        return [tuple(row) for row in rows]  # type: ignore[misc]


def test_reads_under_batching_land_once_after_a_flush_and_at_shutdown(runtime: Runtime) -> None:
    ann, bob = make_customer(runtime, "Ann"), make_customer(runtime, "Bob")
    reader = make_user(runtime, Role.FRONTLINE).actor
    reads = accounts.ReadLog(runtime.sessions, interval_seconds=NEVER)
    reads.start()
    try:
        _read(runtime, reader, ann)
        _read(runtime, reader, bob)
        _read(runtime, reader, ann, sheet=True)
        assert _reads(runtime) == []  # queued, not written by the request
        assert reads.queued == 3
        assert reads.flush() == 3
        briefed, viewed = AuditAction.BRIEFING_VIEWED.value, AuditAction.CUSTOMER_VIEWED.value
        first = [(briefed, ann, reader.email), (briefed, bob, reader.email), (viewed, ann, reader.email)]
        assert _reads(runtime) == first
        assert reads.flush() == 0 and _reads(runtime) == first
        _read(runtime, reader, bob, sheet=True)
        _read(runtime, reader, bob)
    finally:
        reads.stop()
    assert _reads(runtime) == [*first, (viewed, bob, reader.email), (briefed, bob, reader.email)]
    with runtime.session() as db:
        [summary] = db.scalars(
            select(AuditEntry.summary).where(AuditEntry.action == viewed, AuditEntry.customer_id == bob)
        )
        assert summary == "Read the sheet of Bob"
    # Stopped: a read is written in its own transaction again, once.
    _read(runtime, reader, ann)
    assert len(_reads(runtime)) == 6 and reads.queued == 0


def test_reads_in_sessions_without_a_transaction_are_queued_too(runtime: Runtime) -> None:
    ann = make_customer(runtime, "Ann")
    reader = make_user(runtime, Role.FRONTLINE).actor
    reads = accounts.ReadLog(runtime.sessions, interval_seconds=NEVER)
    reads.start()
    try:
        _read(runtime, reader, ann, reading=True)
        _read(runtime, reader, ann, sheet=True, reading=True)
        assert _reads(runtime) == [] and reads.queued == 2  # queued, not written by the request
        with pytest.raises(RuntimeError, match="never sent"):
            _read(runtime, reader, ann, fail=True, reading=True)
        assert reads.queued == 2
    finally:
        reads.stop()
    briefed, viewed = AuditAction.BRIEFING_VIEWED.value, AuditAction.CUSTOMER_VIEWED.value
    assert _reads(runtime) == [(briefed, ann, reader.email), (viewed, ann, reader.email)]


def test_a_read_whose_transaction_rolls_back_is_not_logged(runtime: Runtime) -> None:
    ann = make_customer(runtime, "Ann")
    reader = make_user(runtime, Role.FRONTLINE).actor
    reads = accounts.ReadLog(runtime.sessions, interval_seconds=NEVER)
    reads.start()
    try:
        with pytest.raises(RuntimeError, match="never sent"):
            _read(runtime, reader, ann, fail=True)
        assert reads.queued == 0
    finally:
        reads.stop()
    assert _reads(runtime) == []


def test_a_read_with_no_read_log_is_in_the_log_when_it_commits(runtime: Runtime) -> None:
    """No `ReadLog` (`flush_interval_seconds` 0, the tests' setting; the CLI): nothing is queued."""
    ann = make_customer(runtime, "Ann")
    reader = make_user(runtime, Role.FRONTLINE).actor
    _read(runtime, reader, ann)
    assert _reads(runtime) == [(AuditAction.BRIEFING_VIEWED.value, ann, reader.email)]


def test_the_server_writes_reads_in_the_background_and_the_rest_when_it_stops(runtime: Runtime) -> None:
    ann = make_customer(runtime, "Ann")
    user = api_user(runtime, Role.FRONTLINE)
    headers = {"Authorization": f"Bearer {user.token}"}
    with serving_with(runtime, flush_interval_seconds=1) as server:
        for _ in range(3):
            answer = httpx.get(f"{server.url}/api/v1/customers/{ann}/briefing", headers=headers)
            assert answer.status_code == 200, answer.text
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and len(_reads(runtime)) < 3:
            time.sleep(0.05)
        assert len(_reads(runtime)) == 3  # the background writer's batches, no stop needed
        for _ in range(4):
            answer = httpx.get(f"{server.url}/api/v1/customers/{ann}/sheet", headers=headers)
            assert answer.status_code == 200, answer.text
    with runtime.session() as db:
        counted = dict(
            db.execute(
                select(AuditEntry.action, func.count())
                .where(AuditEntry.customer_id == ann, AuditEntry.action.in_([a.value for a in READ_ACTIONS]))
                .group_by(AuditEntry.action)
            ).all()
        )
    assert counted == {AuditAction.BRIEFING_VIEWED.value: 3, AuditAction.CUSTOMER_VIEWED.value: 4}


def test_a_read_queued_when_its_customer_is_erased_is_written_redacted(runtime: Runtime) -> None:
    ann, bob = make_customer(runtime, "Ann Marker"), make_customer(runtime, "Bob")
    reader = make_user(runtime, Role.FRONTLINE).actor
    admin = make_user(runtime, Role.ADMIN).actor
    reads = accounts.ReadLog(runtime.sessions, interval_seconds=NEVER)
    reads.start()
    try:
        _read(runtime, reader, ann)
        _read(runtime, reader, bob)
        with runtime.session() as db:
            erasure.erase(db, actor=admin, customer_id=ann, data_dir=runtime.settings.data_dir)
        assert reads.flush() == 2
    finally:
        reads.stop()
    with runtime.session() as db:
        entries = {
            customer: summary
            for customer, summary in db.execute(
                select(AuditEntry.customer_id, AuditEntry.summary).where(
                    AuditEntry.action == AuditAction.BRIEFING_VIEWED.value
                )
            )
        }
    assert entries == {ann: ERASED_SUMMARY, bob: "Read the briefing on Bob"}
