"""Tables of after-action reviews, their lessons, playbooks, adoption and per-community settings.

The full-text index (`review_search_fts`) is not a model: the migration creates it per dialect (FTS5 on
SQLite, a tsvector table with a GIN index on PostgreSQL) and triggers keep it in step with `reviews`
and `playbooks`, so every insert, edit and delete, cascades included, reaches it.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, ForeignKeyConstraint, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from copbot.clock import now
from copbot.db import Base


def _community_fk() -> ForeignKeyConstraint:
    return ForeignKeyConstraint(
        ["team_id", "community_id"], ["communities.team_id", "communities.id"], ondelete="CASCADE"
    )


class Template(StrEnum):
    """The kinds of review the modal offers."""

    POSTMORTEM = "postmortem"
    AFTER_ACTION = "after_action"
    CASE_STUDY = "case_study"

    @property
    def label(self) -> str:
        """The template's name as people read it."""
        return {
            "postmortem": "Postmortem",
            "after_action": "After-action review",
            "case_study": "Case study",
        }[self.value]


class LessonStatus(StrEnum):
    """Where a lesson stands: kept true (verified), past its re-verification date (stale), or retired."""

    VERIFIED = "verified"
    STALE = "stale"
    RETIRED = "retired"


class Review(Base):
    """An after-action review / postmortem of one community."""

    __tablename__ = "reviews"
    __table_args__ = (_community_fk(),)

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32), index=True)
    community_id: Mapped[int] = mapped_column(index=True)
    author_id: Mapped[str] = mapped_column(String(32))
    template: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(150))
    context: Mapped[str] = mapped_column(Text)
    expected: Mapped[str] = mapped_column(Text, default="")
    happened: Mapped[str] = mapped_column(Text)
    went_well: Mapped[str] = mapped_column(Text, default="")
    to_change: Mapped[str] = mapped_column(Text, default="")
    decisions: Mapped[str] = mapped_column(Text, default="")
    action_owners: Mapped[list[str]] = mapped_column(JSON, default=list)
    coauthors: Mapped[list[str]] = mapped_column(JSON, default=list)
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    links: Mapped[list[str]] = mapped_column(JSON, default=list)
    related_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    # The lessons' text, kept here too so the search triggers index it with the review.
    lessons_text: Mapped[str] = mapped_column(Text, default="")
    # A ritual session this review is about; no FK: occurrences live in another migration branch.
    occurrence_id: Mapped[int | None] = mapped_column(
        ForeignKey("ritual_occurrences.id", ondelete="SET NULL"), index=True
    )
    revision: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(default=now)
    updated_at: Mapped[datetime] = mapped_column(default=now, onupdate=now)

    lessons: Mapped[list[Lesson]] = relationship(
        back_populates="review", cascade="all, delete-orphan", order_by="Lesson.position", lazy="selectin"
    )

    @property
    def kind(self) -> Template:
        """The review's template."""
        return Template(self.template)


class Lesson(Base):
    """One lesson of a review, with an owner who re-verifies it when it falls due."""

    __tablename__ = "review_lessons"
    __table_args__ = (Index("ix_review_lessons_due", "status", "verify_due_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32), index=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("reviews.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    text: Mapped[str] = mapped_column(Text)
    owner_id: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default=LessonStatus.VERIFIED)
    verified_at: Mapped[datetime] = mapped_column(default=now)
    verify_due_at: Mapped[datetime] = mapped_column()
    # The due date the owner was last asked about: one DM per due date, never more.
    reminded_for: Mapped[datetime | None] = mapped_column()

    review: Mapped[Review] = relationship(back_populates="lessons")

    def status_at(self, at: datetime) -> LessonStatus:
        """Verified, stale (past its re-verification date) or retired, as of `at`."""
        if self.status == LessonStatus.RETIRED:
            return LessonStatus.RETIRED
        return LessonStatus.STALE if self.verify_due_at <= at else LessonStatus.VERIFIED


class Playbook(Base):
    """A repeatable practice or checklist, often promoted from a review's lessons."""

    __tablename__ = "playbooks"
    __table_args__ = (_community_fk(),)

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32), index=True)
    community_id: Mapped[int] = mapped_column(index=True)
    author_id: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(150))
    when_to_use: Mapped[str] = mapped_column(Text)
    steps: Mapped[str] = mapped_column(Text)
    source_review_id: Mapped[int | None] = mapped_column(ForeignKey("reviews.id", ondelete="SET NULL"))
    # Set when the adopters' check-ins say nobody still uses it (see `checkins`): for a lead to revisit.
    unused_since: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=now)
    updated_at: Mapped[datetime] = mapped_column(default=now, onupdate=now)


