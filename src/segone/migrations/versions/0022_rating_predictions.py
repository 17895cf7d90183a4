"""quality: "think customer", the rating an employee thinks the customer would give after an encounter;
the differentiation survey and its answers

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
    op.create_table(
        "surveys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", _MOMENT, nullable=False),
        sa.ForeignKeyConstraint(["created_by_id"], ["users.id"], name=op.f("fk_surveys_created_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_surveys")),
        sa.UniqueConstraint("name", name=op.f("uq_surveys_name")),
    )
    op.create_table(
        "survey_answers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("survey_id", sa.Integer(), nullable=False),
        sa.Column("group", sa.String(length=20), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column("agreement", sa.SmallInteger(), nullable=False),
        sa.Column("statement", sa.Text(), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", _MOMENT, nullable=False),
        sa.ForeignKeyConstraint(
            ["survey_id"],
            ["surveys.id"],
            name=op.f("fk_survey_answers_survey_id_surveys"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_survey_answers_user_id_users")),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_survey_answers_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"], ["users.id"], name=op.f("fk_survey_answers_recorded_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_survey_answers")),
        sa.UniqueConstraint("survey_id", "user_id", name="uq_survey_answers_user"),
        sa.UniqueConstraint("survey_id", "customer_id", name="uq_survey_answers_customer"),
    )
    op.create_index(op.f("ix_survey_answers_survey_id"), "survey_answers", ["survey_id"], unique=False)
    op.create_index(op.f("ix_survey_answers_customer_id"), "survey_answers", ["customer_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_survey_answers_customer_id"), table_name="survey_answers")
    op.drop_index(op.f("ix_survey_answers_survey_id"), table_name="survey_answers")
    op.drop_table("survey_answers")
    op.drop_table("surveys")
    for column in ("encounter_at", "employee_id", "customer_id"):
        op.drop_index(op.f(f"ix_rating_predictions_{column}"), table_name="rating_predictions")
    op.drop_table("rating_predictions")
