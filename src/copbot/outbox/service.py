"""Put messages in the outbox: each is stored under an idempotency key before anything is sent."""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, or_, select
from sqlalchemy import update as sql_update
from sqlalchemy.orm import Session

from copbot.blockkit import Message
from copbot.clock import now
from copbot.db import affected, built_once, insert_for
from copbot.outbox.models import Kind, OutboxMessage, Status

# Every request that owes Slack something runs this: built once, only bound per message.
_ENQUEUE = built_once(
    lambda dialect: insert_for(dialect)(cast(Table, OutboxMessage.__table__))
    .on_conflict_do_nothing(index_elements=["team_id", "key"])
    .returning(OutboxMessage.__table__.c.id)
)


def enqueue(
    session: Session,
    *,
    team_id: str,
    key: str,
    kind: Kind,
    payload: dict[str, Any],
    channel_id: str | None = None,
    user_id: str | None = None,
    not_before: datetime | None = None,
) -> bool:
    """Store a message owed to Slack; return False when one with the same key is already owed."""
    at = now()
    row = {
        "team_id": team_id,
        "key": key,
        "kind": kind.value,
        "channel_id": channel_id,
        "user_id": user_id,
        "payload": payload,
        "status": Status.PENDING.value,
        "attempts": 0,
        "next_attempt_at": not_before or at,
        "created_at": at,
    }
    return session.connection().execute(_ENQUEUE(session), row).scalar() is not None


def post(
    session: Session,
    *,
    team_id: str,
    channel_id: str,
    key: str,
    message: Message,
    thread_ts: str | None = None,
) -> bool:
    """Owe a message in a channel (or a thread of it)."""
    payload = {**_content(message), "thread_ts": thread_ts}
    return enqueue(session, team_id=team_id, key=key, kind=Kind.POST, payload=payload, channel_id=channel_id)


def direct_message(
    session: Session,
    *,
    team_id: str,
    user_id: str,
    key: str,
    message: Message,
) -> bool:
    """Owe a direct message to a user."""
    payload = _content(message)
    return enqueue(session, team_id=team_id, key=key, kind=Kind.DM, payload=payload, user_id=user_id)


def update(
    session: Session,
    *,
    team_id: str,
    key: str,
    of_key: str,
    message: Message,
) -> bool:
    """Owe an edit of the message the outbox delivered under `of_key`."""
    payload = {**_content(message), "of_key": of_key}
    return enqueue(session, team_id=team_id, key=key, kind=Kind.UPDATE, payload=payload)


def _content(message: Message) -> dict[str, Any]:
    """What chat.postMessage / chat.update take of a message (a text-only one carries no blocks)."""
    return {"text": message["text"], "blocks": message["blocks"] or None}


def publish_home(session: Session, *, team_id: str, user_id: str, key: str, view: dict[str, Any]) -> bool:
    """Owe a user's App Home view."""
    return enqueue(session, team_id=team_id, key=key, kind=Kind.HOME, payload={"view": view}, user_id=user_id)


def upload(
    session: Session,
    *,
    team_id: str,
    key: str,
    of_key: str,
    content: bytes,
    filename: str,
    title: str,
    alt_text: str,
    comment: str,
) -> bool:
    """Owe a file upload into the conversation of the message owed under `of_key`, once that is delivered."""
    payload = {
        "of_key": of_key,
        "content_b64": base64.b64encode(content).decode("ascii"),
        "filename": filename,
        "title": title,
        "alt_txt": alt_text,
        "initial_comment": comment,
    }
    return enqueue(session, team_id=team_id, key=key, kind=Kind.UPLOAD, payload=payload)


def find(session: Session, *, team_id: str, key: str) -> OutboxMessage | None:
    """Return the message owed under `key`, delivered or not."""
    return session.scalar(
        select(OutboxMessage).where(OutboxMessage.team_id == team_id, OutboxMessage.key == key)
    )


def sync(
    session: Session,
    *,
    team_id: str,
    key: str,
    target: str,
    subject_id: int,
    state: dict[str, Any],
    not_before: datetime | None = None,
) -> bool:
    """Owe bringing one Slack object (a user group, a canvas) to `state`, by the `target` feature's syncer."""
    payload = {"target": target, "subject_id": subject_id, "state": state}
    return enqueue(session, team_id=team_id, key=key, kind=Kind.SYNC, payload=payload, not_before=not_before)


def pending(session: Session, *, team_id: str, key_prefix: str) -> OutboxMessage | None:
    """The oldest message under `key_prefix` still owed (not delivered, not failed)."""
    return session.scalar(
        select(OutboxMessage)
        .where(
            OutboxMessage.team_id == team_id,
            OutboxMessage.key.startswith(key_prefix, autoescape=True),
            OutboxMessage.status.in_([Status.PENDING, Status.UNCERTAIN]),
        )
        .order_by(OutboxMessage.id)
        .limit(1)
    )


def restate(session: Session, message: OutboxMessage, *, state: dict[str, Any]) -> bool:
    """Give an owed SYNC message a newer state, unless a sender has claimed it meanwhile."""
    at = now()
    changed = session.execute(
        sql_update(OutboxMessage)
        .where(
            OutboxMessage.id == message.id,
            OutboxMessage.status == Status.PENDING,
            or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until < at),
        )
        .values(payload={**message.payload, "state": state})
        .execution_options(synchronize_session=False)
    )
    return affected(changed) == 1


def delivered_key(session: Session, *, team_id: str, keys: list[str], channel_id: str, ts: str) -> str | None:
    """Which of `keys` was delivered as the message `ts` in `channel_id` (a reaction's message), if any."""
    if not keys:
        return None
    return session.scalar(
        select(OutboxMessage.key).where(
            OutboxMessage.team_id == team_id,
            OutboxMessage.key.in_(keys),
            OutboxMessage.sent_channel_id == channel_id,
            OutboxMessage.sent_ts == ts,
        )
    )
