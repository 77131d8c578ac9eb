"""The `communities` and `members` record kinds of `copbot export`."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from copbot.communities.models import Community, Member
from copbot.feature import Records


def export_records(session: Session, communities: list[Community]) -> Records:
    """The communities themselves and their members."""
    return {"communities": [_community(c) for c in communities], "members": _members(session, communities)}


def _community(community: Community) -> dict[str, Any]:
    return {
        "team_id": community.team_id,
        "channel_id": community.channel_id,
        "name": community.name,
        "purpose": community.purpose,
        "learning_goals": community.learning_goals,
        "boundaries": community.boundaries,
        "norms": community.norms,
        "timezone": community.timezone,
        "created_by": community.created_by,
        "created_at": community.created_at.isoformat(),
    }


def _members(session: Session, communities: list[Community]) -> list[dict[str, Any]]:
    by_id = {c.id: c for c in communities}
    members = session.scalars(
        select(Member).where(Member.community_id.in_(by_id)).order_by(Member.community_id, Member.user_id)
    )
    return [
        {
            "team_id": m.team_id,
            "channel_id": by_id[m.community_id].channel_id,
            "user_id": m.user_id,
            "roles": sorted(m.role_names),
            "department": m.department,
            "joined_at": m.joined_at.isoformat(),
            "left_at": m.left_at.isoformat() if m.left_at else None,
        }
        for m in members
    ]
