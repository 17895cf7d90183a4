"""segment references: each version's average customer, and each upper segment's deviations from its sibling

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 14:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Null for versions built before: their segments show the deviations stored with them, no more.
    op.add_column("segmentation_versions", sa.Column("reference", sa.JSON(), nullable=True))
    op.add_column("segments", sa.Column("sibling_deviations", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("segments") as batch:
        batch.drop_column("sibling_deviations")
    with op.batch_alter_table("segmentation_versions") as batch:
        batch.drop_column("reference")
