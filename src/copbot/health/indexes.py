"""Covering indexes the health metrics need on other features' tables (created by health's own migration).

Every metric filters a contribution table by (team_id, community_id, created_at) and reads one person
column: with that person in the index, a window's rows are read from the index alone (no row look-ups of
the wide review rows). Declared here, attached to those tables, so `alembic check` sees them without
editing the other features' models. Measured in BENCHMARKS.md, health.
"""

from __future__ import annotations

from sqlalchemy import Index

from copbot.communities.models import Member
from copbot.people.models import Question
from copbot.recognition.models import Nomination
from copbot.reviews.models import Playbook, Review
from copbot.rituals.models import Attendance

_reviews, _playbooks = Review.__table__.c, Playbook.__table__.c
_nominations, _questions = Nomination.__table__.c, Question.__table__.c
_attendance = Attendance.__table__.c
_members = Member.__table__.c

INDEXES = (
    # occurrence_id too: the review lag (reviews of sessions) is read from the index as well.
    Index(
        "ix_health_reviews_window",
        _reviews.team_id,
        _reviews.community_id,
        _reviews.created_at,
        _reviews.author_id,
        _reviews.occurrence_id,
    ),
    Index(
        "ix_health_playbooks_window",
        _playbooks.team_id,
        _playbooks.community_id,
        _playbooks.created_at,
        _playbooks.author_id,
    ),
    Index(
        "ix_health_nominations_window",
        _nominations.team_id,
        _nominations.community_id,
        _nominations.created_at,
        _nominations.nominator_id,
    ),
    Index(
        "ix_health_questions_window",
        _questions.team_id,
        _questions.community_id,
        _questions.created_at,
        _questions.status,
    ),
    # Who attended a session, without reading the attendance rows.
    Index(
        "ix_health_attendance_attended",
        _attendance.occurrence_id,
        _attendance.attended,
        _attendance.user_id,
    ),
    # App Home's own part at 100k members: a person's memberships and the nominations they gave, found
    # by (workspace, person) instead of walking the workspace's whole members or nominations index.
    Index("ix_health_members_person", _members.team_id, _members.user_id),
    # App Home's "your part": one person's contributions in a window, found by a seek rather than by
    # reading the whole window (1M records: the window of a quarter holds tens of thousands of rows).
    Index(
        "ix_health_reviews_person",
        _reviews.team_id,
        _reviews.community_id,
        _reviews.author_id,
        _reviews.created_at,
    ),
    Index(
        "ix_health_playbooks_person",
        _playbooks.team_id,
        _playbooks.community_id,
        _playbooks.author_id,
        _playbooks.created_at,
    ),
    Index(
        "ix_health_nominations_person",
        _nominations.team_id,
        _nominations.community_id,
        _nominations.nominator_id,
        _nominations.created_at,
    ),
    Index(
        "ix_health_nominations_giver",
        _nominations.team_id,
        _nominations.nominator_id,
        _nominations.created_at,
    ),
)
