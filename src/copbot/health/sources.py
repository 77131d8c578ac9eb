"""What counts as a contribution, as SQL over the other features' tables (read-only)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import String, Table, and_, func, literal_column, null, or_, select, union_all
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement, Subquery

from copbot.communities.models import Member
from copbot.people.models import Question, QuestionStatus
from copbot.recognition.models import Nomination
from copbot.reviews.models import Playbook, Review
from copbot.rituals.models import Attendance, Occurrence

HELD_STAGES = ("posted", "started", "done")  # an occurrence that took place (not excluded, not missed)
ASKED_STATUSES = (QuestionStatus.OPEN.value, QuestionStatus.CLOSED.value)

# Core columns: App Home runs these on every open, and a Core statement skips the ORM's execution work.
_OCCURRENCES_TABLE = cast(Table, Occurrence.__table__)
_OCCURRENCES = _OCCURRENCES_TABLE.c
_REVIEWS, _PLAYBOOKS = cast(Table, Review.__table__).c, cast(Table, Playbook.__table__).c
_NOMINATIONS, _QUESTIONS = cast(Table, Nomination.__table__).c, cast(Table, Question.__table__).c
_ATTENDANCE = cast(Table, Attendance.__table__).c


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
                _REVIEWS.author_id.label("user_id"),
                _kind("review").label("kind"),
                _REVIEWS.created_at.label("at"),
            )
            .where(_REVIEWS.team_id == team_id, _REVIEWS.community_id == community_id)
            .where(_window(_REVIEWS.created_at, start, stop)),
            _REVIEWS.author_id,
        ),
        (
            select(_PLAYBOOKS.author_id, _kind("playbook"), _PLAYBOOKS.created_at)
            .where(_PLAYBOOKS.team_id == team_id, _PLAYBOOKS.community_id == community_id)
            .where(_window(_PLAYBOOKS.created_at, start, stop)),
            _PLAYBOOKS.author_id,
        ),
        (
            select(_NOMINATIONS.nominator_id, _kind("nomination"), _NOMINATIONS.created_at)
            .where(_NOMINATIONS.team_id == team_id, _NOMINATIONS.community_id == community_id)
            .where(_NOMINATIONS.nominator_id.is_not(None), _window(_NOMINATIONS.created_at, start, stop)),
            _NOMINATIONS.nominator_id,
        ),
    ]
    if anonymous and user_id is None:
        parts.append(
            (
                select(null().cast(String(32)), _kind("question"), _QUESTIONS.created_at)
                .where(_QUESTIONS.team_id == team_id, _QUESTIONS.community_id == community_id)
                .where(_QUESTIONS.status.in_(ASKED_STATUSES), _window(_QUESTIONS.created_at, start, stop)),
                None,
            )
        )
    window = held(team_id=team_id, community_id=community_id, start=start, stop=stop)
    parts.append(
        (
            select(_OCCURRENCES.facilitator_id, _kind("facilitation"), _OCCURRENCES.starts_at)
            .where(*window)
            .where(_OCCURRENCES.facilitator_id.is_not(None)),
            _OCCURRENCES.facilitator_id,
        )
    )
    parts.append(
        (
            select(_ATTENDANCE.user_id, _kind("attendance"), _OCCURRENCES.starts_at)
            .join(_OCCURRENCES_TABLE, _OCCURRENCES.id == _ATTENDANCE.occurrence_id)
            .where(*window)
            .where(_ATTENDANCE.attended.is_(True)),
            _ATTENDANCE.user_id,
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
    occurrence = _OCCURRENCES
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
