"""The full-text search objects migration 0004 makes beside the models, which schema comparison leaves out
(``env.py``, the migration test): SQLite's FTS5 tables with their shadow tables, PostgreSQL's expression
indexes. Their names follow ``storage.fulltext``; the owners search them through it."""

from segone.storage.fulltext import schema_objects

SEARCHED_TABLES = ("differentiators", "encounters")
SEARCH_SCHEMA_OBJECTS: frozenset[str] = schema_objects(*SEARCHED_TABLES)
