"""recognition: settings, nominations, quotas, user facts, digests

Revision ID: 7f37f0ed619b
Revises: db70e299caae
Create Date: 2026-11-24 19:37:58.336428
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import copbot.db

revision: str = "7f37f0ed619b"
down_revision: str | None = "db70e299caae"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _community_fk() -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["team_id", "community_id"], ["communities.team_id", "communities.id"], ondelete="CASCADE"
    )


def upgrade() -> None:
    utc = copbot.db.UTCDateTime(timezone=True)
    op.create_table(
        "recognition_settings",
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("values", sa.JSON(), nullable=False),
        sa.Column("story_min", sa.Integer(), nullable=False),
        sa.Column("weekly_limit", sa.Integer(), nullable=False),
        sa.Column("hold_for_digest", sa.Boolean(), nullable=False),
        sa.Column("digest_enabled", sa.Boolean(), nullable=False),
        sa.Column("digest_weekday", sa.Integer(), nullable=False),
        sa.Column("digest_time", sa.String(length=5), nullable=False),
        sa.Column("updated_at", utc, nullable=False),
        _community_fk(),
        sa.PrimaryKeyConstraint("community_id", name=op.f("pk_recognition_settings")),
    )
    op.create_index(op.f("ix_recognition_settings_team_id"), "recognition_settings", ["team_id"])
    op.create_table(
        "nominations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("nominator_id", sa.String(length=32), nullable=True),
        sa.Column("value", sa.String(length=80), nullable=False),
        sa.Column("action", sa.Text(), nullable=False),
        sa.Column("impact", sa.Text(), nullable=False),
        sa.Column("public", sa.Boolean(), nullable=False),
        sa.Column("permalink", sa.String(length=500), nullable=True),
        sa.Column("subject", sa.String(length=40), nullable=True),
        sa.Column("posted", sa.Boolean(), nullable=False),
        sa.Column("created_at", utc, nullable=False),
        _community_fk(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_nominations")),
    )
    op.create_index(op.f("ix_nominations_team_id"), "nominations", ["team_id"])
    op.create_index("ix_nominations_week", "nominations", ["community_id", "created_at"])
    op.create_index("ix_nominations_nominator", "nominations", ["community_id", "nominator_id", "created_at"])
    op.create_table(
        "nomination_nominees",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("nomination_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["nomination_id"],
            ["nominations.id"],
            name=op.f("fk_nomination_nominees_nomination_id_nominations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_nomination_nominees")),
        sa.UniqueConstraint(
            "nomination_id", "user_id", name=op.f("uq_nomination_nominees_nomination_id_user_id")
        ),
    )
    op.create_index(op.f("ix_nomination_nominees_team_id"), "nomination_nominees", ["team_id"])
    op.create_index("ix_nomination_nominees_user", "nomination_nominees", ["team_id", "user_id"])
    op.create_table(
        "nomination_quotas",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("nominator_id", sa.String(length=32), nullable=False),
        sa.Column("week_start", sa.Date(), nullable=False),
        sa.Column("used", sa.Integer(), nullable=False),
        _community_fk(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_nomination_quotas")),
        sa.UniqueConstraint(
            "community_id",
            "nominator_id",
            "week_start",
            name=op.f("uq_nomination_quotas_community_id_nominator_id_week_start"),
        ),
    )
    op.create_index(op.f("ix_nomination_quotas_team_id"), "nomination_quotas", ["team_id"])
    op.create_table(
        "recognition_user_facts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("is_bot", sa.Boolean(), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column("fetched_at", utc, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recognition_user_facts")),
        sa.UniqueConstraint("team_id", "user_id", name=op.f("uq_recognition_user_facts_team_id_user_id")),
    )
    op.create_index(op.f("ix_recognition_user_facts_team_id"), "recognition_user_facts", ["team_id"])
    op.create_table(
        "recognition_digests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("week_of", sa.Date(), nullable=False),
        sa.Column("due_at", utc, nullable=False),
        sa.Column("nominations", sa.Integer(), nullable=False),
        sa.Column("quiet", sa.Boolean(), nullable=False),
        sa.Column("created_at", utc, nullable=False),
        _community_fk(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recognition_digests")),
        sa.UniqueConstraint(
            "community_id", "week_of", name=op.f("uq_recognition_digests_community_id_week_of")
        ),
    )
    op.create_index(op.f("ix_recognition_digests_team_id"), "recognition_digests", ["team_id"])


def downgrade() -> None:
    for table in (
        "recognition_digests",
        "recognition_user_facts",
        "nomination_quotas",
        "nomination_nominees",
        "nominations",
        "recognition_settings",
    ):
        op.drop_table(table)
