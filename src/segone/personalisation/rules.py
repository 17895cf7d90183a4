"""The business's rules for an offering, kept in two of its attributes (docs/personalisation.md, "Rules"):

- ``repeatable``: yes/no (true/false, 1/0). A customer who bought an offering is not offered it again
  unless it is repeatable (lessons, a service).
- ``eligible_if``: who may be offered it, as conditions joined by ``and`` (each must hold)::

      attribute:plan in (gold, silver) and kind = person and audience = "Loyal buyers"

  A condition is ``SUBJECT OPERATOR VALUE``. Subjects: ``attribute:<name>`` (the customer's attribute of
  that name), ``kind`` (``person`` or ``business``), ``audience`` (membership of a saved audience, a
  segment saved under a name). Operators: ``=``, ``!=``, ``in``, ``not in`` (a list: ``(a, b)``), and for
  attributes ``<``, ``<=``, ``>``, ``>=`` (numbers). Values may be quoted ('...' or "...") and are
  compared without case; yes/no and true/false are the same; numbers compare as numbers (``10`` = ``10.0``).
  A customer without the attribute meets no condition on it.

Both are checked when an offering is saved (the API, the CSV import), so a rule that cannot be read is
refused with what is wrong, never found out at matching time.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

ELIGIBLE_IF = "eligible_if"
REPEATABLE = "repeatable"
RULE_MAX = 1000
CONDITIONS_MAX = 20
KINDS = ("person", "business")
_SUBJECTS = "attribute:<name>, kind or audience"
_TRUE = {"true", "yes", "y", "1"}
_FALSE = {"false", "no", "n", "0"}
_ORDER_OPERATORS = ("<", "<=", ">", ">=")
_LIST_OPERATORS = ("in", "not in")
# SUBJECT, then an operator (symbols, or "in" / "not in" as words), then the value(s).
_CONDITION = re.compile(
    r"^(?P<subject>attribute:[^=!<>]+?|kind|audience)\s*"
    r"(?:(?P<symbol><=|>=|!=|=|<|>)|\s(?P<word>not\s+in|in)(?=[\s(\"']))\s*(?P<value>.*)$",
    re.IGNORECASE | re.DOTALL,
)
# "and" as a word outside quotes ("rock and roll" in quotes is one value).
_PIECE = re.compile(r"(?:[^\s\"']|\"[^\"]*\"?|'[^']*'?)+")


def attribute(attributes: Mapping[str, Any], name: str) -> Any:
    """The attribute of this name in any case (``Repeatable`` is ``repeatable``), None when absent."""
    if name in attributes:
        return attributes[name]
    wanted = name.casefold()
    return next((value for key, value in attributes.items() if key.casefold() == wanted), None)


def parse_repeatable(value: Any) -> bool:
    """``repeatable`` as true or false; absent or empty means no. Raises ValueError otherwise."""
    if value is None or value == "":
        return False
    if isinstance(value, bool):
        return value
    text = str(value).strip().casefold()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError(f"the attribute '{REPEATABLE}' must be yes or no (true/false, 1/0), not '{value}'")


def _canonical(value: Any) -> str | float:
    """What a value is compared as: a number, yes/no as ``true``/``false``, else text without case."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return float(value)
    text = " ".join(str(value).split()).casefold()
    if text in _TRUE - {"1"}:
        return "true"
    if text in _FALSE - {"0"}:
        return "false"
    try:
        return float(text)
    except ValueError:
        return text


def _unquote(text: str) -> str:
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
        return text[1:-1]
    return text


def _values(raw: str, *, listed: bool) -> list[str]:
    raw = raw.strip()
    if listed:
        if raw.startswith("(") != raw.endswith(")"):
            raise ValueError(f"the list '{raw}' has an unmatched parenthesis")
        if raw.startswith("("):
            raw = raw[1:-1]
        found = [_unquote(part) for part in re.findall(r"\"[^\"]*\"|'[^']*'|[^,]+", raw) if part.strip(", ")]
    else:
        found = [_unquote(raw)]
    values = [" ".join(value.split()) for value in found]
    if not values or any(not value for value in values):
        raise ValueError("a value is empty")
    return values


