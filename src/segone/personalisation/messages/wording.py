"""A fact in a message: said as it was noted, or to the customer ("you play fiddle ..."), and found again in
a text the employee edited.

Facts are noted without a subject, the way one writes on an easel sheet: "Plays fiddle in a ceilidh band",
"Has two children", "Opening a second café in Otley in spring". A message speaks to the customer, so
``to_you`` turns such a note into "you play fiddle in a ceilidh band" when its first word is one it knows
(the rules below, in this order); any other note is left as it was noted, never guessed at:

1. ``is``/``was``/``has``/``does``/``goes`` and a few other irregular verbs: their second-person form
   ("Has two children" -> "you have two children");
2. a word ending in ``-ing`` (five letters or more): "are" before it ("Opening a second café" -> "you are
   opening a second café");
3. the third person of a verb of ``REGULAR_VERBS`` ("Collects", "Teaches", "Carries"): the verb itself
   ("Collects vinyl" -> "you collect vinyl").

When one of them applies, "his", "her" and "their" become "your", and "himself", "herself", "themselves"
"yourself" ("Cares for her mother" -> "you care for your mother").

A fact counts as mentioned in a text (``mentions``) when the text holds its note or its "you" form, in any
case, whatever the spaces and line breaks between the words.
"""

from __future__ import annotations

import re

IRREGULAR = {
    "is": "are",
    "was": "were",
    "has": "have",
    "does": "do",
    "goes": "go",
    "says": "say",
    "isn't": "aren't",
    "wasn't": "weren't",
    "hasn't": "haven't",
    "doesn't": "don't",
}

# Common verbs a fact starts with (the stem; the rules below make the third person from it).
_VERBS = """
attend avoid bake breed brew build buy care carry coach collect come cook cycle dance design drink drive
eat enjoy fish fix follow garden give grow hate hike hire hope host hunt keep knit learn like listen live
look love make manage miss need organise organize own paint plan play practise practice prefer read
rent repair restore ride run sail sell sew sing ski spend sponsor study support swim take teach train
travel use visit volunteer walk want watch wear work worry write
"""
REGULAR_VERBS = frozenset(_VERBS.split())


def third_person(stem: str) -> str:
    """'play' -> 'plays', 'teach' -> 'teaches', 'carry' -> 'carries', 'fix' -> 'fixes'."""
    if stem.endswith("y") and stem[-2:-1] not in ("a", "e", "i", "o", "u"):
        return stem[:-1] + "ies"
    if stem.endswith(("s", "sh", "ch", "x", "z", "o")):
        return stem + "es"
    return stem + "s"


_THIRD_PERSON = {third_person(stem): stem for stem in REGULAR_VERBS}


def to_you(text: str) -> str:
    """The note said to the customer ("you play fiddle ..."), or the note as it is when its first word is
    not one of the rules' (module docstring)."""
    first, space, rest = text.strip().partition(" ")
    word = first.lower().replace("\u2019", "'")
    if first[1:2].isupper():  # an acronym or a name ("NHS nurse", "McDonald's"): not a verb
        return text
    if word in IRREGULAR:
        said = IRREGULAR[word]
    elif word.endswith("ing") and len(word) >= 5 and word.isalpha():
        said = f"are {word}"
    elif word in _THIRD_PERSON:
        said = _THIRD_PERSON[word]
    else:
        return text
    return f"you {said}{space}{_POSSESSIVE.sub(_yours, rest)}"


_POSSESSIVE = re.compile(r"\b(his|her|their|himself|herself|themselves|themself)\b", re.IGNORECASE)


def _yours(match: re.Match[str]) -> str:
    return "yourself" if match.group(1).lower().endswith(("self", "selves")) else "your"


def lower_first(text: str) -> str:
    """The note with a small first letter, to run on in a sentence ("Keeps bees" -> "keeps bees"); a first
    word in capitals or with a capital inside ("NHS", "McCartney") is kept."""
    first = text.split(" ", 1)[0]
    if not first or first[1:2].isupper() or not first[:1].isupper():
        return text
    return text[:1].lower() + text[1:]


_SPACES = re.compile(r"\s+")


def normalised(text: str) -> str:
    """Lower case, curly quotes straightened, every run of spaces and line breaks one space."""
    return _SPACES.sub(" ", text.replace("\u2019", "'").replace("\u2018", "'")).strip().lower()


def forms(text: str) -> list[str]:
    """The ways a fact can be mentioned: as noted and to the customer, without a final full stop."""
    found = []
    for form in (text, to_you(text)):
        clean = normalised(form).rstrip(".!?;: ")
        if clean and clean not in found:
            found.append(clean)
    return found


def mentions(text: str, fact_text: str) -> bool:
    """Whether ``text`` mentions the fact (its note or its "you" form), in any case and spacing."""
    haystack = normalised(text)
    return any(form in haystack for form in forms(fact_text))
