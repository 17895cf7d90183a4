"""Schema migrations (Alembic): the registry of every domain's tables and the revisions."""