@dataclass(frozen=True)
class Condition:
    subject: str = "kind"
    """``kind``, ``audience`` or ``attribute:<name>``."""
    operator: str = "="
    values: tuple[str, ...] = ()

    @property
    def attribute_name(self) -> str | None:
        return self.subject.split(":", 1)[1] if self.subject.startswith("attribute:") else None

    def holds(self, *, kind: str, attributes: Mapping[str, Any], audiences: Collection[str]) -> bool:
        if self.subject == "audience":
            inside = any(" ".join(name.split()).casefold() in audiences for name in self.values)
            return inside if self.operator in ("=", "in") else not inside
        if self.subject == "kind":
            have: Any = kind
        else:
            have = attribute(attributes, self.attribute_name or "")
            if have is None or have == "":
                return False
        value = _canonical(have)
        wanted = [_canonical(v) for v in self.values]
        if self.operator in _ORDER_OPERATORS:
            if not isinstance(value, float):
                return False
            limit = wanted[0]
            assert isinstance(limit, float)
            return {
                "<": value < limit,
                "<=": value <= limit,
                ">": value > limit,
                ">=": value >= limit,
            }[self.operator]
        inside = value in wanted
        return inside if self.operator in ("=", "in") else not inside


@dataclass(frozen=True)
class Rule:
    """An ``eligible_if`` rule: every condition must hold."""

    text: str
    conditions: tuple[Condition, ...]

    def holds(self, *, kind: str, attributes: Mapping[str, Any], audiences: Collection[str]) -> bool:
        """Whether a customer of this kind, with these attributes, in these audiences (names in lower
        case, spaces collapsed) may be offered the offering."""
        return all(c.holds(kind=kind, attributes=attributes, audiences=audiences) for c in self.conditions)

    @property
    def audiences(self) -> set[str]:
        """The audiences the rule names, as written."""
        return {value for c in self.conditions if c.subject == "audience" for value in c.values}


def parse_rule(text: Any) -> Rule | None:
    """An ``eligible_if`` rule; None for an empty one (everybody is eligible). Raises ValueError saying
    what is wrong and how a rule is written."""
    if text is None:
        return None
    if not isinstance(text, str):
        raise ValueError(f"the attribute '{ELIGIBLE_IF}' must be text, e.g. 'attribute:plan = gold'")
    rule = " ".join(text.split())
    if not rule:
        return None
    if len(rule) > RULE_MAX:
        raise ValueError(f"the rule '{ELIGIBLE_IF}' is {len(rule)} characters long; at most {RULE_MAX}")
    parts = _split(rule)
    if len(parts) > CONDITIONS_MAX:
        raise ValueError(f"the rule '{ELIGIBLE_IF}' has {len(parts)} conditions; at most {CONDITIONS_MAX}")
    return Rule(rule, tuple(_condition(part) for part in parts))


def _split(rule: str) -> list[str]:
    """The conditions of a rule: its pieces between the words ``and`` outside quotes."""
    parts: list[list[str]] = [[]]
    for piece in _PIECE.findall(rule):
        if piece.casefold() == "and":
            parts.append([])
        else:
            parts[-1].append(piece)
    return [" ".join(part) for part in parts]


def _condition(part: str) -> Condition:
    if not part:
        raise ValueError(f"in the rule '{ELIGIBLE_IF}', a condition is missing before or after an 'and'")
    where = f"in the rule '{ELIGIBLE_IF}', the condition '{part}'"
    found = _CONDITION.match(part.strip())
    if found is None:
        raise ValueError(
            f"{where} is not SUBJECT OPERATOR VALUE: subjects are {_SUBJECTS}; operators =, !=, <, <=, >, "
            ">=, in, not in (e.g. 'attribute:plan in (gold, silver) and kind = person')"
        )
    subject = found["subject"].strip()
    subject = "attribute:" + subject.split(":", 1)[1].strip() if ":" in subject else subject.lower()
    if subject == "attribute:":
        raise ValueError(f"{where} names no attribute: write attribute:<name>")
    operator = found["symbol"] or " ".join(found["word"].lower().split())
    try:
        values = _values(found["value"], listed=operator in _LIST_OPERATORS)
    except ValueError as exc:
        raise ValueError(f"{where}: {exc}") from exc
    if operator not in _LIST_OPERATORS and len(values) != 1:
        raise ValueError(f"{where}: '{operator}' takes one value")
    if operator in _ORDER_OPERATORS:
        if subject in ("kind", "audience"):
            raise ValueError(f"{where}: '{operator}' compares numbers; {subject} takes =, !=, in, not in")
        if not isinstance(_canonical(values[0]), float):
            raise ValueError(f"{where}: '{operator}' compares numbers, and '{values[0]}' is not a number")
    if subject == "kind" and (bad := [v for v in values if v.casefold() not in KINDS]):
        raise ValueError(f"{where}: a kind is person or business, not '{bad[0]}'")
    return Condition(subject, operator, tuple(values))


def check(attributes: Mapping[str, Any]) -> None:
    """Raise ValueError when the offering's ``repeatable`` or ``eligible_if`` cannot be read."""
    parse_repeatable(attribute(attributes, REPEATABLE))
    parse_rule(attribute(attributes, ELIGIBLE_IF))
