"""Inbox jobs: replay events a crash stranded after their ack; forget events past Slack's retries."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from slack_bolt import BoltRequest

from copbot.db import session_scope
from copbot.inbox import service
from copbot.scheduling.jobs import Job, JobContext
from copbot.slack.middleware import REPLAY

log = logging.getLogger(__name__)

UNLEASED_STRANDED_AFTER = timedelta(minutes=2)  # events recorded before leases existed
MAX = service.MAX_REPLAYS
KEEP_FOR = timedelta(hours=48)  # Slack retries within minutes; the issue asks for at least 25 hours


def replay_stranded_events(ctx: JobContext) -> None:
    """Hand events that were acked but never handled (their lease lapsed) to their listeners again."""
    if ctx.app is None:
        return
    lease = timedelta(seconds=ctx.deps.settings.lease_seconds)
    with session_scope(ctx.deps.sessions) as session:
        stranded = service.claim_stranded(
            session,
            at=ctx.at,
            identity=ctx.deps.identity,
            until=ctx.at + lease,
            received_before=ctx.at - UNLEASED_STRANDED_AFTER,
        )
        claimed = [(event.payload, event.attempts) for event in stranded]
    for payload, attempt in claimed:
        event_id = payload.get("event_id")
        log.warning("replaying event %s, acked but not handled (replay %d of %d)", event_id, attempt, MAX)
        if attempt >= MAX:
            log.error(
                "event %s is replayed for the last time (%d replays): if this fails too it stays unhandled "
                "in the inbox until purged",
                event_id,
                MAX,
            )
        # socket_mode marks an internal request: the signature was verified when the event arrived.
        ctx.app.dispatch(BoltRequest(body=payload, mode="socket_mode", context={REPLAY: True}))


def next_replay(ctx: JobContext) -> datetime | None:
    """When the next lease on an unhandled event lapses."""
    with session_scope(ctx.deps.sessions) as session:
        return service.next_stranding(session, after=ctx.at)


def purge_old_events(ctx: JobContext) -> None:
    """Delete events older than the deduplication window."""
    with session_scope(ctx.deps.sessions) as session:
        removed = service.purge(session, received_before=ctx.at - KEEP_FOR)
    if removed:
        log.info("forgot %d events older than %s", removed, KEEP_FOR)


def jobs() -> list[Job]:
    """The inbox's scheduled jobs."""
    return [
        Job(
            "inbox.replay",
            replay_stranded_events,
            every=timedelta(minutes=1),
            grace=timedelta(minutes=1),
            next_due=next_replay,
        ),
        Job("inbox.purge", purge_old_events, every=timedelta(hours=1), grace=timedelta(hours=1)),
    ]
