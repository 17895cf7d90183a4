"""``segone customers consent`` and ``without-consent``; a draft without contact consent exits 2."""

from __future__ import annotations

from segone.runtime import Runtime
from tests.cli.conftest import Invoke, as_json, one_line_error
from tests.factories import make_customer


def test_consent_is_recorded_shown_and_listed(segone: Invoke, store: Runtime) -> None:
    ann = make_customer(store, name="Ann Archer")
    bob = make_customer(store, name="Bob Brown")
    recorded = as_json(
        segone(
            "customers",
            "consent",
            str(ann),
            "--purpose",
            "profiling",
            "--refused",
            "--note",
            "phoned",
            "--json",
        )
    )
    profiling = next(p for p in recorded["purposes"] if p["purpose"] == "profiling")
    assert profiling == {**profiling, "granted": False, "recorded": True, "source": "cli"}
    assert recorded["history"][0]["note"] == "phoned"

    shown = segone("customers", "consent", str(ann))
    assert shown.exit_code == 0, shown.output
    assert "profiling: refused  (cli, " in shown.stdout
    assert "contact: granted  (nothing recorded: the default (granted))" in shown.stdout
    assert "No profiling consent: left out of segments, scores and offers." in shown.stdout
    assert "Ann Archer" in segone("customers", "without-consent", "--purpose", "profiling").stdout
    listed = as_json(segone("customers", "without-consent", "--purpose", "profiling", "--json"))
    assert listed == [{"id": ann, "name": "Ann Archer"}]
    sheet = segone("customers", "show", str(ann))
    assert "No profiling consent: left out of segments, scores and offers." in sheet.stdout
    assert "No profiling consent" not in segone("customers", "show", str(bob)).stdout

    assert one_line_error(segone("customers", "consent", str(ann), "--granted")) == (
        "Error: Give --purpose with --granted or --refused (or neither, to show consent)."
    )


def test_a_draft_without_contact_consent_exits_2(segone: Invoke, store: Runtime) -> None:
    ann = make_customer(store, name="Ann Archer")
    assert segone("customers", "consent", str(ann), "--purpose", "contact", "--refused").exit_code == 0
    assert one_line_error(segone("messages", "draft", str(ann), "--purpose", "follow-up")) == (
        "Error: No contact consent: Ann Archer has not agreed to be contacted, so no message is drafted. "
        "Record their consent first if they have given it."
    )
