"""The rituals job: record coming occurrences, then take each due step once, in its own transaction."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import partial

from sqlalchemy.orm import Session, sessionmaker

from copbot.db import session_scope
from copbot.outbox import service as outbox
from copbot.rituals import blocks, facilitators, flows, service
from copbot.rituals.models import Occurrence, OccurrenceKind, Stage
from copbot.scheduling.jobs import Job, JobContext

log = logging.getLogger(__name__)

EVERY = timedelta(minutes=1)


def jobs() -> list[Job]:
    """The rituals feature's scheduled work."""
    return [Job("rituals", run, every=EVERY, grace=timedelta(minutes=5), next_due=next_step)]


def next_step(ctx: JobContext) -> datetime | None:
    """When an occurrence next takes a step after `ctx.at` (the scheduler wakes for it)."""
    with session_scope(ctx.deps.sessions) as session:
        return service.next_step_at(session, after=ctx.at)


def run(ctx: JobContext) -> None:
    """Post what is due at `ctx.at`: new posts, started sessions, after-action prompts, rotation DMs."""
    at, sessions = ctx.at, ctx.deps.sessions
    grace = timedelta(minutes=ctx.deps.settings.ritual_grace_minutes)
    with session_scope(sessions) as session:
        service.materialize(session, at=at)
    _each(
        sessions,
        service.due,
        Stage.PLANNED,
        "post_at",
        at,
        lambda s, oid: publish(s, oid, at=at, grace=grace),
    )
    _each(sessions, service.due, Stage.POSTED, "starts_at", at, start)
    _each(sessions, service.due, Stage.STARTED, "ends_at", at, close)
    with session_scope(sessions) as session:
        needing = facilitators.needing_facilitator(session, at=at)
        chases = facilitators.asks_to_chase(session, at=at)
    for occurrence_id in needing:
        _unit(sessions, partial(_ask_next, occurrence_id=occurrence_id, at=at))
    for ask_id, step in chases:
        _unit(sessions, partial(chase, ask_id=ask_id, step=step, at=at))


def _ask_next(session: Session, *, occurrence_id: int, at: datetime) -> None:
    flows.ask_next(session, session.get_one(Occurrence, occurrence_id), at=at)


def _each(
    sessions: sessionmaker[Session],
    finder: Callable[..., list[int]],
    stage: Stage,
    column: str,
    at: datetime,
    step: Callable[[Session, int], object],
) -> None:
    with session_scope(sessions) as session:
        ids = finder(session, stage=stage, at=at, column=column, limit=5000)
    for occurrence_id in ids:
        _unit(sessions, _bound(step, occurrence_id))


def _bound(step: Callable[[Session, int], object], occurrence_id: int) -> Callable[[Session], object]:
    return lambda session: step(session, occurrence_id)


def _unit(sessions: sessionmaker[Session], work: Callable[[Session], object]) -> None:
    """Run one unit in its own transaction; a failure is logged and the others still run."""
    try:
        with session_scope(sessions) as session:
            work(session)
    except Exception:
        log.exception("rituals: a step failed; it is retried on the next tick")


def publish(session: Session, occurrence_id: int, *, at: datetime, grace: timedelta) -> None:
    """Post an occurrence once; skip it on an exclusion date; skip and log it when found too late."""
    occurrence = session.get_one(Occurrence, occurrence_id)
    community, schedule = service.context(session, occurrence)
    if at > occurrence.starts_at + grace:
        if service.advance(
            session, occurrence_id=occurrence_id, from_stage=Stage.PLANNED, to_stage=Stage.MISSED
        ):
            log.warning(
                "rituals: skipped %s %s of community %s due %s: found at %s, past the %s grace period",
                occurrence.kind,
                occurrence.id,
                community.id,
                occurrence.starts_at.isoformat(),
                at.isoformat(),
                grace,
            )
        return
    exclusion = service.excluded(session, occurrence=occurrence, zone=community.timezone)
    if exclusion is not None:
        claimed = service.advance(
            session, occurrence_id=occurrence_id, from_stage=Stage.PLANNED, to_stage=Stage.EXCLUDED
        )
        if claimed is not None and schedule.note_when_skipped:
            note = blocks.skip_note(community, schedule, occurrence, exclusion)
            outbox.post(
                session,
                team_id=community.team_id,
                channel_id=community.channel_id,
                key=f"ritual:{occurrence.id}:skipped",
                message=note,
            )
        return
    started = occurrence.starts_at <= at and occurrence.kind == OccurrenceKind.SESSION
    target = Stage.STARTED if started else Stage.POSTED
    claimed = service.advance(session, occurrence_id=occurrence_id, from_stage=Stage.PLANNED, to_stage=target)
    if claimed is not None:
        flows.owe_post(session, claimed)


def start(session: Session, occurrence_id: int) -> None:
    """At the start: open "I was there" on a session's post; post the finale's line-up."""
    occurrence = session.get_one(Occurrence, occurrence_id)
    target = Stage.STARTED if occurrence.kind == OccurrenceKind.SESSION else Stage.DONE
    claimed = service.advance(session, occurrence_id=occurrence_id, from_stage=Stage.POSTED, to_stage=target)
    if claimed is None:
        return
    if claimed.kind == OccurrenceKind.SESSION:
        flows.owe_update(session, claimed)
    elif claimed.kind == OccurrenceKind.FINALE:
        community, schedule = service.context(session, claimed)
        lineup = blocks.lineup_post(community, schedule, claimed, service.tally(session, occurrence=claimed))
        outbox.post(
            session,
            team_id=community.team_id,
            channel_id=community.channel_id,
            key=f"ritual:{claimed.id}:lineup",
            message=lineup,
        )


def close(session: Session, occurrence_id: int) -> None:
    """After a session: the "What did we learn?" prompt in its thread, once its post has a `ts`."""
    occurrence = session.get_one(Occurrence, occurrence_id)
    if occurrence.kind != OccurrenceKind.SESSION:
        service.advance(session, occurrence_id=occurrence_id, from_stage=Stage.STARTED, to_stage=Stage.DONE)
        return
    parent = outbox.find(session, team_id=occurrence.team_id, key=flows.post_key(occurrence))
    if parent is None or parent.sent_ts is None:
        return  # the post is not delivered yet: try again next tick
    claimed = service.advance(
        session, occurrence_id=occurrence_id, from_stage=Stage.STARTED, to_stage=Stage.DONE
    )
    if claimed is None:
        return
    prompt = blocks.review_prompt(claimed)
    outbox.post(
        session,
        team_id=claimed.team_id,
        channel_id=parent.sent_channel_id or parent.channel_id or "",
        key=f"ritual:{claimed.id}:review-prompt",
        thread_ts=parent.sent_ts,
        message=prompt,
    )


def chase(session: Session, ask_id: int, step: str, *, at: datetime) -> None:
    """Remind the facilitator asked, or tell the leads, once each."""
    ask = facilitators.mark_chased(session, ask_id=ask_id, step=step, at=at)
    if ask is not None:
        flows.owe_chase(session, ask, step)
