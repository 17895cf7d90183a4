"""Yes and no as files write them: ``yes``/``no``, ``true``/``false``, ``1``/``0``, ``y``/``n``, ``t``/``f``,
in any case. One list for every reader (a yes/no variable of a segmentation, a consent column of the
customer import), so that a file means the same wherever it is read."""

from __future__ import annotations

YES = frozenset({"true", "yes", "1", "y", "t"})
NO = frozenset({"false", "no", "0", "n", "f"})


def yes_no(text: str) -> bool | None:
    """True for a yes, False for a no, None for an empty cell; raises ValueError for anything else."""
    word = text.strip().lower()
    if word == "":
        return None
    if word in YES:
        return True
    if word in NO:
        return False
    raise ValueError(f"{text!r} is neither yes nor no")
