"""Tables of peer recognition: settings, nominations, weekly quotas, known user facts, digests sent."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from copbot.clock import now
from copbot.db import Base

DEFAULT_VALUES = ("Curiosity", "Generosity", "Sharing knowledge", "Mentoring", "Courage", "Craft")
DEFAULT_STORY_MIN = 40
DEFAULT_WEEKLY_LIMIT = 5
DEFAULT_DIGEST_WEEKDAY = 0  # Monday, as datetime.weekday() counts
DEFAULT_DIGEST_TIME = "09:00"


class RecognitionSettings(Base):
    """A community's recognition settings; a community without a row uses the defaults."""

    __tablename__ = "recognition_settings"
    __table_args__ = (
        ForeignKeyConstraint(
            ["team_id", "community_id"], ["communities.team_id", "communities.id"], ondelete="CASCADE"
        ),
    )

    community_id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32), index=True)
    values: Mapped[list[str]] = mapped_column(JSON)
    story_min: Mapped[int] = mapped_column(default=DEFAULT_STORY_MIN)
    weekly_limit: Mapped[int] = mapped_column(default=DEFAULT_WEEKLY_LIMIT)
    hold_for_digest: Mapped[bool] = mapped_column(Boolean, default=False)
    digest_enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    digest_weekday: Mapped[int] = mapped_column(default=DEFAULT_DIGEST_WEEKDAY)
    digest_time: Mapped[str] = mapped_column(String(5), default=DEFAULT_DIGEST_TIME)
    updated_at: Mapped[datetime] = mapped_column(default=now, onupdate=now)


class Nomination(Base):
    """One peer recognition: who recognised whom, for which value, what they did and what it changed."""

    __tablename__ = "nominations"
    __table_args__ = (
        ForeignKeyConstraint(
            ["team_id", "community_id"], ["communities.team_id", "communities.id"], ondelete="CASCADE"
        ),
        Index("ix_nominations_week", "community_id", "created_at"),
        Index("ix_nominations_nominator", "community_id", "nominator_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32), index=True)
    community_id: Mapped[int] = mapped_column()
    nominator_id: Mapped[str | None] = mapped_column(String(32))  # None once the nominator is forgotten
    value: Mapped[str] = mapped_column(String(80))
    action: Mapped[str] = mapped_column(Text)
    impact: Mapped[str] = mapped_column(Text)
    public: Mapped[bool] = mapped_column(Boolean)
    permalink: Mapped[str | None] = mapped_column(String(500))
    subject: Mapped[str | None] = mapped_column(String(40))  # "review:12" or "playbook:3" (Thank the author)
    posted: Mapped[bool] = mapped_column(Boolean, default=False)  # posted in the channel at once
    created_at: Mapped[datetime] = mapped_column(default=now)

    nominees: Mapped[list[Nominee]] = relationship(
        back_populates="nomination", cascade="all, delete-orphan", order_by="Nominee.id"
    )

    @property
    def nominee_ids(self) -> list[str]:
        """The recognised users' ids, in the order they were named."""
        return [n.user_id for n in self.nominees]


class Nominee(Base):
    """One person recognised by a nomination."""

    __tablename__ = "nomination_nominees"
    __table_args__ = (
        UniqueConstraint("nomination_id", "user_id"),
        Index("ix_nomination_nominees_user", "team_id", "user_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32), index=True)
    nomination_id: Mapped[int] = mapped_column(ForeignKey("nominations.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(String(32))

    nomination: Mapped[Nomination] = relationship(back_populates="nominees")


class NominationReaction(Base):
    """One emoji someone put on a nomination's channel post: whoever has one co-signs the nomination."""

    __tablename__ = "nomination_reactions"
    __table_args__ = (UniqueConstraint("nomination_id", "user_id", "emoji"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32), index=True)
    nomination_id: Mapped[int] = mapped_column(ForeignKey("nominations.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[str] = mapped_column(String(32))
    emoji: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=now)


class NominationQuota(Base):
    """How many nominations a person has made in a community in one week: the race-free weekly limit.

    A submission takes a slot with one conditional UPDATE (`used = used + 1 WHERE used < limit`), which
    PostgreSQL serialises on the row and SQLite on its single writer, so no race lets one more through.
    """

    __tablename__ = "nomination_quotas"
    __table_args__ = (
        UniqueConstraint("community_id", "nominator_id", "week_start"),
        ForeignKeyConstraint(
            ["team_id", "community_id"], ["communities.team_id", "communities.id"], ondelete="CASCADE"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32), index=True)
    community_id: Mapped[int] = mapped_column()
    nominator_id: Mapped[str] = mapped_column(String(32))
    week_start: Mapped[date] = mapped_column(Date)
    used: Mapped[int] = mapped_column(default=0)


class UserFact(Base):
    """What `users.info` last said about a user: enough to refuse bots and deleted users in an ack."""

    __tablename__ = "recognition_user_facts"
    __table_args__ = (UniqueConstraint("team_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32), index=True)
    user_id: Mapped[str] = mapped_column(String(32))
    is_bot: Mapped[bool] = mapped_column(Boolean, default=False)
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    fetched_at: Mapped[datetime] = mapped_column(default=now)


class Digest(Base):
    """One weekly digest of a community, claimed before it is queued: one per community per week."""

    __tablename__ = "recognition_digests"
    __table_args__ = (
        UniqueConstraint("community_id", "week_of"),
        ForeignKeyConstraint(
            ["team_id", "community_id"], ["communities.team_id", "communities.id"], ondelete="CASCADE"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32), index=True)
    community_id: Mapped[int] = mapped_column()
    week_of: Mapped[date] = mapped_column(Date)  # the local Monday of the digest's week
    due_at: Mapped[datetime] = mapped_column()
    nominations: Mapped[int] = mapped_column(default=0)
    quiet: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=now)