class Adoption(Base):
    """A member saying "we applied this" about a review or a playbook: once per member and item.

    `source_community_id` is the item's community; `adopter_community_id` the community that applied it
    (the same one for a local adoption). An adoption across communities is "exported" for the source and
    "imported" for the adopter's.
    """

    __tablename__ = "review_adoptions"
    __table_args__ = (
        UniqueConstraint("team_id", "item_kind", "item_id", "user_id"),
        Index("ix_review_adoptions_source", "team_id", "source_community_id"),
        Index("ix_review_adoptions_adopter", "team_id", "adopter_community_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32), index=True)
    item_kind: Mapped[str] = mapped_column(String(16))
    item_id: Mapped[int] = mapped_column()
    user_id: Mapped[str] = mapped_column(String(32))
    source_community_id: Mapped[int | None] = mapped_column()
    adopter_community_id: Mapped[int | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=now)

    @property
    def crossed(self) -> bool:
        """Whether another community applied it (an export for the source, an import for the adopter)."""
        return self.adopter_community_id is not None and self.adopter_community_id != self.source_community_id


class ReviewOrigin(Base):
    """The recognition a review was turned from ("Turn this into a lesson"): the review links back to it.

    Its own table, so `reviews` (rebuilt on SQLite for any new foreign key) keeps its shape.
    """

    __tablename__ = "review_origins"

    review_id: Mapped[int] = mapped_column(ForeignKey("reviews.id", ondelete="CASCADE"), primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32), index=True)
    nomination_id: Mapped[int] = mapped_column(ForeignKey("nominations.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=now)


class CheckinAnswer(StrEnum):
    """An adopter's answer, some days after "We applied this": still doing it and it helps, it did not
    help, or they stopped."""

    YES = "yes"
    NO = "no"
    STOPPED = "stopped"


class AdoptionCheckin(Base):
    """One "does it stick?" DM to an adopter, per adoption and stage (30 or 90 days): the unique key
    makes it once-only whatever runs the job; the answer is the retention metric's data."""

    __tablename__ = "review_adoption_checkins"
    __table_args__ = (UniqueConstraint("adoption_id", "stage"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32), index=True)
    adoption_id: Mapped[int] = mapped_column(
        ForeignKey("review_adoptions.id", ondelete="CASCADE"), index=True
    )
    stage: Mapped[int] = mapped_column()  # days after the adoption
    answer: Mapped[str | None] = mapped_column(String(16))
    answered_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=now)


class ReviewSettings(Base):
    """A community's settings for reviews; absent means the defaults."""

    __tablename__ = "review_settings"
    __table_args__ = (_community_fk(),)

    team_id: Mapped[str] = mapped_column(String(32), primary_key=True, index=True)
    community_id: Mapped[int] = mapped_column(primary_key=True)
    capture_emoji: Mapped[str] = mapped_column(String(100), default="bulb")
    reverify_days: Mapped[int] = mapped_column(default=90)
    reminder_hours: Mapped[int] = mapped_column(default=24)


class ReviewClaim(Base):
    """A one-time thing done (a reaction DM, a session reminder): its unique key makes it happen once."""

    __tablename__ = "review_claims"
    __table_args__ = (UniqueConstraint("team_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32), index=True)
    key: Mapped[str] = mapped_column(String(200))
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=now)
