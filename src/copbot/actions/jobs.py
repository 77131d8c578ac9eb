"""Scheduled work of action items (the owners' due DMs) and their records for `copbot export`."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from copbot.actions import flows, service
from copbot.actions.models import ActionItem
from copbot.communities.models import Community
from copbot.db import session_scope
from copbot.scheduling.jobs import Job, JobContext

log = logging.getLogger(__name__)


def send_due(ctx: JobContext) -> None:
    """DM each owner once per due date: on its morning, and one reminder after if still open."""
    with session_scope(ctx.deps.sessions) as session:
        count = flows.send_due(session, at=ctx.at)
    if count:
        log.info("told owners about %d due actions", count)
        ctx.deps.outbox.notify()


def next_due(ctx: JobContext) -> datetime | None:
    """When an item is next owed a DM, so the scheduler wakes for it."""
    with session_scope(ctx.deps.sessions) as session:
        return service.next_due(session, at=ctx.at)


def jobs() -> list[Job]:
    """The action items' jobs."""
    return [
        Job("actions.due", send_due, every=timedelta(minutes=15), grace=timedelta(hours=1), next_due=next_due)
    ]


def export_records(session: Session, communities: list[Community]) -> dict[str, list[dict[str, Any]]]:
    """Action items of the exported communities."""
    by_id = {c.id: c for c in communities}
    items = session.scalars(
        select(ActionItem)
        .where(ActionItem.community_id.in_(by_id))
        .order_by(ActionItem.review_id, ActionItem.position)
    )
    return {
        "action_items": [
            {
                "team_id": item.team_id,
                "channel_id": by_id[item.community_id].channel_id,
                "id": item.id,
                "review_id": item.review_id,
                "text": item.text,
                "owner_id": item.owner_id,
                "due_on": item.due_on.isoformat() if item.due_on else None,
                "status": item.status,
                "closed_at": item.closed_at.isoformat() if item.closed_at else None,
                "closed_by": item.closed_by,
                "created_at": item.created_at.isoformat(),
            }
            for item in items
        ]
    }
