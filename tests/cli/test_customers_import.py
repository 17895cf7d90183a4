"""``segone customers import`` of CRM exports: --preset, --map, --encoding, and what it says."""

from __future__ import annotations

from pathlib import Path

from segone.accounts.schemas import SYSTEM
from segone.customers import service as customers
from segone.customers.schemas import ConsentPurpose
from segone.runtime import Runtime
from tests.cli.conftest import Invoke, as_json, one_line_error

CRM = Path(__file__).parents[1] / "data" / "crm"
HUBSPOT = str(CRM / "hubspot-contacts.csv")
SALESFORCE = str(CRM / "salesforce-contacts.csv")


def test_a_hubspot_export_with_its_preset_dry_run_then_real(segone: Invoke, store: Runtime) -> None:
    dry = as_json(segone("customers", "import", HUBSPOT, "--preset", "hubspot", "--dry-run", "--json"))
    assert (dry["dry_run"], dry["created"], dry["merged"], dry["encoding"]) == (True, 9, 1, "utf-8")
    assert [(p["row"], p["name"], p["outcome"]) for p in dry["preview"][:2]] == [
        (2, "Ann Patel", "create"),
        (3, "Bob Stone", "create"),
    ]
    with store.session() as db:
        assert customers.count_active(db) == 0

    real = segone("customers", "import", HUBSPOT, "--preset", "hubspot")
    assert real.exit_code == 0, real.output
    assert real.stdout.strip() == (
        "Imported hubspot-contacts.csv: 10 rows (read as utf-8); 9 created, 0 updated, 0 unchanged, "
        "1 merged into earlier rows."
    )
    assert "2 warnings:" in real.stderr
    assert "row 7, column Company Name: looks like a spreadsheet formula; stored as text" in real.stderr
    assert "row 10: merged with row 2" in real.stderr
    with store.session() as db:
        ann = customers.to_out(customers.get_by_identity(db, actor=SYSTEM, identity="hubspot:59"))
        assert ann.name == "Ann Patel-Shah" and "phone:+442079460958" in ann.identities


def test_a_windows_1252_salesforce_export_and_a_wrong_encoding(segone: Invoke, store: Runtime) -> None:
    wrong = segone("customers", "import", SALESFORCE, "--preset", "salesforce", "--encoding", "utf-8")
    assert "The file is not utf-8 text: line 2 holds bytes utf-8 cannot read" in one_line_error(wrong)
    unknown = segone("customers", "import", SALESFORCE, "--preset", "zoho")
    assert "Unknown preset 'zoho'; presets: hubspot, salesforce" in one_line_error(unknown)
    with store.session() as db:
        assert customers.count_active(db) == 0

    done = segone("customers", "import", SALESFORCE, "--preset", "salesforce", "--encoding", "cp1252")
    assert done.exit_code == 0, done.output
    assert "10 rows (read as windows-1252); 9 created" in done.stdout
    with store.session() as db:
        soren = customers.get_by_identity(db, actor=SYSTEM, identity="email:soren@example.dk")
        assert (soren.name, soren.attributes) == ("Søren Kierkegaard", {"Mailing City": "København"})


def test_map_joins_columns(segone: Invoke, store: Runtime, tmp_path: Path) -> None:
    path = tmp_path / "contacts.csv"
    path.write_text(
        "Vorname;Nachname;E-Mail;Handy;Firma\nJürgen;Weiß;jw@example.at;+43 1 234567;Weiß KG\n",
        encoding="utf-8-sig",
    )
    mapping = "name=Vorname+Nachname,email=E-Mail,phone=Handy,company=Firma"
    result = as_json(segone("customers", "import", str(path), "--map", mapping, "--json"))
    assert (result["created"], result["warnings"]) == (1, [])
    with store.session() as db:
        out = customers.to_out(customers.get_by_identity(db, actor=SYSTEM, identity="phone:+431234567"))
        assert (out.name, out.attributes) == ("Jürgen Weiß", {"company": "Weiß KG"})
    assert "field=column pairs" in one_line_error(segone("customers", "import", str(path), "--map", "name"))
    missing = segone("customers", "import", str(path), "--map", "name=Vorname+Familienname")
    assert "names column 'Familienname', which the input does not have" in one_line_error(missing)


def test_consent_columns_a_bad_value_exits_2_and_a_map_reads_a_crm_column(
    segone: Invoke, store: Runtime, tmp_path: Path
) -> None:
    path = tmp_path / "contacts.csv"
    path.write_text("Name,Email,GDPR Opt-in\nAnn Patel,ann@example.com,Yes\nBob Stone,bob@example.com,ja\n")
    bad = segone("customers", "import", str(path), "--map", "consent:profiling=GDPR Opt-in")
    assert "1 of the 2 rows is bad; nothing was imported" in one_line_error(bad)
    assert "row 3, column GDPR Opt-in: 'ja' is not a consent" in bad.stderr
    with store.session() as db:
        assert customers.count_active(db) == 0

    path.write_text("Name,Email,GDPR Opt-in\nAnn Patel,ann@example.com,Yes\nBob Stone,bob@example.com,\n")
    done = as_json(
        segone("customers", "import", str(path), "--map", "consent:profiling=GDPR Opt-in", "--json")
    )
    assert (done["created"], [p["consent"] for p in done["preview"]]) == (2, [{"profiling": True}, {}])
    with store.session() as db:
        ann = customers.get_by_identity(db, actor=SYSTEM, identity="email:ann@example.com")
        assert ann.attributes == {}
        assert customers.consent_of(db, actor=SYSTEM, customer_id=ann.id, default_granted=False).granted(
            ConsentPurpose.PROFILING
        )
