"""reviews.occurrence_id references its session; chart uploads move to the outbox

The history is one linear chain from here on. `reviews.occurrence_id` gains the foreign key the
branches could not declare (SET NULL: retention deletes sessions, reviews of them stay). Chart uploads
are outbox messages now (kind `upload`), so `health_chart_uploads` goes. A chart still owed when this
runs (not uploaded, fewer than the old job's 5 tries, its review DM owed or delivered) becomes the outbox
`upload` message the new code would have owed, under the same keys: it follows its DM as before.

On SQLite the foreign key means rebuilding `reviews`: foreign keys are switched off for the rebuild (a
DROP TABLE would otherwise cascade into lessons), the rename is SQLite's legacy one (other tables'
triggers name `reviews`), and the table's own triggers (full text, change counters) are put back.

Revision ID: a7e4c2d9b318
Revises: 8d3f6b1a2c57
Create Date: 2026-12-01 11:00:00
"""

import base64
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import copbot.db

revision: str = "a7e4c2d9b318"
down_revision: str | None = "8d3f6b1a2c57"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FK_NAME = "fk_reviews_occurrence_id_ritual_occurrences"
OLD_MAX_UPLOAD_ATTEMPTS = 5  # the old upload job gave up after this many tries
# Frozen copy of copbot.health.chart.LEGEND when uploads moved: a migration does not follow later code.
CHART_LEGEND = "bars: contributions per week; lines: people contributing and attendances per week"


def upgrade() -> None:
    with _rebuilding("reviews"):
        op.execute(
            "UPDATE reviews SET occurrence_id = NULL WHERE occurrence_id IS NOT NULL "
            "AND occurrence_id NOT IN (SELECT id FROM ritual_occurrences)"
        )
        with op.batch_alter_table("reviews", schema=None) as batch_op:
            batch_op.create_foreign_key(
                FK_NAME, "ritual_occurrences", ["occurrence_id"], ["id"], ondelete="SET NULL"
            )
    _owe_pending_uploads()
    op.drop_table("health_chart_uploads")


def _owe_pending_uploads() -> None:
    """Turn each chart upload still owed into an outbox `upload` following its review DM."""
    bind = op.get_bind()
    pending = bind.execute(
        sa.text(
            "SELECT u.team_id, u.user_id, r.community_id, r.quarter, r.chart_png, c.name"
            " FROM health_chart_uploads u"
            " JOIN health_quarterly_reviews r ON r.id = u.review_id"
            " JOIN communities c ON c.id = r.community_id"
            " WHERE u.file_id IS NULL AND u.uploaded_at IS NULL AND u.attempts < :tries"
            " ORDER BY u.id"
        ),
        {"tries": OLD_MAX_UPLOAD_ATTEMPTS},
    ).all()
    outbox = sa.table(
        "outbox_messages",
        sa.column("team_id", sa.String),
        sa.column("key", sa.String),
        sa.column("kind", sa.String),
        sa.column("payload", sa.JSON),
        sa.column("status", sa.String),
        sa.column("attempts", sa.Integer),
        sa.column("next_attempt_at", copbot.db.UTCDateTime(timezone=True)),
        sa.column("created_at", copbot.db.UTCDateTime(timezone=True)),
    )
    at = datetime.now(UTC)
    for team_id, user_id, community_id, quarter, png, name in pending:
        dm_key = f"health-quarter:{community_id}:{quarter}:{user_id}"  # health's review_key
        dm_status = bind.execute(
            sa.text("SELECT status FROM outbox_messages WHERE team_id = :team AND key IN (:dm, :chart)"),
            {"team": team_id, "dm": dm_key, "chart": f"{dm_key}:chart"},
        ).all()
        if [row[0] for row in dm_status] not in (["pending"], ["uncertain"], ["delivered"]):
            continue  # no DM to follow (purged or failed), or the chart is owed already
        payload = {
            "of_key": dm_key,
            "content_b64": base64.b64encode(png).decode("ascii"),
            "filename": f"{quarter}-weekly-trends.png",
            "title": f"{name}: weekly trends, {quarter}",
            "alt_txt": CHART_LEGEND,
            "initial_comment": f"Weekly trends of {quarter}: {CHART_LEGEND}.",
        }
        op.bulk_insert(
            outbox,
            [
                {
                    "team_id": team_id,
                    "key": f"{dm_key}:chart",
                    "kind": "upload",
                    "payload": payload,
                    "status": "pending",
                    "attempts": 0,
                    "next_attempt_at": at,
                    "created_at": at,
                }
            ],
        )


def downgrade() -> None:
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
    with _rebuilding("reviews"), op.batch_alter_table("reviews", schema=None) as batch_op:
        batch_op.drop_constraint(FK_NAME, type_="foreignkey")


@contextmanager
def _rebuilding(table: str) -> Iterator[None]:
    """On SQLite, rebuild a table safely: foreign keys off (no cascades), its triggers restored after."""
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        yield
        return
    bind.exec_driver_sql("PRAGMA foreign_keys=OFF")
    # The pragma is ignored inside a transaction (a run of several revisions): harmless while the table
    # is empty, as in a fresh database; otherwise refuse rather than cascade.
    still_on = bind.exec_driver_sql("PRAGMA foreign_keys").scalar()
    if still_on and bind.exec_driver_sql(f"SELECT count(*) FROM {table}").scalar():  # noqa: S608
        raise RuntimeError(f"run this revision on its own: SQLite cannot rebuild {table} safely here")
    found = bind.exec_driver_sql(
        "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = ?", (table,)
    )
    triggers = [row[0] for row in found]
    # Triggers on other tables name this one (health's change counters): the legacy rename does not
    # check them while the table is briefly gone, and they read the rebuilt table by name afterwards.
    bind.exec_driver_sql("PRAGMA legacy_alter_table=ON")
    yield
    bind.exec_driver_sql("PRAGMA legacy_alter_table=OFF")
    for sql in triggers:
        bind.exec_driver_sql(sql)
    bind.exec_driver_sql("PRAGMA foreign_keys=ON")
