"""`copbot export`: every record a workspace's communities hold, as JSON or CSV."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from copbot.communities.models import Community, Member
from copbot.features import FEATURES

Records = dict[str, list[dict[str, Any]]]


def collect(session: Session, *, team_id: str | None = None, channel_id: str | None = None) -> Records:
    """Gather the records of all communities, or of one workspace or channel."""
    query = select(Community).order_by(Community.team_id, Community.id)
    if team_id:
        query = query.where(Community.team_id == team_id)
    if channel_id:
        query = query.where(Community.channel_id == channel_id)
    communities = list(session.scalars(query))
    records: Records = {
        "communities": [_community(c) for c in communities],
        "members": _members(session, communities),
    }
    for feature in FEATURES:
        if hasattr(feature, "export_records"):
            records.update(feature.export_records(session, communities))
    return records


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


def render(records: Records, *, fmt: str) -> str:
    """Serialise records: JSON keyed by kind, or one CSV whose first column names the kind."""
    if fmt == "json":
        return json.dumps(records, indent=2, ensure_ascii=False) + "\n"
    columns: list[str] = []
    for rows in records.values():
        for row in rows:
            columns.extend(k for k in row if k not in columns)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=["record", *columns], lineterminator="\n")
    writer.writeheader()
    for kind, rows in records.items():
        for row in rows:
            writer.writerow({"record": kind, **{k: _cell(v) for k, v in row.items()}})
    return out.getvalue()


def _cell(value: Any) -> Any:
    return ";".join(map(str, value)) if isinstance(value, list) else value
