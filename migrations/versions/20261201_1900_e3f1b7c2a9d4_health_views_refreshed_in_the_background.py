"""health: stored views served stale and refreshed in the background

`refresh_after`: when a view found behind the records is due for its background refresh (debounced);
`refreshing_until`: the lease of the process recomputing it (claimed by compare-and-set).

Revision ID: e3f1b7c2a9d4
Revises: d7a2c9e4f813
Create Date: 2026-12-01 19:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "e3f1b7c2a9d4"
down_revision: str | Sequence[str] | None = "d7a2c9e4f813"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("health_snapshots") as batch:
        batch.add_column(sa.Column("refresh_after", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("refreshing_until", sa.DateTime(timezone=True), nullable=True))
    op.create_index(
        op.f("ix_health_snapshots_refresh_after"), "health_snapshots", ["refresh_after"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_health_snapshots_refresh_after"), table_name="health_snapshots")
    with op.batch_alter_table("health_snapshots") as batch:
        batch.drop_column("refreshing_until")
        batch.drop_column("refresh_after")
