"""``segone.connect().memberships()``: every customer's segment, as an Ibis table for analysts."""

from __future__ import annotations

import pytest

import segone
from segone.accounts.schemas import SYSTEM
from segone.errors import NotFound
from segone.runtime import Runtime
from segone.segmentation import service
from tests.factories import make_customer


# Ibis 12's to_pandas asks pandas 3 about an option it deprecated; harmless until either changes.
@pytest.mark.filterwarnings(r"ignore:The 'future.infer_string' option is deprecated")
def test_memberships_come_to_the_analytics_engine(runtime: Runtime) -> None:
    gold = [make_customer(runtime, attributes={"plan": "gold"}) for _ in range(2)]
    basic = make_customer(runtime, attributes={"plan": "basic"})
    seg = segone.connect(runtime.settings.model_copy(update={"analytics_url": "duckdb://:memory:"}))
    try:
        with pytest.raises(NotFound, match="No segmentation is built yet"):
            seg.memberships()
        version = service.build(
            runtime.sessions, runtime.settings, actor=SYSTEM, variables=["attribute:plan"]
        )
        found = seg.memberships().to_pandas().sort_values("customer_id")
        assert found["customer_id"].to_list() == sorted([*gold, basic])
        by_customer = dict(zip(found["customer_id"], found["segment"], strict=True))
        assert by_customer[gold[0]] == by_customer[gold[1]] == "plan: gold"
        assert by_customer[basic] == "plan: basic"
        assert len(seg.memberships(version.id).to_pandas()) == 3
        counts = seg.memberships().group_by("segment").aggregate(n=lambda t: t.count()).to_pandas()
        assert dict(zip(counts["segment"], counts["n"], strict=True)) == {"plan: gold": 2, "plan: basic": 1}
    finally:
        seg.close()
