"""knowledge measures: traits, rarity, distinguishability

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27 09:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import segone.storage.base

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "knowledge_refreshes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("started_at", segone.storage.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", segone.storage.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("method", sa.String(length=20), nullable=False),
        sa.Column("threshold", sa.Float(), nullable=False),
        sa.Column("customers", sa.Integer(), nullable=True),
        sa.Column("differentiators", sa.Integer(), nullable=True),
        sa.Column("traits", sa.Integer(), nullable=True),
        sa.Column("segments_of_one", sa.Integer(), nullable=True),
        sa.Column("distribution", sa.JSON(), nullable=False),
        sa.Column("seconds", sa.JSON(), nullable=False),
        sa.Column("message", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_knowledge_refreshes")),
    )
    op.create_table(
        "knowledge_traits",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("refresh_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=400), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("question", sa.String(length=120), nullable=True),
        sa.Column("label", sa.Text(), nullable=False),
        sa.Column("holders", sa.Integer(), nullable=False),
        sa.Column("rarity", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["refresh_id"],
            ["knowledge_refreshes.id"],
            name=op.f("fk_knowledge_traits_refresh_id_knowledge_refreshes"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_knowledge_traits")),
    )
    op.create_index(op.f("ix_knowledge_traits_refresh_id"), "knowledge_traits", ["refresh_id"], unique=False)
    op.create_table(
        "knowledge_fact_traits",
        sa.Column("differentiator_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("trait_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["differentiator_id"],
            ["differentiators.id"],
            name=op.f("fk_knowledge_fact_traits_differentiator_id_differentiators"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["trait_id"],
            ["knowledge_traits.id"],
            name=op.f("fk_knowledge_fact_traits_trait_id_knowledge_traits"),
        ),
        sa.PrimaryKeyConstraint("differentiator_id", name=op.f("pk_knowledge_fact_traits")),
    )
    op.create_index(
        op.f("ix_knowledge_fact_traits_trait_id"), "knowledge_fact_traits", ["trait_id"], unique=False
    )
    op.create_table(
        "knowledge_customer_measures",
        sa.Column("customer_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("refresh_id", sa.Integer(), nullable=False),
        sa.Column("trait_count", sa.Integer(), nullable=False),
        sa.Column("distinguishability", sa.Integer(), nullable=False),
        sa.Column("look_alikes", sa.JSON(), nullable=False),
        sa.Column("next_question", sa.String(length=120), nullable=True),
        sa.Column("next_question_remaining", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_knowledge_customer_measures_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["refresh_id"],
            ["knowledge_refreshes.id"],
            name=op.f("fk_knowledge_customer_measures_refresh_id_knowledge_refreshes"),
        ),
        sa.PrimaryKeyConstraint("customer_id", name=op.f("pk_knowledge_customer_measures")),
    )
    op.create_index(
        op.f("ix_knowledge_customer_measures_refresh_id"),
        "knowledge_customer_measures",
        ["refresh_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_knowledge_customer_measures_refresh_id"), table_name="knowledge_customer_measures")
    op.drop_table("knowledge_customer_measures")
    op.drop_index(op.f("ix_knowledge_fact_traits_trait_id"), table_name="knowledge_fact_traits")
    op.drop_table("knowledge_fact_traits")
    op.drop_index(op.f("ix_knowledge_traits_refresh_id"), table_name="knowledge_traits")
    op.drop_table("knowledge_traits")
    op.drop_table("knowledge_refreshes")
