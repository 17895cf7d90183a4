"""segmentations: each build's version, its segments and which leaf each customer is in

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-10 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import segone.storage.base

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "segmentation_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("settings", sa.JSON(), nullable=False),
        sa.Column("variable_names", sa.JSON(), nullable=False),
        sa.Column("started_at", segone.storage.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", segone.storage.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("customers", sa.Integer(), nullable=True),
        sa.Column("leaves", sa.Integer(), nullable=True),
        sa.Column("segments_of_one", sa.Integer(), nullable=True),
        sa.Column("identical_leaves", sa.Integer(), nullable=True),
        sa.Column("seconds", sa.Float(), nullable=True),
        sa.Column("fingerprint", sa.String(length=64), nullable=True),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_segmentation_versions_created_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_segmentation_versions")),
    )
    op.create_index(
        op.f("ix_segmentation_versions_created_by_id"),
        "segmentation_versions",
        ["created_by_id"],
        unique=False,
    )
    op.create_table(
        "segments",
        sa.Column("version_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("node_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("parent_node_id", sa.Integer(), nullable=True),
        sa.Column("depth", sa.Integer(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("conditions", sa.JSON(), nullable=False),
        sa.Column("gain", sa.Float(), nullable=False),
        sa.Column("identical", sa.Boolean(), nullable=False),
        sa.Column("is_leaf", sa.Boolean(), nullable=False),
        sa.Column("clv_sum", sa.Float(), nullable=True),
        sa.Column("clv_mean", sa.Float(), nullable=True),
        sa.Column("target_mean", sa.Float(), nullable=True),
        sa.Column("deviations", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["segmentation_versions.id"],
            name=op.f("fk_segments_version_id_segmentation_versions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("version_id", "node_id", name=op.f("pk_segments")),
    )
    op.create_index("ix_segments_version_parent", "segments", ["version_id", "parent_node_id"], unique=False)
    op.create_table(
        "segment_memberships",
        sa.Column("version_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("customer_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("node_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_segment_memberships_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["segmentation_versions.id"],
            name=op.f("fk_segment_memberships_version_id_segmentation_versions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("version_id", "customer_id", name=op.f("pk_segment_memberships")),
    )
    op.create_index(
        "ix_segment_memberships_version_node", "segment_memberships", ["version_id", "node_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_segment_memberships_version_node", table_name="segment_memberships")
    op.drop_table("segment_memberships")
    op.drop_index("ix_segments_version_parent", table_name="segments")
    op.drop_table("segments")
    op.drop_index(op.f("ix_segmentation_versions_created_by_id"), table_name="segmentation_versions")
    op.drop_table("segmentation_versions")
