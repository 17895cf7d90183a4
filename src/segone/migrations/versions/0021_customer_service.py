"""customer service: the service strategy (versioned), promises to customers, recovery cases and actions

Revision ID: 0021
Revises: 0016
Create Date: 2026-12-08 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import segone.storage.base

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_MOMENT = segone.storage.base.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "service_strategies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("core_service", sa.JSON(), nullable=False),
        sa.Column("service_experience", sa.JSON(), nullable=False),
        sa.Column("exceptions", sa.JSON(), nullable=False),
        sa.Column("target_hours_high", sa.Integer(), nullable=False),
        sa.Column("target_hours_normal", sa.Integer(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_at", _MOMENT, nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_service_strategies_created_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_service_strategies")),
        sa.UniqueConstraint("version", name=op.f("uq_service_strategies_version")),
    )
    op.create_table(
        "promises",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("made_by_id", sa.Integer(), nullable=True),
        sa.Column("made_at", _MOMENT, nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("resolved_on", sa.Date(), nullable=True),
        sa.Column("resolved_at", _MOMENT, nullable=True),
        sa.Column("resolved_by_id", sa.Integer(), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_promises_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(["made_by_id"], ["users.id"], name=op.f("fk_promises_made_by_id_users")),
        sa.ForeignKeyConstraint(
            ["resolved_by_id"], ["users.id"], name=op.f("fk_promises_resolved_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_promises")),
    )
    op.create_index(op.f("ix_promises_customer_id"), "promises", ["customer_id"], unique=False)
    op.create_index(op.f("ix_promises_made_by_id"), "promises", ["made_by_id"], unique=False)
    op.create_index(op.f("ix_promises_due_on"), "promises", ["due_on"], unique=False)
    op.create_table(
        "recovery_cases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("event_id", sa.String(length=200), nullable=True),
        sa.Column("priority", sa.String(length=10), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=True),
        sa.Column("opened_by_id", sa.Integer(), nullable=True),
        sa.Column("reported_at", _MOMENT, nullable=False),
        sa.Column("opened_at", _MOMENT, nullable=False),
        sa.Column("target_at", _MOMENT, nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("closed_at", _MOMENT, nullable=True),
        sa.Column("closed_by_id", sa.Integer(), nullable=True),
        sa.Column("resolution", sa.Text(), nullable=False),
        sa.Column("verdict", sa.String(length=20), nullable=True),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_recovery_cases_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(["owner_id"], ["users.id"], name=op.f("fk_recovery_cases_owner_id_users")),
        sa.ForeignKeyConstraint(
            ["opened_by_id"], ["users.id"], name=op.f("fk_recovery_cases_opened_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["closed_by_id"], ["users.id"], name=op.f("fk_recovery_cases_closed_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recovery_cases")),
        sa.UniqueConstraint("event_id", name=op.f("uq_recovery_cases_event_id")),
    )
    op.create_index(op.f("ix_recovery_cases_customer_id"), "recovery_cases", ["customer_id"], unique=False)
    op.create_index(op.f("ix_recovery_cases_owner_id"), "recovery_cases", ["owner_id"], unique=False)
    op.create_index(op.f("ix_recovery_cases_status"), "recovery_cases", ["status"], unique=False)
    op.create_table(
        "recovery_actions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("at", _MOMENT, nullable=False),
        sa.Column("by_id", sa.Integer(), nullable=True),
        sa.Column("by_email", sa.String(length=320), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("exception_key", sa.String(length=60), nullable=True),
        sa.Column("exception_label", sa.String(length=200), nullable=True),
        sa.Column("cost", sa.Float(), nullable=True),
        sa.Column("limit", sa.Float(), nullable=True),
        sa.Column("strategy_version", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"], ["recovery_cases.id"], name=op.f("fk_recovery_actions_case_id_recovery_cases")
        ),
        sa.ForeignKeyConstraint(["by_id"], ["users.id"], name=op.f("fk_recovery_actions_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recovery_actions")),
    )
    op.create_index(op.f("ix_recovery_actions_case_id"), "recovery_actions", ["case_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_recovery_actions_case_id"), table_name="recovery_actions")
    op.drop_table("recovery_actions")
    for name in ("status", "owner_id", "customer_id"):
        op.drop_index(op.f(f"ix_recovery_cases_{name}"), table_name="recovery_cases")
    op.drop_table("recovery_cases")
    for name in ("due_on", "made_by_id", "customer_id"):
        op.drop_index(op.f(f"ix_promises_{name}"), table_name="promises")
    op.drop_table("promises")
    op.drop_table("service_strategies")
