"""accounts: a session version per user, raised to end all of the user's web sessions at once

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-06 21:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0025"
# 0023 and 0024 are written on other branches; the merge re-chains this one after them.
down_revision: str | None = "0024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Sessions signed before the upgrade carry no version and end once: everyone signs in again.
    op.add_column("users", sa.Column("session_version", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_column("session_version")
