"""rituals: one record of who facilitates (the facilitator role); the rotation keeps places only

`/cop rotation in` used to set `ritual_rotation.opted_in` while `/cop facilitate on` and a lead's grant
set the facilitator role, and the rotation read only the first. Now the role is the record: members opted
in get the role, members opted out lose it, and the column goes.

Revision ID: 8b1f0e6c2a77
Revises: 5e7a1c2d9b40
Create Date: 2026-12-01 11:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "8b1f0e6c2a77"
down_revision: str | Sequence[str] | None = "5e7a1c2d9b40"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_MEMBER = (
    "FROM ritual_rotation AS r JOIN members AS m ON m.community_id = r.community_id AND m.user_id = r.user_id"
)


def upgrade() -> None:
    op.execute(
        "INSERT INTO member_roles (team_id, member_id, role, granted_at) "  # noqa: S608 (constants)
        f"SELECT m.team_id, m.id, 'facilitator', CURRENT_TIMESTAMP {_MEMBER} "
        "WHERE r.opted_in AND m.left_at IS NULL AND NOT EXISTS ("
        "  SELECT 1 FROM member_roles AS x WHERE x.member_id = m.id AND x.role = 'facilitator')"
    )
    op.execute(
        "DELETE FROM member_roles WHERE role = 'facilitator' AND member_id IN ("  # noqa: S608 (constants)
        f"  SELECT m.id {_MEMBER} WHERE NOT r.opted_in)"
    )
    with op.batch_alter_table("ritual_rotation") as batch_op:
        batch_op.drop_column("opted_in")


def downgrade() -> None:
    with op.batch_alter_table("ritual_rotation") as batch_op:
        batch_op.add_column(sa.Column("opted_in", sa.Boolean(), nullable=False, server_default=sa.true()))
    with op.batch_alter_table("ritual_rotation") as batch_op:
        batch_op.alter_column("opted_in", server_default=None)
