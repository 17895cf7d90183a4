"""``segone segments``: build, list, show and the variables, as text and as JSON, and bad input refused."""

from __future__ import annotations

import re
from pathlib import Path

import pyarrow.parquet as pq

from segone.accounts.schemas import SYSTEM
from segone.customers import service as customers
from segone.customers.schemas import CustomerUpdate
from segone.runtime import Runtime
from tests.cli.conftest import Invoke, as_json, one_line_error
from tests.factories import make_customer


def _store(store: Runtime) -> list[int]:
    """Four big gold spenders, four small basic ones (two of them identical)."""
    gold = [make_customer(store, attributes={"plan": "gold", "spend": 900 + 10 * i}) for i in range(4)]
    basic = [make_customer(store, attributes={"plan": "basic", "spend": 10 + i}) for i in range(2)]
    twins = [make_customer(store, attributes={"plan": "basic", "spend": 3}) for _ in range(2)]
    return gold + basic + twins


def test_build_list_and_show_as_json(segone: Invoke, store: Runtime) -> None:
    _store(store)
    built = as_json(segone("segments", "build", "--name", "spring", "--json"))
    assert built["status"] == "done" and built["name"] == "spring"
    assert built["customers"] == 8 and built["leaves"] == 7 and built["segments_of_one"] == 6
    assert built["identical_leaves"] == 1
    # Every knowledge category is a yes/no variable even before anything is known in it.
    assert built["variables"][:2] == ["attribute:plan", "attribute:spend"]
    assert all(name.startswith("knows:") for name in built["variables"][2:])

    (listed,) = as_json(segone("segments", "list", "--json"))
    assert listed == built

    shown = as_json(segone("segments", "show", str(built["id"]), "--json"))
    assert shown["version"] == built
    top = shown["segments"]
    assert top[0]["node_id"] == 0 and top[0]["size"] == 8 and top[0]["share"] == 1.0
    assert max(s["depth"] for s in top) <= 2
    first_split = sorted(s["size"] for s in top if s["depth"] == 1)
    assert first_split == [4, 4]

    gold = next(s for s in top if s["depth"] == 1 and s["size"] == 4 and "gold" in " ".join(s["conditions"]))
    one = as_json(segone("segments", "show", str(built["id"]), "--segment", str(gold["node_id"]), "--json"))
    assert one["segment"]["conditions"] == gold["conditions"]
    assert one["segment"]["children"] == [c["node_id"] for c in one["children"]]
    assert sum(c["size"] for c in one["children"]) == 4
    assert one["segment"]["deviations"][0]["variable"] in {"attribute:plan", "attribute:spend"}


def test_build_and_show_as_text(segone: Invoke, store: Runtime) -> None:
    _store(store)
    built = segone("segments", "build", "--min-size", "2", "--max-depth", "1")
    assert built.exit_code == 0, built.output
    assert built.stdout.startswith(
        "Built version 1: 8 customers in 2 segments, 0 of them segments of one, in "
    )
    listed = segone("segments", "list")
    assert (
        listed.stdout.startswith("1 (")
        and "8 customers, 2 segments, 0 segments of one; min size 2" in listed.stdout
    )
    shown = segone("segments", "show", "1").stdout.splitlines()
    assert shown[1] == "[0] all customers: 8 customers (100.0 %)"
    assert len(shown) == 4 and all(
        line.startswith("  [") and "4 customers (50.0 %)" in line for line in shown[2:]
    )
    one = segone("segments", "show", "1", "--segment", "1").stdout.splitlines()
    assert one[0].startswith("Segment 1 of version 1: [1] ")
    differs = one.index("How it differs from the average customer:")
    # A leaf (max depth 1): no children; the knows: variables, the same for everyone, are left out.
    assert one[differs + 1 :] == [
        "  spend: 6.75 against 460.88 (effect -1.00)",
        "  plan: basic: 1.00 against 0.50 (effect +0.50)",
        "How it differs from its sibling:",
        "  spend: 6.75 against 915.00 (effect -2.00)",
        "  plan: basic: 1.00 against 0.00 (effect +1.00)",
    ]


def test_max_segments_keeps_the_segments_that_explain_most(segone: Invoke, store: Runtime) -> None:
    _store(store)
    built = as_json(segone("segments", "build", "--max-segments", "3", "--json"))
    assert built["leaves"] == 3 and built["settings"]["max_segments"] == 3
    assert built["customers"] == 8 and built["segments_of_one"] == 0


