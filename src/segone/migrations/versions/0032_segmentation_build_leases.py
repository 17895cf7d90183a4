"""segmentation builds hold a lease like the refreshes: its owner and expiry; at most one runs

Revision ID: 0032
Revises: 0031
Create Date: 2026-12-07 00:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import segone.storage.base

revision: str = "0032"
down_revision: str | None = "0031"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_RUNNING = sa.text("status = 'running'")


def upgrade() -> None:
    with op.batch_alter_table("segmentation_versions") as batch:
        batch.add_column(sa.Column("owner", sa.String(length=200), nullable=True))
        batch.add_column(
            sa.Column("lease_expires_at", segone.storage.base.UTCDateTime(timezone=True), nullable=True)
        )
    # Builds left "running" by killed processes before leases: none of them can still run now.
    op.execute(
        "UPDATE segmentation_versions SET status = 'failed', message = 'Stopped without finishing: its "
        "process ended before it could record how it went.' WHERE status = 'running'"
    )
    op.create_index(
        "uq_segmentation_versions_running",
        "segmentation_versions",
        ["status"],
        unique=True,
        sqlite_where=_RUNNING,
        postgresql_where=_RUNNING,
    )


def downgrade() -> None:
    op.drop_index("uq_segmentation_versions_running", table_name="segmentation_versions")
    with op.batch_alter_table("segmentation_versions") as batch:
        batch.drop_column("lease_expires_at")
        batch.drop_column("owner")
