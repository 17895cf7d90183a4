"""last complaint and return: when each customer last complained or returned something, for the briefing

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_MOMENTS = ("last_complaint_at", "last_return_at")


def upgrade() -> None:
    # Null until the next refresh: a profile of an older refresh cannot say whether a complaint or a
    # return came after the last encounter.
    for name in _MOMENTS:
        op.add_column("behaviour_profiles", sa.Column(name, sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("behaviour_profiles") as batch:
        for name in _MOMENTS:
            batch.drop_column(name)
