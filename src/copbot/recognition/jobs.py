"""The weekly digest job: each community's digest, once per week, claimed under a unique key."""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from copbot.communities.jobs import each_installed_community
from copbot.communities.models import Community
from copbot.db import dialect_insert
from copbot.outbox import service as outbox
from copbot.recognition import digest, service
from copbot.recognition.models import Digest
from copbot.scheduling.jobs import Job, JobContext

log = logging.getLogger(__name__)

# A digest not sent within this long after its instant (the worker was down) is skipped, not sent late.
DIGEST_GRACE = timedelta(hours=12)


def jobs() -> list[Job]:
    """The digest job, checked every five minutes."""
    return [Job("recognition-digest", run_digests, every=timedelta(minutes=5), grace=timedelta(minutes=10))]


def run_digests(ctx: JobContext) -> None:
    """Queue the digest of every community whose digest is due at `ctx.at` and not yet claimed."""
    each_installed_community(
        ctx,
        lambda session, community_id, at: send_digest(session, community_id=community_id, at=at),
        what="digest",
    )


def send_digest(session: Session, *, community_id: int, at: datetime) -> bool:
    """Claim and queue one community's digest if it is due at `at`; False when not due or already sent."""
    community = session.get(Community, community_id)
    if community is None:
        return False
    settings = service.settings_for(session, community=community)
    due = service.due_digest(settings, community.timezone, at, DIGEST_GRACE)
    if due is None:
        return False
    # Keyed by the local week, not the day: a lead moving the digest mid-week does not get a second one.
    week_of = service.week_start(due, community.timezone)
    if not _claim(session, community=community, week_of=week_of, due=due, at=at):
        return False
    data = digest.gather(session, community=community, end=due)
    message = digest.digest_message(data)
    outbox.post(
        session,
        team_id=community.team_id,
        channel_id=community.channel_id,
        key=f"recognition-digest:{community.id}:{week_of.isoformat()}",
        message=message,
    )
    claimed = session.scalar(
        select(Digest).where(Digest.community_id == community.id, Digest.week_of == week_of)
    )
    if claimed is not None:
        claimed.nominations, claimed.quiet = data.nomination_count, data.quiet
    log.info(
        "digest of community %s for %s queued (%s nominations)", community.id, week_of, data.nomination_count
    )
    return True


def _claim(session: Session, *, community: Community, week_of: date, due: datetime, at: datetime) -> bool:
    """Insert the week's digest row; a second run, replica or restart finds it there and stops."""
    insert = dialect_insert(session)
    statement = (
        insert(Digest)
        .values(
            team_id=community.team_id,
            community_id=community.id,
            week_of=week_of,
            due_at=due,
            nominations=0,
            quiet=False,
            created_at=at,
        )
        .on_conflict_do_nothing(index_elements=["community_id", "week_of"])
        .returning(Digest.id)
    )
    return session.execute(statement).scalar() is not None
