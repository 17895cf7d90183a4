"""customer since: each customer's first activity (added, first purchase, first encounter)

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-28 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import segone.storage.base

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    # SQLite adds a NOT NULL column only with a constant default, and recreating the table instead would
    # cascade-delete the behaviour profiles and knowledge measures that refer to it: the placeholder is
    # overwritten below, in the same transaction. PostgreSQL adds it empty and sets NOT NULL after.
    op.add_column(
        "customers",
        sa.Column(
            "since",
            segone.storage.base.UTCDateTime(timezone=True),
            nullable=not sqlite,
            server_default=sa.text("'1970-01-01 00:00:00.000000'") if sqlite else None,
        ),
    )
    op.execute("UPDATE customers SET since = created_at")
    op.execute(
        """
        UPDATE customers SET since = (
            SELECT MIN(encounters.occurred_at) FROM encounters WHERE encounters.customer_id = customers.id
        )
        WHERE EXISTS (
            SELECT 1 FROM encounters
            WHERE encounters.customer_id = customers.id AND encounters.occurred_at < customers.since
        )
        """
    )
    if not sqlite:
        op.alter_column("customers", "since", nullable=False)


def downgrade() -> None:
    op.execute("ALTER TABLE customers DROP COLUMN since")
