"""segment assignment: memberships placed after a build, and the kinds a build read its variables as

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-12 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import segone.storage.base

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Null: placed by the build. A time: placed (or moved) by an assignment since, without a rebuild.
    op.add_column(
        "segment_memberships",
        sa.Column("assigned_at", segone.storage.base.UTCDateTime(timezone=True), nullable=True),
    )
    # Null for the versions built before: assignment then reads the kinds off the segments' rules.
    op.add_column("segmentation_versions", sa.Column("variable_kinds", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("segmentation_versions") as batch:
        batch.drop_column("variable_kinds")
    with op.batch_alter_table("segment_memberships") as batch:
        batch.drop_column("assigned_at")
