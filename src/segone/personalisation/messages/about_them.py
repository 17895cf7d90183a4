"""The "about them, not about us" check: is a message about the customer, or about us and what we sell?

Customers care about themselves (the seeds' advisor who answered "It depends" and talked about the
client's life, not the firm's track record). The check splits a message into sentences and says of each
whether it is about them, about us, or neither, by rules anybody can follow by hand:

**Sentences.** A blank line ends a paragraph. Within one, a line of at most four words is a line of its
own (a greeting, a sign-off, a signature) and any other line runs on into the next (a wrapped paragraph)
until one ends with ``.``, ``!`` or ``?``. Then a sentence ends at ``.``, ``!`` or ``?`` (with any closing
quote or bracket) before a space, except after a title such as "Mr." or "Dr.".

**Greetings and sign-offs** are neither: a line of at most four words that ends with a comma or has no
``.``, ``!`` or ``?`` at its end ("Dear Ann,", "Best wishes,", "Sam").

**Their facts.** A sentence that mentions one of the customer's facts (as noted or to them, see
``wording.mentions``) is about them, whatever else it says.

**Marks.** Otherwise each sentence's marks are counted:

- about them: you, your, yours, yourself, yourselves, you're, you've, you'll, you'd; the customer's name, and
  a person's first name (with its capital);
- about us: we, our, ours, us, ourselves, we're, we've, we'll, we'd; I, me, my, mine, myself, I'm, I've,
  I'll, I'd (the one writing: "I" with its capital; "US" in capitals is a country); and the name of any
  offering of the catalogue.

More marks about them: about them; more about us: about us; as many of each: the first mark decides (the
one who does something usually comes first in an English sentence: "We have a new offer for you" is
about us, "You told us about your shop" about them); no mark: neither.

**The score** is the share of the sentences about them among those about them or us (greetings and
sentences about neither are left out); none when no sentence is about anyone. It reads "About them" from
``ABOUT_THEM`` (75 %), "Mostly about them" from ``MOSTLY`` (50 %), else "Too much about us".
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from segone.personalisation.messages.schemas import About, AboutThemCheck, SentenceCheck
from segone.personalisation.messages.wording import mentions, normalised

ABOUT_THEM = 0.75
MOSTLY = 0.5
GREETING_WORDS = 4

THEM_WORDS = frozenset(
    {"you", "your", "yours", "yourself", "yourselves", "you're", "you've", "you'll", "you'd"}
)
WE_WORDS = frozenset({"we", "our", "ours", "us", "ourselves", "we're", "we've", "we'll", "we'd"})
# Said of the writer only with a capital "I" (a lower-case "i" is more often "i.e." than a person).
I_WORDS = frozenset({"i", "me", "my", "mine", "myself", "i'm", "i've", "i'll", "i'd"})

TITLES = frozenset({"mr", "mrs", "ms", "dr", "st", "prof", "rev", "no", "e.g", "i.e", "etc", "vs"})
_END = re.compile(r"([.!?]+[\"')\]\u201d\u2019]*)(\s+)")
_WORD = re.compile(r"[A-Za-z\u00c0-\u024f]+(?:['\u2019][A-Za-z]+)?")


@dataclass(frozen=True)
class Customer:
    """What the check needs to know of the customer: their names and their facts' texts."""

    name: str
    first_name: str | None
    facts: Sequence[str]


def sentences(text: str) -> list[str]:
    """The sentences of a text, in order (the rules of the module docstring)."""
    found: list[str] = []
    for unit in _units(text):
        start = 0
        for match in _END.finditer(unit):
            before = unit[start : match.start()].split()
            last = before[-1].lower().rstrip(".") if before else ""
            if match.group(1) == "." and last in TITLES:
                continue
            found.append(unit[start : match.end(1)].strip())
            start = match.end()
        rest = unit[start:].strip()
        if rest:
            found.append(rest)
    return [sentence for sentence in found if sentence]


def _ends(line: str) -> bool:
    return line.rstrip("\"')]\u201d\u2019").endswith((".", "!", "?"))


def _units(text: str) -> list[str]:
    """Short lines on their own, wrapped lines joined up to the line that ends a sentence."""
    units: list[str] = []
    running = ""
    for raw in [*text.splitlines(), ""]:
        line = " ".join(raw.split())
        if not line:
            if running:
                units.append(running)
            running = ""
        elif not running and len(line.split()) <= GREETING_WORDS:
            units.append(line)
        else:
            running = f"{running} {line}".strip()
            if _ends(line):
                units.append(running)
                running = ""
    return units


