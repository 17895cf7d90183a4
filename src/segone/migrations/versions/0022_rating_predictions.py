"""quality: "think customer", the rating an employee thinks the customer would give after an encounter

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-09 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import segone.storage.base

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_MOMENT = segone.storage.base.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "rating_predictions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("encounter_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("employee_id", sa.Integer(), nullable=False),
        sa.Column("encounter_at", _MOMENT, nullable=False),
        sa.Column("predicted", sa.SmallInteger(), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", _MOMENT, nullable=False),
        sa.Column("updated_at", _MOMENT, nullable=False),
        sa.ForeignKeyConstraint(
            ["encounter_id"],
            ["encounters.id"],
            name=op.f("fk_rating_predictions_encounter_id_encounters"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_rating_predictions_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(
            ["employee_id"], ["users.id"], name=op.f("fk_rating_predictions_employee_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"], ["users.id"], name=op.f("fk_rating_predictions_recorded_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rating_predictions")),
        sa.UniqueConstraint("encounter_id", name=op.f("uq_rating_predictions_encounter_id")),
    )
    for column in ("customer_id", "employee_id", "encounter_at"):
        op.create_index(op.f(f"ix_rating_predictions_{column}"), "rating_predictions", [column], unique=False)


def downgrade() -> None:
    for column in ("encounter_at", "employee_id", "customer_id"):
        op.drop_index(op.f(f"ix_rating_predictions_{column}"), table_name="rating_predictions")
    op.drop_table("rating_predictions")
