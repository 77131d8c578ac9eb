"""The table of Slack events received."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from copbot.clock import now
from copbot.db import Base


class ProcessedEvent(Base):
    """A Slack event, stored before its ack; `processed_at` is set in the transaction that handles it."""

    __tablename__ = "processed_events"
    __table_args__ = (
        UniqueConstraint("team_id", "event_id"),
        Index("ix_processed_events_pending", "processed_at", "received_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    event_id: Mapped[str] = mapped_column(String(64))
    event_type: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    received_at: Mapped[datetime] = mapped_column(default=now)
    processed_at: Mapped[datetime | None] = mapped_column()
    attempts: Mapped[int] = mapped_column(default=0)
    claimed_by: Mapped[str | None] = mapped_column(String(64))  # the process handling it
    claimed_until: Mapped[datetime | None] = mapped_column()  # replayed once this passes unrenewed
