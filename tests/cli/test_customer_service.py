"""``segone strategy``, ``segone promises`` and ``segone recovery`` against a real store."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import pytest

from segone.clock import utcnow
from segone.runtime import Runtime
from tests.behaviour.conftest import DUCKDB_WARNING
from tests.cli.conftest import Invoke, as_json, one_line_error


@pytest.fixture
def people(segone: Invoke, store: Runtime, tmp_path: Path) -> None:
    for email, role, team in [
        ("ann@example.com", "frontline", "Store York"),
        ("mia@example.com", "manager", "Store York"),
    ]:
        result = segone("users", "create", email, "--role", role, "--team", team)
        assert result.exit_code == 0, result.output
    customers = tmp_path / "customers.csv"
    customers.write_text(
        "name,email\nAnn Archer,ann@shop.example\nBob Baker,bob@shop.example\n", encoding="utf-8"
    )
    assert segone("customers", "import", str(customers)).exit_code == 0


def test_the_strategy_is_set_shown_and_versioned(segone: Invoke, store: Runtime) -> None:
    shown = segone("strategy", "show")
    assert shown.exit_code == 0 and "No service strategy on record yet" in shown.stdout
    made = as_json(
        segone(
            "strategy",
            "set",
            "--core",
            "We make promises and always keep them.",
            "--experience",
            "We care.",
            "--exception",
            "refund:frontline=50,manager=500",
            "--exception",
            "free-delivery=Delivery at no charge:frontline=15",
            "--target-high",
            "8",
            "--json",
        )
    )
    assert made["version"] == 1 and made["target_hours_high"] == 8 and made["target_hours_normal"] == 72
    assert made["exceptions"] == [
        {"key": "refund", "label": "Refund", "limits": {"frontline": 50.0, "manager": 500.0}},
        {"key": "free-delivery", "label": "Delivery at no charge", "limits": {"frontline": 15.0}},
    ]
    text = segone("strategy", "show").stdout
    assert "We make promises and always keep them." in text
    assert "Refund (refund): frontline $50.00, manager $500.00, analyst $500.00, admin $500.00" in text
    again = as_json(segone("strategy", "set", "--target-normal", "48", "--note", "Faster", "--json"))
    assert again["version"] == 2 and again["core_service"] == made["core_service"], "the rest stays"
    history = as_json(segone("strategy", "show", "--history", "--json"))
    assert [(v["version"], v["changed"], v["note"]) for v in history] == [
        (2, ["target_hours_normal"], "Faster"),
        (1, ["core_service", "service_experience", "exceptions", "target_hours_high"], ""),
    ]
    assert "write KEY[=LABEL]:ROLE=AMOUNT" in one_line_error(
        segone("strategy", "set", "--exception", "refund")
    )
    assert "high priority may not wait longer" in one_line_error(
        segone("strategy", "set", "--target-high", "100")
    )


def test_promises_add_keep_list_and_rates(segone: Invoke, people: None) -> None:
    today = utcnow().date()
    made = as_json(
        segone(
            "promises",
            "add",
            "email:ann@shop.example",
            "--text",
            "Call back",
            "--due",
            today.isoformat(),
            "--as",
            "ann@example.com",
            "--json",
        )
    )
    assert made["state"] == "open" and made["customer_name"] == "Ann Archer"
    late = (today - timedelta(days=1)).isoformat()
    assert "has passed already" in one_line_error(
        segone("promises", "add", "2", "--text", "Too late", "--due", late, "--as", "ann@example.com")
    )
    kept = segone("promises", "keep", str(made["id"]), "--as", "ann@example.com")
    assert kept.exit_code == 0 and kept.stdout.strip().endswith(": kept.")
    assert "was marked kept" in one_line_error(segone("promises", "break", str(made["id"])))
    listed = as_json(segone("promises", "list", "--customer", "email:ann@shop.example", "--json"))
    assert [p["state"] for p in listed["items"]] == ["kept"]
    rates = as_json(segone("promises", "rates", "--by", "employee", "--as", "mia@example.com", "--json"))
    assert [(r["key"], r["kept"], r["counted"], r["rate"]) for r in rates["rows"]] == [
        ("ann@example.com", 1, 1, 1.0)
    ]
    assert "may not view team dashboards" in one_line_error(
        segone("promises", "rates", "--as", "ann@example.com")
    )


@pytest.mark.filterwarnings(DUCKDB_WARNING)
def test_recovery_open_act_close_sync_and_measures(segone: Invoke, people: None, tmp_path: Path) -> None:
    assert segone("strategy", "set", "--exception", "refund:frontline=50,manager=500").exit_code == 0
    opened = as_json(
        segone(
            "recovery",
            "open",
            "email:ann@shop.example",
            "--summary",
            "Parcel stolen",
            "--priority",
            "high",
            "--as",
            "ann@example.com",
            "--json",
        )
    )
    case = str(opened["id"])
    assert opened["priority"] == "high" and opened["owner"] == "ann"
    over = one_line_error(
        segone(
            "recovery",
            "act",
            case,
            "--text",
            "Refund",
            "--exception",
            "refund",
            "--cost",
            "80",
            "--as",
            "ann@example.com",
        )
    )
    assert over == (
        "Error: A refund of $80.00 is over the frontline limit of $50.00 per case for refund in the service "
        "strategy (version 1). Ask someone whose limit covers it (manager: $500.00)."
    )
    within = segone(
        "recovery",
        "act",
        case,
        "--text",
        "Refunded",
        "--exception",
        "refund",
        "--cost",
        "80",
        "--as",
        "mia@example.com",
    )
    assert within.exit_code == 0 and "(Refund, $80.00)" in within.stdout
    closed = as_json(
        segone("recovery", "close", case, "--resolution", "Refunded", "--verdict", "satisfied", "--json")
    )
    assert closed["status"] == "closed" and closed["verdict"] == "satisfied"
    shown = segone("recovery", "show", case).stdout
    assert "Refunded [Refund: $80.00 of a $500.00 limit]" in shown

    events = tmp_path / "events.csv"
    yesterday = (utcnow().date() - timedelta(days=1)).isoformat()
    events.write_text(
        f"customer,type,timestamp,reason\nemail:bob@shop.example,complaint,{yesterday},late\n"
        f"email:bob@shop.example,return,{yesterday},too small\n",
        encoding="utf-8",
    )
    assert segone("events", "import", str(events)).exit_code == 0
    first = segone("recovery", "sync")
    assert first.exit_code == 0 and "opened 2 recovery cases, 0 had one already" in first.stdout
    again = as_json(segone("recovery", "sync", "--json"))
    assert (again["events"], again["opened"], again["had_a_case"]) == (2, 0, 2)
    backlog = as_json(segone("recovery", "list", "--json"))
    assert [(c["source"], c["priority"]) for c in backlog["items"]] == [
        ("complaint", "high"),
        ("return", "normal"),
    ]
    table = segone("recovery", "list", "--status", "all").stdout
    assert "3 cases (every team): 2 open" in table

    measured = as_json(segone("recovery", "measures", "--as", "mia@example.com", "--json"))
    assert (measured["closed"], measured["satisfied"], measured["recovery_rate"]) == (1, 1, 1.0)
    assert (measured["exceptions"], measured["exceptions_cost"]) == (1, 80.0)
    assert measured["retention"]["without_case"]["customers"] == 0, "Bob's complaint has a case"
    assert measured["scope"] == "team Store York"
    words = segone("recovery", "measures", "--no-retention").stdout
    assert "recovery rate 100%" in words and "bought again" not in words
    assert date.fromisoformat(measured["end"]) == utcnow().date()
    assert (
        json.loads(
            segone(
                "recovery", "list", "--customer", "email:ann@shop.example", "--status", "closed", "--json"
            ).stdout
        )["total"]
        == 1
    )
