"""Record Slack events before their ack, mark them handled, find the ones a crash left behind."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from copbot.clock import now
from copbot.db import affected, dialect_insert
from copbot.inbox.models import ProcessedEvent

MAX_REPLAYS = 5


def record(
    session: Session, *, team_id: str, event_id: str, event_type: str, payload: dict[str, Any]
) -> bool:
    """Store an incoming event; return False when Slack already sent it (a retry)."""
    insert = dialect_insert(session)
    statement = (
        insert(ProcessedEvent)
        .values(
            team_id=team_id,
            event_id=event_id,
            event_type=event_type,
            payload=payload,
            received_at=now(),
            attempts=0,
        )
        .on_conflict_do_nothing(index_elements=["team_id", "event_id"])
        .returning(ProcessedEvent.id)
    )
    return session.execute(statement).scalar() is not None


def mark_processed(session: Session, *, team_id: str, event_id: str) -> None:
    """Mark an event handled, in the same transaction as its effects."""
    session.execute(
        update(ProcessedEvent)
        .where(ProcessedEvent.team_id == team_id, ProcessedEvent.event_id == event_id)
        .values(processed_at=now())
    )


def claim_stranded(session: Session, *, received_before: datetime, limit: int = 100) -> list[ProcessedEvent]:
    """Return events acked but never handled (a crash, an error), counting this replay attempt."""
    events = list(
        session.scalars(
            select(ProcessedEvent)
            .where(
                ProcessedEvent.processed_at.is_(None),
                ProcessedEvent.received_at < received_before,
                ProcessedEvent.attempts < MAX_REPLAYS,
            )
            .order_by(ProcessedEvent.received_at)
            .limit(limit)
        )
    )
    for event in events:
        event.attempts += 1
    return events


def purge(session: Session, *, received_before: datetime) -> int:
    """Forget events older than the retry window (Slack retries for minutes; we keep at least 25 h)."""
    result = session.execute(delete(ProcessedEvent).where(ProcessedEvent.received_at < received_before))
    return affected(result)
