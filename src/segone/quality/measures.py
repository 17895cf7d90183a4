"""The arithmetic of a review, as pure functions over counts (docs/quality.md gives the same formulas).

Means are exact fractions until they are shown, so that a mean equal to the target meets it and "fell"
means fell, with no rounding in between:

- a deliverable's **mean** in a period is the sum of its scores over their count (each rater's score one
  vote; raters who left it out are not counted);
- its **distribution** counts the raters who gave 1, 2, 3, 4 and 5;
- **NPS** = 100 x (promoters - detractors) / answers, promoters answering 9 or 10 and detractors 0 to 6
  (passives, 7 and 8, count in the answers only): from -100 to +100;
- **CSAT**: the mean answer (1-5) and the share of satisfied answers (4 or 5);
- a **shortfall** in period p: the mean of p is below the card's target (``below_target``), or the mean
  fell two periods in a row, ``mean(p-2) > mean(p-1) > mean(p)``, each of the three periods rated
  (``falling``). A period nobody rated breaks a run: there is nothing to compare.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from segone import formatting

SCORES = (1, 2, 3, 4, 5)
NPS_ANSWERS = tuple(range(11))
PROMOTER_FROM = 9
DETRACTOR_UP_TO = 6
SATISFIED_FROM = 4


@dataclass(frozen=True)
class Tally:
    """How many raters gave a deliverable each score from 1 to 5 (``counts[0]`` the 1s)."""

    counts: tuple[int, ...] = (0, 0, 0, 0, 0)

    @classmethod
    def of(cls, by_score: Mapping[int, int]) -> Tally:
        return cls(tuple(int(by_score.get(score, 0)) for score in SCORES))

    @classmethod
    def of_scores(cls, scores: Sequence[int]) -> Tally:
        return cls(tuple(sum(1 for s in scores if s == score) for score in SCORES))

    @property
    def count(self) -> int:
        return sum(self.counts)

    @property
    def total(self) -> int:
        return sum(score * n for score, n in zip(SCORES, self.counts, strict=True))

    @property
    def mean(self) -> Fraction | None:
        return Fraction(self.total, self.count) if self.count else None

    def __add__(self, other: Tally) -> Tally:
        return Tally(tuple(a + b for a, b in zip(self.counts, other.counts, strict=True)))


@dataclass(frozen=True)
class NpsFigures:
    answers: int
    promoters: int
    passives: int
    detractors: int

    @property
    def score(self) -> Fraction | None:
        """100 x (promoters - detractors) / answers; None without answers."""
        if not self.answers:
            return None
        return Fraction(100 * (self.promoters - self.detractors), self.answers)


def nps(by_answer: Mapping[int, int]) -> NpsFigures:
    """NPS from how many customers answered 0 to 10 to "how likely are you to recommend us?"."""
    promoters = sum(n for answer, n in by_answer.items() if answer >= PROMOTER_FROM)
    detractors = sum(n for answer, n in by_answer.items() if answer <= DETRACTOR_UP_TO)
    answers = sum(by_answer.values())
    return NpsFigures(answers, promoters, answers - promoters - detractors, detractors)


@dataclass(frozen=True)
class CsatFigures:
    answers: int
    satisfied: int
    """Answers of 4 or 5."""
    total: int

    @property
    def mean(self) -> Fraction | None:
        return Fraction(self.total, self.answers) if self.answers else None

    @property
    def share(self) -> Fraction | None:
        """Satisfied answers over all answers, 0 to 1."""
        return Fraction(self.satisfied, self.answers) if self.answers else None


def csat(by_answer: Mapping[int, int]) -> CsatFigures:
    """CSAT from how many customers answered 1 to 5 to "how satisfied are you?"."""
    return CsatFigures(
        answers=sum(by_answer.values()),
        satisfied=sum(n for answer, n in by_answer.items() if answer >= SATISFIED_FROM),
        total=sum(answer * n for answer, n in by_answer.items()),
    )


class Reason(enum.StrEnum):
    BELOW_TARGET = "below_target"
    FALLING = "falling"


@dataclass(frozen=True)
class Shortfall:
    reasons: tuple[Reason, ...]
    why: str
    """In words: ``3.40 is below the target of 4.00; fell two periods in a row: 4.20 (2026-09), ...``."""


def shown(value: Fraction | Decimal | float) -> str:
    """A mean or target as pages write it: two decimals."""
    return formatting.decimal(float(value), 2)


def shortfall(target: Fraction, recent: Sequence[tuple[str, Fraction | None]]) -> Shortfall | None:
    """The shortfall of the last of ``recent`` (the periods p-2, p-1 and p as (name, mean), the oldest
    first), or None when it meets the target and did not fall twice in a row (or nobody rated it in p)."""
    if len(recent) != 3:
        raise ValueError("a shortfall looks at three periods: the one reviewed and the two before it")
    (name_2, before_2), (name_1, before_1), (_name, now) = recent
    if now is None:
        return None
    reasons: list[Reason] = []
    words: list[str] = []
    if now < target:
        reasons.append(Reason.BELOW_TARGET)
        words.append(f"{shown(now)} is below the target of {shown(target)}")
    if before_2 is not None and before_1 is not None and before_2 > before_1 > now:
        reasons.append(Reason.FALLING)
        words.append(
            f"fell two periods in a row: {shown(before_2)} ({name_2}), {shown(before_1)} ({name_1}), "
            f"{shown(now)} now"
        )
    if not reasons:
        return None
    return Shortfall(tuple(reasons), "; ".join(words))


def as_float(value: Fraction | None) -> float | None:
    return None if value is None else float(value)
