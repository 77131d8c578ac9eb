"""workspaces.enterprise_id: the Enterprise Grid organisation of a workspace (org-wide installs)

Revision ID: a7e1c0d2b3f4
Revises: 72ce3ca8584a
Create Date: 2026-12-01 12:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "a7e1c0d2b3f4"
down_revision: str | None = "72ce3ca8584a"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("workspaces") as batch:
        batch.add_column(sa.Column("enterprise_id", sa.String(length=32), nullable=True))
        batch.create_index("ix_workspaces_enterprise_id", ["enterprise_id"])


def downgrade() -> None:
    with op.batch_alter_table("workspaces") as batch:
        batch.drop_index("ix_workspaces_enterprise_id")
        batch.drop_column("enterprise_id")
