"""formerly the merge of the per-feature branches; kept (empty) so databases stamped with it upgrade

Revision ID: 62be9c3b1b68
Revises: 3c28d0884696
Create Date: 2026-11-24 20:42:53.514064
"""

from collections.abc import Sequence

revision: str = "62be9c3b1b68"
down_revision: str | None = "3c28d0884696"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
