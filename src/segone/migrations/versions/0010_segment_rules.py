"""segment rules: each segment's own condition as data, so a stored tree can be followed again

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 14:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Null for the root and for the segments of versions built before: those are read, not followed.
    op.add_column("segments", sa.Column("rule", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("segments") as batch:
        batch.drop_column("rule")
