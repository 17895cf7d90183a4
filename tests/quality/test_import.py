"""Ratings from a CSV file: all or nothing by default, or the good rows with a row-by-row report of the bad
ones; every check of a rating made by hand, line by line."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import func, select

from segone.accounts.models import AuditEntry
from segone.accounts.schemas import SYSTEM, Role
from segone.errors import Forbidden
from segone.importing import ImportRejected
from segone.quality import importer
from segone.quality import service as quality
from segone.quality.models import Rating, Score
from segone.quality.schemas import CardOut
from segone.runtime import Runtime
from tests.factories import MadeUser, make_customer
from tests.quality.helpers import external_card, internal_card, member, rate, today


@pytest.fixture(autouse=True)
def _november() -> Iterator[None]:
    with today():
        yield


def _counts(runtime: Runtime) -> tuple[int, int]:
    with runtime.session() as db:
        return (
            int(db.scalar(select(func.count()).select_from(Rating)) or 0),
            int(db.scalar(select(func.count()).select_from(Score)) or 0),
        )


def _world(runtime: Runtime) -> tuple[CardOut, int, list[MadeUser]]:
    member(runtime, "Marketing")
    member(runtime, "Store York")
    sellers = [member(runtime, "Sales") for _ in range(2)]
    internal = internal_card(runtime)
    external = external_card(runtime).id
    make_customer(runtime, name="Ann", identities=["email:ann@example.com", "crm:A1"])
    return internal, external, sellers


def test_a_good_file_is_imported_whole(runtime: Runtime) -> None:
    card, external, (seller_a, seller_b) = _world(runtime)
    internal, a, b = card.id, seller_a.email, seller_b.email
    text = (
        "card,period,rater,Leads qualified,campaign calendar,Sales materials,Welcome,Advice,nps,csat,"
        "comment\n"
        f"{internal},2026-10,{a},4,3,,,,,,\n"
        f"Marketing for Sales,2026-11,{b},5,2,4,,,,,Calendar late\n"
        f"{external},2026-11,ann@example.com,,,,5,4,9,4,\n"
    )
    with runtime.session() as db:
        report = importer.import_ratings(db, actor=SYSTEM, data=text)
    assert (report.rows, report.created, report.errors, report.skipped) == (3, 3, [], 0)
    assert report.deliverable_columns == [
        "Leads qualified",
        "campaign calendar",
        "Sales materials",
        "Welcome",
        "Advice",
    ]
    assert _counts(runtime) == (3, 7)
    with runtime.session() as db:
        found = quality.review(db, actor=SYSTEM, card_id=internal, period="2026-11")
        sources = set(db.scalars(select(Rating.source)))
        audited = db.scalar(
            select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "report_card.rated")
        )
    assert found.deliverables[1].mean == 2.0 and found.comments[0].text == "Calendar late"
    assert sources == {"import"} and audited == 3


def test_one_bad_row_means_nothing_is_imported_and_every_bad_row_is_named(runtime: Runtime) -> None:
    card, external, (seller_a, seller_b) = _world(runtime)
    internal, a, b = card.id, seller_a.email, seller_b.email
    rate(runtime, card, seller_a, "2026-09", {"Leads qualified": 4})
    text = (
        "card,period,rater,Leads qualified,Welcome,nps\n"
        f"{internal},2026-10,{a},4,,\n"  # good
        f"{internal},2026-12,{a},4,,\n"  # 3: the future
        f"{internal},2026-10,{b},7,,\n"  # 4: out of range
        f"{internal},2026-10,{a},5,,\n"  # 5: the same rater as row 2
        f"{internal},2026-09,{a},5,,\n"  # 6: rated in the store already
        f"{internal},2026-10,{b},,4,\n"  # 7: not a deliverable of this card
        f"{external},2026-10,bob@example.com,,4,9\n"  # 8: no such customer
        f"{internal},2026-10,{b},3,,8\n"  # 9: NPS on an internal card
        "99,2026-10,x@example.com,3,,\n"  # 10: no such card
        f"{internal},2026-10,nobody@example.com,3,,\n"  # 11: no such user
        f"{internal},2026/10,{b},3,,\n"  # 12: malformed period
    )
    with runtime.session() as db, pytest.raises(ImportRejected) as refused:
        importer.import_ratings(db, actor=SYSTEM, data=text)
    report = refused.value.report
    assert refused.value.message.startswith("10 of the 11 rows are bad; nothing was imported.")
    problems = {(p.row, p.column): p.problem for p in report.errors}
    assert problems == {
        (3, "period"): "2026-12 is in the future; the latest period that may be rated is 2026-11",
        (4, None): "the score of 'Leads qualified' is 7; a score is 1 to 5",
        (5, "rater"): f"{a.split('@')[0]} rates 'Marketing for Sales' for 2026-10 on row 2 too",
        (6, "rater"): problems[(6, "rater")],
        (7, "Welcome"): "'Marketing for Sales' has no deliverable 'Welcome'; leave the cell empty",
        (8, "rater"): "No customer has the identity 'email:bob@example.com'.",
        (9, "nps"): "'Marketing for Sales' is an internal card: it asks no NPS question (external cards do)",
        (10, "card"): "there is no report card '99'",
        (11, "rater"): "there is no user with the e-mail address 'nobody@example.com'",
        (12, "period"): "'2026/10' is not a period; write YYYY-MM, e.g. 2026-11",
    }
    assert "rated 'Marketing for Sales' for 2026-09 already" in problems[(6, "rater")]
    assert _counts(runtime) == (1, 1)  # the rating made before the import


def test_skip_bad_rows_imports_the_good_ones_and_reports_the_rest(runtime: Runtime) -> None:
    card, _external, (seller_a, seller_b) = _world(runtime)
    internal, a, b = card.id, seller_a.email, seller_b.email
    text = (
        "card,period,rater,Leads qualified\n"
        f"{internal},2026-10,{a},4\n{internal},2026-10,{b},9\n{internal},2026-11,{b},2\n"
    )
    with runtime.session() as db:
        checked = importer.import_ratings(db, actor=SYSTEM, data=text, skip_bad_rows=True, dry_run=True)
    assert (checked.created, checked.skipped, checked.dry_run) == (2, 1, True)
    assert _counts(runtime) == (0, 0)
    with runtime.session() as db:
        report = importer.import_ratings(db, actor=SYSTEM, data=text, skip_bad_rows=True)
    assert (report.created, report.skipped) == (2, 1)
    assert [(p.row, p.problem) for p in report.errors] == [
        (3, "the score of 'Leads qualified' is 9; a score is 1 to 5")
    ]
    assert _counts(runtime) == (2, 2)


def test_the_header_needs_card_period_and_rater_and_the_import_permission(runtime: Runtime) -> None:
    manager = member(runtime, "Sales", Role.MANAGER)
    with runtime.session() as db, pytest.raises(ImportRejected, match="the file has no 'rater' column"):
        importer.import_ratings(db, actor=SYSTEM, data="card,period,Leads qualified\n1,2026-10,4\n")
    with runtime.session() as db, pytest.raises(Forbidden, match="import data"):
        importer.import_ratings(db, actor=manager.actor, data="card,period,rater\n")


def test_a_period_written_short_is_the_same_period(runtime: Runtime) -> None:
    card, _external, (seller_a, _b) = _world(runtime)
    rate(runtime, card, seller_a, "2026-09", {"Leads qualified": 4})
    text = f"card,period,rater,Leads qualified\n{card.id},2026-9,{seller_a.email},5\n"
    with runtime.session() as db, pytest.raises(ImportRejected) as refused:
        importer.import_ratings(db, actor=SYSTEM, data=text)
    assert "rated 'Marketing for Sales' for 2026-09 already" in refused.value.report.errors[0].problem
