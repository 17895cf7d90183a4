"""Consent per customer and purpose: a history where the latest record wins, and the default without one."""

from __future__ import annotations

import pytest

from segone.accounts.schemas import SYSTEM, AuditAction
from segone.customers import service as customers
from segone.customers.schemas import ConsentChange, ConsentPurpose, ConsentSource
from segone.errors import Invalid
from segone.runtime import Runtime
from tests.factories import make_customer

PROFILING = ConsentPurpose.PROFILING


def test_records_are_a_history_and_the_latest_wins(runtime: Runtime) -> None:
    ann = make_customer(runtime, name="Ann")
    with runtime.session() as db:
        customers.record_consent(
            db,
            actor=SYSTEM,
            customer_id=ann,
            change=ConsentChange(profiling=True, contact=True, note="signed the form"),
            source=ConsentSource.FORM,
            default_granted=False,
        )
        out = customers.record_consent(
            db,
            actor=SYSTEM,
            customer_id=ann,
            change=ConsentChange(profiling=False),
            source=ConsentSource.API,
            default_granted=False,
        )
    by_purpose = {p.purpose: p for p in out.purposes}
    assert by_purpose[PROFILING].granted is False and by_purpose[PROFILING].source is ConsentSource.API
    assert by_purpose[ConsentPurpose.CONTACT].granted is True and by_purpose[ConsentPurpose.CONTACT].recorded
    # Nothing recorded for personalisation: the default applies, and says so.
    assert not by_purpose[ConsentPurpose.PERSONALISATION].recorded
    assert by_purpose[ConsentPurpose.PERSONALISATION].granted is False
    # The earlier grant stays in the history, with who, when and from where.
    assert [(r.purpose, r.granted, r.source) for r in out.history] == [
        (PROFILING, False, ConsentSource.API),
        (PROFILING, True, ConsentSource.FORM),
        (ConsentPurpose.CONTACT, True, ConsentSource.FORM),
    ]
    assert all(r.recorded_by == SYSTEM.email for r in out.history)
    assert out.history[-1].note == "signed the form"
    assert out.notice == "No profiling consent: left out of segments, scores and offers."
    with runtime.session() as db:
        trail = customers.history(db, actor=SYSTEM, customer_id=ann)
        assert [e.action for e in trail].count(AuditAction.CONSENT_RECORDED.value) == 2
        assert not customers.has_consent(db, customer_id=ann, purpose=PROFILING, default_granted=True)
        assert customers.has_consent(
            db, customer_id=ann, purpose=ConsentPurpose.CONTACT, default_granted=False
        )


def test_the_default_applies_to_customers_without_records(runtime: Runtime) -> None:
    ann, bob, cat = (make_customer(runtime) for _ in range(3))
    with runtime.session() as db:
        customers.record_consent(
            db,
            actor=SYSTEM,
            customer_id=ann,
            change=ConsentChange(profiling=False),
            source=ConsentSource.CLI,
            default_granted=True,
        )
        customers.record_consent(
            db,
            actor=SYSTEM,
            customer_id=bob,
            change=ConsentChange(profiling=True, personalisation=True),
            source=ConsentSource.IMPORT,
            default_granted=True,
        )
        assert customers.without_consent(db, purposes=[PROFILING], default_granted=True) == {ann}
        assert customers.without_consent(db, purposes=[PROFILING], default_granted=False) == {ann, cat}
        both = [PROFILING, ConsentPurpose.PERSONALISATION]
        assert customers.without_consent(db, purposes=both, default_granted=False) == {ann, cat}
        assert not customers.without_consent(db, purposes=both, default_granted=False, customer_ids=[bob])
        assert customers.consent_of(db, actor=SYSTEM, customer_id=cat, default_granted=False).notice


def test_a_change_must_name_a_purpose(runtime: Runtime) -> None:
    ann = make_customer(runtime)
    with runtime.session() as db, pytest.raises(Invalid, match="at least one purpose"):
        customers.record_consent(
            db,
            actor=SYSTEM,
            customer_id=ann,
            change=ConsentChange(note="nothing"),
            source=ConsentSource.API,
            default_granted=True,
        )
