"""Search across what we know: current (and, if asked, outdated) differentiators and encounter notes.

A question in plain words ("who is expanding into new markets?") becomes its content words: common
words and punctuation go, each word matches its stem (SQLite FTS5's porter tokenizer, PostgreSQL's
``english`` configuration), and the words are OR-ed. Results that hold every word come first, then the
rest, each group ranked by relevance (SQLite ``bm25``, PostgreSQL ``ts_rank_cd``).

The indexes come from migration 0004: FTS5 external-content tables kept current by triggers (SQLite),
GIN indexes on ``to_tsvector`` expressions (PostgreSQL). To keep a search fast on millions of facts,
at most ``CANDIDATES`` matches of each kind and group are ranked (when more match: on SQLite the newest,
on PostgreSQL the first the index gives), and the group holding only some of the words is ranked only
when the group holding all of them does not fill the page.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session, aliased

from segone.accounts.schemas import Actor, Permission
from segone.accounts.service import require
from segone.customers.models import Customer
from segone.encounters.models import Encounter
from segone.errors import Invalid
from segone.knowledge.categories.schemas import CategoryList
from segone.knowledge.facts.schemas import DifferentiatorStatus
from segone.knowledge.models import Differentiator
from segone.search.schemas import SEARCH_MARK_END, SEARCH_MARK_START, SearchHit, SearchKind, SearchPage

MAX_QUERY_LENGTH = 200
MAX_TERMS = 16
MAX_LIMIT = 100
CANDIDATES = 250  # of each kind and group (all words / some words) ranked per search
MAX_OFFSET = 200

# The schema objects migration 0004 makes that are not in the models (schema comparison skips them).
SEARCH_SCHEMA_OBJECTS: frozenset[str] = frozenset(
    {
        # SQLite: the FTS5 tables and their shadow tables
        *(
            f"{table}_fts{suffix}"
            for table in ("differentiators", "encounters")
            for suffix in ("", "_data", "_idx", "_docsize", "_config", "_content")
        ),
        # PostgreSQL: the expression indexes
        "ix_differentiators_search",
        "ix_encounters_search",
    }
)

# Must stay the expressions of the indexes of migration 0004.
DIFFERENTIATOR_TSVECTOR = "to_tsvector('english'::regconfig, d.text)"
ENCOUNTER_TSVECTOR = (
    "to_tsvector('english'::regconfig, e.notes || ' ' || e.cares_about || ' ' || e.worries_about)"
)

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

_WORD = re.compile(r"[^\W_]+")
_LT, _GT = "\ue000", "\ue001"  # stand-ins for < and > while PostgreSQL makes a snippet


@dataclass
class _Candidate:
    kind: SearchKind
    id: int
    score: float
    all_terms: bool

    def key(self) -> tuple[bool, float, str, int]:
        return (not self.all_terms, -self.score, self.kind.value, -self.id)


def terms_of(query: str) -> list[str]:
    """The words to search for: lower case, without punctuation, common words and repeats."""
    if not query or not query.strip():
        raise Invalid("Type what to search for, e.g. 'who is expanding into new markets?'.")
    if len(query) > MAX_QUERY_LENGTH:
        raise Invalid(f"The search is {len(query)} characters long; keep it to {MAX_QUERY_LENGTH}.")
    words = _WORD.findall(query.casefold())
    if not words:
        raise Invalid("The search has no words in it; type some words to look for.")
    terms = list(dict.fromkeys(w for w in words if w not in STOP_WORDS))
    if not terms:
        raise Invalid(
            "The search has only common words ('who', 'is', 'the'…); add the words that matter, "
            "e.g. 'expanding new markets'."
        )
    return terms[:MAX_TERMS]


def _fts5(terms: Sequence[str], operator: str) -> str:
    # Each word quoted: FTS5 then takes it as a plain string (stemmed by the porter tokenizer).
    return f" {operator} ".join('"' + t.replace('"', '""') + '"' for t in terms)


def _tsquery(terms: Sequence[str], operator: str) -> str:
    # Words are letters and digits only (see _WORD), so this is a valid to_tsquery input.
    return f" {operator} ".join(terms)


class _Backend:
    """The SQL of one database for one kind of document."""

    def __init__(self, db: Session, kind: SearchKind, include_outdated: bool) -> None:
        self.db = db
        self.kind = kind
        self.include_outdated = include_outdated
        self.postgres = db.get_bind().dialect.name == "postgresql"

    def _status_filter(self, alias: str) -> str:
        if self.kind is SearchKind.DIFFERENTIATOR and not self.include_outdated:
            return f" AND {alias}.status = 'current'"
        return ""

    def candidates(self, terms: Sequence[str], *, all_terms: bool) -> list[_Candidate]:
        if self.postgres:
            rows = self._postgres_candidates(_tsquery(terms, "&" if all_terms else "|"))
        else:
            rows = self._sqlite_candidates(_fts5(terms, "AND" if all_terms else "OR"))
        return [_Candidate(self.kind, int(i), float(s or 0.0), all_terms) for i, s in rows]

    def _sqlite_candidates(self, match: str) -> Iterable[Any]:
        if self.kind is SearchKind.DIFFERENTIATOR:
            sql = (
                "SELECT d.id, -bm25(differentiators_fts) FROM differentiators_fts "
                "JOIN differentiators d ON d.id = differentiators_fts.rowid "
                "WHERE differentiators_fts MATCH :match" + self._status_filter("d") + " "
                "ORDER BY differentiators_fts.rowid DESC LIMIT :cap"
            )
        else:
            sql = (
                "SELECT rowid, -bm25(encounters_fts) FROM encounters_fts "
                "WHERE encounters_fts MATCH :match ORDER BY rowid DESC LIMIT :cap"
            )
        return self.db.execute(text(sql), {"match": match, "cap": CANDIDATES}).all()

    def _postgres_candidates(self, tsquery: str) -> Iterable[Any]:
        if self.kind is SearchKind.DIFFERENTIATOR:
            vector, table, alias = DIFFERENTIATOR_TSVECTOR, "differentiators", "d"
        else:
            vector, table, alias = ENCOUNTER_TSVECTOR, "encounters", "e"
        sql = (
            "WITH q AS (SELECT to_tsquery('english'::regconfig, :tsquery) AS query), "
            f"found AS MATERIALIZED (SELECT {alias}.id, {vector} AS vector FROM {table} {alias}, q "
            f"WHERE {vector} @@ q.query{self._status_filter(alias)} LIMIT :cap) "
            "SELECT found.id, ts_rank_cd(found.vector, q.query, 1) FROM found, q"
        )
        # With a LIMIT the planner may prefer reading the table in order, computing to_tsvector row by
        # row until enough match: far slower than the GIN index when the words are not very common.
        self.db.execute(text("SET LOCAL enable_seqscan = off"))
        rows = self.db.execute(text(sql), {"tsquery": tsquery, "cap": CANDIDATES}).all()
        self.db.execute(text("RESET enable_seqscan"))
        return rows

    def snippets(self, ids: list[int], terms: Sequence[str]) -> dict[int, str]:
        if not ids:
            return {}
        marks = {"start": SEARCH_MARK_START, "end": SEARCH_MARK_END}
        if self.postgres:
            if self.kind is SearchKind.DIFFERENTIATOR:
                document, table, alias = "d.text", "differentiators", "d"
            else:
                document = "e.notes || ' ' || e.cares_about || ' ' || e.worries_about"
                table, alias = "encounters", "e"
            options = (
                f"StartSel={SEARCH_MARK_START}, StopSel={SEARCH_MARK_END}, MaxWords=24, MinWords=12, "
                'ShortWord=2, MaxFragments=2, FragmentDelimiter=" … "'
            )
            # ts_headline drops what looks like an HTML tag: hide < and > from it, and bring them back.
            document = f"replace(replace({document}, '<', :lt), '>', :gt)"
            sql = (
                f"SELECT {alias}.id, ts_headline('english'::regconfig, {document}, "
                f"to_tsquery('english'::regconfig, :tsquery), :options) FROM {table} {alias} "
                f"WHERE {alias}.id = ANY(:ids)"
            )
            params: dict[str, Any] = {
                "tsquery": _tsquery(terms, "|"),
                "options": options,
                "ids": ids,
                "lt": _LT,
                "gt": _GT,
            }
        else:
            table = "differentiators_fts" if self.kind is SearchKind.DIFFERENTIATOR else "encounters_fts"
            column = 0 if self.kind is SearchKind.DIFFERENTIATOR else -1
            placeholders = ", ".join(f":id{n}" for n in range(len(ids)))
            sql = (
                f"SELECT rowid, snippet({table}, {column}, :start, :end, '…', 24) FROM {table} "
                f"WHERE {table} MATCH :match AND rowid IN ({placeholders})"
            )
            params = {"match": _fts5(terms, "OR"), **marks, **{f"id{n}": i for n, i in enumerate(ids)}}
        return {
            int(i): str(s or "").replace(_LT, "<").replace(_GT, ">")
            for i, s in self.db.execute(text(sql), params)
        }


def _clean(value: str) -> str:
    """The text without our marks, so that only the marks we put in mean 'matched'."""
    return value.replace(SEARCH_MARK_START, "").replace(SEARCH_MARK_END, "")


def _owners(db: Session, customer_ids: set[int]) -> dict[int, tuple[int, str]]:
    """Each customer's (id, name), or its survivor's when it was merged (its facts moved there)."""
    survivor = aliased(Customer)
    rows = db.execute(
        select(Customer.id, Customer.name, survivor.id, survivor.name)
        .outerjoin(survivor, survivor.id == Customer.merged_into_id)
        .where(Customer.id.in_(customer_ids))
    )
    return {cid: (sid, sname) if sid is not None else (cid, name) for cid, name, sid, sname in rows}


def _differentiator_hits(
    db: Session,
    backend: _Backend,
    chosen: list[_Candidate],
    terms: Sequence[str],
    categories: CategoryList | None,
) -> dict[int, SearchHit]:
    ids = [c.id for c in chosen]
    if not ids:
        return {}
    d = Differentiator
    rows = db.execute(
        select(d.id, d.customer_id, d.text, d.category, d.channel, d.status, d.learned_at).where(
            d.id.in_(ids)
        )
    ).all()
    owners = _owners(db, {row.customer_id for row in rows})
    snippets = backend.snippets(ids, terms)
    labels = {c.name: c.label for c in categories.all} if categories else {}
    by_id = {c.id: c for c in chosen}
    hits = {}
    for row in rows:
        owner_id, owner_name = owners[row.customer_id]
        candidate = by_id[row.id]
        hits[row.id] = SearchHit(
            kind=SearchKind.DIFFERENTIATOR,
            id=row.id,
            customer_id=owner_id,
            customer_name=owner_name,
            category=row.category,
            category_label=labels.get(row.category, row.category.replace("_", " ")),
            channel=row.channel,
            snippet=snippets.get(row.id) or _clean(row.text),
            score=round(candidate.score, 6),
            matched_all_terms=candidate.all_terms,
            outdated=row.status == DifferentiatorStatus.OUTDATED.value,
            date=row.learned_at,
        )
    return hits


def _encounter_hits(
    db: Session, backend: _Backend, chosen: list[_Candidate], terms: Sequence[str]
) -> dict[int, SearchHit]:
    ids = [c.id for c in chosen]
    if not ids:
        return {}
    e = Encounter
    rows = db.execute(
        select(e.id, e.customer_id, e.channel, e.occurred_at, e.notes, e.cares_about, e.worries_about).where(
            e.id.in_(ids)
        )
    ).all()
    owners = _owners(db, {row.customer_id for row in rows})
    snippets = backend.snippets(ids, terms)
    by_id = {c.id: c for c in chosen}
    hits = {}
    for row in rows:
        owner_id, owner_name = owners[row.customer_id]
        candidate = by_id[row.id]
        fallback = " ".join(p for p in (row.notes, row.cares_about, row.worries_about) if p)
        hits[row.id] = SearchHit(
            kind=SearchKind.ENCOUNTER,
            id=row.id,
            customer_id=owner_id,
            customer_name=owner_name,
            category=None,
            category_label=None,
            channel=row.channel,
            snippet=snippets.get(row.id) or _clean(fallback[:200]),
            score=round(candidate.score, 6),
            matched_all_terms=candidate.all_terms,
            outdated=False,
            date=row.occurred_at,
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
    backends = {k: _Backend(db, k, include_outdated) for k in kinds}
    # First the documents holding every word; those holding only some are ranked when the first group
    # does not fill this page (and tell whether another page follows).
    for all_terms in [True, False] if len(terms) > 1 else [True]:
        if not all_terms and len(candidates) > offset + limit:
            break
        for backend in backends.values():
            for candidate in backend.candidates(terms, all_terms=all_terms):
                candidates.setdefault((candidate.kind, candidate.id), candidate)
    ranked = sorted(candidates.values(), key=_Candidate.key)
    page = ranked[offset : offset + limit]

    hits: dict[tuple[SearchKind, int], SearchHit] = {}
    for k, backend in backends.items():
        chosen = [c for c in page if c.kind is k]
        found = (
            _differentiator_hits(db, backend, chosen, terms, categories)
            if k is SearchKind.DIFFERENTIATOR
            else _encounter_hits(db, backend, chosen, terms)
        )
        hits.update({(k, i): hit for i, hit in found.items()})
    return SearchPage(
        query=query,
        terms=terms,
        kind=kind,
        include_outdated=include_outdated,
        offset=offset,
        limit=limit,
        total=len(ranked),
        more=offset + limit < len(ranked),
        hits=[hits[(c.kind, c.id)] for c in page if (c.kind, c.id) in hits],
    )
