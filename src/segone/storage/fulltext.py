"""Full-text search over one table, on SQLite (FTS5) or PostgreSQL (tsvector); knows no domain.

A searchable table is indexed by a migration (0004 for differentiators and encounters), with names this
module derives from the table's:

- SQLite: an FTS5 external-content table ``<table>_fts`` over the indexed columns (porter tokenizer), kept
  current by triggers; relevance is ``bm25``.
- PostgreSQL: a GIN index ``ix_<table>_search`` on ``to_tsvector('english', <columns joined by spaces>)``;
  the queries here use that very expression (the index serves only the same expression); relevance is
  ``ts_rank_cd``.

The owner of a table describes it with a :class:`FullTextIndex` and asks :func:`matches` for candidates
(id, relevance) and :func:`snippets` for the extracts of the few it shows. Search terms are words as
:func:`words` gives them: letters and digits only, so they are safe in both query languages.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from segone.storage.batching import is_postgres

MARK_START = "\u27e6"  # ⟦ before each matched word in a snippet
MARK_END = "\u27e7"  # ⟧ after it
SNIPPET_WORDS = 24

_FTS5_SUFFIXES = ("", "_data", "_idx", "_docsize", "_config", "_content")  # the table and its shadows
_WORD = re.compile(r"[^\W_]+")
_LT, _GT = "\ue000", "\ue001"  # stand-ins for < and > while PostgreSQL makes a snippet
_HEADLINE_OPTIONS = (
    f"StartSel={MARK_START}, StopSel={MARK_END}, MaxWords={SNIPPET_WORDS}, MinWords=12, "
    'ShortWord=2, MaxFragments=2, FragmentDelimiter=" … "'
)


@dataclass(frozen=True)
class FullTextIndex:
    """A table searched in full text: its name and the text columns indexed, in the index's order.

    In the SQL made here the table is aliased ``t`` (a ``condition`` refers to its columns as ``t.x``).
    """

    table: str
    columns: tuple[str, ...]

    @property
    def fts_table(self) -> str:
        """SQLite: the FTS5 table."""
        return f"{self.table}_fts"

    @property
    def postgres_index(self) -> str:
        """PostgreSQL: the expression index."""
        return f"ix_{self.table}_search"

    @property
    def document(self) -> str:
        """The text searched, as one SQL expression over the table aliased ``t``."""
        return " || ' ' || ".join(f"t.{column}" for column in self.columns)

    @property
    def tsvector(self) -> str:
        """PostgreSQL: the expression the index is built on (for the table aliased ``t``)."""
        return f"to_tsvector('english'::regconfig, {self.document})"


@dataclass(frozen=True, slots=True)
class Match:
    """A row holding the words searched for: its id, its relevance (higher is better) and whether it
    holds every word or only some."""

    id: int
    score: float
    all_terms: bool


def schema_objects(*tables: str) -> frozenset[str]:
    """The names of the full-text objects of these tables that are not in the models (schema comparison
    leaves them out): the FTS5 tables with their shadow tables, and the PostgreSQL indexes."""
    return frozenset(
        {
            *(f"{table}_fts{suffix}" for table in tables for suffix in _FTS5_SUFFIXES),
            *(f"ix_{table}_search" for table in tables),
        }
    )


def words(value: str) -> list[str]:
    """The words of a text, lower case, without punctuation: what :func:`matches` takes as terms."""
    return _WORD.findall(value.casefold())


def unmarked(value: str) -> str:
    """The text without the snippet marks, so that only the marks put in by a snippet mean 'matched'."""
    return value.replace(MARK_START, "").replace(MARK_END, "")


def _fts5(terms: Sequence[str], operator: str) -> str:
    # Each word quoted: FTS5 then takes it as a plain string (stemmed by the porter tokenizer).
    return f" {operator} ".join('"' + t.replace('"', '""') + '"' for t in terms)


def _tsquery(terms: Sequence[str], operator: str) -> str:
    # Words are letters and digits only (see words()), so this is a valid to_tsquery input.
    for term in terms:
        if not _WORD.fullmatch(term):
            raise ValueError(f"search term {term!r} is not one word of letters and digits")
    return f" {operator} ".join(terms)


def matches(
    db: Session,
    index: FullTextIndex,
    terms: Sequence[str],
    *,
    all_terms: bool,
    limit: int,
    condition: str | None = None,
) -> list[Match]:
    """Rows holding every term (``all_terms``) or any of them, with their relevance; at most ``limit``.

    When more match: on SQLite the newest (FTS5 walks its index backwards and computes ``bm25`` only for
    those), on PostgreSQL the first the GIN index gives. ``condition``: SQL over the table aliased ``t``,
    written by the table's owner (never user input), e.g. ``t.status = 'current'``.
    """
    if is_postgres(db):
        rows = _postgres_matches(db, index, _tsquery(terms, "&" if all_terms else "|"), limit, condition)
    else:
        rows = _sqlite_matches(db, index, _fts5(terms, "AND" if all_terms else "OR"), limit, condition)
    return [Match(int(i), float(s or 0.0), all_terms) for i, s in rows]


def _sqlite_matches(
    db: Session, index: FullTextIndex, match: str, limit: int, condition: str | None
) -> Iterable[Any]:
    fts = index.fts_table
    if condition:
        sql = (
            f"SELECT t.id, -bm25({fts}) FROM {fts} JOIN {index.table} t ON t.id = {fts}.rowid "
            f"WHERE {fts} MATCH :match AND {condition} ORDER BY {fts}.rowid DESC LIMIT :cap"
        )
    else:
        sql = f"SELECT rowid, -bm25({fts}) FROM {fts} WHERE {fts} MATCH :match ORDER BY rowid DESC LIMIT :cap"
    return db.execute(text(sql), {"match": match, "cap": limit}).all()


def _postgres_matches(
    db: Session, index: FullTextIndex, tsquery: str, limit: int, condition: str | None
) -> Iterable[Any]:
    vector = index.tsvector
    also = f" AND {condition}" if condition else ""
    sql = (
        "WITH q AS (SELECT to_tsquery('english'::regconfig, :tsquery) AS query), "
        f"found AS MATERIALIZED (SELECT t.id, {vector} AS vector FROM {index.table} t, q "
        f"WHERE {vector} @@ q.query{also} LIMIT :cap) "
        "SELECT found.id, ts_rank_cd(found.vector, q.query, 1) FROM found, q"
    )
    # With a LIMIT the planner may prefer reading the table in order, computing to_tsvector row by row
    # until enough match: far slower than the GIN index when the words are not very common.
    db.execute(text("SET LOCAL enable_seqscan = off"))
    rows = db.execute(text(sql), {"tsquery": tsquery, "cap": limit}).all()
    db.execute(text("RESET enable_seqscan"))
    return rows


def snippets(db: Session, index: FullTextIndex, ids: Sequence[int], terms: Sequence[str]) -> dict[int, str]:
    """A short extract of each of these rows that holds any term, with each matched word between
    :data:`MARK_START` and :data:`MARK_END` (plain text otherwise); rows without a match are left out."""
    if not ids:
        return {}
    if is_postgres(db):
        # ts_headline drops what looks like an HTML tag: hide < and > from it, and bring them back.
        document = f"replace(replace({index.document}, '<', :lt), '>', :gt)"
        sql = (
            f"SELECT t.id, ts_headline('english'::regconfig, {document}, "
            f"to_tsquery('english'::regconfig, :tsquery), :options) FROM {index.table} t "
            "WHERE t.id = ANY(:ids)"
        )
        params: dict[str, Any] = {
            "tsquery": _tsquery(terms, "|"),
            "options": _HEADLINE_OPTIONS,
            "ids": list(ids),
            "lt": _LT,
            "gt": _GT,
        }
    else:
        fts = index.fts_table
        column = 0 if len(index.columns) == 1 else -1  # -1: the best matching column
        placeholders = ", ".join(f":id{n}" for n in range(len(ids)))
        sql = (
            f"SELECT rowid, snippet({fts}, {column}, :start, :end, '…', {SNIPPET_WORDS}) FROM {fts} "
            f"WHERE {fts} MATCH :match AND rowid IN ({placeholders})"
        )
        params = {
            "match": _fts5(terms, "OR"),
            "start": MARK_START,
            "end": MARK_END,
            **{f"id{n}": i for n, i in enumerate(ids)},
        }
    return {
        int(i): str(s or "").replace(_LT, "<").replace(_GT, ">") for i, s in db.execute(text(sql), params)
    }


def purge(db: Session, index: FullTextIndex) -> None:
    """Leave no trace of deleted rows' words in the index: FTS5 keeps a deleted row's tokens in its old
    segments (a delete only adds a marker) until they are merged, so merge them all now. PostgreSQL's
    expression index holds no text of its own; its dead entries go with the table's vacuum."""
    if not is_postgres(db):
        db.execute(text(f"INSERT INTO {index.fts_table}({index.fts_table}) VALUES ('optimize')"))
