"""Search across what we know: current (and, if asked, outdated) differentiators and encounter notes.

A question in plain words ("who is expanding into new markets?") becomes its content words: common
words and punctuation go, each word matches its stem (SQLite FTS5's porter tokenizer, PostgreSQL's
``english`` configuration), and the words are OR-ed. Results that hold every word come first, then the
rest, each group ranked by relevance (SQLite ``bm25``, PostgreSQL ``ts_rank_cd``).

Composed from the owners of what is searched: ``knowledge.facts.service.search_facts`` and
``encounters.service.search_notes`` give the matches of their own tables (through ``storage.fulltext``,
over the indexes of migration 0004), ``fact_hits`` / ``note_hits`` the hits of the page with snippets, and
``customers.service.survivors`` whose they are. To keep a search fast on millions of facts, at most
``CANDIDATES`` matches of each kind and group are ranked (when more match: on SQLite the newest, on
PostgreSQL the first the index gives), and the group holding only some of the words is ranked only when
the group holding all of them does not fill the page.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from segone.accounts.schemas import Actor, Permission
from segone.accounts.service import require
from segone.customers import service as customers
from segone.encounters import service as encounters
from segone.errors import Invalid
from segone.knowledge.categories.schemas import CategoryList
from segone.knowledge.facts import service as facts
from segone.search.schemas import SearchHit, SearchKind, SearchPage
from segone.storage import fulltext

MAX_QUERY_LENGTH = 200
MAX_TERMS = 16
MAX_LIMIT = 100
CANDIDATES = 250  # of each kind and group (all words / some words) ranked per search
MAX_OFFSET = 200

# PostgreSQL's english stop words (Snowball), and the words of a question that carry no meaning.
_STOP_WORDS = """
    a about above after again against all am an and any are as at be because been before being below
    between both but by can could did do does doing don down during each few for from further had has
    have having he her here hers herself him himself his how i if in into is it its itself just me more
    most my myself no nor not now of off on once only or other our ours ourselves out over own same she
    should so some such t than that the their theirs them themselves then there these they this those
    through to too under until up very was we were what when where which while who whom why will with
    would you your yours yourself yourselves s anyone anybody someone somebody whose also us
