"""The migration that makes the facilitator role the one record of who facilitates (fresh SQLite file)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from sqlalchemy import text

from tests.databases import sqlite_at_revision

BEFORE = "5e7a1c2d9b40"
FIX = "8b1f0e6c2a77"


def test_opted_in_members_become_facilitators_and_opted_out_ones_stop(tmp_path: Path) -> None:
    config, engine = sqlite_at_revision(tmp_path / "old.db", BEFORE)
    day = "2026-01-01"
    with engine.begin() as connection:
        for member_id, user_id, opted_in, role in ((2, "U2", True, None), (3, "U3", False, "facilitator")):
            connection.execute(
                text(
                    "INSERT INTO members (id, team_id, community_id, user_id, joined_at)"
                    " VALUES (:id, 'T1', 1, :user, :d)"
                ),
                {"id": member_id, "user": user_id, "d": day},
            )
            connection.execute(
                text(
                    "INSERT INTO ritual_rotation (team_id, community_id, user_id, position, opted_in)"
                    " VALUES ('T1', 1, :user, :id, :opted_in)"
                ),
                {"user": user_id, "id": member_id, "opted_in": opted_in},
            )
            if role:
                connection.execute(
                    text(
                        "INSERT INTO member_roles (team_id, member_id, role, granted_at)"
                        " VALUES ('T1', :id, :role, :d)"
                    ),
                    {"id": member_id, "role": role, "d": day},
                )
    command.upgrade(config, FIX)
    with engine.connect() as connection:
        facilitators = connection.scalars(
            text(
                "SELECT m.user_id FROM member_roles r JOIN members m ON m.id = r.member_id"
                " WHERE r.role = 'facilitator'"
            )
        ).all()
        places = connection.execute(text("SELECT user_id, position FROM ritual_rotation ORDER BY 2")).all()
    engine.dispose()
    assert facilitators == ["U2"]
    assert [tuple(p) for p in places] == [("U2", 2), ("U3", 3)]  # places are kept, for a return
