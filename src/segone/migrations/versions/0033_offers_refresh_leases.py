"""offers refreshes hold a lease like the other runs: its owner and expiry; at most one runs

Revision ID: 0033
Revises: 0032
Create Date: 2026-12-07 00:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import segone.storage.base

revision: str = "0033"
down_revision: str | None = "0032"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_RUNNING = sa.text("status = 'running'")


def upgrade() -> None:
    with op.batch_alter_table("recommendation_runs") as batch:
        batch.add_column(sa.Column("owner", sa.String(length=200), nullable=True))
        batch.add_column(
            sa.Column("lease_expires_at", segone.storage.base.UTCDateTime(timezone=True), nullable=True)
        )
    # Runs left "running" by killed processes before leases: none of them can still run now.
    op.execute(
        "UPDATE recommendation_runs SET status = 'failed', message = 'Stopped without finishing: its "
        "process ended before it could record how it went.' WHERE status = 'running'"
    )
    op.create_index(
        "uq_recommendation_runs_running",
        "recommendation_runs",
        ["status"],
        unique=True,
        sqlite_where=_RUNNING,
        postgresql_where=_RUNNING,
    )


def downgrade() -> None:
    op.drop_index("uq_recommendation_runs_running", table_name="recommendation_runs")
    with op.batch_alter_table("recommendation_runs") as batch:
        batch.drop_column("lease_expires_at")
        batch.drop_column("owner")
