"""audiences: segments saved under a name, their hand changes and their members as last evaluated

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 16:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import segone.storage.base

revision: str = "0012"
# Written beside 0011 (segment assignment); chained after it when both are merged.
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "audiences",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("rules", sa.JSON(), nullable=False),
        sa.Column("conditions", sa.JSON(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=True),
        sa.Column("node_id", sa.Integer(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", segone.storage.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("matched", sa.Integer(), nullable=False),
        sa.Column("evaluated_at", segone.storage.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("evaluated_version_id", sa.Integer(), nullable=True),
        sa.Column("checked_at", segone.storage.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("checked_version_id", sa.Integer(), nullable=True),
        sa.Column("stale", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["segmentation_versions.id"],
            name=op.f("fk_audiences_version_id_segmentation_versions"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["evaluated_version_id"],
            ["segmentation_versions.id"],
            name=op.f("fk_audiences_evaluated_version_id_segmentation_versions"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["checked_version_id"],
            ["segmentation_versions.id"],
            name=op.f("fk_audiences_checked_version_id_segmentation_versions"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_audiences_created_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audiences")),
        sa.UniqueConstraint("name", name=op.f("uq_audiences_name")),
    )
    op.create_index(op.f("ix_audiences_version_id"), "audiences", ["version_id"], unique=False)
    op.create_index(op.f("ix_audiences_created_by_id"), "audiences", ["created_by_id"], unique=False)
    op.create_table(
        "audience_edits",
        sa.Column("audience_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("customer_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("added", sa.Boolean(), nullable=False),
        sa.Column("by_id", sa.Integer(), nullable=True),
        sa.Column("at", segone.storage.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["audience_id"],
            ["audiences.id"],
            name=op.f("fk_audience_edits_audience_id_audiences"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_audience_edits_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(["by_id"], ["users.id"], name=op.f("fk_audience_edits_by_id_users")),
        sa.PrimaryKeyConstraint("audience_id", "customer_id", name=op.f("pk_audience_edits")),
    )
    op.create_index(op.f("ix_audience_edits_by_id"), "audience_edits", ["by_id"], unique=False)
    op.create_table(
        "audience_members",
        sa.Column("audience_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("customer_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.ForeignKeyConstraint(
            ["audience_id"],
            ["audiences.id"],
            name=op.f("fk_audience_members_audience_id_audiences"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_audience_members_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("audience_id", "customer_id", name=op.f("pk_audience_members")),
    )


def downgrade() -> None:
    op.drop_table("audience_members")
    op.drop_index(op.f("ix_audience_edits_by_id"), table_name="audience_edits")
    op.drop_table("audience_edits")
    op.drop_index(op.f("ix_audiences_created_by_id"), table_name="audiences")
    op.drop_index(op.f("ix_audiences_version_id"), table_name="audiences")
    op.drop_table("audiences")
