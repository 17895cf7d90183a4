"""report cards: templates and their deliverables, ratings with their scores, action plans

Revision ID: 0020
Revises: 0016
Create Date: 2026-12-08 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import segone.storage.base

revision: str = "0020"
# Written beside the other helpers' revisions; chained after them when the branches are merged.
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_MOMENT = segone.storage.base.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "report_cards",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("supplier_team_id", sa.Integer(), nullable=True),
        sa.Column("customer_team_id", sa.Integer(), nullable=True),
        sa.Column("touch_point", sa.String(length=40), nullable=True),
        sa.Column("target", sa.Numeric(precision=3, scale=2), nullable=False),
        sa.Column("period_length", sa.String(length=10), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", _MOMENT, nullable=False),
        sa.Column("updated_at", _MOMENT, nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_report_cards_created_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["customer_team_id"], ["teams.id"], name=op.f("fk_report_cards_customer_team_id_teams")
        ),
        sa.ForeignKeyConstraint(
            ["supplier_team_id"], ["teams.id"], name=op.f("fk_report_cards_supplier_team_id_teams")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_cards")),
        sa.UniqueConstraint("name", name=op.f("uq_report_cards_name")),
    )
    op.create_index(
        op.f("ix_report_cards_customer_team_id"), "report_cards", ["customer_team_id"], unique=False
    )
    op.create_index(
        op.f("ix_report_cards_supplier_team_id"), "report_cards", ["supplier_team_id"], unique=False
    )

    op.create_table(
        "report_card_deliverables",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("card_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["card_id"],
            ["report_cards.id"],
            name=op.f("fk_report_card_deliverables_card_id_report_cards"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_card_deliverables")),
        sa.UniqueConstraint("card_id", "name", name="uq_report_card_deliverables_card_name"),
    )
    op.create_index(
        op.f("ix_report_card_deliverables_card_id"), "report_card_deliverables", ["card_id"], unique=False
    )

    op.create_table(
        "report_card_ratings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("card_id", sa.Integer(), nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("rater_user_id", sa.Integer(), nullable=True),
        sa.Column("rater_customer_id", sa.Integer(), nullable=True),
        sa.Column("nps", sa.SmallInteger(), nullable=True),
        sa.Column("csat", sa.SmallInteger(), nullable=True),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", _MOMENT, nullable=False),
        sa.ForeignKeyConstraint(
            ["card_id"],
            ["report_cards.id"],
            name=op.f("fk_report_card_ratings_card_id_report_cards"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["rater_customer_id"],
            ["customers.id"],
            name=op.f("fk_report_card_ratings_rater_customer_id_customers"),
        ),
        sa.ForeignKeyConstraint(
            ["rater_user_id"], ["users.id"], name=op.f("fk_report_card_ratings_rater_user_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"], ["users.id"], name=op.f("fk_report_card_ratings_recorded_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_card_ratings")),
        sa.UniqueConstraint("card_id", "period", "rater_customer_id", name="uq_report_card_ratings_customer"),
        sa.UniqueConstraint("card_id", "period", "rater_user_id", name="uq_report_card_ratings_user"),
    )
    op.create_index(
        "ix_report_card_ratings_card_period", "report_card_ratings", ["card_id", "period"], unique=False
    )
    op.create_index(
        op.f("ix_report_card_ratings_rater_customer_id"),
        "report_card_ratings",
        ["rater_customer_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_report_card_ratings_rater_user_id"), "report_card_ratings", ["rater_user_id"], unique=False
    )

    op.create_table(
        "report_card_scores",
        sa.Column("rating_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("deliverable_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("score", sa.SmallInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["deliverable_id"],
            ["report_card_deliverables.id"],
            name=op.f("fk_report_card_scores_deliverable_id_report_card_deliverables"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["rating_id"],
            ["report_card_ratings.id"],
            name=op.f("fk_report_card_scores_rating_id_report_card_ratings"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("rating_id", "deliverable_id", name=op.f("pk_report_card_scores")),
    )
    op.create_index(
        op.f("ix_report_card_scores_deliverable_id"), "report_card_scores", ["deliverable_id"], unique=False
    )

    op.create_table(
        "action_plans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("card_id", sa.Integer(), nullable=False),
        sa.Column("deliverable_id", sa.Integer(), nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("due", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", _MOMENT, nullable=False),
        sa.Column("updated_at", _MOMENT, nullable=False),
        sa.ForeignKeyConstraint(
            ["card_id"],
            ["report_cards.id"],
            name=op.f("fk_action_plans_card_id_report_cards"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_action_plans_created_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["deliverable_id"],
            ["report_card_deliverables.id"],
            name=op.f("fk_action_plans_deliverable_id_report_card_deliverables"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(["owner_id"], ["users.id"], name=op.f("fk_action_plans_owner_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_action_plans")),
    )
    op.create_index("ix_action_plans_card_period", "action_plans", ["card_id", "period"], unique=False)
    op.create_index(op.f("ix_action_plans_owner_id"), "action_plans", ["owner_id"], unique=False)


def downgrade() -> None:
    op.drop_table("action_plans")
    op.drop_table("report_card_scores")
    op.drop_table("report_card_ratings")
    op.drop_table("report_card_deliverables")
    op.drop_table("report_cards")
