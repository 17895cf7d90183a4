"""behaviour profiles and refreshes

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27 08:45:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import segone.storage.base

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "behaviour_refreshes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("started_at", segone.storage.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", segone.storage.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("events", sa.BigInteger(), nullable=True),
        sa.Column("customers", sa.Integer(), nullable=True),
        sa.Column("horizon_weeks", sa.Integer(), nullable=False),
        sa.Column("annual_discount_rate", sa.Float(), nullable=False),
        sa.Column("models", sa.JSON(), nullable=False),
        sa.Column("message", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_behaviour_refreshes")),
    )
    op.create_table(
        "behaviour_profiles",
        sa.Column("customer_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("refresh_id", sa.Integer(), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("first_purchase", sa.Date(), nullable=True),
        sa.Column("last_purchase", sa.Date(), nullable=True),
        sa.Column("purchases", sa.Integer(), nullable=False),
        sa.Column("repeat_purchases", sa.Integer(), nullable=False),
        sa.Column("recency_days", sa.Integer(), nullable=True),
        sa.Column("tenure_days", sa.Integer(), nullable=True),
        sa.Column("total_value", sa.Float(), nullable=True),
        sa.Column("mean_value", sa.Float(), nullable=True),
        sa.Column("median_gap_days", sa.Float(), nullable=True),
        sa.Column("gap_cv", sa.Float(), nullable=True),
        sa.Column("purchases_last_90d", sa.Integer(), nullable=False),
        sa.Column("purchases_prev_90d", sa.Integer(), nullable=False),
        sa.Column("trend_ratio", sa.Float(), nullable=True),
        sa.Column("preferred_channel", sa.String(length=100), nullable=True),
        sa.Column("preferred_day_of_week", sa.Integer(), nullable=True),
        sa.Column("preferred_hour", sa.Integer(), nullable=True),
        sa.Column("contacts", sa.Integer(), nullable=False),
        sa.Column("top_contact_reason_1", sa.String(length=300), nullable=True),
        sa.Column("top_contact_reason_2", sa.String(length=300), nullable=True),
        sa.Column("top_contact_reason_3", sa.String(length=300), nullable=True),
        *[
            sa.Column(name, sa.Integer(), nullable=False)
            for name in ("complaints", "returns", "referrals", "reviews", "visits", "events")
        ],
        sa.Column("p_alive", sa.Float(), nullable=True),
        sa.Column("expected_purchases", sa.Float(), nullable=True),
        sa.Column("expected_value", sa.Float(), nullable=True),
        sa.Column("clv", sa.Float(), nullable=True),
        sa.Column("timeline", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_behaviour_profiles_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["refresh_id"],
            ["behaviour_refreshes.id"],
            name=op.f("fk_behaviour_profiles_refresh_id_behaviour_refreshes"),
        ),
        sa.PrimaryKeyConstraint("customer_id", name=op.f("pk_behaviour_profiles")),
    )
    op.create_index(
        op.f("ix_behaviour_profiles_refresh_id"), "behaviour_profiles", ["refresh_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_behaviour_profiles_refresh_id"), table_name="behaviour_profiles")
    op.drop_table("behaviour_profiles")
    op.drop_table("behaviour_refreshes")