def test_missing_values_may_join_a_side_as_asked(segone: Invoke, store: Runtime) -> None:
    """Big spenders are worth 100, small ones 1; two customers without a spend are worth 100 too: with
    ``--unknown side`` they join the big spenders, and the condition says so."""
    for i in range(4):
        make_customer(store, attributes={"spend": 900 + 10 * i, "value": 100})
        make_customer(store, attributes={"spend": 10 + i, "value": 1})
    for _ in range(2):
        make_customer(store, attributes={"value": 100})
    asked = ("--target", "attribute:value", "--variables", "attribute:spend", "--max-depth", "1", "--json")
    side = as_json(segone("segments", "build", "--unknown", "side", *asked))
    assert side["settings"]["unknown"] == "side" and side["leaves"] == 2
    shown = as_json(segone("segments", "show", str(side["id"]), "--json"))
    conditions = sorted((s["size"], s["conditions"]) for s in shown["segments"] if s["depth"] == 1)
    assert conditions == [(4, ["spend: under 100"]), (6, ["spend: 100 or more, or unknown"])]
    branch = as_json(segone("segments", "build", *asked))
    assert branch["settings"]["unknown"] == "branch" and branch["leaves"] == 3


def test_variables_lists_the_catalogue_with_kinds(segone: Invoke, store: Runtime) -> None:
    _store(store)
    found = {v["name"]: v for v in as_json(segone("segments", "variables", "--json"))}
    assert found["attribute:plan"]["kind"] == "categorical"
    assert found["attribute:spend"]["kind"] == "numeric"
    assert found["attribute:spend"]["missing_share"] == 0.0
    text = segone("segments", "variables").stdout
    assert "attribute:spend (numeric): spend" in text


def test_bad_input_is_refused_with_a_clear_message(segone: Invoke, store: Runtime) -> None:
    _store(store)
    assert one_line_error(segone("segments", "build", "--variables", "attribute:plann")) == (
        "Error: Not a variable: 'attribute:plann' (did you mean attribute:plan, attribute:spend?). "
        "Variables are named attribute:<key>, behaviour:<column>, score:<name>, knows:<category>, "
        "trait:<id> or segment:<version> (segone segments variables lists them)."
    )
    assert one_line_error(segone("segments", "build", "--min-size", "0")) == (
        "Error: The minimum segment size must be at least 1 (1 drills down to segments of one)."
    )
    assert one_line_error(segone("segments", "build", "--max-segments", "0")) == (
        "Error: The number of segments must be at least 1 (1 keeps every customer in one segment)."
    )
    refused = segone("segments", "build", "--unknown", "nowhere")
    assert refused.exit_code == 2 and "'branch', 'side'" in refused.output
    assert one_line_error(segone("segments", "show", "7")) == "Error: There is no segmentation version 7."
    assert "No segmentation is built yet" in segone("segments", "list").stdout


def test_diff_says_who_moved_where(segone: Invoke, store: Runtime) -> None:
    _store(store)
    first = as_json(segone("segments", "build", "--variables", "attribute:plan", "--json"))["id"]
    make_customer(store, attributes={"plan": "platinum", "spend": 5000})
    second = as_json(segone("segments", "build", "--variables", "attribute:plan", "--json"))["id"]

    found = as_json(segone("segments", "diff", str(first), str(second), "--depth", "1", "--json"))
    assert found["before"] == first and found["after"] == second
    assert found["new_customers"] == 1 and found["gone_customers"] == 0
    assert sum(move["customers"] for move in found["moves"]) == 8

    text = segone("segments", "diff", str(first), str(second), "--depth", "1")
    assert text.exit_code == 0, text.output
    assert text.stdout.startswith(f"Version {first} to {second} at depth 1: ")
    assert "1 new, 0 gone." in text.stdout.splitlines()[0]

    missing = segone("segments", "diff", str(first), "99")
    assert one_line_error(missing) == "Error: There is no segmentation version 99."


def test_customers_show_names_the_customer_segment(segone: Invoke, store: Runtime) -> None:
    gold = _store(store)[0]
    assert "Segment:" not in segone("customers", "show", str(gold)).stdout
    assert segone("segments", "build", "--variables", "attribute:plan").exit_code == 0
    shown = segone("customers", "show", str(gold))
    assert shown.exit_code == 0, shown.output
    assert "Segment: plan: gold (4 customers alike on these)" in shown.stdout.splitlines()
    as_sheet = as_json(segone("customers", "show", str(gold), "--json"))
    assert as_sheet["segment_path"][-1]["conditions"] == ["plan: gold"]
    assert "Unlike most customers: plan: gold, like 50 % of customers" in shown.stdout.splitlines()
    assert as_sheet["standing"][0]["words"] == "plan: gold, like 50 % of customers"


