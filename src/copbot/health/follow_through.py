"""Whether a community acts on what it decides: its review action items closed on time, and how long
closing one takes. Plain Python over the action items' table (read-only)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from statistics import median
from zoneinfo import ZoneInfo

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from copbot.actions.models import ActionItem, ItemStatus
from copbot.communities.models import Community

SECONDS_PER_DAY = 86400


@dataclass(frozen=True)
class FollowThrough:
    """Action items in a window: `due` (dated items whose date fell in it), the share of those closed by
    their date, and the median days from an item's review to its closing (items closed in the window)."""

    due: int
    on_time: float | None
    closed: int
    median_days: float | None


def follow_through(
    session: Session, *, community: Community, start: datetime, stop: datetime
) -> FollowThrough:
    """The community's follow-through over [start, stop): closed on time, and median days to close."""
    zone = ZoneInfo(community.timezone)
    first, last = start.astimezone(zone).date(), stop.astimezone(zone).date()
    due_in_window = and_(ActionItem.due_on >= first, ActionItem.due_on < last)
    closed_in_window = and_(ActionItem.closed_at >= start, ActionItem.closed_at < stop)
    rows = session.execute(
        select(ActionItem.due_on, ActionItem.status, ActionItem.closed_at, ActionItem.created_at)
        .where(ActionItem.team_id == community.team_id, ActionItem.community_id == community.id)
        .where(or_(due_in_window, closed_in_window))
    ).all()
    due = on_time = 0
    days: list[float] = []
    for due_on, status, closed_at, created_at in rows:
        closed_on = closed_at.astimezone(zone).date() if status != ItemStatus.OPEN and closed_at else None
        if due_on is not None and first <= due_on < last:
            due += 1
            on_time += closed_on is not None and closed_on <= due_on
        if closed_on is not None and closed_at is not None and start <= closed_at < stop:
            days.append((closed_at - created_at).total_seconds() / SECONDS_PER_DAY)
    return FollowThrough(
        due=due,
        on_time=on_time / due if due else None,
        closed=len(days),
        median_days=median(days) if days else None,
    )
