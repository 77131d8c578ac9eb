"""Tables of the people feature: workspace settings, what we know of a person, onboardings, questions."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKeyConstraint, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from copbot.clock import now
from copbot.db import Base

DEFAULT_CHECKIN_DAYS = 14
DEFAULT_ASK_LIMIT = 5


class PeopleSettings(Base):
    """Per-workspace settings: the profile field naming a team, check-in delay, ask limit, retention."""

    __tablename__ = "people_settings"

    team_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    team_field_id: Mapped[str | None] = mapped_column(String(32))
    checkin_days: Mapped[int] = mapped_column(default=DEFAULT_CHECKIN_DAYS)
    ask_daily_limit: Mapped[int] = mapped_column(default=DEFAULT_ASK_LIMIT)
    retention_months: Mapped[int | None] = mapped_column()
    updated_at: Mapped[datetime] = mapped_column(default=now, onupdate=now)


class Profile(Base):
    """What copbot keeps about a person of a workspace, read from Slack or set by them or a lead."""

    __tablename__ = "people_profiles"
    __table_args__ = (UniqueConstraint("team_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32), index=True)
    user_id: Mapped[str] = mapped_column(String(32))
    is_bot: Mapped[bool] = mapped_column(default=False)
    tz_offset: Mapped[int | None] = mapped_column()  # seconds east of UTC, as users.info gives it
    profile_team: Mapped[str | None] = mapped_column(String(120))  # from the configured profile field
    manual_team: Mapped[str | None] = mapped_column(String(120))  # set with `/cop team`
    fetched_at: Mapped[datetime | None] = mapped_column()

    @property
    def team(self) -> str | None:
        """The person's team: the Slack profile field wins over a value set by hand."""
        return self.profile_team or self.manual_team


class Onboarding(Base):
    """One welcome of a newcomer to a community, with the mentor paired with them (if any)."""

    __tablename__ = "people_onboardings"
    __table_args__ = (
        ForeignKeyConstraint(
            ["team_id", "community_id"], ["communities.team_id", "communities.id"], ondelete="CASCADE"
        ),
        Index("ix_people_onboardings_newcomer", "community_id", "newcomer_id"),
        Index("ix_people_onboardings_checkin", "checkin_sent_at", "checkin_due_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32), index=True)
    community_id: Mapped[int] = mapped_column()
    newcomer_id: Mapped[str | None] = mapped_column(String(32))  # None once forgotten
    mentor_id: Mapped[str | None] = mapped_column(String(32))
    welcomed_at: Mapped[datetime] = mapped_column(default=now)
    checkin_due_at: Mapped[datetime] = mapped_column()
    checkin_sent_at: Mapped[datetime | None] = mapped_column()
    ended_at: Mapped[datetime | None] = mapped_column()


class QuestionStatus(StrEnum):
    """Where an anonymous question is."""

    DRAFT = "draft"  # shown matching reviews first; not posted yet
    OPEN = "open"
    CLOSED = "closed"
    DELETED = "deleted"
    DROPPED = "dropped"  # the asker stopped at the matching reviews


class Question(Base):
    """An anonymous question: its author is only a keyed hash, never an id."""

    __tablename__ = "people_questions"
    __table_args__ = (
        ForeignKeyConstraint(
            ["team_id", "community_id"], ["communities.team_id", "communities.id"], ondelete="CASCADE"
        ),
        Index("ix_people_questions_author", "team_id", "author_hash", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32), index=True)
    community_id: Mapped[int] = mapped_column()
    author_hash: Mapped[str | None] = mapped_column(String(64))  # HMAC-SHA256 hex; None once forgotten
    text: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default=QuestionStatus.OPEN)
    created_at: Mapped[datetime] = mapped_column(default=now)
    closed_at: Mapped[datetime | None] = mapped_column()
