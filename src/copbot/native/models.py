"""Tables of the Slack-native surfaces."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKeyConstraint, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from copbot.clock import now
from copbot.db import Base


class StepStatus(StrEnum):
    """How a workflow step ended."""

    RUNNING = "running"  # claimed by the delivery that runs it (never seen committed: same transaction)
    AWAITING = "awaiting"  # stored; completes once the post its output links to is delivered
    COMPLETED = "completed"
    FAILED = "failed"


class StepRun(Base):
    """One run of a custom workflow step, unique per execution id: a re-delivery gets the same outcome."""

    __tablename__ = "native_step_runs"
    __table_args__ = (UniqueConstraint("team_id", "execution_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    execution_id: Mapped[str] = mapped_column(String(64))
    callback_id: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[str | None] = mapped_column(String(32))  # the person the step acted for, if any
    status: Mapped[str] = mapped_column(String(16))
    outputs: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=now, index=True)


class NativeSettings(Base):
    """A community's optional Slack-native surfaces and what copbot last made of them in Slack."""

    __tablename__ = "native_settings"
    __table_args__ = (
        UniqueConstraint("community_id"),
        ForeignKeyConstraint(
            ["team_id", "community_id"], ["communities.team_id", "communities.id"], ondelete="CASCADE"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32), index=True)
    community_id: Mapped[int] = mapped_column()
    # the facilitator user group (@handle)
    handle_enabled: Mapped[bool] = mapped_column(default=False)
    handle: Mapped[str | None] = mapped_column(String(80))
    usergroup_id: Mapped[str | None] = mapped_column(String(32))
    usergroup_users: Mapped[list[str]] = mapped_column(JSON, default=list)  # who copbot last put in it
    usergroup_enabled: Mapped[bool] = mapped_column(default=False)  # whether copbot last left it enabled
    handle_refused: Mapped[str | None] = mapped_column(String(64))  # the workspace's refusal, if any
    # the living channel canvas
    canvas_enabled: Mapped[bool] = mapped_column(default=False)
    canvas_id: Mapped[str | None] = mapped_column(String(32))
    canvas_hash: Mapped[str | None] = mapped_column(String(64))  # of the sections last owed to Slack
    canvas_synced_at: Mapped[datetime | None] = mapped_column()
    canvas_refused: Mapped[str | None] = mapped_column(String(64))
    changed_by: Mapped[str | None] = mapped_column(String(32))
    updated_at: Mapped[datetime] = mapped_column(default=now, onupdate=now)
