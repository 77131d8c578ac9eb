"""Record Slack events before their ack, mark them handled, find the ones a crash left behind."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import ColumnElement, Table, bindparam, delete, or_, select, update
from sqlalchemy.orm import Session

from copbot import leases
from copbot.clock import now
from copbot.db import affected, built_once, insert_for
from copbot.inbox.models import ProcessedEvent

MAX_REPLAYS = 5

# Every event runs these two: built once, only bound per event.
_RECORD = built_once(
    lambda dialect: insert_for(dialect)(cast(Table, ProcessedEvent.__table__))
    .on_conflict_do_nothing(index_elements=["team_id", "event_id"])
    .returning(ProcessedEvent.__table__.c.id)
)
_EVENTS = cast(Table, ProcessedEvent.__table__)
_MARK_PROCESSED = (
    update(_EVENTS)
    .where(_EVENTS.c.team_id == bindparam("match_team"), _EVENTS.c.event_id == bindparam("match_event"))
    .values(processed_at=bindparam("at"), claimed_by=None, claimed_until=None)
)


def record(
    session: Session,
    *,
    team_id: str,
    event_id: str,
    event_type: str,
    payload: dict[str, Any],
    claimed_by: str | None = None,
    claimed_until: datetime | None = None,
) -> bool:
    """Store an incoming event, claimed by the process that will handle it; return False when Slack
    already sent it (a retry)."""
    row = {
        "team_id": team_id,
        "event_id": event_id,
        "event_type": event_type,
        "payload": payload,
        "received_at": now(),
        "attempts": 0,
        "claimed_by": claimed_by,
        "claimed_until": claimed_until,
    }
    return session.connection().execute(_RECORD(session), row).scalar() is not None


def mark_processed(session: Session, *, team_id: str, event_id: str) -> None:
    """Mark an event handled, in the same transaction as its effects."""
    values = {"match_team": team_id, "match_event": event_id, "at": now()}
    session.connection().execute(_MARK_PROCESSED, values)


def release(session: Session, *, team_id: str, event_id: str, retry_at: datetime) -> None:
    """Hand an event whose handler failed back to the replay job, to be tried again at `retry_at`."""
    session.execute(
        update(ProcessedEvent)
        .where(
            ProcessedEvent.team_id == team_id,
            ProcessedEvent.event_id == event_id,
            ProcessedEvent.processed_at.is_(None),
        )
        .values(claimed_by=None, claimed_until=retry_at)
    )


def renew_claims(session: Session, identity: str, at: datetime, until: datetime) -> int:
    """Extend the live leases `identity` holds on events it is handling (a `copbot.leases` renewal)."""
    return leases.renew(session, ProcessedEvent, identity, at, until, ProcessedEvent.processed_at.is_(None))


def _stranded(at: datetime, received_before: datetime) -> tuple[ColumnElement[bool], ...]:
    """Not handled, and no live process holds it: its lease lapsed (or, unleased, it is old)."""
    lapsed = or_(
        ProcessedEvent.claimed_until < at,
        ProcessedEvent.claimed_until.is_(None) & (ProcessedEvent.received_at < received_before),
    )
    return (ProcessedEvent.processed_at.is_(None), ProcessedEvent.attempts < MAX_REPLAYS, lapsed)


def claim_stranded(
    session: Session,
    *,
    at: datetime,
    identity: str,
    until: datetime,
    received_before: datetime | None = None,
    limit: int = 100,
) -> list[ProcessedEvent]:
    """Claim events acked but never handled (their process died, or their handler failed), counting
    this replay attempt; events recorded without a lease count as stranded once `received_before`."""
    events = list(
        session.scalars(
            select(ProcessedEvent)
            .where(*_stranded(at, received_before or at))
            .order_by(ProcessedEvent.received_at)
            .limit(limit)
        )
    )
    for event in events:
        event.attempts += 1
        event.claimed_by, event.claimed_until = identity, until
    return events


def next_stranding(session: Session, *, after: datetime) -> datetime | None:
    """When the earliest lease after `after` on an unhandled event lapses (the replay job wakes then)."""
    return session.scalar(
        select(ProcessedEvent.claimed_until)
        .where(
            ProcessedEvent.processed_at.is_(None),
            ProcessedEvent.attempts < MAX_REPLAYS,
            ProcessedEvent.claimed_until > after,
        )
        .order_by(ProcessedEvent.claimed_until)
        .limit(1)
    )


def purge(session: Session, *, received_before: datetime) -> int:
    """Forget events older than the retry window (Slack retries for minutes; we keep at least 25 h)."""
    result = session.execute(delete(ProcessedEvent).where(ProcessedEvent.received_at < received_before))
    return affected(result)
