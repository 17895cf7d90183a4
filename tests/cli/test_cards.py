"""``segone cards`` against a real store in a temporary folder: set up, rate, import, review, plans, links
and the bonus-plan export; bad input is one line on stderr and exit code 2, with nothing stored."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path

import pytest

from segone.accounts.schemas import Role
from segone.runtime import Runtime
from tests.api.helpers import api_user
from tests.cli.conftest import Invoke, as_json, one_line_error
from tests.factories import MadeUser, make_customer
from tests.quality.helpers import today


@pytest.fixture(autouse=True)
def _november() -> Iterator[None]:
    with today():
        yield


@pytest.fixture
def people(store: Runtime) -> dict[str, MadeUser]:
    return {
        "marketer": api_user(store, Role.MANAGER, team="Marketing"),
        "ann": api_user(store, Role.FRONTLINE, team="Sales"),
        "bo": api_user(store, Role.FRONTLINE, team="Sales"),
        "york": api_user(store, Role.MANAGER, team="Store York"),
    }


def _card(segone: Invoke) -> dict[str, object]:
    made = as_json(
        segone(
            "cards", "create", "--supplier", "Marketing", "--customer", "Sales",
            "--deliverables", "Leads qualified; Campaign calendar;Sales materials",
            "--target", "4.0", "--json",
        )
    )  # fmt: skip
    assert isinstance(made, dict)
    return made


def test_set_up_rate_and_review_a_card(segone: Invoke, people: dict[str, MadeUser]) -> None:
    card = _card(segone)
    assert card["name"] == "Marketing for Sales" and card["kind"] == "internal"
    assert [d["name"] for d in card["deliverables"]] == [
        "Leads qualified",
        "Campaign calendar",
        "Sales materials",
    ]  # type: ignore[index, union-attr]
    ann, bo = people["ann"].email, people["bo"].email
    rated = segone(
        "cards", "rate", "Marketing for Sales", "--by", ann, "--period", "2026-11",
        "--scores", "Leads qualified=4,campaign calendar=2", "--comment", "Calendar late",
    )  # fmt: skip
    assert rated.exit_code == 0, rated.output
    assert "rated Marketing for Sales for 2026-11: Leads qualified 4, Campaign calendar 2." in rated.stdout
    made = as_json(
        segone(
            "cards",
            "rate",
            str(card["id"]),
            "--by",
            bo,
            "--period",
            "2026-11",
            "--scores",
            "Leads qualified=5,Campaign calendar=3",
            "--json",
        )
    )
    assert made["scores"] == {"Leads qualified": 5, "Campaign calendar": 3} and made["source"] == "cli"

    review = as_json(segone("cards", "review", str(card["id"]), "--period", "2026-11", "--json"))
    leads, calendar, materials = review["deliverables"]
    # Leads 4 and 5: 4.5, meets 4; calendar 2 and 3: 2.5, below it; materials not rated.
    assert (leads["mean"], leads["count"], leads["shortfall"]) == (4.5, 2, None)
    assert leads["distribution"] == {"1": 0, "2": 0, "3": 0, "4": 1, "5": 1}
    assert (calendar["mean"], calendar["shortfall"]["why"]) == (2.5, "2.50 is below the target of 4.00")
    assert (materials["mean"], materials["count"]) == (None, 0)
    assert (review["raters"], review["mean"]) == (2, 3.5)  # (4 + 2 + 5 + 3) / 4
    text = segone("cards", "review", "Marketing for Sales")
    assert text.exit_code == 0, text.output
    assert (
        "Marketing for Sales: November 2026. 2 ratings; target 4.00; card mean 3.50 of 4 scores."
        in text.stdout
    )
    assert "2.50 is below the target of 4.00" in text.stdout and '"Calendar late"' in text.stdout

    listed = segone("cards", "list")
    assert "Marketing for Sales" in listed.stdout and "Marketing" in listed.stdout
    shown = segone("cards", "show", "marketing for sales")
    assert "Supplier: Marketing. Customer: Sales." in shown.stdout and "  - Sales materials" in shown.stdout


@pytest.mark.parametrize(
    ("scores", "period", "says"),
    [
        (
            "Leads qualified=7",
            "2026-11",
            "Error: scores: the score of 'Leads qualified' is 7; a score is 1 to 5",
        ),
        ("Coffee=4", "2026-11", "Error: the card has no deliverable 'Coffee'; its deliverables are"),
        (
            "Leads qualified=4",
            "2026-12",
            "Error: 2026-12 is in the future; the latest period that may be rated is 2026-11",
        ),
        ("Leads qualified=4", "2026-13", "Error: '2026-13' is not a period: there is no month 13 (1 to 12)"),
        ("Leads qualified", "2026-11", "Error: --scores: 'Leads qualified' is not deliverable=score"),
        ("Leads qualified=high", "2026-11", "Error: --scores: the score of 'Leads qualified' is 'high'"),
    ],
)
def test_a_bad_rating_is_one_line_exit_2_and_nothing_stored(
    segone: Invoke, people: dict[str, MadeUser], scores: str, period: str, says: str
) -> None:
    card = _card(segone)
    result = segone(
        "cards", "rate", str(card["id"]), "--by", people["ann"].email, "--period", period, "--scores", scores
    )
    assert one_line_error(result).startswith(says)
    assert as_json(segone("cards", "review", str(card["id"]), "--period", "2026-11", "--json"))["raters"] == 0


def test_a_second_rating_of_the_period_is_refused(segone: Invoke, people: dict[str, MadeUser]) -> None:
    card = _card(segone)
    args = (
        "cards",
        "rate",
        str(card["id"]),
        "--by",
        people["ann"].email,
        "--period",
        "2026-11",
        "--scores",
        "Leads qualified=4",
    )
    assert segone(*args).exit_code == 0
    assert "rated 'Marketing for Sales' for 2026-11 already" in one_line_error(segone(*args))
    assert as_json(segone("cards", "review", str(card["id"]), "--json"))["raters"] == 1


def test_import_ratings_from_a_file(segone: Invoke, people: dict[str, MadeUser], tmp_path: Path) -> None:
    card = _card(segone)
    good = tmp_path / "ratings.csv"
    good.write_text(
        "card,period,rater,Leads qualified,Campaign calendar\n"
        f"{card['id']},2026-10,{people['ann'].email},4,3\n"
        f"Marketing for Sales,2026-10,{people['bo'].email},5,\n"
    )
    done = segone("cards", "import", str(good))
    assert done.exit_code == 0, done.output
    assert "Imported ratings.csv: 2 rows (read as utf-8); 2 ratings." in done.stdout
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "card,period,rater,Leads qualified\n"
        f"{card['id']},2026-11,{people['ann'].email},9\n{card['id']},2026-11,{people['bo'].email},4\n"
    )
    refused = segone("cards", "import", str(bad))
    assert one_line_error(refused).startswith("Error: 1 of the 2 rows is bad; nothing was imported.")
    assert "  row 2: the score of 'Leads qualified' is 9; a score is 1 to 5" in refused.stderr
    skipped = segone("cards", "import", str(bad), "--skip-bad-rows")
    assert (
        skipped.exit_code == 0
        and "1 rating." in skipped.stdout
        and "1 bad rows were left out:" in skipped.stderr
    )
    review = as_json(segone("cards", "review", str(card["id"]), "--period", "2026-10", "--json"))
    assert review["raters"] == 2 and review["deliverables"][0]["mean"] == 4.5


def test_action_plans_are_added_updated_and_followed_up(segone: Invoke, people: dict[str, MadeUser]) -> None:
    card = _card(segone)
    segone(
        "cards",
        "rate",
        str(card["id"]),
        "--by",
        people["ann"].email,
        "--period",
        "2026-10",
        "--scores",
        "Campaign calendar=2",
    )
    plan = as_json(
        segone(
            "cards", "plan", "add", str(card["id"]), "--deliverable", "campaign calendar",
            "--period", "2026-10", "--owner", people["marketer"].email, "--due", "2026-12-15",
            "--notes", "Calendar owner named", "--json",
        )
    )  # fmt: skip
    assert (plan["deliverable"], plan["status"], plan["owner"]["email"]) == (
        "Campaign calendar",
        "open",
        people["marketer"].email,
    )
    changed = segone("cards", "plan", "update", str(plan["id"]), "--status", "in_progress")
    assert changed.exit_code == 0, changed.output
    assert f"#{plan['id']} Campaign calendar (2026-10)" in changed.stdout and "in progress" in changed.stdout
    segone(
        "cards",
        "rate",
        str(card["id"]),
        "--by",
        people["ann"].email,
        "--period",
        "2026-11",
        "--scores",
        "Campaign calendar=3",
    )
    review = as_json(segone("cards", "review", str(card["id"]), "--period", "2026-11", "--json"))
    assert [(f["id"], f["status"], f["mean_then"], f["mean_now"]) for f in review["follow_up"]] == [
        (plan["id"], "in_progress", 2.0, 3.0)
    ]
    assert "is not a date" in one_line_error(
        segone(
            "cards",
            "plan",
            "add",
            str(card["id"]),
            "--deliverable",
            "x",
            "--period",
            "2026-10",
            "--owner",
            "a@b.c",
            "--due",
            "soon",
        )
    )
    assert "There is no action plan 999." in one_line_error(
        segone("cards", "plan", "update", "999", "--status", "done")
    )


def test_export_the_scores_for_the_bonus_plan(
    segone: Invoke, people: dict[str, MadeUser], tmp_path: Path
) -> None:
    card = _card(segone)
    segone(
        "cards",
        "rate",
        str(card["id"]),
        "--by",
        people["ann"].email,
        "--period",
        "2026-11",
        "--scores",
        "Leads qualified=3,Sales materials=5",
    )
    result = segone("cards", "export", "--period", "2026-11", "--format", "csv")
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout, newline="")))
    assert [(r["team"], r["deliverable"], r["ratings"], r["mean"], r["meets_target"]) for r in rows] == [
        ("Marketing", "Leads qualified", "1", "3.0", "false"),
        ("Marketing", "Campaign calendar", "0", "", ""),
        ("Marketing", "Sales materials", "1", "5.0", "true"),
    ]
    assert "Exported 3 report-card-scores-2026-11 to stdout." in result.stderr
    assert "in the future" in one_line_error(segone("cards", "export", "--period", "2027-01"))


def test_a_rating_link_for_an_external_customer(
    segone: Invoke, store: Runtime, people: dict[str, MadeUser]
) -> None:
    card = as_json(
        segone(
            "cards",
            "create",
            "--supplier",
            "Store York",
            "--customer",
            "customers",
            "--touch-point",
            "store",
            "--deliverables",
            "Welcome;Advice",
            "--json",
        )
    )
    assert (card["name"], card["kind"]) == ("Store York for customers: store", "external")
    make_customer(store, name="Ann", identities=["email:ann@example.com"])
    made = segone(
        "cards", "link", str(card["id"]), "--customer", "email:ann@example.com", "--period", "2026-11"
    )
    assert made.exit_code == 0, made.output
    assert made.stdout.startswith("http://127.0.0.1:8000/r/")
    rated = as_json(
        segone(
            "cards",
            "rate",
            str(card["id"]),
            "--by",
            "ann@example.com",
            "--period",
            "2026-11",
            "--scores",
            "Welcome=5",
            "--nps",
            "9",
            "--csat",
            "4",
            "--json",
        )
    )
    assert (rated["rater"], rated["nps"], rated["csat"]) == ("Ann", 9, 4)
    assert "needs a touch point" in one_line_error(
        segone("cards", "create", "--supplier", "company", "--customer", "customers", "--deliverables", "x")
    )