"""
STOP_WORDS = frozenset(_STOP_WORDS.split())

_Candidate = tuple[SearchKind, fulltext.Match]


def _rank(candidate: _Candidate) -> tuple[bool, float, str, int]:
    kind, match = candidate
    return (not match.all_terms, -match.score, kind.value, -match.id)


def terms_of(query: str) -> list[str]:
    """The words to search for: lower case, without punctuation, common words and repeats."""
    if not query or not query.strip():
        raise Invalid("Type what to search for, e.g. 'who is expanding into new markets?'.")
    if len(query) > MAX_QUERY_LENGTH:
        raise Invalid(f"The search is {len(query)} characters long; keep it to {MAX_QUERY_LENGTH}.")
    words = fulltext.words(query)
    if not words:
        raise Invalid("The search has no words in it; type some words to look for.")
    terms = list(dict.fromkeys(w for w in words if w not in STOP_WORDS))
    if not terms:
        raise Invalid(
            "The search has only common words ('who', 'is', 'the'…); add the words that matter, "
            "e.g. 'expanding new markets'."
        )
    return terms[:MAX_TERMS]


def _matches(
    db: Session, kind: SearchKind, terms: Sequence[str], *, all_terms: bool, include_outdated: bool
) -> list[fulltext.Match]:
    if kind is SearchKind.DIFFERENTIATOR:
        return facts.search_facts(
            db, terms, all_terms=all_terms, limit=CANDIDATES, include_outdated=include_outdated
        )
    return encounters.search_notes(db, terms, all_terms=all_terms, limit=CANDIDATES)


def _hits(
    db: Session, page: list[_Candidate], terms: Sequence[str], categories: CategoryList | None
) -> dict[tuple[SearchKind, int], SearchHit]:
    """The hits of the page, with their customers' names (the survivor's, after a merge)."""
    found_facts = facts.fact_hits(db, [m for k, m in page if k is SearchKind.DIFFERENTIATOR], terms)
    found_notes = encounters.note_hits(db, [m for k, m in page if k is SearchKind.ENCOUNTER], terms)
    owners = customers.survivors(
        db, customer_ids=[*(h.customer_id for h in found_facts), *(h.customer_id for h in found_notes)]
    )
    labels = {c.name: c.label for c in categories.all} if categories else {}
    hits: dict[tuple[SearchKind, int], SearchHit] = {}
    for fact in found_facts:
        owner = owners[fact.customer_id]
        hits[(SearchKind.DIFFERENTIATOR, fact.id)] = SearchHit(
            kind=SearchKind.DIFFERENTIATOR,
            id=fact.id,
            customer_id=owner.id,
            customer_name=owner.name,
            category=fact.category,
            category_label=labels.get(fact.category, fact.category.replace("_", " ")),
            channel=fact.channel,
            snippet=fact.snippet,
            score=round(fact.score, 6),
            matched_all_terms=fact.matched_all_terms,
            outdated=fact.outdated,
            date=fact.learned_at,
        )
    for note in found_notes:
        owner = owners[note.customer_id]
        hits[(SearchKind.ENCOUNTER, note.id)] = SearchHit(
            kind=SearchKind.ENCOUNTER,
            id=note.id,
            customer_id=owner.id,
            customer_name=owner.name,
            category=None,
            category_label=None,
            channel=note.channel,
            snippet=note.snippet,
            score=round(note.score, 6),
            matched_all_terms=note.matched_all_terms,
            outdated=False,
            date=note.occurred_at,
        )
    return hits


def search(
    db: Session,
    *,
    actor: Actor,
    query: str,
    limit: int = 20,
    offset: int = 0,
    kind: SearchKind | str | None = None,
    include_outdated: bool = False,
    categories: CategoryList | None = None,
) -> SearchPage:
    """Ranked matches of ``query`` among differentiators and encounter notes (``kind`` narrows it).

    Hits holding every word come first, then those holding some; within each, the most relevant first.
    Outdated differentiators are left out unless ``include_outdated`` (then they are flagged).
    ``categories`` gives the categories' labels (their names otherwise).
    """
    require(actor, Permission.READ_CUSTOMERS)
    terms = terms_of(query)
    if not 1 <= limit <= MAX_LIMIT:
        raise Invalid(f"The limit must be between 1 and {MAX_LIMIT}.")
    if not 0 <= offset <= MAX_OFFSET:
        raise Invalid(f"The offset must be between 0 and {MAX_OFFSET}.")
    if kind is not None and not isinstance(kind, SearchKind):
        if kind not in {k.value for k in SearchKind}:
            raise Invalid(f"Search kind '{kind}' is unknown; use 'differentiator' or 'encounter'.")
        kind = SearchKind(kind)
    kinds = [kind] if kind is not None else list(SearchKind)

    candidates: dict[tuple[SearchKind, int], _Candidate] = {}
    # First the documents holding every word; those holding only some are ranked when the first group
    # does not fill this page (and tell whether another page follows).
    for all_terms in [True, False] if len(terms) > 1 else [True]:
        if not all_terms and len(candidates) > offset + limit:
            break
        for k in kinds:
            for match in _matches(db, k, terms, all_terms=all_terms, include_outdated=include_outdated):
                candidates.setdefault((k, match.id), (k, match))
    ranked = sorted(candidates.values(), key=_rank)
    page = ranked[offset : offset + limit]
    hits = _hits(db, page, terms, categories)
    return SearchPage(
        query=query,
        terms=terms,
        kind=kind,
        include_outdated=include_outdated,
        offset=offset,
        limit=limit,
        total=len(ranked),
        more=offset + limit < len(ranked),
        hits=[hits[(k, m.id)] for k, m in page if (k, m.id) in hits],
    )
