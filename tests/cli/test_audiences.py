"""``segone audiences``: save a segment, change it by hand, follow rebuilds, export, delete; as text and
JSON, and bad input refused with exit code 2."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq

from segone.accounts.schemas import SYSTEM
from segone.customers import service as customers
from segone.customers.schemas import CustomerUpdate
from segone.runtime import Runtime
from tests.cli.conftest import Invoke, as_json, one_line_error
from tests.factories import make_customer


def _store(store: Runtime) -> dict[str, list[int]]:
    gold = [
        make_customer(store, attributes={"plan": "gold", "spend": 900 + 10 * i}, identities=[f"crm:G{i}"])
        for i in range(4)
    ]
    basic = [make_customer(store, attributes={"plan": "basic", "spend": 10 + i}) for i in range(4)]
    return {"gold": gold, "basic": basic}


def _gold_segment(segone: Invoke) -> tuple[int, int]:
    built = as_json(segone("segments", "build", "--variables", "attribute:plan", "--json"))
    top = as_json(segone("segments", "show", str(built["id"]), "--json"))["segments"]
    return built["id"], next(s["node_id"] for s in top if s["conditions"] == ["plan: gold"])


def _set(store: Runtime, customer_id: int, **attributes: object) -> None:
    with store.session() as db:
        customers.update(
            db, actor=SYSTEM, customer_id=customer_id, data=CustomerUpdate(attributes=attributes)
        )


def _ids(segone: Invoke, name: str) -> list[int]:
    exported = segone("audiences", "export", name)
    assert exported.exit_code == 0, exported.output
    return [int(line.split(",")[0]) for line in exported.stdout_bytes.decode().splitlines()[1:]]


def test_save_change_by_hand_and_follow_a_rebuild(segone: Invoke, store: Runtime) -> None:
    groups = _store(store)
    version, node = _gold_segment(segone)
    saved = segone("audiences", "save", "gold", "--version", str(version), "--segment", str(node))
    assert saved.exit_code == 0, saved.output
    assert (
        saved.stdout
        == f"Saved audience gold from segment {node} of version {version} (plan: gold): 4 customers.\n"
    )

    added = as_json(segone("audiences", "add", "gold", str(groups["basic"][0]), "--json"))
    assert (added["size"], added["added"], added["removed"]) == (5, 1, 0)
    removed = segone("audiences", "remove", "gold", "crm:G1")  # by identity
    assert removed.stdout == "Removed customer crm:G1 from gold by hand: 4 customers.\n"

    # A gold customer turns basic and a basic one gold: the next build evaluates the audience again.
    leaver, joiner = groups["gold"][0], groups["basic"][1]
    _set(store, leaver, plan="basic")
    _set(store, joiner, plan="gold")
    rebuilt = segone("segments", "build", "--variables", "attribute:spend", "--max-depth", "1")
    assert rebuilt.exit_code == 0, rebuilt.output
    assert rebuilt.stdout.splitlines()[-1] == "  1 audience evaluated again."
    assert _ids(segone, "gold") == sorted([groups["basic"][0], joiner, *groups["gold"][2:]])

    shown = as_json(segone("audiences", "show", "gold", "--json"))
    audience = shown["audience"]
    assert audience["conditions"] == ["plan: gold"] and audience["evaluated_version_id"] == version + 1
    assert (audience["size"], audience["matched"], audience["added"], audience["removed"]) == (4, 4, 1, 1)
    assert [(e["customer_id"], e["added"], e["by"]) for e in shown["edits"]] == [
        (groups["gold"][1], False, None),
        (groups["basic"][0], True, None),
    ]
    text = segone("audiences", "show", "gold").stdout.splitlines()
    evaluated = audience["evaluated_at"]
    assert text[0] == "Audience gold: 4 customers"
    assert text[2:6] == [
        "  Conditions:",
        "    plan: gold",
        "  4 met the conditions; 1 added and 1 removed by hand",
        f"  Evaluated {evaluated[:10]} {evaluated[11:16]} after build {version + 1}",
    ]
    assert text[6] == "By hand:" and text[7].startswith(f"  removed {groups['gold'][1]} (Customer ")

    (listed,) = as_json(segone("audiences", "list", "--json"))
    assert listed == audience
    line = segone("audiences", "list").stdout
    assert line.startswith("gold: 4 customers (1 added, 1 removed by hand), evaluated ")


def test_a_stale_audience_is_reported_by_the_build_and_keeps_its_members(
    segone: Invoke, store: Runtime
) -> None:
    groups = _store(store)
    version, node = _gold_segment(segone)
    assert (
        segone("audiences", "save", "gold", "--version", str(version), "--segment", str(node)).exit_code == 0
    )
    for customer in groups["gold"] + groups["basic"]:
        _set(store, customer, plan=None)

    rebuilt = segone("segments", "build", "--variables", "attribute:spend", "--max-depth", "1")
    assert rebuilt.exit_code == 0, rebuilt.output
    assert rebuilt.stdout.splitlines()[-2:] == [
        "  1 audience evaluated again, 1 stale:",
        "    gold: The variable attribute:plan no longer exists. It keeps its 4 members.",
    ]
    refreshed = segone("audiences", "refresh", "gold")
    assert refreshed.exit_code == 0, refreshed.output
    assert "; STALE: The variable attribute:plan no longer exists." in refreshed.stdout
    assert _ids(segone, "gold") == sorted(groups["gold"])
    shown = segone("audiences", "show", "gold").stdout
    assert "  STALE since " in shown and "The members are those evaluated " in shown


def test_refresh_every_audience_and_export_and_delete(segone: Invoke, store: Runtime, tmp_path: Path) -> None:
    groups = _store(store)
    version, node = _gold_segment(segone)
    for name, segment in (("gold", node), ("everyone", 0)):
        assert (
            segone("audiences", "save", name, "--version", str(version), "--segment", str(segment)).exit_code
            == 0
        )
    newcomer = make_customer(store, attributes={"plan": "gold"})

    refreshed = as_json(segone("audiences", "refresh", "--json"))
    assert [(a["name"], a["size"]) for a in refreshed] == [("gold", 5), ("everyone", 9)]

    parquet = tmp_path / "gold.parquet"
    exported = segone("audiences", "export", "gold", "--format", "parquet", "--output", str(parquet))
    assert exported.exit_code == 0, exported.output
    assert exported.stderr.endswith(f"Exported 5 audience-{refreshed[0]['id']}-customers to {parquet}.\n")
    table = pq.read_table(parquet)
    assert table.column("id").to_pylist() == sorted([*groups["gold"], newcomer])
    assert table.column("plan").to_pylist() == ["gold"] * 5
    csv = segone("audiences", "export", "gold").stdout_bytes.decode().splitlines()
    assert csv[0].startswith("id,kind,name,identities") and csv[1].split(",")[3] == "crm:G0"

    deleted = as_json(segone("audiences", "delete", "everyone", "--json"))
    assert deleted["name"] == "everyone" and deleted["size"] == 9
    assert segone("audiences", "delete", "gold").stdout == "Deleted audience gold (5 customers).\n"
    assert segone("audiences", "list").stdout.startswith("No audience yet")


def test_bad_input_is_refused_with_a_clear_message(segone: Invoke, store: Runtime) -> None:
    _store(store)
    version, node = _gold_segment(segone)
    save = ("audiences", "save", "gold", "--version", str(version), "--segment", str(node))
    assert segone(*save).exit_code == 0
    assert one_line_error(segone(*save)) == (
        "Error: There is an audience named 'gold' already: choose another name, or delete it first."
    )
    assert one_line_error(segone("audiences", "save", "x", "--version", "99", "--segment", "1")) == (
        "Error: There is no segmentation version 99."
    )
    assert one_line_error(segone("audiences", "save", "x", "--version", str(version), "--segment", "99")) == (
        f"Error: Version {version} has no segment 99."
    )
    assert one_line_error(segone("audiences", "show", "glod")) == (
        "Error: There is no audience named 'glod' (did you mean 'gold'?): 'segone audiences list' lists them."
    )
    assert one_line_error(segone("audiences", "add", "gold", "9999")) == "Error: There is no customer 9999."
    assert one_line_error(segone("audiences", "remove", "gold", "crm:NOPE")) == (
        "Error: No customer has the identity 'crm:NOPE'."
    )
    assert one_line_error(segone("audiences", "export", "gold", "--format", "parquet")) == (
        "Error: Parquet is binary: name a file with --output, or write it to stdout with --output -."
    )
    assert one_line_error(segone("audiences", "delete", "nope")).startswith(
        "Error: There is no audience named"
    )
