"""The outbox table."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from copbot.clock import now
from copbot.db import Base


class Kind(StrEnum):
    """What kind of Web API call delivers a message."""

    POST = "post"  # chat.postMessage to a channel
    DM = "dm"  # conversations.open + chat.postMessage to a user
    UPDATE = "update"  # chat.update of a message the bot posted
    HOME = "home"  # views.publish of a user's App Home
    SYNC = "sync"  # bring a Slack object (user group, canvas) to a state, by a feature's syncer
    UPLOAD = "upload"  # files.uploadV2 of a file into the conversation of a message the bot delivered


class Status(StrEnum):
    """Where a message is in its delivery."""

    PENDING = "pending"
    UNCERTAIN = "uncertain"  # a send whose outcome is unknown; reconciled before any resend
    DELIVERED = "delivered"
    FAILED = "failed"


class OutboxMessage(Base):
    """A message owed to Slack, unique per workspace by its idempotency key."""

    __tablename__ = "outbox_messages"
    __table_args__ = (
        UniqueConstraint("team_id", "key"),
        Index("ix_outbox_messages_due", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    key: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))
    channel_id: Mapped[str | None] = mapped_column(String(32))
    user_id: Mapped[str | None] = mapped_column(String(32))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default=Status.PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=now)
    claimed_until: Mapped[datetime | None] = mapped_column()
    claimed_by: Mapped[str | None] = mapped_column(String(64))  # the process holding the lease
    in_flight_at: Mapped[datetime | None] = mapped_column()  # when the last post attempt left
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_channel_id: Mapped[str | None] = mapped_column(String(32))
    sent_ts: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(default=now)
    delivered_at: Mapped[datetime | None] = mapped_column()
