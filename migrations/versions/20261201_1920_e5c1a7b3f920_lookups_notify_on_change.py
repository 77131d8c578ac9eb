"""lookups: on PostgreSQL, NOTIFY copbot_lookups with the workspace of every changed cached row

Each process caches a channel's community and the settings rows (copbot.lookups); a trigger on each of
their tables (and on workspaces, whose deletion cascades to them) sends the workspace's team id on the
`copbot_lookups` channel in the writing transaction, delivered on commit, so every replica evicts it
whoever wrote it. TRUNCATE sends "*" (everything). SQLite runs one process and needs no trigger.

Revision ID: e5c1a7b3f920
Revises: e3f1b7c2a9d4
Create Date: 2026-12-01 19:20:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "e5c1a7b3f920"
down_revision: str | Sequence[str] | None = "e3f1b7c2a9d4"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("workspaces", "communities", "recognition_settings", "review_settings", "people_settings")

ROW_FUNCTION = """
CREATE FUNCTION copbot_lookups_row() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN PERFORM pg_notify('copbot_lookups', OLD.team_id); END IF;
    IF TG_OP <> 'DELETE' THEN PERFORM pg_notify('copbot_lookups', NEW.team_id); END IF;
    RETURN NULL;
END $$
"""

TRUNCATE_FUNCTION = """
CREATE FUNCTION copbot_lookups_all() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('copbot_lookups', '*');
    RETURN NULL;
END $$
"""


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(ROW_FUNCTION)
    op.execute(TRUNCATE_FUNCTION)
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
    op.execute("DROP FUNCTION copbot_lookups_all()")
    op.execute("DROP FUNCTION copbot_lookups_row()")
