"""health: per-person indexes for App Home's "your part"

A person's contributions in a quarter were found by reading the whole quarter's window of reviews,
playbooks and nominations (tens of thousands of index entries at 1M records); with the person in the
index after the community, each is a seek (copbot/health/indexes.py).

Revision ID: 8d3f6b1a2c57
Revises: 5a7e1c2d9b40
Create Date: 2026-12-01 12:15:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "8d3f6b1a2c57"
down_revision: str | Sequence[str] | None = "5a7e1c2d9b40"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXES = {
    "ix_health_reviews_person": ("reviews", ["team_id", "community_id", "author_id", "created_at"]),
    "ix_health_playbooks_person": ("playbooks", ["team_id", "community_id", "author_id", "created_at"]),
    "ix_health_nominations_person": ("nominations", ["team_id", "community_id", "nominator_id", "created_at"]),
}


def upgrade() -> None:
    for name, (table, columns) in INDEXES.items():
        op.create_index(name, table, columns)


def downgrade() -> None:
    for name, (table, _) in INDEXES.items():
        op.drop_index(name, table_name=table)
