"""Templates rendered in Jinja2's sandbox, and what they may name (the template context).

A template is the business's text, so it runs in ``jinja2.sandbox.ImmutableSandboxedEnvironment``: no
attribute that starts with an underscore (``''.__class__`` is refused), no changing a list or a dict, no
range above 100,000 items, ``*`` and ``**`` capped so that no value outgrows a message; a name the context
does not have is an error (``StrictUndefined``), and so is a message longer than ``OUTPUT_MAX``
characters. Every failure is a ``TemplateFailed`` naming the template's line; nothing a template does can
fail any other way.

The context, the same for every purpose (``offer`` is set only for an offer with an offering chosen):

===================  =====================================================================================
``customer``         ``.name``, ``.first_name`` (a person's first name; a business's name), ``.kind``
``facts``            their current facts, rarest first (then the newest): each ``.id``, ``.text`` (as
                     noted: "Plays fiddle in a ceilidh band"), ``.you`` ("you play fiddle ..."),
                     ``.category``, ``.label`` (the category in words), ``.rare``, ``.known`` (they know we
                     know it already)
``untold``           the facts of ``facts`` they do not know we know yet
``mention(fact)``    the fact as noted, ``mention(fact, you=True)`` as said to them; either way the draft
                     counts the fact as revealed. Only what a template ``mention``-s is revealed.
``last_purchase``    none, or ``.date`` ("3 March 2026") and ``.days_ago``
``cadence``          none, or ``.purchase_days`` (days with a purchase), ``.usual_gap_days`` (their median
                     gap, none below two purchase days), ``.days_since`` (since the last purchase)
``last_complaint``   none, or ``.date`` and ``.days_ago``
``last_return``      none, or ``.date`` and ``.days_ago``
``offer``            none, or ``.key``, ``.name``, ``.description``, ``.needs`` (a list), ``.price_band``
                     (in words)
``offers``           the first three offers matched to the customer (the last offers refresh), each
                     like ``offer``
``sender``           ``.name``: who drafts the message (empty at the command line)
``today``            today's date ("3 March 2026")
===================  =====================================================================================

Filters besides Jinja2's own: ``lower_first`` ("Keeps bees" -> "keeps bees", for a note run on in a
sentence).
"""

from __future__ import annotations

import operator
import re
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from jinja2 import StrictUndefined, TemplateSyntaxError, Undefined, meta, nodes
from jinja2.sandbox import ImmutableSandboxedEnvironment

from segone.errors import Invalid
from segone.personalisation.messages.schemas import TemplateProblem
from segone.personalisation.messages.wording import lower_first, to_you

OUTPUT_MAX = 20_000
TEMPLATE_NAME = "<template>"
CONTEXT_NAMES = (
    "customer",
    "facts",
    "untold",
    "mention",
    "last_purchase",
    "cadence",
    "last_complaint",
    "last_return",
    "offer",
    "offers",
    "sender",
    "today",
)


class TemplateFailed(Invalid):
    """A template that cannot be read or rendered: ``problem`` says where and what (a 422)."""

    def __init__(self, problem: TemplateProblem) -> None:
        where = f"Line {problem.line} of the template" if problem.line else "The template"
        super().__init__(f"{where}: {problem.problem}", details=[problem.model_dump()])
        self.problem = problem


def day(value: date) -> str:
    return f"{value.day} {value:%B %Y}"


# ---- what a template sees --------------------------------------------------------------------------------


@dataclass(frozen=True)
class CustomerItem:
    id: int
    name: str
    first_name: str
    kind: str

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True)
class FactItem:
    id: int
    text: str
    category: str
    label: str
    rare: bool
    known: bool

    @property
    def you(self) -> str:
        return to_you(self.text)

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True)
class Moment:
    date: str
    days_ago: int

    def __str__(self) -> str:
        return self.date


@dataclass(frozen=True)
class Cadence:
    purchase_days: int
    usual_gap_days: int | None
    days_since: int | None


@dataclass(frozen=True)
class OfferItem:
    key: str
    name: str
    description: str
    needs: tuple[str, ...]
    price_band: str

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True)
class SenderItem:
    name: str

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True)
class Context:
    """Everything a template may name (module docstring), but ``mention``, which each render makes."""

    customer: CustomerItem
    facts: tuple[FactItem, ...]
    today: str
    last_purchase: Moment | None = None
    cadence: Cadence | None = None
    last_complaint: Moment | None = None
    last_return: Moment | None = None
    offer: OfferItem | None = None
    offers: tuple[OfferItem, ...] = ()
    sender: SenderItem = field(default_factory=lambda: SenderItem(""))

    def names(self, mention: Callable[..., str]) -> dict[str, Any]:
        return {
            "customer": self.customer,
            "facts": list(self.facts),
            "untold": [fact for fact in self.facts if not fact.known],
            "mention": mention,
            "last_purchase": self.last_purchase,
            "cadence": self.cadence,
            "last_complaint": self.last_complaint,
            "last_return": self.last_return,
            "offer": self.offer,
            "offers": list(self.offers),
            "sender": self.sender,
            "today": self.today,
        }


