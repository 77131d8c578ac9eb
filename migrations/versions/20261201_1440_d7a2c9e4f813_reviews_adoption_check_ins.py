"""reviews: does it stick? check-ins 30 and 90 days after "We applied this", and unused playbooks

One row per adoption and stage (unique: asked once whatever runs the job) holding the adopter's answer;
a playbook nobody still uses is marked for its lead to revisit.

Revision ID: d7a2c9e4f813
Revises: c4d8e2f1a6b3
Create Date: 2026-12-01 14:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "d7a2c9e4f813"
down_revision: str | Sequence[str] | None = "c4d8e2f1a6b3"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "review_adoption_checkins",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("adoption_id", sa.Integer(), nullable=False),
        sa.Column("stage", sa.Integer(), nullable=False),
        sa.Column("answer", sa.String(length=16), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["adoption_id"],
            ["review_adoptions.id"],
            name=op.f("fk_review_adoption_checkins_adoption_id_review_adoptions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_adoption_checkins")),
        sa.UniqueConstraint("adoption_id", "stage", name=op.f("uq_review_adoption_checkins_adoption_id_stage")),
    )
    with op.batch_alter_table("review_adoption_checkins") as batch_op:
        batch_op.create_index(batch_op.f("ix_review_adoption_checkins_adoption_id"), ["adoption_id"])
        batch_op.create_index(batch_op.f("ix_review_adoption_checkins_team_id"), ["team_id"])
    with op.batch_alter_table("playbooks") as batch_op:
        batch_op.add_column(sa.Column("unused_since", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("playbooks") as batch_op:
        batch_op.drop_column("unused_since")
    op.drop_table("review_adoption_checkins")