def _is_greeting(sentence: str) -> bool:
    words = sentence.split()
    return len(words) <= GREETING_WORDS and (sentence.endswith(",") or not _ends(sentence))


def _phrase_positions(sentence: str, phrase: str, *, case: bool) -> list[int]:
    if not phrase.strip():
        return []
    pattern = r"(?<![\w])" + re.escape(phrase) + r"(?![\w])"
    return [m.start() for m in re.finditer(pattern, sentence, flags=0 if case else re.IGNORECASE)]


def _is_us(word: str, lower: str) -> bool:
    if lower in WE_WORDS:
        return word != "US"  # the country
    if lower in I_WORDS:
        return lower not in _I_FORMS or word[0] == "I"
    return False


_I_FORMS = frozenset({"i", "i'm", "i've", "i'll", "i'd"})


def classify(sentence: str, customer: Customer, offerings: Sequence[str]) -> SentenceCheck:
    """One sentence: about them, about us or neither, with the marks that decided it."""
    if _is_greeting(sentence):
        return SentenceCheck(text=sentence, about=About.NEUTRAL, why="A greeting, sign-off or signature.")
    told = [fact for fact in customer.facts if mentions(sentence, fact)]
    if told:
        return SentenceCheck(
            text=sentence,
            about=About.THEM,
            them=told,
            why="Mentions what they told us: " + "; ".join(told) + ".",
        )
    them: list[tuple[int, str]] = []
    us: list[tuple[int, str]] = []
    for match in _WORD.finditer(sentence):
        word = match.group(0).replace("\u2019", "'")
        lower = word.lower()
        if lower in THEM_WORDS:
            them.append((match.start(), word))
        elif _is_us(word, lower):
            us.append((match.start(), word))
    names = {customer.name: False}
    if customer.first_name and len(customer.first_name) > 1:
        names.setdefault(customer.first_name, True)
    for name, case in names.items():
        them.extend((at, name) for at in _phrase_positions(sentence, name, case=case))
    for offering in offerings:
        if len(offering.strip()) >= 3:
            us.extend((at, offering) for at in _phrase_positions(sentence, offering, case=False))
    them = _distinct(them)
    us = _distinct(us)
    if not them and not us:
        return SentenceCheck(text=sentence, about=About.NEUTRAL, why="Says neither you nor we.")
    if len(them) != len(us):
        about = About.THEM if len(them) > len(us) else About.US
        why = f"{len(them)} about them, {len(us)} about us."
    else:
        about = About.THEM if them[0][0] < us[0][0] else About.US
        first = them[0][1] if about is About.THEM else us[0][1]
        why = f"As many about them as about us; '{first}' comes first."
    return SentenceCheck(
        text=sentence,
        about=about,
        them=[word for _, word in them],
        us=[word for _, word in us],
        why=why,
    )


def _distinct(marks: list[tuple[int, str]]) -> list[tuple[int, str]]:
    """Marks in the order they come, a word found twice at one place (a name that is also a word) once."""
    seen: dict[int, str] = {}
    for at, word in sorted(marks):
        seen.setdefault(at, word)
    return sorted(seen.items())


def check(text: str, customer: Customer, offerings: Sequence[str] = ()) -> AboutThemCheck:
    """The check of a whole message: each sentence, how many are about them and us, and the score."""
    checked = [classify(sentence, customer, offerings) for sentence in sentences(text)]
    them = sum(1 for s in checked if s.about is About.THEM)
    us = sum(1 for s in checked if s.about is About.US)
    score = them / (them + us) if them + us else None
    return AboutThemCheck(
        sentences=checked,
        about_them=them,
        about_us=us,
        neutral=len(checked) - them - us,
        score=round(score, 4) if score is not None else None,
        verdict=verdict(score),
    )


def verdict(score: float | None) -> str:
    if score is None:
        return "Nothing about them or us yet"
    if score >= ABOUT_THEM:
        return "About them"
    if score >= MOSTLY:
        return "Mostly about them"
    return "Too much about us"


def fact_texts_in(text: str, facts: Sequence[str]) -> list[str]:
    """The facts (texts) the text mentions, in the order given."""
    clean = normalised(text)
    return [fact for fact in facts if mentions(clean, fact)]
