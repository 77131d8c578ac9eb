"""What counts as a contribution, as SQL over the other features' tables (read-only)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import String, and_, func, literal_column, null, or_, select, union_all
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement, Subquery

from copbot.communities.models import Member
from copbot.people.models import Question, QuestionStatus
from copbot.recognition.models import Nomination
from copbot.reviews.models import Playbook, Review
from copbot.rituals.models import Attendance, Occurrence

HELD_STAGES = ("posted", "started", "done")  # an occurrence that took place (not excluded, not missed)
ASKED_STATUSES = (QuestionStatus.OPEN.value, QuestionStatus.CLOSED.value)


def _kind(name: str) -> ColumnElement[str]:
    # A literal in the SQL text, not a bound parameter: PostgreSQL cannot type parameters in a UNION.
    return literal_column(f"'{name}'", String(16))


def _window(column: Any, start: datetime, stop: datetime) -> ColumnElement[bool]:
    return and_(column >= start, column < stop)


def contributions(
    session: Session,
    *,
    team_id: str,
    community_id: int,
    start: datetime,
    stop: datetime,
    anonymous: bool = True,
    user_id: str | None = None,
) -> Subquery:
    """Rows (user_id, kind, at) of every contribution in [start, stop); questions have no user_id.

    With `user_id`, only that person's: the filter sits in every branch, so each reads the person's rows
    rather than the whole window's (App Home's "your part" at 1M records).
    """
    return contribution_rows(
        team_id=team_id,
        community_id=community_id,
        start=start,
        stop=stop,
        anonymous=anonymous,
        user_id=user_id,
    )


def contribution_rows(
    *,
    team_id: Any,
    community_id: Any,
    start: Any,
    stop: Any,
    anonymous: bool = True,
    user_id: Any = None,
) -> Subquery:
    """`contributions` of values or bound parameters (`bindparam`), for statements built once."""
    parts: list[tuple[Any, Any]] = [  # (the branch, its person column)
        (
            select(
                Review.author_id.label("user_id"),
                _kind("review").label("kind"),
                Review.created_at.label("at"),
            )
            .where(Review.team_id == team_id, Review.community_id == community_id)
            .where(_window(Review.created_at, start, stop)),
            Review.author_id,
        ),
        (
            select(Playbook.author_id, _kind("playbook"), Playbook.created_at)
            .where(Playbook.team_id == team_id, Playbook.community_id == community_id)
            .where(_window(Playbook.created_at, start, stop)),
            Playbook.author_id,
        ),
        (
            select(Nomination.nominator_id, _kind("nomination"), Nomination.created_at)
            .where(Nomination.team_id == team_id, Nomination.community_id == community_id)
            .where(Nomination.nominator_id.is_not(None), _window(Nomination.created_at, start, stop)),
            Nomination.nominator_id,
        ),
    ]
    if anonymous and user_id is None:
        parts.append(
            (
                select(null().cast(String(32)), _kind("question"), Question.created_at)
                .where(Question.team_id == team_id, Question.community_id == community_id)
                .where(Question.status.in_(ASKED_STATUSES), _window(Question.created_at, start, stop)),
                None,
            )
        )
    window = held(team_id=team_id, community_id=community_id, start=start, stop=stop)
    parts.append(
        (
            select(Occurrence.facilitator_id, _kind("facilitation"), Occurrence.starts_at)
            .where(*window)
            .where(Occurrence.facilitator_id.is_not(None)),
            Occurrence.facilitator_id,
        )
    )
    parts.append(
        (
            select(Attendance.user_id, _kind("attendance"), Occurrence.starts_at)
            .join(Occurrence, Occurrence.id == Attendance.occurrence_id)
            .where(*window)
            .where(Attendance.attended.is_(True)),
            Attendance.user_id,
        )
    )
    if user_id is not None:
        parts = [(part.where(person == user_id), person) for part, person in parts if person is not None]
    return union_all(*(part for part, _ in parts)).subquery("contribution")


def held(
    *,
    team_id: Any,
    community_id: Any,
    start: Any,
    stop: Any,
    sessions_only: bool = False,
) -> list[ColumnElement[bool]]:
    """Conditions on occurrences of a community that took place in [start, stop)."""
    occurrence = Occurrence
    conditions = [
        occurrence.team_id == team_id,
        occurrence.community_id == community_id,
        occurrence.stage.in_(HELD_STAGES),
        _window(occurrence.starts_at, start, stop),
    ]
    if sessions_only:
        conditions.append(occurrence.kind == "session")
    return conditions


def member_during(community_id: int, start: datetime, stop: datetime) -> list[ColumnElement[bool]]:
    """Conditions on members who belonged to the community at some point of [start, stop)."""
    return [
        Member.community_id == community_id,
        Member.joined_at < stop,
        or_(Member.left_at.is_(None), Member.left_at >= start),
    ]


def member_at(community_id: int, at: datetime) -> list[ColumnElement[bool]]:
    """Conditions on members who belong to the community at the instant `at`."""
    return [
        Member.community_id == community_id,
        Member.joined_at < at,
        or_(Member.left_at.is_(None), Member.left_at >= at),
    ]


def hours_between(session: Session, later: Any, earlier: Any) -> ColumnElement[Any]:
    """SQL for the hours from `earlier` to `later`, on either database."""
    if session.get_bind().dialect.name == "postgresql":
        return func.extract("epoch", later - earlier) / 3600.0
    return (func.julianday(later) - func.julianday(earlier)) * 24.0


def count_distinct(column: Any) -> ColumnElement[int]:
    """COUNT(DISTINCT column)."""
    return func.count(func.distinct(column))
