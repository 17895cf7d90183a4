"""accounts: the audit log filtered by user and action (indexes), and kept append-only by triggers

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-06 21:30:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0026"
down_revision: str | None = "0025"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# An entry is never changed: no service has an update path, and the database refuses one from anywhere
# else (a script, a console). PostgreSQL refuses a DELETE of an entry too; TRUNCATE, the operator's way to
# empty a whole store (the demo's reset), stays open. SQLite keeps DELETE open: the demo's reset of an
# embedded store deletes every table's rows, and whoever can write the file can drop a trigger anyway.
_POSTGRES_FUNCTION = """
CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql
"""
_POSTGRES_TRIGGER = """
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()
"""
_SQLITE_TRIGGER = """
CREATE TRIGGER audit_log_append_only BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only: UPDATE refused');
END
"""


def upgrade() -> None:
    with op.batch_alter_table("audit_log") as batch:
        batch.create_index(batch.f("ix_audit_log_actor_id"), ["actor_id"], unique=False)
        batch.create_index(batch.f("ix_audit_log_action"), ["action"], unique=False)
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_POSTGRES_FUNCTION)
        op.execute(_POSTGRES_TRIGGER)
    else:
        op.execute(_SQLITE_TRIGGER)


def downgrade() -> None:
    op.execute(
        "DROP TRIGGER IF EXISTS audit_log_append_only"
        + (" ON audit_log" if op.get_bind().dialect.name == "postgresql" else "")
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS audit_log_append_only()")
    with op.batch_alter_table("audit_log") as batch:
        batch.drop_index(batch.f("ix_audit_log_action"))
        batch.drop_index(batch.f("ix_audit_log_actor_id"))
