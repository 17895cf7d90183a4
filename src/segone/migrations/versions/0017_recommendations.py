"""recommendations: the offerings matched to each customer by a refresh, with scores and reasons

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-08 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import segone.storage.base

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "recommendation_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("started_at", segone.storage.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", segone.storage.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("customers", sa.Integer(), nullable=True),
        sa.Column("recommendations", sa.Integer(), nullable=True),
        sa.Column("offerings", sa.Integer(), nullable=True),
        sa.Column("purchases", sa.BigInteger(), nullable=True),
        sa.Column("facts", sa.Integer(), nullable=True),
        sa.Column("settings", sa.JSON(), nullable=False),
        sa.Column("seconds", sa.JSON(), nullable=False),
        sa.Column("message", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recommendation_runs")),
    )
    op.create_table(
        "recommendations",
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("offering_id", sa.Integer(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("collaborative", sa.Float(), nullable=False),
        sa.Column("content", sa.Float(), nullable=False),
        sa.Column("popularity", sa.Float(), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_recommendations_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["offering_id"],
            ["offerings.id"],
            name=op.f("fk_recommendations_offering_id_offerings"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["recommendation_runs.id"],
            name=op.f("fk_recommendations_run_id_recommendation_runs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("run_id", "customer_id", "rank", name=op.f("pk_recommendations")),
    )
    op.create_index(op.f("ix_recommendations_offering_id"), "recommendations", ["offering_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_recommendations_offering_id"), table_name="recommendations")
    op.drop_table("recommendations")
    op.drop_table("recommendation_runs")
