"""The variables a segmentation splits on, read from a real store on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date

import pyarrow as pa
import pytest

from segone.accounts.schemas import SYSTEM, Role
from segone.behaviour import ingest, refresh
from segone.customers import service as customers
from segone.errors import Forbidden, Invalid
from segone.knowledge.categories.service import in_force
from segone.knowledge.distinguishability import refresh as knowledge_refresh
from segone.knowledge.facts import service as facts
from segone.knowledge.facts.schemas import DifferentiatorCreate
from segone.runtime import Runtime
from segone.segmentation import variables as v
from segone.segmentation.schemas import Variable, VariableKind
from segone.views import merge
from tests.behaviour.conftest import DUCKDB_WARNING, synthetic_events
from tests.factories import make_customer, make_user


def _infos(runtime: Runtime, **overrides: v.Override) -> dict[str, v.VariableInfo]:
    with runtime.session() as db:
        found = v.describe_variables(db, actor=SYSTEM, settings=runtime.settings, overrides=overrides)
    return {info.name: info for info in found}


def _catalogue(runtime: Runtime, **overrides: v.Override) -> list[Variable]:
    with runtime.session() as db:
        return v.catalogue(db, actor=SYSTEM, settings=runtime.settings, overrides=overrides)


def _gather(runtime: Runtime, chosen: list[Variable], ids: list[int] | None = None) -> pa.Table:
    with runtime.session() as db:
        return v.gather(db, actor=SYSTEM, settings=runtime.settings, variables=chosen, ids=ids)


def _values_match_gather(runtime: Runtime, chosen: list[Variable], table: pa.Table, ids: list[int]) -> None:
    """``values_of`` gives each customer's row of ``gather``'s table (None for one it has no row for)."""
    rows = {row.pop("customer_id"): row for row in table.to_pylist()}
    with runtime.session() as db:
        for customer_id in ids:
            assert v.values_of(db, actor=SYSTEM, variables=chosen, customer_id=customer_id) == rows.get(
                customer_id
            )


def _fact(runtime: Runtime, customer: int, text: str, category: str) -> None:
    with runtime.session() as db:
        facts.add(
            db,
            actor=SYSTEM,
            customer_id=customer,
            data=DifferentiatorCreate(text=text, category=category),
            categories=in_force(runtime.settings),
        )


def _attribute_store(runtime: Runtime) -> list[int]:
    """Five customers whose attributes came from a CSV (numbers as text), one with nothing at all."""
    rows: list[dict[str, object]] = [
        {"employees": "12", "vip": "yes", "plan": "gold", "zip": "01234", "revenue": 1500.5},
        {"employees": "7.5", "vip": "No", "plan": 3, "zip": "75001", "revenue": 20},
        {"employees": " 300 ", "vip": "TRUE", "plan": "silver", "zip": "10115", "revenue": ""},
        {"employees": "", "vip": "false", "plan": "gold", "zip": "01234"},
        {},
    ]
    return [make_customer(runtime, name=f"C{i}", attributes=row) for i, row in enumerate(rows)]


def test_attribute_kinds_are_inferred_from_every_value(runtime: Runtime) -> None:
    _attribute_store(runtime)
    infos = _infos(runtime)
    assert infos["attribute:employees"].kind is VariableKind.NUMERIC  # numbers stored as text
    assert infos["attribute:revenue"].kind is VariableKind.NUMERIC
    assert infos["attribute:vip"].kind is VariableKind.BOOLEAN  # yes/no/true/false in any case
    assert infos["attribute:plan"].kind is VariableKind.CATEGORICAL  # "gold" and 3 mixed
    assert infos["attribute:zip"].kind is VariableKind.NUMERIC  # digits only: an override fixes it
    employees = infos["attribute:employees"]
    assert (employees.distinct, employees.missing_share) == (3, 0.4)
    assert infos["attribute:plan"].examples == ("gold", "3", "silver")  # most frequent first
    assert infos["attribute:plan"].label == "plan" and infos["attribute:plan"].source == "customers"


def test_attributes_are_gathered_as_their_kind_and_missing_stays_null(runtime: Runtime) -> None:
    ids = _attribute_store(runtime)
    chosen = v.select(_catalogue(runtime), ["attribute:employees", "attribute:vip", "attribute:plan"])
    table = _gather(runtime, chosen)
    assert table.schema.names == ["customer_id", "attribute:employees", "attribute:plan", "attribute:vip"]
    assert table.schema.types == [pa.int64(), pa.float64(), pa.string(), pa.bool_()]
    assert table.column("customer_id").to_pylist() == sorted(ids)
    assert table.column("attribute:employees").to_pylist() == [12.0, 7.5, 300.0, None, None]
    assert table.column("attribute:vip").to_pylist() == [True, False, True, False, None]
    assert table.column("attribute:plan").to_pylist() == ["gold", "3", "silver", "gold", None]


def test_overrides_set_a_kind_or_leave_a_variable_out(runtime: Runtime) -> None:
    _attribute_store(runtime)
    infos = _infos(runtime, **{"attribute:zip": VariableKind.CATEGORICAL, "attribute:revenue": "exclude"})
    assert infos["attribute:zip"].kind is VariableKind.CATEGORICAL
    assert infos["attribute:zip"].inferred_kind is VariableKind.NUMERIC and infos["attribute:zip"].overridden
    assert infos["attribute:revenue"].kind is None and infos["attribute:revenue"].excluded
    chosen = _catalogue(
        runtime, **{"attribute:zip": VariableKind.CATEGORICAL, "attribute:revenue": "exclude"}
    )
    assert "attribute:revenue" not in {variable.name for variable in chosen}
    table = _gather(runtime, v.select(chosen, ["attribute:zip"]))
    assert table.column("attribute:zip").to_pylist() == ["01234", "75001", "10115", "01234", None]

    with pytest.raises(Invalid, match="'gold'"):
        _infos(runtime, **{"attribute:plan": VariableKind.NUMERIC})
    with pytest.raises(Invalid, match="attribute:zip"):
        _infos(runtime, **{"attribute:zipp": "exclude"})


def test_free_text_is_left_out_with_its_reason(sqlite_runtime: Runtime) -> None:
    runtime = sqlite_runtime
    for i in range(110):
        make_customer(runtime, attributes={"note": f"called on day {i}", "tier": "a" if i % 2 else "b"})
    infos = _infos(runtime)
    note = infos["attribute:note"]
    assert note.kind is None and note.inferred_kind is VariableKind.CATEGORICAL
    assert note.excluded is not None and "free text: 110 different values" in note.excluded
    assert infos["attribute:tier"].kind is VariableKind.CATEGORICAL
    catalogue = _catalogue(runtime)
    assert "attribute:note" not in {variable.name for variable in catalogue}
    left_out = {info.name: info.excluded for info in infos.values() if info.excluded}
    with pytest.raises(Invalid, match="attribute:note is left out: free text"):
        v.select(catalogue, ["attribute:note"], left_out=left_out)
    # Overriding its kind takes it in.
    assert _infos(runtime, **{"attribute:note": VariableKind.CATEGORICAL})["attribute:note"].kind is (
        VariableKind.CATEGORICAL
    )


def test_select_names_unknown_variables_and_suggests_close_ones() -> None:
    catalogue = [
        Variable("attribute:city", "city", VariableKind.CATEGORICAL, "customers"),
        Variable("behaviour:recency_days", "recency", VariableKind.NUMERIC, "behaviour", "days"),
        Variable("knows:family", "knows: family make-up", VariableKind.BOOLEAN, "knowledge"),
        Variable("knows:values", "knows: personal values", VariableKind.BOOLEAN, "knowledge"),
    ]
    assert v.select(catalogue) == catalogue
    assert [x.name for x in v.select(catalogue, "all", ["knows:*"])] == [
        "attribute:city",
        "behaviour:recency_days",
    ]
    # Catalogue order, whatever the order asked and duplicates.
    assert [x.name for x in v.select(catalogue, ["knows:values", "attribute:city", "knows:values"])] == [
        "attribute:city",
        "knows:values",
    ]
    with pytest.raises(Invalid, match=r"'attribute:cty' \(did you mean attribute:city\?\)"):
        v.select(catalogue, ["attribute:cty"])
    with pytest.raises(Invalid, match=r"'recency_days' \(did you mean behaviour:recency_days\?\)"):
        v.select(catalogue, "all", ["recency_days"])
    with pytest.raises(Invalid, match="No variable is left"):
        v.select(catalogue, ["knows:family"], ["knows:*"])


def test_knows_and_traits_are_yes_or_no_for_everyone(runtime: Runtime) -> None:
    ann, bo, cy, di = (make_customer(runtime, name=name) for name in ("Ann", "Bo", "Cy", "Di"))
    for customer in (ann, bo):
        _fact(runtime, customer, "Plays the cello in an orchestra", "free_time")
    _fact(runtime, cy, "Has two children", "family")
    _fact(runtime, cy, "Restores vintage motorbikes", "lifestyle")
    knowledge_refresh.refresh(runtime.sessions, runtime.settings, actor=SYSTEM)

    infos = _infos(runtime)
    assert infos["knows:family"].label == "knows: family make-up"
    assert infos["knows:growth_plans"].label == "knows: growth plans"
    traits = [info for info in infos.values() if info.name.startswith("trait:")]
    # The cello is held by two of four; a fact only one customer holds separates nobody from a group.
    assert [trait.label for trait in traits] == ["trait: plays the cello in an orchestra"]

    # A category nobody is known for yet cannot tell one customer from another: it is left out, with why.
    assert infos["knows:values"].kind is None
    assert infos["knows:values"].excluded == "the same for every customer"
    assert "knows:values" not in {variable.name for variable in _catalogue(runtime)}

    chosen = v.select(_catalogue(runtime), ["knows:free_time", "knows:family", traits[0].name])
    table = _gather(runtime, chosen)
    assert table.column("customer_id").to_pylist() == [ann, bo, cy, di]
    assert table.column("knows:family").to_pylist() == [False, False, True, False]
    assert table.column("knows:free_time").to_pylist() == [True, True, False, False]
    assert table.column(traits[0].name).to_pylist() == [True, True, False, False]
    assert all(table.column(name).null_count == 0 for name in table.schema.names)
    # A few customers' values, read without reading everyone's: the same rows (an unknown id has none).
    few = _gather(runtime, chosen, ids=[cy, ann, 999_999])
    assert few.to_pylist() == [row for row in table.to_pylist() if row["customer_id"] in {ann, cy}]
    _values_match_gather(runtime, chosen, table, [ann, bo, cy, di, 999_999])


@pytest.mark.filterwarnings(DUCKDB_WARNING)
def test_behaviour_and_scores_after_a_refresh_and_merged_customers_left_out(runtime: Runtime) -> None:
    no_events = make_customer(runtime, name="Quiet", attributes={"tier": "gold"})
    assert not any(info.source == "behaviour" for info in _infos(runtime).values())  # no refresh yet

    with runtime.session() as db:
        resolved = ingest.resolve_customers(
            db, actor=SYSTEM, events=synthetic_events(customers=30), unknown="create"
        )
    assert resolved.table is not None
    ingest.dataset_of(runtime.settings.data_dir).write_batch(resolved.table)
    refresh.refresh(runtime.sessions, runtime.settings, actor=SYSTEM, as_of=date(2024, 10, 31))

    infos = _infos(runtime)
    assert infos["behaviour:recency_days"].label == "recency (days since last purchase)"
    assert infos["behaviour:recency_days"].unit == "days"
    assert infos["score:clv"].unit == runtime.settings.currency
    assert infos["behaviour:preferred_day_of_week"].kind is VariableKind.CATEGORICAL
    assert set(infos["behaviour:preferred_day_of_week"].examples) <= {
        "Monday",
        "Tuesday",
        "Wednesday",
        "Thursday",
        "Friday",
        "Saturday",
        "Sunday",
    }
    names = ["behaviour:purchases", "behaviour:recency_days", "behaviour:preferred_channel", "score:p_alive"]
    catalogue = _catalogue(runtime)
    table = _gather(runtime, v.select(catalogue, names))
    ids = table.column("customer_id").to_pylist()
    with runtime.session() as db:
        assert ids == sorted(ids) and len(ids) == customers.count_active(db)
    quiet = ids.index(no_events)
    # The customer without events has no profile: unknown, not zero.
    assert all(table.column(name)[quiet].as_py() is None for name in names)
    assert table.column("behaviour:purchases").null_count == 1
    assert table.column("behaviour:preferred_channel").type == pa.string()
    p_alive = [p for p in table.column("score:p_alive").to_pylist() if p is not None]
    assert p_alive and all(0.0 <= p <= 1.0 for p in p_alive)

    # Same store, same table; a merged record's row disappears, its survivor's stays.
    assert _gather(runtime, v.select(catalogue, names)).equals(table)
    survivor, merged = ids[1], ids[2]
    with runtime.session() as db:
        merge.merge(db, actor=SYSTEM, survivor_id=survivor, merged_id=merged)
    after = _gather(runtime, v.select(_catalogue(runtime), ["attribute:tier", *names]))
    assert merged not in after.column("customer_id").to_pylist()
    assert after.num_rows == len(ids) - 1 and survivor in after.column("customer_id").to_pylist()
    few = _gather(
        runtime, v.select(_catalogue(runtime), ["attribute:tier", *names]), ids=[no_events, merged, ids[5]]
    )
    assert few.to_pylist() == [row for row in after.to_pylist() if row["customer_id"] in {no_events, ids[5]}]
    chosen = v.select(_catalogue(runtime), ["attribute:tier", *names])
    _values_match_gather(runtime, chosen, after, [no_events, merged, survivor, *ids[3:8]])


def test_reading_every_customer_is_for_analysts(sqlite_runtime: Runtime) -> None:
    gold = make_customer(sqlite_runtime, attributes={"tier": "gold"})
    manager = make_user(sqlite_runtime, role=Role.MANAGER).actor
    frontline = make_user(sqlite_runtime, role=Role.FRONTLINE).actor
    with sqlite_runtime.session() as db:
        catalogue = v.catalogue(db, actor=manager, settings=sqlite_runtime.settings)
        with pytest.raises(Forbidden):
            v.gather(db, actor=manager, settings=sqlite_runtime.settings, variables=catalogue)
        # One customer's values are what their sheet shows: front-line staff may read them.
        one = v.gather(db, actor=frontline, settings=sqlite_runtime.settings, variables=catalogue, ids=[gold])
        assert (
            one.column("customer_id").to_pylist() == [gold]
            and one.column("attribute:tier")[0].as_py() == "gold"
        )
        with pytest.raises(Forbidden):
            v.describe_variables(db, actor=frontline, settings=sqlite_runtime.settings)
