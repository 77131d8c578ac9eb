"""leases owned by a process: outbox and inbox claims name their process; posts remember when they left

Revision ID: a7e3c1d2b9f4
Revises: a7e4c2d9b318
Create Date: 2026-12-01 12:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import copbot.db

revision: str = "a7e3c1d2b9f4"
down_revision: str | None = "a7e4c2d9b318"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("outbox_messages") as batch:
        batch.add_column(sa.Column("claimed_by", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("in_flight_at", copbot.db.UTCDateTime(timezone=True), nullable=True))
    with op.batch_alter_table("processed_events") as batch:
        batch.add_column(sa.Column("claimed_by", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("claimed_until", copbot.db.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("processed_events") as batch:
        batch.drop_column("claimed_until")
        batch.drop_column("claimed_by")
    with op.batch_alter_table("outbox_messages") as batch:
        batch.drop_column("in_flight_at")
        batch.drop_column("claimed_by")
