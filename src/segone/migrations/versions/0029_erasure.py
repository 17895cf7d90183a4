"""accounts: erasures (a customer's personal data removed) and the one narrow path past the audit log's
append-only triggers that an erasure takes

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-06 23:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import segone.storage.base

revision: str = "0029"
down_revision: str | None = "0028"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# An entry may be changed only by an erasure of the customer it is about: inside the erasing transaction
# (PostgreSQL: the transaction-local setting segone.erasing is on) while that customer's erasure record
# is under way, and only its summary and details (id, time, actor, action and customer stay). DELETE stays
# refused on PostgreSQL. The record is marked done before the transaction commits, so the door closes
# with it.
_POSTGRES_FUNCTION = """
CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'UPDATE'
        AND current_setting('segone.erasing', true) = 'on'
        AND NEW.id = OLD.id AND NEW.at = OLD.at AND NEW.action = OLD.action
        AND NEW.actor_id IS NOT DISTINCT FROM OLD.actor_id AND NEW.actor_email = OLD.actor_email
        AND NEW.customer_id IS NOT DISTINCT FROM OLD.customer_id
        AND EXISTS (SELECT 1 FROM erasures e WHERE e.customer_id = OLD.customer_id AND e.under_way)
    THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql
"""
_POSTGRES_FUNCTION_BEFORE = """
CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql
"""
_SQLITE_TRIGGER = """
CREATE TRIGGER audit_log_append_only BEFORE UPDATE ON audit_log
WHEN NOT (
    NEW.id = OLD.id AND NEW.at = OLD.at AND NEW.action = OLD.action
    AND NEW.actor_id IS OLD.actor_id AND NEW.actor_email = OLD.actor_email
    AND NEW.customer_id IS OLD.customer_id
    AND EXISTS (SELECT 1 FROM erasures e WHERE e.customer_id = OLD.customer_id AND e.under_way)
)
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only: UPDATE refused');
END
"""
_SQLITE_TRIGGER_BEFORE = """
CREATE TRIGGER audit_log_append_only BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only: UPDATE refused');
END
"""


def upgrade() -> None:
    op.create_table(
        "erasures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("erased_at", segone.storage.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("erased_by_id", sa.Integer(), nullable=True),
        sa.Column("erased_by", sa.String(length=320), nullable=False),
        sa.Column("under_way", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["erased_by_id"], ["users.id"], name=op.f("fk_erasures_erased_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_erasures")),
    )
    op.create_index(op.f("ix_erasures_customer_id"), "erasures", ["customer_id"], unique=False)
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_POSTGRES_FUNCTION)
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_log_append_only")
        op.execute(_SQLITE_TRIGGER)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_POSTGRES_FUNCTION_BEFORE)
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_log_append_only")
        op.execute(_SQLITE_TRIGGER_BEFORE)
    op.drop_index(op.f("ix_erasures_customer_id"), table_name="erasures")
    op.drop_table("erasures")
