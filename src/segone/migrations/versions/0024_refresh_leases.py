"""behaviour refreshes hold a lease: its owner and expiry; at most one runs (issue 18)

Revision ID: 0024
Revises: 0022
Create Date: 2026-12-06 21:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import segone.storage.base

revision: str = "0024"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_RUNNING = sa.text("status = 'running'")


def upgrade() -> None:
    with op.batch_alter_table("behaviour_refreshes") as batch:
        batch.add_column(sa.Column("owner", sa.String(length=200), nullable=True))
        batch.add_column(
            sa.Column("lease_expires_at", segone.storage.base.UTCDateTime(timezone=True), nullable=True)
        )
    # Runs left "running" by killed refreshes before leases: none of them can still run now.
    op.execute(
        "UPDATE behaviour_refreshes SET status = 'failed', message = 'Stopped without finishing: its "
        "process ended before it could record how it went.' WHERE status = 'running'"
    )
    op.create_index(
        "uq_behaviour_refreshes_running",
        "behaviour_refreshes",
        ["status"],
        unique=True,
        sqlite_where=_RUNNING,
        postgresql_where=_RUNNING,
    )


def downgrade() -> None:
    op.drop_index("uq_behaviour_refreshes_running", table_name="behaviour_refreshes")
    with op.batch_alter_table("behaviour_refreshes") as batch:
        batch.drop_column("lease_expires_at")
        batch.drop_column("owner")
