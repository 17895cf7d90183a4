"""event staging

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27 07:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import segone.storage.base

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "event_staging",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.String(length=200), nullable=False),
        sa.Column("customer", sa.String(length=400), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("type", sa.String(length=60), nullable=False),
        sa.Column("ts", segone.storage.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("quantity", sa.BigInteger(), nullable=True),
        sa.Column("channel", sa.String(length=100), nullable=True),
        sa.Column("offering", sa.String(length=300), nullable=True),
        sa.Column("reason", sa.String(length=300), nullable=True),
        sa.Column("properties", sa.Text(), nullable=True),
        sa.Column("received_at", segone.storage.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event_staging")),
        sa.UniqueConstraint("event_id", name=op.f("uq_event_staging_event_id")),
    )


def downgrade() -> None:
    op.drop_table("event_staging")
