"""knowledge refreshes hold a lease like behaviour refreshes: its owner and expiry; at most one runs

Revision ID: 0030
Revises: 0029
Create Date: 2026-12-07 00:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import segone.storage.base

revision: str = "0030"
down_revision: str | None = "0029"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_RUNNING = sa.text("status = 'running'")


def upgrade() -> None:
    with op.batch_alter_table("knowledge_refreshes") as batch:
        batch.add_column(sa.Column("owner", sa.String(length=200), nullable=True))
        batch.add_column(
            sa.Column("lease_expires_at", segone.storage.base.UTCDateTime(timezone=True), nullable=True)
        )
    # Runs left "running" by killed refreshes before leases: none of them can still run now.
    op.execute(
        "UPDATE knowledge_refreshes SET status = 'failed', message = 'Stopped without finishing: its "
        "process ended before it could record how it went.' WHERE status = 'running'"
    )
    op.create_index(
        "uq_knowledge_refreshes_running",
        "knowledge_refreshes",
        ["status"],
        unique=True,
        sqlite_where=_RUNNING,
        postgresql_where=_RUNNING,
    )


def downgrade() -> None:
    op.drop_index("uq_knowledge_refreshes_running", table_name="knowledge_refreshes")
    with op.batch_alter_table("knowledge_refreshes") as batch:
        batch.drop_column("lease_expires_at")
        batch.drop_column("owner")
