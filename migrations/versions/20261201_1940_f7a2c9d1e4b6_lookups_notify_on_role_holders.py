"""lookups: on PostgreSQL, NOTIFY copbot_lookups on changes to members and member roles too

Each process now also caches who holds a community's roles (`communities.service.holders`, read by
`/cop help`, App Home and every lead check); the triggers of revision e5c1a7b3f920 (and its functions)
are added to `members` and `member_roles`, so a join, a leave or a role change on any replica evicts that
workspace's entries everywhere. SQLite runs one process and needs no trigger.

Revision ID: f7a2c9d1e4b6
Revises: e5c1a7b3f920
Create Date: 2026-12-01 19:40:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "f7a2c9d1e4b6"
down_revision: str | Sequence[str] | None = "e5c1a7b3f920"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("members", "member_roles")


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in TABLES:
        op.execute(
            f"CREATE TRIGGER copbot_lookups_row AFTER INSERT OR UPDATE OR DELETE ON {table}"
            " FOR EACH ROW EXECUTE FUNCTION copbot_lookups_row()"
        )
        op.execute(
            f"CREATE TRIGGER copbot_lookups_all AFTER TRUNCATE ON {table}"
            " FOR EACH STATEMENT EXECUTE FUNCTION copbot_lookups_all()"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in TABLES:
        op.execute(f"DROP TRIGGER copbot_lookups_all ON {table}")
        op.execute(f"DROP TRIGGER copbot_lookups_row ON {table}")
