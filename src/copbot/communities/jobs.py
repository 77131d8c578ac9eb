"""A scheduled job's walk over the communities, shared by the features' per-community jobs."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from sqlalchemy.orm import Session

from copbot.communities.models import Community
from copbot.communities.service import installed_communities
from copbot.db import session_scope
from copbot.scheduling.jobs import JobContext

log = logging.getLogger(__name__)

Step = Callable[[Session, int, datetime], int]  # (session, community id, instant) -> messages queued


def each_installed_community(ctx: JobContext, step: Step, *, what: str) -> int:
    """Run `step` for every installed community, each in its own transaction; wake the sender if it queued.

    One community's failure is logged and does not stop the others.
    """
    with session_scope(ctx.deps.sessions) as session:
        ids = list(session.scalars(installed_communities().with_only_columns(Community.id)))
    queued = 0
    for community_id in ids:
        try:
            with session_scope(ctx.deps.sessions) as session:
                queued += step(session, community_id, ctx.at)
        except Exception:
            log.exception("%s of community %s failed at %s", what, community_id, ctx.at.isoformat())
    if queued:
        ctx.deps.outbox.notify()
    return queued
