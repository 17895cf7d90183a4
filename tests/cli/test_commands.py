"""Each command of the ``segone`` CLI: what it prints, what it writes, how it fails."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import update

from segone import demo
from segone.accounts import service as accounts
from segone.accounts.schemas import SYSTEM
from segone.clock import utcnow
from segone.customers import service as customers
from segone.customers.models import Customer
from segone.customers.schemas import CustomerUpdate
from segone.knowledge.facts import service as knowledge
from segone.runtime import Runtime
from tests.cli.conftest import Invoke, as_json, one_line_error

CSV = (
    "name,kind,email,identity:crm,city\n"
    "Ann Patel,person,ann@example.com,C1,Leeds\n"
    "Harbour Cafe,business,hello@harbour.example,C2,York\n"
)


def test_db_upgrade_and_current(segone: Invoke) -> None:
    before = as_json(segone("db", "current", "--json"))
    assert before["revision"] is None and before["up_to_date"] is False
    assert "not set up" in segone("db", "current").stdout
    upgraded = as_json(segone("db", "upgrade", "--json"))
    assert upgraded["from_revision"] is None and upgraded["revision"] == before["head"]
    assert "up to date" in segone("db", "upgrade").stdout
    assert as_json(segone("db", "current", "--json"))["up_to_date"] is True


def test_commands_on_a_store_not_set_up_say_what_to_run(segone: Invoke) -> None:
    assert "segone db upgrade" in one_line_error(segone("customers", "list"))


def test_users_create_generates_a_password_once_and_lists(segone: Invoke, store: Runtime) -> None:
    created = segone("users", "create", "Ann@Example.com", "--role", "manager", "--team", "Store Leeds")
    assert created.exit_code == 0, created.output
    password = next(line for line in created.stdout.splitlines() if line.startswith("Password: ")).split(
        ": "
    )[1]
    with store.session() as db:
        assert accounts.authenticate(db, email="ann@example.com", password=password).role == "manager"
    given = as_json(
        segone("users", "create", "bo@example.com", "--role", "admin", "--password", "long enough", "--json")
    )
    assert given["email"] == "bo@example.com" and "password" not in given
    listed = as_json(segone("users", "list", "--json"))
    assert [(u["email"], u["role"], u["team"]) for u in listed] == [
        ("ann@example.com", "manager", "Store Leeds"),
        ("bo@example.com", "admin", None),
    ]
    assert "ann@example.com" in segone("users", "list").stdout
    assert "already" in one_line_error(segone("users", "create", "ann@example.com", "--role", "admin"))
    assert "e-mail address" in one_line_error(segone("users", "create", "not-an-address", "--role", "admin"))
    assert "8 characters" in one_line_error(
        segone("users", "create", "c@example.com", "--role", "admin", "--password", "short")
    )
    unknown_role = segone("users", "create", "c@example.com", "--role", "wizard")
    assert unknown_role.exit_code == 2 and "wizard" in unknown_role.stderr


def test_tokens_create_prints_a_working_token(segone: Invoke, store: Runtime) -> None:
    segone("users", "create", "api@example.com", "--role", "analyst")
    token = as_json(segone("tokens", "create", "api@example.com", "--name", "crm-sync", "--json"))
    assert token["name"] == "crm-sync" and token["user"] == "api@example.com"
    with store.session() as db:
        assert accounts.user_for_token(db, token=token["token"]).email == "api@example.com"
    plain = segone("tokens", "create", "api@example.com")
    assert plain.exit_code == 0 and plain.stdout.splitlines()[1].startswith("sg1_")
    assert "nobody@example.com" in one_line_error(segone("tokens", "create", "nobody@example.com"))


def test_customers_import_dry_run_then_real_then_again(
    segone: Invoke, store: Runtime, tmp_path: Path
) -> None:
    path = tmp_path / "customers.csv"
    path.write_text(CSV, encoding="utf-8")
    dry = as_json(segone("customers", "import", str(path), "--dry-run", "--json"))
    assert (dry["dry_run"], dry["created"]) == (True, 2)
    with store.session() as db:
        assert customers.count_active(db) == 0
    real = segone("customers", "import", str(path))
    assert real.exit_code == 0
    assert "2 created, 0 updated, 0 unchanged" in real.stdout
    again = as_json(segone("customers", "import", str(path), "--json"))
    assert (again["created"], again["unchanged"]) == (0, 2)
    with store.session() as db:
        assert customers.count_active(db) == 2


def test_customers_import_of_bad_rows_names_each_and_writes_nothing(
    segone: Invoke, store: Runtime, tmp_path: Path
) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("name,email\n,a@example.com\nGood,good@example.com\nBad,nope\n", encoding="utf-8")
    result = segone("customers", "import", str(path))
    assert "2 of the 3 rows are bad; nothing was imported" in one_line_error(result)
    assert "row 2, column name:" in result.stderr and "row 4, column email:" in result.stderr
    with store.session() as db:
        assert customers.count_active(db) == 0
    as_report = segone("customers", "import", str(path), "--json")
    assert as_report.exit_code == 2
    assert [e["row"] for e in json.loads(as_report.stdout)["errors"]] == [2, 4]
    skipped = segone("customers", "import", str(path), "--skip-bad-rows")
    assert skipped.exit_code == 0 and "1 created" in skipped.stdout and "row 4" in skipped.stderr
    assert "missing.csv" in one_line_error(segone("customers", "import", str(tmp_path / "missing.csv")))
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    assert "empty" in one_line_error(segone("customers", "import", str(empty)))


def test_customers_list_show_and_facts_add(segone: Invoke, store: Runtime, tmp_path: Path) -> None:
    path = tmp_path / "customers.csv"
    path.write_text(CSV, encoding="utf-8")
    segone("customers", "import", str(path))
    segone("users", "create", "rep@example.com", "--role", "frontline", "--name", "Rita Rep")

    page = as_json(segone("customers", "list", "--json"))
    assert page["total"] == 2 and [c["name"] for c in page["items"]] == ["Ann Patel", "Harbour Cafe"]
    found = as_json(segone("customers", "list", "--search", "harbour", "--json"))
    assert [c["name"] for c in found["items"]] == ["Harbour Cafe"]
    assert "Harbour Cafe" in segone("customers", "list", "--search", "harbour").stdout
    assert "No customers found" in segone("customers", "list", "--search", "nobody").stdout

    fact = as_json(
        segone(
            "facts",
            "add",
            "crm:C2",
            "Opening a second café in Otley in spring",
            "--category",
            "growth_plans",
            "--by",
            "rep@example.com",
            "--acknowledged",
            "--json",
        )
    )
    assert (fact["learned_by"], fact["category_label"]) == ("rep@example.com", "Growth plans")
    assert fact["acknowledgement"]["acknowledged_by"] == "rep@example.com"

    with store.session() as db:
        customers.note_first_activity(db, {fact["customer_id"]: datetime(2019, 3, 8, tzinfo=UTC)})
    sheet = segone("customers", "show", "crm:C2")
    assert sheet.exit_code == 0
    assert "Harbour Cafe" in sheet.stdout and "Opening a second café in Otley in spring" in sheet.stdout
    assert "knows we know" in sheet.stdout and "customer since March 2019" in sheet.stdout
    shown = as_json(segone("customers", "show", str(fact["customer_id"]), "--json"))
    assert shown["customer"]["identities"] == ["email:hello@harbour.example", "crm:C2"]
    assert shown["recognition"] == {"current": 1, "acknowledged": 1, "ratio": 1.0}
    assert "Nothing known yet" in segone("customers", "show", "email:ann@example.com").stdout
    with store.session() as db:
        history = customers.history(db, actor=SYSTEM, customer_id=fact["customer_id"])
        assert history[0].actor_email == "rep@example.com"
        assert len(knowledge.list_for_customer(db, actor=SYSTEM, customer_id=fact["customer_id"])) == 1

    assert "no customer 999" in one_line_error(segone("customers", "show", "999")).lower()
    assert "consumer category" in one_line_error(
        segone("facts", "add", "crm:C2", "Has a dog", "--category", "family", "--by", "rep@example.com")
    )
    assert "nobody@example.com" in one_line_error(
        segone("facts", "add", "crm:C2", "x", "--category", "worries", "--by", "nobody@example.com")
    )


def test_demo_loads_once_and_reset_reloads(segone: Invoke, data_dir: Path) -> None:
    small = ("--people", "60", "--businesses", "20")
    first = as_json(segone("demo", *small, "--if-empty", "--json"))
    assert first["loaded"] is True and first["customers"] >= 80
    created = first["behaviour"]["customers_created"]
    written = set((data_dir / "events").glob("*.parquet"))  # the purchases, then each week's complaints
    skipped = as_json(segone("demo", *small, "--if-empty", "--json"))
    assert skipped == {"loaded": False, "customers": first["customers"] + created}
    assert "--reset" in one_line_error(segone("demo", *small))
    again = segone("demo", *small, "--reset")
    assert again.exit_code == 0, again.output
    assert f"password '{demo.DEMO_PASSWORD}'" in again.stdout and demo.FRONTLINE_EMAIL in again.stdout
    listed = as_json(segone("users", "list", "--json"))
    assert {u["email"] for u in listed} >= set(demo.DEMO_LOGINS.values())
    behaviour = first["behaviour"]
    made = first["quality"]  # report cards and customer service (tests/demo/test_quality.py)
    assert (made["cards"], made["plans"], made["events"], made["promises"]) == (9, 6, 40, 24)
    assert made["cases"] == 40 and 0 < made["cases_open"] < 40 and "recovery cases" in again.stdout
    # Think customer, the perception gap and advocacy have something to show (tests/demo/test_quality.py).
    assert made["predictions"] > made["predictions_awaiting"] > 0 and made["advocacy_events"] > 0
    # 18 staff and 300 customers (CDNOW's buyers are all customers by now).
    assert made["survey_answers"] == 18 + 300 and "Think customer:" in again.stdout
    # The purchases are moved to end on the day of loading, the profiles' day.
    day = date.fromisoformat(first["day"])
    assert (behaviour["events"], behaviour["as_of"]) == (69_659, first["day"])
    # CDNOW's buyers, and the demo's businesses that bought from its catalogue.
    assert 23_570 < behaviour["profiles"] <= 23_570 + 20
    assert behaviour["shift_days"] == (day - date(1998, 6, 30)).days
    assert behaviour["first_day"] == (date(1997, 1, 1) + (day - date(1998, 6, 30))).isoformat()
    assert utcnow().date() - day <= timedelta(days=1)
    assert "moved forward by" in again.stdout and "to end today" in again.stdout
    assert behaviour["customers_created"] == 23_570 - 60  # the demo's 60 people are cdnow:00001...00060
    total = as_json(segone("customers", "list", "--json"))["total"]
    assert total == first["customers"] + behaviour["customers_created"]
    rewritten = set((data_dir / "events").glob("*.parquet"))
    assert len(rewritten) == len(written) and not rewritten & written  # the reset removed the old events
    measured = first["knowledge"]
    assert measured["customers"] == total and 0 < measured["segments_of_one"] < total
    # The demo is segmented at load, down to segments of one; a reset builds it again as the first version.
    segmented = first["segmentation"]
    assert (segmented["status"], segmented["customers"], segmented["settings"]["min_size"]) == (
        "done",
        total,
        1,
    )
    assert 0 < segmented["segments_of_one"] <= segmented["leaves"] <= total
    assert f"'segone segments show {segmented['id']}'" in again.stdout
    assert [v["id"] for v in as_json(segone("segments", "list", "--json"))] == [segmented["id"]]


def test_help_and_version(segone: Invoke) -> None:
    assert "customers" in segone("--help").stdout
    assert segone("--version").stdout.startswith("segone ")
    for group in ("db", "users", "tokens", "customers", "facts"):
        assert segone(group, "--help").exit_code == 0


def test_customers_show_prints_details_as_people_read_them(
    segone: Invoke, store: Runtime, tmp_path: Path
) -> None:
    people = tmp_path / "people.csv"
    # A cell is text, whatever it looks like: the import never stores a list.
    people.write_text('name,email,shoe\nAnn Patel,ann@example.com,"[1, 2]"\n')
    assert segone("customers", "import", str(people)).exit_code == 0
    with store.session() as db:
        ann = customers.get_by_identity(db, actor=SYSTEM, identity="email:ann@example.com")
        assert ann.attributes == {"shoe": "[1, 2]"}
        customers.update(
            db, actor=SYSTEM, customer_id=ann.id, data=CustomerUpdate(attributes={"vip": True, "stores": 2})
        )
        # A list stored before lists were refused still shows as JSON, not as Python's repr.
        db.execute(
            update(Customer)
            .where(Customer.id == ann.id)
            .values(attributes={"shoe": "[1, 2]", "vip": True, "stores": 2, "old": {"c": None}})
        )
    shown = segone("customers", "show", "email:ann@example.com")
    assert shown.exit_code == 0, shown.output
    assert 'Attributes: shoe=[1, 2], vip=yes, stores=2, old={"c": null}' in shown.stdout
