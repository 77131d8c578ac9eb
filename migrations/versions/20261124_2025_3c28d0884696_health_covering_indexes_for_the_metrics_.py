"""health: covering indexes for the metrics' windows

Indexes on other features' tables (reviews, playbooks, nominations, questions, attendance), declared in
copbot/health/indexes.py. The history is one linear chain, so every table these indexes are on exists here.

Revision ID: 3c28d0884696
Revises: 1d3bc9032cc9
Create Date: 2026-11-24 20:25:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "3c28d0884696"
down_revision: str | None = "1d3bc9032cc9"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXES = {
    "ix_health_reviews_window": (
        "reviews",
        ["team_id", "community_id", "created_at", "author_id", "occurrence_id"],
    ),
    "ix_health_playbooks_window": ("playbooks", ["team_id", "community_id", "created_at", "author_id"]),
    "ix_health_nominations_window": (
        "nominations",
        ["team_id", "community_id", "created_at", "nominator_id"],
    ),
    "ix_health_questions_window": ("people_questions", ["team_id", "community_id", "created_at", "status"]),
    "ix_health_attendance_attended": ("ritual_attendance", ["occurrence_id", "attended", "user_id"]),
}


def upgrade() -> None:
    for name, (table, columns) in INDEXES.items():
        op.create_index(name, table, columns)


def downgrade() -> None:
    for name, (table, _) in INDEXES.items():
        op.drop_index(name, table_name=table)
