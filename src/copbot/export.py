"""`copbot export`: every record a workspace's communities hold, as JSON or CSV."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from copbot.communities.models import Community
from copbot.feature import Features, Records


def collect(
    session: Session,
    features: Features,
    *,
    team_id: str | None = None,
    channel_id: str | None = None,
) -> Records:
    """Gather every feature's records of all communities, or of one workspace or channel."""
    query = select(Community).order_by(Community.team_id, Community.id)
    if team_id:
        query = query.where(Community.team_id == team_id)
    if channel_id:
        query = query.where(Community.channel_id == channel_id)
    communities = list(session.scalars(query))
    records: Records = {}
    for feature in features:
        if feature.export is not None:
            records.update(feature.export(session, communities))
    return records


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
