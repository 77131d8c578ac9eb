"""health: quarterly reviews and chart uploads

Revision ID: 1d3bc9032cc9
Revises: 925c6a2e3f95
Create Date: 2026-11-24 19:42:52.739385
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import copbot.db

revision: str = "1d3bc9032cc9"
down_revision: str | None = "925c6a2e3f95"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "health_quarterly_reviews",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("quarter", sa.String(length=8), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("chart_png", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", copbot.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["team_id", "community_id"],
            ["communities.team_id", "communities.id"],
            name=op.f("fk_health_quarterly_reviews_team_id_communities"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_health_quarterly_reviews")),
        sa.UniqueConstraint(
            "team_id",
            "community_id",
            "quarter",
            name=op.f("uq_health_quarterly_reviews_team_id_community_id_quarter"),
        ),
    )
    with op.batch_alter_table("health_quarterly_reviews", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_health_quarterly_reviews_team_id"), ["team_id"], unique=False)

    op.create_table(
        "health_chart_uploads",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("review_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("file_id", sa.String(length=32), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("uploaded_at", copbot.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["review_id"],
            ["health_quarterly_reviews.id"],
            name=op.f("fk_health_chart_uploads_review_id_health_quarterly_reviews"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_health_chart_uploads")),
        sa.UniqueConstraint("review_id", "user_id", name=op.f("uq_health_chart_uploads_review_id_user_id")),
    )
    with op.batch_alter_table("health_chart_uploads", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_health_chart_uploads_team_id"), ["team_id"], unique=False)


def downgrade() -> None:
    op.drop_table("health_chart_uploads")
    op.drop_table("health_quarterly_reviews")