# ---- the sandbox -----------------------------------------------------------------------------------------


class _Sandbox(ImmutableSandboxedEnvironment):
    """The immutable sandbox with ``*`` and ``**`` checked: "a" * 10**9 would fill the memory."""

    intercepted_binops = frozenset({"*", "**"})

    def call_binop(self, context: Any, operator_name: str, left: Any, right: Any) -> Any:
        if operator_name == "**":
            if isinstance(right, int | float) and abs(right) > 100:
                raise OverflowError("a power above 100 is not allowed in a message template")
            return operator.pow(left, right)
        for one, other in ((left, right), (right, left)):
            if (
                isinstance(one, str | list | tuple)
                and isinstance(other, int)
                and len(one) * other > OUTPUT_MAX
            ):
                raise OverflowError(
                    f"that repetition is longer than a message may be ({OUTPUT_MAX:,} characters)"
                )
        return operator.mul(left, right)


ENV = _Sandbox(
    undefined=StrictUndefined,
    autoescape=False,
    # What the template says is what the message says: no line is dropped after a block tag.
    trim_blocks=False,
    lstrip_blocks=False,
    keep_trailing_newline=False,
)
ENV.filters["lower_first"] = lower_first


def _line_of(exc: BaseException) -> int | None:
    """The template's line where a render failed: Jinja2 puts the template's frames in the traceback."""
    lines = [
        frame.lineno for frame in traceback.extract_tb(exc.__traceback__) if frame.filename == TEMPLATE_NAME
    ]
    return lines[-1] if lines else None


def _message(exc: BaseException) -> str:
    return str(exc).strip() or type(exc).__name__


def parse(body: str) -> nodes.Template:
    """The template's syntax tree; ``TemplateFailed`` for a syntax error or a name the context lacks."""
    try:
        tree = ENV.parse(body, name=TEMPLATE_NAME)
    except TemplateSyntaxError as exc:
        raise TemplateFailed(TemplateProblem(line=exc.lineno, problem=exc.message or "syntax error")) from exc
    for node in tree.find_all((nodes.Include, nodes.Extends, nodes.Import, nodes.FromImport)):
        raise TemplateFailed(
            TemplateProblem(
                line=node.lineno,
                problem="a message template stands alone: it cannot include, import or extend another",
            )
        )
    unknown = meta.find_undeclared_variables(tree) - set(CONTEXT_NAMES) - set(ENV.globals)
    if unknown:
        name = min(unknown, key=lambda n: (_first_use(tree, n), n))
        known = ", ".join(CONTEXT_NAMES)
        raise TemplateFailed(
            TemplateProblem(
                line=_first_use(tree, name) or None,
                problem=f"'{name}' is not a name a message template can use; it can use {known}",
            )
        )
    return tree


def _first_use(tree: nodes.Template, name: str) -> int:
    uses = [node.lineno for node in tree.find_all(nodes.Name) if node.name == name and node.ctx == "load"]
    return min(uses) if uses else 0


@dataclass
class Rendered:
    text: str
    mentioned: list[FactItem]


def render(body: str, context: Context) -> Rendered:
    """The template filled in for this context, and the facts it mentioned (in the order mentioned)."""
    parse(body)
    template = ENV.from_string(body)  # its frames in a traceback are named TEMPLATE_NAME
    mentioned: dict[int, FactItem] = {}

    def mention(fact: object, you: bool = False) -> str:
        if isinstance(fact, Undefined):
            fact._fail_with_undefined_error()  # says what is missing ("list object has no element 0")
        if not isinstance(fact, FactItem):
            raise TypeError("mention() takes one of the facts (from facts or untold)")
        mentioned.setdefault(fact.id, fact)
        return fact.you if you else fact.text

    try:
        text = "".join(_capped(template.generate(context.names(mention))))
    except TemplateFailed:
        raise
    except Exception as exc:  # anything a template does wrong is the template's problem, with its line
        raise TemplateFailed(TemplateProblem(line=_line_of(exc), problem=_message(exc))) from exc
    return Rendered(text=tidy(text), mentioned=list(mentioned.values()))


def _capped(chunks: Iterator[str]) -> Iterator[str]:
    size = 0
    for chunk in chunks:
        size += len(chunk)
        if size > OUTPUT_MAX:
            raise TemplateFailed(
                TemplateProblem(line=None, problem=f"the message is longer than {OUTPUT_MAX:,} characters")
            )
        yield chunk


_BLANK_RUN = re.compile(r"\n{3,}")
_TRAILING = re.compile(r"[ \t]+$", flags=re.MULTILINE)


def tidy(text: str) -> str:
    """No spaces at line ends, at most one blank line in a row, none at the start or the end."""
    return _BLANK_RUN.sub("\n\n", _TRAILING.sub("", text)).strip()
