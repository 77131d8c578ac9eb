"""Tables of the rituals feature: schedules, occurrences, RSVPs, pulse answers, rotation, time off."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, ForeignKeyConstraint, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from copbot.clock import now
from copbot.db import Base

_COMMUNITY_FK = (["team_id", "community_id"], ["communities.team_id", "communities.id"])


def _community_fk() -> ForeignKeyConstraint:
    return ForeignKeyConstraint(*_COMMUNITY_FK, ondelete="CASCADE")


class ScheduleKind(StrEnum):
    """What a schedule produces: one cycle (kickoff, mid-point, finale) or recurring sessions."""

    CYCLE = "cycle"
    SESSIONS = "sessions"


class ScheduleStatus(StrEnum):
    """A schedule is a draft (previewable), live, or paused."""

    DRAFT = "draft"
    ACTIVE = "active"
    PAUSED = "paused"


class Frequency(StrEnum):
    """How often recurring sessions happen."""

    WEEKLY = "weekly"
    BIWEEKLY = "biweekly"
    MONTHLY = "monthly"


class OccurrenceKind(StrEnum):
    """What one occurrence posts."""

    SESSION = "session"
    KICKOFF = "kickoff"
    MIDPOINT = "midpoint"
    FINALE = "finale"


class Stage(StrEnum):
    """How far an occurrence has gone; each step is taken once (compare-and-set)."""

    PLANNED = "planned"
    POSTED = "posted"  # the channel post is owed to the outbox
    STARTED = "started"  # attendance opened / finale line-up posted
    DONE = "done"  # after-action prompt owed (sessions) or nothing left to do
    EXCLUDED = "excluded"  # fell on an exclusion date
    MISSED = "missed"  # found later than the grace period: skipped and logged


class RitualSchedule(Base):
    """A community's cycle or recurring sessions, defined in its time zone."""

    __tablename__ = "ritual_schedules"
    __table_args__ = (_community_fk(), UniqueConstraint("team_id", "id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32), index=True)
    community_id: Mapped[int] = mapped_column(index=True)
    kind: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default=ScheduleStatus.DRAFT)
    title: Mapped[str] = mapped_column(String(150))
    plan: Mapped[str] = mapped_column(Text, default="")  # cycle: what this cycle will try
    # cycle instants (UTC)
    kickoff_at: Mapped[datetime | None] = mapped_column()
    midpoint_at: Mapped[datetime | None] = mapped_column()
    finale_at: Mapped[datetime | None] = mapped_column()
    # recurring sessions, in the community's time zone
    frequency: Mapped[str | None] = mapped_column(String(16))
    first_date: Mapped[date | None] = mapped_column()
    local_time: Mapped[str | None] = mapped_column(String(5))  # HH:MM
    alt_local_time: Mapped[str | None] = mapped_column(String(5))  # every other session, HH:MM
    duration_minutes: Mapped[int] = mapped_column(default=60)
    remind_minutes: Mapped[int] = mapped_column(default=60)
    rotation_days: Mapped[int] = mapped_column(default=3)
    note_when_skipped: Mapped[bool] = mapped_column(default=True)
    active_since: Mapped[datetime | None] = mapped_column()
    paused_reason: Mapped[str | None] = mapped_column(String(200))
    created_by: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(default=now)
    updated_at: Mapped[datetime] = mapped_column(default=now, onupdate=now)


class Occurrence(Base):
    """One firing of a schedule at one instant; unique per (schedule, kind, instant)."""

    __tablename__ = "ritual_occurrences"
    __table_args__ = (
        UniqueConstraint("schedule_id", "kind", "starts_at"),
        _community_fk(),
        Index("ix_ritual_occurrences_due", "stage", "post_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32), index=True)
    community_id: Mapped[int] = mapped_column(index=True)
    schedule_id: Mapped[int] = mapped_column(ForeignKey("ritual_schedules.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    starts_at: Mapped[datetime] = mapped_column()
    ends_at: Mapped[datetime | None] = mapped_column()
    post_at: Mapped[datetime] = mapped_column()
    stage: Mapped[str] = mapped_column(String(16), default=Stage.PLANNED)
    facilitator_id: Mapped[str | None] = mapped_column(String(32))
    revision: Mapped[int] = mapped_column(default=0)  # bumps per in-place edit: unique outbox keys
    created_at: Mapped[datetime] = mapped_column(default=now)


class Response(StrEnum):
    """A member's RSVP to a session."""

    GOING = "going"
    CANT = "cant"
    ASYNC = "async"


class Attendance(Base):
    """A member's RSVP and presence for one occurrence; also a finale demo or kickoff sign-up."""

    __tablename__ = "ritual_attendance"
    __table_args__ = (UniqueConstraint("occurrence_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32), index=True)
    occurrence_id: Mapped[int] = mapped_column(ForeignKey("ritual_occurrences.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(String(32))
    rsvp: Mapped[str | None] = mapped_column(String(8))
    attended: Mapped[bool] = mapped_column(default=False)
    signed_up: Mapped[bool] = mapped_column(default=False)
    updated_at: Mapped[datetime] = mapped_column(default=now, onupdate=now)


class PulseAnswer(Base):
    """One anonymous 1-5 answer at a mid-point; the respondent is a keyed hash, never a user id."""

    __tablename__ = "ritual_pulse_answers"
    __table_args__ = (UniqueConstraint("occurrence_id", "question", "respondent"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32), index=True)
    occurrence_id: Mapped[int] = mapped_column(ForeignKey("ritual_occurrences.id", ondelete="CASCADE"))
    question: Mapped[str] = mapped_column(String(16))
    respondent: Mapped[str] = mapped_column(String(64))
    score: Mapped[int] = mapped_column()


class RotationMember(Base):
    """A facilitator's place in the community's rotation. Who facilitates is the facilitator role
    (see `rituals.facilitators.rotation`); a place outlives a pause, so a returning facilitator keeps it."""

    __tablename__ = "ritual_rotation"
    __table_args__ = (UniqueConstraint("community_id", "user_id"), _community_fk())

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32), index=True)
    community_id: Mapped[int] = mapped_column()
    user_id: Mapped[str] = mapped_column(String(32))
    position: Mapped[int] = mapped_column()


class AskStatus(StrEnum):
    """Where a facilitator request is."""

    ASKED = "asked"
    ACCEPTED = "accepted"
    SWAPPED = "swapped"
    SKIPPED = "skipped"
    WITHDRAWN = "withdrawn"  # someone else took the session


class FacilitatorAsk(Base):
    """A DM asking one member to facilitate one session; unique per (occurrence, member)."""

    __tablename__ = "ritual_facilitator_asks"
    __table_args__ = (UniqueConstraint("occurrence_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32), index=True)
    occurrence_id: Mapped[int] = mapped_column(ForeignKey("ritual_occurrences.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default=AskStatus.ASKED)
    asked_at: Mapped[datetime] = mapped_column()
    respond_by: Mapped[datetime] = mapped_column()
    reminded_at: Mapped[datetime | None] = mapped_column()
    escalated_at: Mapped[datetime | None] = mapped_column()
    answered_at: Mapped[datetime | None] = mapped_column()


class Exclusion(Base):
    """Dates (in the community's time zone) on which no session happens: holidays, blackouts."""

    __tablename__ = "ritual_exclusions"
    __table_args__ = (_community_fk(),)

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32), index=True)
    community_id: Mapped[int] = mapped_column(index=True)
    first_day: Mapped[date] = mapped_column()
    last_day: Mapped[date] = mapped_column()
    reason: Mapped[str] = mapped_column(String(200), default="")
    created_by: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(default=now)


class AwayPeriod(Base):
    """A member away from FROM to TO (inclusive, their workspace): the rotation passes them by."""

    __tablename__ = "ritual_away"

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32), index=True)
    user_id: Mapped[str] = mapped_column(String(32), index=True)
    first_day: Mapped[date] = mapped_column()
    last_day: Mapped[date] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=now)