def test_a_segment_exports_its_customers_for_a_campaign(
    segone: Invoke, store: Runtime, tmp_path: Path
) -> None:
    gold = sorted(_store(store)[:4])
    built = as_json(segone("segments", "build", "--variables", "attribute:plan", "--json"))
    top = as_json(segone("segments", "show", str(built["id"]), "--json"))["segments"]
    segment = next(s for s in top if s["conditions"] == ["plan: gold"])

    exported = segone("segments", "export", str(built["id"]), str(segment["node_id"]))
    assert exported.exit_code == 0, exported.output
    lines = exported.stdout_bytes.decode().splitlines()
    assert lines[0].startswith("id,kind,name,identities")
    assert [int(line.split(",")[0]) for line in lines[1:]] == gold
    assert exported.stderr.endswith(
        f"Exported 4 segment-{built['id']}-{segment['node_id']}-customers to stdout.\n"
    )

    parquet = tmp_path / "gold.parquet"
    as_file = segone(
        "segments", "export", str(built["id"]), "0", "--format", "parquet", "--output", str(parquet)
    )
    assert as_file.exit_code == 0, as_file.output
    assert pq.read_table(parquet).num_rows == 8  # the root holds everyone

    missing = segone("segments", "export", str(built["id"]), "999")
    assert one_line_error(missing) == f"Error: Version {built['id']} has no segment 999."


def test_assign_places_a_customer_and_every_new_one_without_a_rebuild(segone: Invoke, store: Runtime) -> None:
    _store(store)
    built = as_json(segone("segments", "build", "--variables", "attribute:plan", "--json"))
    new = make_customer(store, attributes={"plan": "gold", "spend": 1})
    placed = segone("segments", "assign", str(new))
    assert placed.exit_code == 0, placed.output
    lines = placed.stdout.splitlines()
    said = rf"Customer {new}, version {built['id']}: newly assigned to \[\d+\] plan: gold: 4 customers"
    assert re.fullmatch(said + r" \(50\.0 %\) identical", lines[0])
    assert lines[1:] == ["  plan: gold"]
    again = as_json(segone("segments", "assign", str(new), "--version", str(built["id"]), "--json"))
    assert (
        again["status"] == "unchanged"
        and again["is_leaf"]
        and again["path"][-1]["conditions"] == ["plan: gold"]
    )
    assert "Segment: plan: gold" in segone("customers", "show", str(new)).stdout

    with store.session() as db:
        customers.update(db, actor=SYSTEM, customer_id=new, data=CustomerUpdate(attributes={"plan": "basic"}))
    moved = segone("segments", "assign", str(new)).stdout.splitlines()[0]
    assert f"moved from segment {again['node_id']} to [" in moved and "plan: basic" in moved

    later = [make_customer(store, attributes={"plan": plan}) for plan in ("gold", "basic")]
    assert (
        segone("segments", "assign", "--new").stdout
        == f"Assigned 2 new customers to version {built['id']}.\n"
    )
    assert as_json(segone("segments", "assign", "--new", "--json"))["assigned"] == 0
    assert (
        segone("segments", "assign", "--new").stdout
        == f"No customer is new since version {built['id']} was built.\n"
    )
    assert segone("customers", "show", str(later[0])).exit_code == 0

    assert one_line_error(segone("segments", "assign", "99999")) == "Error: There is no customer 99999."
    # Any identity names the customer, as everywhere in the CLI.
    known = make_customer(store, identities=["crm:C77"], attributes={"plan": "basic"})
    by_identity = as_json(segone("segments", "assign", "crm:C77", "--json"))
    assert (by_identity["customer_id"], by_identity["status"]) == (known, "new")
    assert one_line_error(segone("segments", "assign", str(new), "--version", "7")) == (
        "Error: There is no segmentation version 7."
    )
    assert one_line_error(segone("segments", "assign")) == (
        "Error: Name one customer, or --new for every customer new since the build (not both)."
    )
    assert one_line_error(segone("segments", "assign", str(new), "--new")).startswith(
        "Error: Name one customer"
    )
