"""health: cached views (snapshots) and per-community change counters kept by triggers

Metrics at 100k members and 1M records cost hundreds of milliseconds; a person opening App Home or
typing `/cop stats` should not pay that each time. A computed view is stored with the community's change
counter; triggers on every table the metrics read bump the counter on any insert, update or delete, by
any writer (every feature, every replica, forget-me, retention), so a stored view is served exactly while
nothing it was computed from has changed.

Revision ID: 5a7e1c2d9b40
Revises: 62be9c3b1b68
Create Date: 2026-12-01 11:15:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5a7e1c2d9b40"
down_revision: str | Sequence[str] | None = "62be9c3b1b68"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The community a changed row belongs to, as SQL over the row (`{row}` is NEW or OLD).
OCCURRENCE = "(SELECT community_id FROM ritual_occurrences WHERE id = {row}.occurrence_id)"
SOURCES = {
    "reviews": "{row}.community_id",
    "playbooks": "{row}.community_id",
    "nominations": "{row}.community_id",
    "people_questions": "{row}.community_id",
    "members": "{row}.community_id",
    "ritual_occurrences": "{row}.community_id",
    "nomination_nominees": "(SELECT community_id FROM nominations WHERE id = {row}.nomination_id)",
    "ritual_attendance": OCCURRENCE,
    "ritual_pulse_answers": OCCURRENCE,
    "member_roles": "(SELECT community_id FROM members WHERE id = {row}.member_id)",
    "review_adoptions": "(CASE {row}.item_kind"
    " WHEN 'review' THEN (SELECT community_id FROM reviews WHERE id = {row}.item_id)"
    " WHEN 'playbook' THEN (SELECT community_id FROM playbooks WHERE id = {row}.item_id) END)",
}
BUMP = (
    "INSERT INTO health_versions (community_id, version) SELECT c, 1 FROM (SELECT {community} AS c) AS x"
    " WHERE c IS NOT NULL ON CONFLICT (community_id) DO UPDATE SET version = health_versions.version + 1"
)


def upgrade() -> None:
    op.create_table(
        "health_versions",
        sa.Column("community_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("community_id", name=op.f("pk_health_versions")),
    )
    op.create_table(
        "health_snapshots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("view", sa.String(length=40), nullable=False),
        sa.Column("period_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["team_id", "community_id"],
            ["communities.team_id", "communities.id"],
            name=op.f("fk_health_snapshots_team_id_communities"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_health_snapshots")),
        sa.UniqueConstraint(
            "community_id", "view", "period_start", name=op.f("uq_health_snapshots_community_id_view_period_start")
        ),
    )
    op.create_index(op.f("ix_health_snapshots_team_id"), "health_snapshots", ["team_id"], unique=False)
    # App Home's own part at 100k members (copbot/health/indexes.py).
    op.create_index("ix_health_members_person", "members", ["team_id", "user_id"])
    op.create_index("ix_health_nominations_giver", "nominations", ["team_id", "nominator_id", "created_at"])
    postgres = op.get_bind().dialect.name == "postgresql"
    for table, community in SOURCES.items():
        if postgres:
            _postgres_trigger(table, community)
        else:
            _sqlite_triggers(table, community)


def _sqlite_triggers(table: str, community: str) -> None:
    for operation, row in (("INSERT", "NEW"), ("UPDATE", "NEW"), ("DELETE", "OLD")):
        bump = BUMP.format(community=community.format(row=row))
        op.execute(
            f"CREATE TRIGGER health_bump_{table}_{operation.lower()} AFTER {operation} ON {table} "
            f"FOR EACH ROW BEGIN {bump}; END"
        )


def _postgres_trigger(table: str, community: str) -> None:
    new, old = BUMP.format(community=community.format(row="NEW")), BUMP.format(
        community=community.format(row="OLD")
    )
    op.execute(
        f"CREATE FUNCTION health_bump_{table}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        f"IF TG_OP = 'DELETE' THEN {old}; ELSE {new}; END IF; RETURN NULL; END $$"
    )
    op.execute(
        f"CREATE TRIGGER health_bump_{table} AFTER INSERT OR UPDATE OR DELETE ON {table} "
        f"FOR EACH ROW EXECUTE FUNCTION health_bump_{table}()"
    )


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    for table in SOURCES:
        if postgres:
            op.execute(f"DROP TRIGGER IF EXISTS health_bump_{table} ON {table}")
            op.execute(f"DROP FUNCTION IF EXISTS health_bump_{table}()")
        else:
            for operation in ("insert", "update", "delete"):
                op.execute(f"DROP TRIGGER IF EXISTS health_bump_{table}_{operation}")
    op.drop_index("ix_health_nominations_giver", table_name="nominations")
    op.drop_index("ix_health_members_person", table_name="members")
    op.drop_index(op.f("ix_health_snapshots_team_id"), table_name="health_snapshots")
    op.drop_table("health_snapshots")
    op.drop_table("health_versions")
