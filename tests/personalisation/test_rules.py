"""The business's rules for an offering: ``repeatable`` and the ``eligible_if`` format, read, applied, and
refused with a clear message when an offering is saved or imported."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from segone.accounts.schemas import SYSTEM
from segone.importing import ImportRejected
from segone.personalisation import importer
from segone.personalisation import service as offerings
from segone.personalisation.rules import parse_repeatable, parse_rule
from segone.personalisation.schemas import OfferingCreate, OfferingUpdate
from segone.runtime import Runtime


def _holds(
    rule: str, *, kind: str = "person", audiences: set[str] | None = None, **attributes: object
) -> bool:
    parsed = parse_rule(rule)
    assert parsed is not None
    return parsed.holds(kind=kind, attributes=attributes, audiences=audiences or set())


def test_conditions_compare_text_without_case_numbers_as_numbers_and_yes_as_true() -> None:
    assert _holds("attribute:plan = gold", plan="Gold")
    assert not _holds("attribute:plan = gold", plan="basic")
    assert _holds("attribute:plan != gold", plan="basic")
    assert _holds("attribute:plan in (gold, 'silver plus')", plan="Silver  Plus")
    assert _holds("attribute:plan not in (gold, silver)", plan="basic")
    assert _holds("attribute:age >= 18", age="18") and not _holds("attribute:age >= 18", age=17)
    assert _holds("attribute:age < 18.5", age=18) and not _holds("attribute:age > 18", age="eighteen")
    assert _holds("attribute:seats = 10", seats="10.0")
    assert _holds("attribute:member = yes", member=True) and _holds("attribute:member = true", member="Yes")
    assert _holds("attribute:Region = North", region="north")  # the attribute's name in any case
    assert _holds("kind = business", kind="business") and not _holds("kind = business")
    assert _holds('audience = "Gold Club"', audiences={"gold club"})
    assert not _holds('audience = "Gold Club"') and _holds("audience != 'Gold Club'")
    assert _holds("audience in (a, b)", audiences={"b"}) and _holds("audience not in (a, b)")


def test_a_rule_holds_when_every_condition_does_and_unknown_attributes_never_qualify() -> None:
    rule = "attribute:plan = gold AND kind = person and attribute:age >= 18"
    assert _holds(rule, plan="gold", age=30)
    assert not _holds(rule, plan="gold", age=30, kind="business")
    assert not _holds(rule, plan="gold")
    for operator in ("=", "!=", "<", "not in"):
        value = "(x)" if operator == "not in" else "5"
        assert not _holds(f"attribute:missing {operator} {value}"), operator
    assert parse_rule("") is None and parse_rule("   ") is None and parse_rule(None) is None


@pytest.mark.parametrize(
    ("rule", "problem"),
    [
        ("plan = gold", "is not SUBJECT OPERATOR VALUE"),
        ("attribute:plan gold", "is not SUBJECT OPERATOR VALUE"),
        ("attribute: = gold", "names no attribute"),
        ("attribute:plan =", "a value is empty"),
        ("attribute:age > young", "'young' is not a number"),
        ("kind = shop", "a kind is person or business, not 'shop'"),
        ("audience > 3", "compares numbers; audience takes"),
        ("attribute:plan = gold, silver and kind = person", None),
        ("attribute:plan in (gold, silver", "unmatched parenthesis"),
        ("attribute:plan = gold and", "a condition is missing"),
        ("attribute:genre = 'rock and roll' and kind = person", None),
        ('attribute:genre in ("rock and roll", jazz) and kind = person', None),
    ],
)
def test_a_rule_that_cannot_be_read_says_what_is_wrong(rule: str, problem: str | None) -> None:
    if problem is None:
        assert parse_rule(rule) is not None  # one value that holds a comma
        return
    with pytest.raises(ValueError, match="eligible_if") as error:
        parse_rule(rule)
    assert problem in str(error.value)


def test_repeatable_is_yes_or_no() -> None:
    assert parse_repeatable("Yes") and parse_repeatable(True) and parse_repeatable("1")
    assert not parse_repeatable("no") and not parse_repeatable(None) and not parse_repeatable("")
    with pytest.raises(ValueError, match="'repeatable' must be yes or no"):
        parse_repeatable("sometimes")


def test_rules_are_checked_when_an_offering_is_saved_or_imported(runtime: Runtime) -> None:
    with pytest.raises(ValidationError, match="a kind is person or business"):
        OfferingCreate(key="k", name="n", attributes={"eligible_if": "kind = shop"})
    with pytest.raises(ValidationError, match="'repeatable' must be yes or no"):
        OfferingUpdate(attributes={"Repeatable": "often"})
    made = OfferingCreate(
        key="k", name="n", attributes={"eligible_if": "kind = business", "repeatable": "yes"}
    )
    with runtime.session() as db:
        offerings.create(db, actor=SYSTEM, data=made)

    data = "key,name,eligible_if,repeatable\na,A,attribute:plan = gold,yes\nb,B,plan is gold,no\nc,C,,maybe\n"
    with runtime.session() as db, pytest.raises(ImportRejected) as rejected:
        importer.import_offerings(db, actor=SYSTEM, data=data)
    problems = {(p.row, p.column): p.problem for p in rejected.value.report.errors}
    assert set(problems) == {(3, "eligible_if"), (4, "repeatable")}
    assert "is not SUBJECT OPERATOR VALUE" in problems[3, "eligible_if"]
    with runtime.session() as db:
        assert offerings.list_offerings(db, actor=SYSTEM).total == 1  # all or nothing
