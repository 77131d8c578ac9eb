"""A hand-built community whose health metrics are known (see EXPECTED), and small row builders."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import event
from sqlalchemy.orm import Session

from copbot.communities.models import Community, Member, MemberRole, Role, Workspace
from copbot.people.models import Onboarding, Question
from copbot.recognition.models import Nomination, Nominee
from copbot.reviews.models import Adoption, Playbook, Review
from copbot.rituals.models import Attendance, Occurrence, PulseAnswer, RitualSchedule

TEAM = "T1"
AT = datetime(2026, 3, 20, 12, 0, tzinfo=UTC)  # a Friday; month window [1 Mar, 20 Mar 12:00)


class Statements:
    """Counts (and keeps) the SQL statements a block runs, with a `before_cursor_execute` listener."""

    def __init__(self, session: Session):
        self.statements: list[str] = []
        self._engine = session.get_bind()

    @property
    def count(self) -> int:
        return len(self.statements)

    def __enter__(self) -> Statements:
        event.listen(self._engine, "before_cursor_execute", self._seen)
        return self

    def __exit__(self, *exc: object) -> None:
        event.remove(self._engine, "before_cursor_execute", self._seen)

    def _seen(self, _connection: object, _cursor: object, statement: str, *args: object) -> None:
        self.statements.append(statement)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def community(
    session: Session, *, channel_id: str = "C1", name: str = "Guild", zone: str = "UTC"
) -> Community:
    if session.get(Workspace, TEAM) is None:
        session.add(Workspace(team_id=TEAM))
        session.flush()
    found = Community(
        team_id=TEAM,
        channel_id=channel_id,
        name=name,
        purpose="Learn together.",
        timezone=zone,
        created_by="U1",
        created_at=utc(2025, 1, 1),
    )
    session.add(found)
    session.flush()
    return found


def member(
    session: Session,
    c: Community,
    user_id: str,
    *,
    joined: datetime,
    department: str | None = None,
    left: datetime | None = None,
    roles: tuple[Role, ...] = (),
) -> Member:
    row = Member(
        team_id=TEAM,
        community_id=c.id,
        user_id=user_id,
        department=department,
        joined_at=joined,
        left_at=left,
    )
    row.roles = [MemberRole(team_id=TEAM, role=r.value, granted_at=joined) for r in roles]
    session.add(row)
    session.flush()
    return row


def review(
    session: Session, c: Community, author: str, at: datetime, occurrence_id: int | None = None
) -> Review:
    row = Review(
        team_id=TEAM,
        community_id=c.id,
        author_id=author,
        template="after_action",
        title=f"Review by {author}",
        context="ctx",
        happened="it happened",
        occurrence_id=occurrence_id,
        created_at=at,
        updated_at=at,
    )
    session.add(row)
    session.flush()
    return row


def playbook(session: Session, c: Community, author: str, at: datetime) -> Playbook:
    row = Playbook(
        team_id=TEAM,
        community_id=c.id,
        author_id=author,
        title="Checklist",
        when_to_use="always",
        steps="1. do",
        created_at=at,
        updated_at=at,
    )
    session.add(row)
    session.flush()
    return row


def nominate(session: Session, c: Community, giver: str, receivers: list[str], at: datetime) -> Nomination:
    row = Nomination(
        team_id=TEAM,
        community_id=c.id,
        nominator_id=giver,
        value="Craft",
        action="Ran the incident review with care",
        impact="We fixed the alerting",
        public=True,
        created_at=at,
    )
    row.nominees = [Nominee(team_id=TEAM, user_id=u) for u in receivers]
    session.add(row)
    session.flush()
    return row


def adopt(session: Session, kind: str, item_id: int, user_id: str, at: datetime) -> None:
    session.add(Adoption(team_id=TEAM, item_kind=kind, item_id=item_id, user_id=user_id, created_at=at))
    session.flush()


def question(session: Session, c: Community, at: datetime, status: str = "open") -> None:
    session.add(
        Question(
            team_id=TEAM, community_id=c.id, author_hash="h" * 64, text="Why?", status=status, created_at=at
        )
    )
    session.flush()


def schedule(session: Session, c: Community) -> RitualSchedule:
    row = RitualSchedule(
        team_id=TEAM, community_id=c.id, kind="sessions", status="active", title="Weekly", created_by="U1"
    )
    session.add(row)
    session.flush()
    return row


def occurrence(
    session: Session,
    c: Community,
    s: RitualSchedule,
    starts: datetime,
    *,
    kind: str = "session",
    stage: str = "done",
    facilitator: str | None = None,
) -> Occurrence:
    row = Occurrence(
        team_id=TEAM,
        community_id=c.id,
        schedule_id=s.id,
        kind=kind,
        starts_at=starts,
        post_at=starts,
        stage=stage,
        facilitator_id=facilitator,
    )
    session.add(row)
    session.flush()
    return row


def attend(session: Session, o: Occurrence, user_id: str, *, attended: bool = True) -> None:
    session.add(
        Attendance(team_id=TEAM, occurrence_id=o.id, user_id=user_id, rsvp="going", attended=attended)
    )
    session.flush()


def pulse(session: Session, o: Occurrence, question_name: str, scores: list[int]) -> None:
    for i, score in enumerate(scores):
        session.add(
            PulseAnswer(
                team_id=TEAM, occurrence_id=o.id, question=question_name, respondent=f"r{i}", score=score
            )
        )
    session.flush()


def build(session: Session) -> Community:
    """The hand-built data set; its metrics for March 2026 up to AT are EXPECTED."""
    c = community(session)
    jan = utc(2026, 1, 5)
    member(session, c, "U1", joined=jan, department="Eng", roles=(Role.LEAD,))
    member(session, c, "U2", joined=jan, department="Eng")
    member(session, c, "U3", joined=jan, department="Ops")
    member(session, c, "U4", joined=utc(2026, 3, 5), department="Ops", roles=(Role.NEWCOMER,))
    member(session, c, "U5", joined=jan, department="Sales")
    member(session, c, "U6", joined=jan, left=utc(2026, 2, 1))  # gone before March
    member(session, c, "U7", joined=utc(2026, 3, 25), department="Ops")  # joins after AT
    session.add(
        Onboarding(
            team_id=TEAM,
            community_id=c.id,
            newcomer_id="U4",
            mentor_id="U3",
            welcomed_at=utc(2026, 3, 5),
            checkin_due_at=utc(2026, 3, 19),
        )
    )

    s = schedule(session, c)
    o1 = occurrence(session, c, s, utc(2026, 3, 2, 10), facilitator="U1")
    o2 = occurrence(session, c, s, utc(2026, 3, 9, 10), facilitator="U3")
    occurrence(session, c, s, utc(2026, 3, 16, 10), stage="excluded", facilitator="U2")
    occurrence(session, c, s, utc(2026, 3, 23, 10), stage="planned", facilitator="U2")
    mid = occurrence(session, c, s, utc(2026, 3, 12, 10), kind="midpoint")
    for user in ("U1", "U2", "U3"):
        attend(session, o1, user)
    attend(session, o1, "U4", attended=False)
    attend(session, o2, "U1")
    attend(session, o2, "U3")
    pulse(session, mid, "value", [4, 5, 3])
    pulse(session, mid, "safety", [2, 5])

    r1 = review(session, c, "U1", utc(2026, 3, 2, 15))
    review(session, c, "U1", utc(2026, 3, 3))
    review(session, c, "U2", utc(2026, 3, 4, 12), occurrence_id=o1.id)  # 50 hours after o1 began
    review(session, c, "U3", utc(2026, 2, 10))  # before March
    p1 = playbook(session, c, "U3", utc(2026, 3, 6))
    nominate(session, c, "U2", ["U3"], utc(2026, 3, 7))
    nominate(session, c, "U3", ["U5"], utc(2026, 3, 8))
    nominate(session, c, "U5", ["U1"], utc(2026, 3, 9))
    nominate(session, c, "U2", ["U1"], utc(2026, 3, 10))
    question(session, c, utc(2026, 3, 11))
    question(session, c, utc(2026, 3, 12), status="draft")  # never asked: not counted
    adopt(session, "review", r1.id, "U3", utc(2026, 3, 12))
    adopt(session, "review", r1.id, "U4", utc(2026, 3, 13))
    adopt(session, "playbook", p1.id, "U3", utc(2026, 3, 14))
    adopt(session, "review", r1.id, "U5", utc(2026, 2, 14))  # before March

    # Another community's rows must never leak in.
    other = community(session, channel_id="C2", name="Other")
    member(session, other, "U1", joined=jan, department="Eng")
    member(session, other, "U9", joined=jan, department="Eng")
    r9 = review(session, other, "U9", utc(2026, 3, 5))
    adopt(session, "review", r9.id, "U1", utc(2026, 3, 6))
    nominate(session, other, "U9", ["U1"], utc(2026, 3, 6))
    session.commit()
    return c
