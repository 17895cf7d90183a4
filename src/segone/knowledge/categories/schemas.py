"""The categories a differentiator can belong to; the defaults are the seeds' easel-sheet headings."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel

from segone.errors import Invalid


@dataclass(frozen=True)
class Category:
    name: str
    kind: str  # "business", "consumer" or "both"
    label: str
    prompt: str  # what to ask to learn it; shown in empty states

    def applies_to(self, customer_kind: str) -> bool:
        wanted = "business" if customer_kind == "business" else "consumer"
        return self.kind in (wanted, "both")


DEFAULT_CATEGORIES: tuple[Category, ...] = (
    Category(
        "business_quirks",
        "business",
        "Quirks of their business",
        "What is unusual about how they run their business?",
    ),
    Category(
        "growth_plans",
        "business",
        "Growth plans",
        "Where do they want the business to be in two years?",
    ),
    Category(
        "challenges",
        "business",
        "Special challenges",
        "What is the hardest thing they are dealing with right now?",
    ),
    Category(
        "competitive_threats",
        "business",
        "Competitive threats",
        "Who are they worried about losing business to?",
    ),
    Category("team", "business", "Their team", "Who on their team is strong, and where are they thin?"),
    Category("strengths", "business", "What they do extremely well", "What are they proudest of?"),
    Category("lifestyle", "consumer", "Lifestyle", "What does a typical week look like for them?"),
    Category("values", "consumer", "Personal values", "What matters most to them when they choose?"),
    Category(
        "product_fit",
        "consumer",
        "How our product fits their life",
        "When and how do they use what they buy from us?",
    ),
    Category("free_time", "consumer", "Free time", "What do they do when they are not working?"),
    Category("family", "consumer", "Family make-up", "Who do they live with, and who do they buy for?"),
    Category("cares_about", "both", "Cares about", "What would make this a great experience for them?"),
    Category("worries", "both", "Worries", "What keeps them up at night?"),
    Category("motivations", "both", "Motivations", "Why did they come to us in the first place?"),
    Category("preferences", "both", "Preferences", "How and when do they like to be contacted?"),
)


def parse_categories(spec: str) -> tuple[Category, ...]:
    """Categories from ``SEGONE_FACT_CATEGORIES`` ('name:kind,...'); the defaults when empty."""
    if not spec.strip():
        return DEFAULT_CATEGORIES
    defaults = {c.name: c for c in DEFAULT_CATEGORIES}
    parsed = []
    for item in spec.split(","):
        name, _, kind = item.strip().partition(":")
        name, kind = name.strip().lower(), (kind.strip().lower() or "both")
        if not name:
            continue
        if kind not in ("business", "consumer", "both"):
            raise Invalid(f"Category '{name}' has kind '{kind}'; use business, consumer or both.")
        known = defaults.get(name)
        label = known.label if known else name.replace("_", " ").capitalize()
        prompt = known.prompt if known else f"What do we know about their {label.lower()}?"
        parsed.append(Category(name, kind, label, prompt))
    return tuple(parsed)


class CategoryList:
    """The categories in force, looked up by name."""

    def __init__(self, categories: tuple[Category, ...] = DEFAULT_CATEGORIES) -> None:
        self.all = categories
        self._by_name = {c.name: c for c in categories}

    def get(self, name: str) -> Category:
        category = self._by_name.get(name)
        if category is None:
            raise Invalid(
                f"'{name}' is not a differentiator category.",
                details={"allowed": sorted(self._by_name)},
            )
        return category

    def find(self, name: str) -> Category | None:
        """The category, or None for a name from other settings (a fact keeps the category it had)."""
        return self._by_name.get(name)

    def for_kind(self, customer_kind: str) -> list[Category]:
        return [c for c in self.all if c.applies_to(customer_kind)]


class CategoryOut(BaseModel):
    name: str
    label: str
    kind: str
    prompt: str
