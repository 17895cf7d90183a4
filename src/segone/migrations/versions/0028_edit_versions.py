"""customers and differentiators: a version per row, so that of two concurrent edits the later is refused

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-06 23:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0028"
down_revision: str | None = "0027"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TABLES = ("customers", "differentiators")


def upgrade() -> None:
    # Every row on file starts at version 1, as a new one does.
    for table in _TABLES:
        op.add_column(table, sa.Column("version", sa.Integer(), nullable=False, server_default="1"))


def downgrade() -> None:
    # ALTER TABLE ... DROP COLUMN on both databases (SQLite since 3.35): a batch copy of differentiators
    # would drop the search triggers migration 0004 put on it.
    for table in _TABLES:
        op.drop_column(table, "version")
