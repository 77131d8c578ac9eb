"""Action items: each decision or follow-up action of a review, with an owner, a due date, an outcome."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Date, ForeignKey, ForeignKeyConstraint, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from copbot.clock import now
from copbot.db import Base


class ItemStatus(StrEnum):
    """Where an action item stands: open, done, or decided against (not doing)."""

    OPEN = "open"
    DONE = "done"
    NOT_DOING = "not_doing"


class ActionItem(Base):
    """One line of a review's "Decisions and follow-up actions", followed up with its owner."""

    __tablename__ = "action_items"
    __table_args__ = (
        ForeignKeyConstraint(
            ["team_id", "community_id"], ["communities.team_id", "communities.id"], ondelete="CASCADE"
        ),
        Index("ix_action_items_open_due", "status", "due_on"),
        Index("ix_action_items_owner", "team_id", "owner_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32), index=True)
    community_id: Mapped[int] = mapped_column(index=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("reviews.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    text: Mapped[str] = mapped_column(Text)
    owner_id: Mapped[str] = mapped_column(String(32))
    due_on: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default=ItemStatus.OPEN)
    closed_at: Mapped[datetime | None] = mapped_column()
    closed_by: Mapped[str | None] = mapped_column(String(32))
    # The due date each DM was sent for: one due DM and one reminder per due date, never more.
    due_dm_for: Mapped[date | None] = mapped_column(Date)
    reminder_for: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(default=now)
    updated_at: Mapped[datetime] = mapped_column(default=now, onupdate=now)

    @property
    def is_open(self) -> bool:
        """Whether the item still waits for its owner."""
        return self.status == ItemStatus.OPEN
