"""preference evidence and trait populations: the counts behind a habit and behind a rarity

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_EVIDENCE = ("preferred_channel_events", "channel_events", "preferred_day_events", "preferred_hour_events")


def upgrade() -> None:
    # Null until the next refresh counts them: a profile or a trait of an older refresh states no habit and
    # shows no share of its category.
    for name in _EVIDENCE:
        op.add_column("behaviour_profiles", sa.Column(name, sa.Integer(), nullable=True))
    op.add_column("knowledge_traits", sa.Column("population", sa.Integer(), nullable=True))


def downgrade() -> None:
    op.execute("ALTER TABLE knowledge_traits DROP COLUMN population")
    for name in _EVIDENCE:
        op.execute(f"ALTER TABLE behaviour_profiles DROP COLUMN {name}")
