"""alike leaves: segments of customers who differ only within one bin of a number, counted and marked

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06 15:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Null for versions built before: they were not counted.
    op.add_column("segmentation_versions", sa.Column("alike_leaves", sa.Integer(), nullable=True))
    op.add_column("segments", sa.Column("alike", sa.Boolean(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("segments") as batch:
        batch.drop_column("alike")
    with op.batch_alter_table("segmentation_versions") as batch:
        batch.drop_column("alike_leaves")
