"""reviews: practices that spread (an adoption's source and adopter communities)

"We applied this" now records the item's community and the adopter's, so adoptions across communities
count as exported / imported. Existing adoptions are taken as local.

Revision ID: c4d8e2f1a6b3
Revises: a4bd7daea07f
Create Date: 2026-12-01 14:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c4d8e2f1a6b3"
down_revision: str | Sequence[str] | None = "a4bd7daea07f"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_SOURCE = (
    "CASE WHEN item_kind = 'review' THEN (SELECT r.community_id FROM reviews AS r WHERE r.id = item_id) "
    "ELSE (SELECT p.community_id FROM playbooks AS p WHERE p.id = item_id) END"
)


def upgrade() -> None:
    with op.batch_alter_table("review_adoptions") as batch_op:
        batch_op.add_column(sa.Column("source_community_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("adopter_community_id", sa.Integer(), nullable=True))
        batch_op.create_index("ix_review_adoptions_source", ["team_id", "source_community_id"])
        batch_op.create_index("ix_review_adoptions_adopter", ["team_id", "adopter_community_id"])
    op.execute(f"UPDATE review_adoptions SET source_community_id = {_SOURCE}")  # noqa: S608 (constants)
    op.execute("UPDATE review_adoptions SET adopter_community_id = source_community_id")


def downgrade() -> None:
    with op.batch_alter_table("review_adoptions") as batch_op:
        batch_op.drop_index("ix_review_adoptions_adopter")
        batch_op.drop_index("ix_review_adoptions_source")
        batch_op.drop_column("adopter_community_id")
        batch_op.drop_column("source_community_id")
