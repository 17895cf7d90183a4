"""knowledge search: full-text indexes of differentiators and encounter notes

SQLite: FTS5 external-content tables (porter stemming) kept in step with their tables by triggers, filled
from the rows already there. PostgreSQL: GIN indexes on the same ``to_tsvector('english', ...)``
expressions the search queries use, so the models keep no search columns.

The objects made here are not in the models; ``segone.migrations.fulltext.SEARCH_SCHEMA_OBJECTS`` names
them, and schema comparison (``migrations/env.py``, the migration test) leaves those names out.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27 09:30:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Kept identical to the expressions segone.storage.fulltext searches (FullTextIndex.tsvector of the owners'
# FACTS_INDEX and NOTES_INDEX): PostgreSQL uses an expression index only for the very same expression.
_DIFFERENTIATOR_TSVECTOR = "to_tsvector('english'::regconfig, text)"
_ENCOUNTER_TSVECTOR = "to_tsvector('english'::regconfig, notes || ' ' || cares_about || ' ' || worries_about)"

_TOKENIZER = "porter unicode61 remove_diacritics 2"

_SQLITE_UPGRADE = (
    # Differentiators: only the text is indexed; status and customer come from the table itself.
    f"""CREATE VIRTUAL TABLE differentiators_fts USING fts5(
        text, content='differentiators', content_rowid='id', tokenize='{_TOKENIZER}')""",
    """CREATE TRIGGER differentiators_fts_insert AFTER INSERT ON differentiators BEGIN
        INSERT INTO differentiators_fts(rowid, text) VALUES (new.id, new.text);
    END""",
    """CREATE TRIGGER differentiators_fts_delete AFTER DELETE ON differentiators BEGIN
        INSERT INTO differentiators_fts(differentiators_fts, rowid, text)
        VALUES ('delete', old.id, old.text);
    END""",
    # Only a change of the text touches the index (a merge moves facts by changing customer_id).
    """CREATE TRIGGER differentiators_fts_update AFTER UPDATE OF text ON differentiators BEGIN
        INSERT INTO differentiators_fts(differentiators_fts, rowid, text)
        VALUES ('delete', old.id, old.text);
        INSERT INTO differentiators_fts(rowid, text) VALUES (new.id, new.text);
    END""",
    "INSERT INTO differentiators_fts(differentiators_fts) VALUES ('rebuild')",
    f"""CREATE VIRTUAL TABLE encounters_fts USING fts5(
        notes, cares_about, worries_about, content='encounters', content_rowid='id',
        tokenize='{_TOKENIZER}')""",
    """CREATE TRIGGER encounters_fts_insert AFTER INSERT ON encounters BEGIN
        INSERT INTO encounters_fts(rowid, notes, cares_about, worries_about)
        VALUES (new.id, new.notes, new.cares_about, new.worries_about);
    END""",
    """CREATE TRIGGER encounters_fts_delete AFTER DELETE ON encounters BEGIN
        INSERT INTO encounters_fts(encounters_fts, rowid, notes, cares_about, worries_about)
        VALUES ('delete', old.id, old.notes, old.cares_about, old.worries_about);
    END""",
    """CREATE TRIGGER encounters_fts_update AFTER UPDATE OF notes, cares_about, worries_about
    ON encounters BEGIN
        INSERT INTO encounters_fts(encounters_fts, rowid, notes, cares_about, worries_about)
        VALUES ('delete', old.id, old.notes, old.cares_about, old.worries_about);
        INSERT INTO encounters_fts(rowid, notes, cares_about, worries_about)
        VALUES (new.id, new.notes, new.cares_about, new.worries_about);
    END""",
    "INSERT INTO encounters_fts(encounters_fts) VALUES ('rebuild')",
)

_SQLITE_DOWNGRADE = (
    "DROP TRIGGER IF EXISTS encounters_fts_update",
    "DROP TRIGGER IF EXISTS encounters_fts_delete",
    "DROP TRIGGER IF EXISTS encounters_fts_insert",
    "DROP TABLE IF EXISTS encounters_fts",
    "DROP TRIGGER IF EXISTS differentiators_fts_update",
    "DROP TRIGGER IF EXISTS differentiators_fts_delete",
    "DROP TRIGGER IF EXISTS differentiators_fts_insert",
    "DROP TABLE IF EXISTS differentiators_fts",
)

_POSTGRES_UPGRADE = (
    f"CREATE INDEX ix_differentiators_search ON differentiators USING gin (({_DIFFERENTIATOR_TSVECTOR}))",
    f"CREATE INDEX ix_encounters_search ON encounters USING gin (({_ENCOUNTER_TSVECTOR}))",
)

_POSTGRES_DOWNGRADE = (
    "DROP INDEX IF EXISTS ix_encounters_search",
    "DROP INDEX IF EXISTS ix_differentiators_search",
)


def _run(statements: Sequence[str]) -> None:
    for statement in statements:
        op.execute(statement)


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        _run(_SQLITE_UPGRADE)
    elif dialect == "postgresql":
        _run(_POSTGRES_UPGRADE)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        _run(_SQLITE_DOWNGRADE)
    elif dialect == "postgresql":
        _run(_POSTGRES_DOWNGRADE)
