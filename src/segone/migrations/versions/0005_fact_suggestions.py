"""fact suggestions: the sentences of encounter notes an employee rejected as facts

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27 09:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import segone.storage.base

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "rejected_suggestions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("encounter_id", sa.Integer(), nullable=False),
        sa.Column("sentence_hash", sa.String(length=64), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("rejected_by_id", sa.Integer(), nullable=True),
        sa.Column("rejected_at", segone.storage.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("differentiator_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["differentiator_id"],
            ["differentiators.id"],
            name=op.f("fk_rejected_suggestions_differentiator_id_differentiators"),
        ),
        sa.ForeignKeyConstraint(
            ["encounter_id"],
            ["encounters.id"],
            name=op.f("fk_rejected_suggestions_encounter_id_encounters"),
        ),
        sa.ForeignKeyConstraint(
            ["rejected_by_id"],
            ["users.id"],
            name=op.f("fk_rejected_suggestions_rejected_by_id_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rejected_suggestions")),
        sa.UniqueConstraint(
            "encounter_id", "sentence_hash", name=op.f("uq_rejected_suggestions_encounter_id")
        ),
    )
    op.create_index(
        op.f("ix_rejected_suggestions_encounter_id"), "rejected_suggestions", ["encounter_id"], unique=False
    )
    op.create_index(
        op.f("ix_rejected_suggestions_rejected_by_id"),
        "rejected_suggestions",
        ["rejected_by_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_rejected_suggestions_sentence_hash"), "rejected_suggestions", ["sentence_hash"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_rejected_suggestions_sentence_hash"), table_name="rejected_suggestions")
    op.drop_index(op.f("ix_rejected_suggestions_rejected_by_id"), table_name="rejected_suggestions")
    op.drop_index(op.f("ix_rejected_suggestions_encounter_id"), table_name="rejected_suggestions")
    op.drop_table("rejected_suggestions")
