"""Digest parts read from reviews and rituals: new items, review milestones, lesson of the week, rituals."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from copbot.recognition import digest
from copbot.recognition.models import Nomination, Nominee
from copbot.reviews.models import Adoption, Playbook, Review
from tests.unit.recognition.test_recognition_service import make_community

END = datetime(2026, 3, 9, 8, 0, tzinfo=UTC)


def _review(community_id: int, at: datetime, author: str = "U2", title: str = "Pager storm") -> Review:
    return Review(
        team_id="T1",
        community_id=community_id,
        author_id=author,
        template="postmortem",
        title=title,
        context="c",
        happened="h",
        created_at=at,
    )


def test_new_reviews_playbooks_and_review_milestones(session: Session) -> None:
    community = make_community(session)
    old = END - timedelta(days=30)
    session.add_all([_review(community.id, old + timedelta(minutes=i), author="U2") for i in range(9)])
    session.add(_review(community.id, END - timedelta(days=2), author="U2", title="Tenth & <b>"))
    session.add(_review(community.id, END - timedelta(days=1), author="U5", title="Eleventh"))
    session.add(
        Playbook(
            team_id="T1",
            community_id=community.id,
            author_id="U3",
            title="Rollback drill",
            when_to_use="w",
            steps="s",
            created_at=END - timedelta(days=1),
        )
    )
    session.commit()
    data = digest.gather(session, community=community, end=END)
    library = next(s for s in data.sections if s.title == "New in the library")
    assert library.lines == [
        ":memo: *Tenth &amp; &lt;b&gt;* by <@U2>",
        ":memo: *Eleventh* by <@U5>",
        ":clipboard: Playbook *Rollback drill* by <@U3>",
    ]
    assert ":trophy: The community's 10th review: *Tenth &amp; &lt;b&gt;*" in data.milestones
    assert ":seedling: <@U5> made their first contribution: a review" in data.milestones
    assert ":seedling: <@U3> made their first contribution: a playbook" in data.milestones
    assert not any("<@U2> made their first" in m for m in data.milestones)
    assert "New in the library" in json.dumps(digest.digest_message(data))


def test_lesson_of_the_week_counts_applied_and_thanked(session: Session) -> None:
    community = make_community(session)
    applied = _review(community.id, END - timedelta(days=20), title="Applied a lot")
    thanked = _review(community.id, END - timedelta(days=20), author="U3", title="Thanked a lot")
    session.add_all([applied, thanked])
    session.flush()
    session.add_all(
        [
            Adoption(
                team_id="T1",
                item_kind="review",
                item_id=applied.id,
                user_id=f"U{i}",
                created_at=END - timedelta(days=1),
            )
            for i in range(2)
        ]
    )
    for i in range(3):
        session.add(
            Nomination(
                team_id="T1",
                community_id=community.id,
                nominator_id=f"U{10 + i}",
                value="Sharing knowledge",
                action="a",
                impact="b",
                public=True,
                posted=True,
                subject=f"review:{thanked.id}",
                created_at=END - timedelta(days=1),
                nominees=[Nominee(team_id="T1", user_id="U3")],
            )
        )
    session.commit()
    data = digest.gather(session, community=community, end=END)
    (lesson,) = [s for s in data.sections if s.title == "Lesson of the week"]
    assert lesson.lines == [":bulb: *Thanked a lot* by <@U3>: thanked 3 times"]


def test_next_rituals_and_first_facilitation(session: Session) -> None:
    rituals = pytest.importorskip("copbot.rituals.models")
    community = make_community(session)
    schedule = rituals.RitualSchedule(
        team_id="T1", community_id=community.id, kind="sessions", title="Weekly show & tell", created_by="U1"
    )
    session.add(schedule)
    session.flush()

    def occurrence(at: datetime, facilitator: str | None, stage: str) -> object:
        return rituals.Occurrence(
            team_id="T1",
            community_id=community.id,
            schedule_id=schedule.id,
            kind="session",
            starts_at=at,
            post_at=at - timedelta(hours=1),
            stage=stage,
            facilitator_id=facilitator,
        )

    session.add_all(
        [
            occurrence(END - timedelta(days=14), "U2", rituals.Stage.DONE),
            occurrence(END - timedelta(days=3), "U2", rituals.Stage.DONE),
            occurrence(END - timedelta(days=2), "U4", rituals.Stage.DONE),
            occurrence(END + timedelta(days=1), "U5", rituals.Stage.PLANNED),
            occurrence(END + timedelta(days=2), None, rituals.Stage.EXCLUDED),
        ]
    )
    session.commit()
    data = digest.gather(session, community=community, end=END)
    # U4's first contribution was facilitating: one milestone says it, not two.
    assert [m for m in data.milestones if "<@U4>" in m] == [
        ":seedling: <@U4> made their first contribution: facilitating a session"
    ]
    assert not any("<@U2> facilitated" in m for m in data.milestones)
    (coming,) = data.after
    assert len(coming.lines) == 1 and "*Weekly show &amp; tell* (session)" in coming.lines[0]
    assert "facilitated by <@U5>" in coming.lines[0]


def _nomination(community_id: int, at: datetime, nominator: str | None) -> Nomination:
    return Nomination(
        team_id="T1",
        community_id=community_id,
        nominator_id=nominator,
        value="Mentoring",
        action="a",
        impact="b",
        public=True,
        posted=True,
        created_at=at,
        nominees=[Nominee(team_id="T1", user_id="U1")],
    )


def test_first_contribution_of_any_kind(session: Session) -> None:
    community = make_community(session)
    other = make_community(session, channel_id="C2")
    week, before = END - timedelta(days=2), END - timedelta(days=20)
    session.add_all(
        [
            _nomination(community.id, week, "U2"),  # first ever: a recognition
            _review(community.id, before, author="U3"),  # U3 reviewed before, recognises now: not first
            _nomination(community.id, week, "U3"),
            _nomination(other.id, before, "U4"),  # another community's history does not count
            _review(community.id, week + timedelta(hours=1), author="U4"),
            _nomination(community.id, week + timedelta(hours=2), "U4"),  # the earliest kind is named
            _nomination(community.id, week, None),  # a forgotten nominator is no one
            _nomination(community.id, END, "U6"),  # the week ends before the digest's instant
            Playbook(
                team_id="T1",
                community_id=community.id,
                author_id="U5",
                title="Rollback drill",
                when_to_use="w",
                steps="s",
                created_at=before,
            ),
            _nomination(community.id, week, "U5"),
        ]
    )
    session.commit()
    data = digest.gather(session, community=community, end=END)
    firsts = [m for m in data.milestones if "first contribution" in m]
    assert firsts == [
        ":seedling: <@U2> made their first contribution: a recognition",
        ":seedling: <@U4> made their first contribution: a review",
    ]


def test_first_contribution_counts_sessions_attended_and_facilitated(session: Session) -> None:
    rituals = pytest.importorskip("copbot.rituals.models")
    community = make_community(session)
    schedule = rituals.RitualSchedule(
        team_id="T1", community_id=community.id, kind="sessions", title="Show & tell", created_by="U1"
    )
    session.add(schedule)
    session.flush()

    def occurrence(at: datetime, facilitator: str | None, stage: str) -> object:
        item = rituals.Occurrence(
            team_id="T1",
            community_id=community.id,
            schedule_id=schedule.id,
            kind="session",
            starts_at=at,
            post_at=at - timedelta(hours=1),
            stage=stage,
            facilitator_id=facilitator,
        )
        session.add(item)
        session.flush()
        return item

    earlier = occurrence(END - timedelta(days=14), "U2", rituals.Stage.DONE)
    this_week = occurrence(END - timedelta(days=2), "U3", rituals.Stage.DONE)
    missed = occurrence(END - timedelta(days=3), "U9", rituals.Stage.MISSED)  # never held
    session.add_all(
        [
            rituals.Attendance(team_id="T1", occurrence_id=earlier.id, user_id="U4", attended=True),
            rituals.Attendance(team_id="T1", occurrence_id=this_week.id, user_id="U4", attended=True),
            rituals.Attendance(team_id="T1", occurrence_id=this_week.id, user_id="U5", attended=True),
            rituals.Attendance(team_id="T1", occurrence_id=this_week.id, user_id="U6", rsvp="going"),
            rituals.Attendance(team_id="T1", occurrence_id=missed.id, user_id="U7", attended=True),
        ]
    )
    session.commit()
    data = digest.gather(session, community=community, end=END)
    firsts = [m for m in data.milestones if "first contribution" in m]
    assert firsts == [
        ":seedling: <@U3> made their first contribution: facilitating a session",
        ":seedling: <@U5> made their first contribution: attending a session",
    ]
    assert not any("facilitated for the first time" in m for m in data.milestones)  # said once, above
