"""Pages of a list: how many there are, and the page a request asks for, kept within them."""

from __future__ import annotations


def page_count(total: int, per_page: int) -> int:
    """At least one page, so an empty list still has a page to say so."""
    return max((total + per_page - 1) // per_page, 1)


def page_within(requested: str | None, total: int, per_page: int) -> tuple[int, int]:
    """The page asked for as text ("3"; anything else is the first), moved within the pages there are, and
    how many there are."""
    pages = page_count(total, per_page)
    text = (requested or "").strip()
    asked = int(text) if text.isdigit() and len(text) < 11 else 1
    return min(max(asked, 1), pages), pages
