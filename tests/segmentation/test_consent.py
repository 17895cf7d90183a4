"""Without profiling consent a customer is left out of builds, assignments and audiences' reads."""

from __future__ import annotations

import pytest

from segone.accounts.schemas import SYSTEM
from segone.customers import service as customers
from segone.customers.schemas import ConsentChange, ConsentSource
from segone.errors import Invalid
from segone.runtime import Runtime
from segone.segmentation import service
from segone.segmentation import variables as catalogue
from segone.segmentation.schemas import Variable, VariableKind
from tests.factories import make_customer, refuse_consent
from tests.segmentation.test_service import _memberships


def _customers(runtime: Runtime, n: int) -> list[int]:
    return [make_customer(runtime, attributes={"plan": "gold" if i % 2 else "basic"}) for i in range(n)]


def test_a_build_and_new_assignments_leave_out_customers_without_profiling_consent(runtime: Runtime) -> None:
    ann, *others = _customers(runtime, 6)
    refuse_consent(runtime, ann, "profiling")
    version = service.build(runtime.sessions, runtime.settings, actor=SYSTEM)
    assert version.customers == 5
    assert sorted(_memberships(runtime, version.id)) == sorted(others)

    late = make_customer(runtime, attributes={"plan": "gold"})
    refused_late = make_customer(runtime, attributes={"plan": "gold"})
    refuse_consent(runtime, refused_late, "profiling")
    with runtime.session() as db:
        done = service.assign_new(db, runtime.settings, actor=SYSTEM)
        assert [a.customer_id for a in done.customers] == [late]
        with pytest.raises(Invalid, match="No profiling consent"):
            service.assign(db, runtime.settings, actor=SYSTEM, customer_id=ann)
    assert ann not in _memberships(runtime, version.id)


def test_with_consent_refused_by_default_only_recorded_grants_are_gathered(runtime: Runtime) -> None:
    ann, bob = _customers(runtime, 2)
    refused = runtime.settings.model_copy(update={"consent_default": "refused"})
    with runtime.session() as db:
        customers.record_consent(
            db,
            actor=SYSTEM,
            customer_id=bob,
            change=ConsentChange(profiling=True),
            source=ConsentSource.IMPORT,
            default_granted=False,
        )
    plan = Variable("attribute:plan", "plan", VariableKind.CATEGORICAL, "customers")
    with runtime.session() as db:
        table = catalogue.gather(db, actor=SYSTEM, variables=[plan], settings=refused)
        assert table.column("customer_id").to_pylist() == [bob]
        # A customer's own sheet still reads their values: it is not a build.
        mine = catalogue.gather(db, actor=SYSTEM, variables=[plan], ids=[ann], settings=refused)
        assert mine.column("customer_id").to_pylist() == [ann]
