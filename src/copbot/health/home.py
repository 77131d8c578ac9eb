"""What a person's App Home shows: their communities, sessions, turns, recognition and their part.

Plain Python over SQL: no Slack code, the caller commits.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from copbot.actions.models import ActionItem, ItemStatus
from copbot.communities.models import Community, Member, MemberRole, Role
from copbot.health import service, snapshots, sources
from copbot.health.periods import PeriodKind, period_at
from copbot.people.models import Onboarding
from copbot.recognition.models import Nomination, Nominee
from copbot.rituals.models import Occurrence

NEWCOMER_DAYS = 30  # a member this new sees the newcomer's welcome
MAX_COMMUNITIES = 10
MAX_DASHBOARDS = 3  # full lead dashboards on one Home (the block limit); others point to /cop stats
UPCOMING = 5


@dataclass(frozen=True)
class Membership:
    """One community the person belongs to, with their roles and their part this quarter."""

    community: Community
    roles: list[str]
    joined_at: datetime
    contributions: int
    attended: int | None
    sessions: int | None
    mentor_id: str | None = None

    @property
    def is_lead(self) -> bool:
        """Whether the person leads this community."""
        return Role.LEAD.value in self.roles


@dataclass(frozen=True)
class Upcoming:
    """A coming occurrence in one of the person's communities."""

    community: Community
    kind: str
    starts_at: datetime
    facilitator_id: str | None


@dataclass(frozen=True)
class Recognition:
    """Recognition the person received and gave."""

    received: int
    received_recently: int
    given: int
    latest: list[tuple[str, str | None, str]]  # (value, nominator id, community name), newest first


@dataclass(frozen=True)
class Dashboard:
    """A lead's view of one community."""

    community: Community
    metrics: service.Metrics
    trend: list[service.Week]


@dataclass(frozen=True)
class Home:
    """Everything the App Home shows one person."""

    user_id: str
    at: datetime
    memberships: list[Membership]
    upcoming: list[Upcoming]
    turns: list[Upcoming]
    recognition: Recognition
    dashboards: list[Dashboard] = field(default_factory=list)
    more_led: int = 0
    actions: list[tuple[ActionItem, date]] = field(default_factory=list)  # open, with their community's date

    @property
    def newcomer_in(self) -> list[Membership]:
        """The communities where the person is new (joined lately, or holds the newcomer role); never
        where they lead: whoever just created a community is not its newcomer."""
        recent = self.at - timedelta(days=NEWCOMER_DAYS)
        return [
            m
            for m in self.memberships
            if not m.is_lead and (Role.NEWCOMER.value in m.roles or m.joined_at >= recent)
        ]


def home(session: Session, *, team_id: str, user_id: str, at: datetime, dashboards: bool = True) -> Home:
    """Gather a person's App Home as of `at`; leads get their communities' dashboards."""
    memberships = _memberships(session, team_id=team_id, user_id=user_id, at=at)
    communities = [m.community for m in memberships]
    upcoming = _upcoming(session, communities, at=at)
    turns = _upcoming(session, communities, at=at, facilitator_id=user_id)
    led = [m.community for m in memberships if m.is_lead]
    boards = []
    if dashboards:
        for community in led[:MAX_DASHBOARDS]:
            metrics = snapshots.metrics(
                session, community=community, kind=PeriodKind.MONTH, at=at, fairness=True
            )
            trend = snapshots.trends(session, community=community, at=at)
            boards.append(Dashboard(community, metrics, trend))
    return Home(
        user_id=user_id,
        at=at,
        memberships=memberships,
        upcoming=upcoming,
        turns=turns,
        recognition=_recognition(session, team_id=team_id, user_id=user_id, at=at),
        dashboards=boards,
        more_led=max(0, len(led) - MAX_DASHBOARDS) if dashboards else 0,
        actions=_open_actions(session, team_id=team_id, user_id=user_id, at=at),
    )


def _open_actions(
    session: Session, *, team_id: str, user_id: str, at: datetime
) -> list[tuple[ActionItem, date]]:
    """The person's open review actions, soonest due first (undated last)."""
    rows = session.execute(
        select(ActionItem, Community.timezone)
        .join(Community, Community.id == ActionItem.community_id)
        .where(ActionItem.team_id == team_id, ActionItem.owner_id == user_id)
        .where(ActionItem.status == ItemStatus.OPEN.value)
        .order_by(ActionItem.due_on.is_(None), ActionItem.due_on, ActionItem.id)
        .limit(UPCOMING * 2)
    ).all()
    return [(item, at.astimezone(ZoneInfo(zone)).date()) for item, zone in rows]


def _memberships(session: Session, *, team_id: str, user_id: str, at: datetime) -> list[Membership]:
    rows = session.execute(
        select(Community, Member)
        .join(Member, Member.community_id == Community.id)
        .where(Member.team_id == team_id, Member.user_id == user_id, Member.left_at.is_(None))
        .order_by(Community.name, Community.id)
        .limit(MAX_COMMUNITIES)
    ).all()
    if not rows:
        return []
    member_ids = [m.id for _, m in rows]
    roles: dict[int, list[str]] = {}
    for member_id, role in session.execute(
        select(MemberRole.member_id, MemberRole.role).where(MemberRole.member_id.in_(member_ids))
    ):
        roles.setdefault(member_id, []).append(role)
    mentors = dict(
        session.execute(
            select(Onboarding.community_id, Onboarding.mentor_id).where(
                Onboarding.team_id == team_id,
                Onboarding.newcomer_id == user_id,
                Onboarding.ended_at.is_(None),
            )
        ).all()
    )
    found = []
    for community, member in rows:
        contributions, attended, held = _my_part(session, community=community, user_id=user_id, at=at)
        found.append(
            Membership(
                community,
                sorted(roles.get(member.id, [])),
                member.joined_at,
                contributions,
                attended,
                held,
                mentors.get(community.id),
            )
        )
    return found


def _my_part(
    session: Session, *, community: Community, user_id: str, at: datetime
) -> tuple[int, int | None, int | None]:
    """The person's contributions this quarter, and sessions attended of those held."""
    quarter = period_at(PeriodKind.QUARTER, at, community.timezone)
    contribution = sources.contributions(
        session,
        team_id=community.team_id,
        community_id=community.id,
        start=quarter.start,
        stop=at,
        anonymous=False,
        user_id=user_id,
    )
    mine = session.execute(
        select(func.count(), func.count().filter(contribution.c.kind == "attendance"))
    ).one()
    conditions = sources.held(
        team_id=community.team_id,
        community_id=community.id,
        start=quarter.start,
        stop=at,
        sessions_only=True,
    )
    held = session.scalar(select(func.count()).select_from(Occurrence).where(*conditions))
    return int(mine[0]), int(mine[1]), int(held or 0)


def _upcoming(
    session: Session, communities: list[Community], *, at: datetime, facilitator_id: str | None = None
) -> list[Upcoming]:
    if not communities:
        return []
    occurrence = Occurrence
    by_id = {c.id: c for c in communities}
    query = (
        select(occurrence.community_id, occurrence.kind, occurrence.starts_at, occurrence.facilitator_id)
        .where(occurrence.community_id.in_(list(by_id)), occurrence.starts_at >= at)
        .where(occurrence.stage.in_(("planned", "posted", "started")))
        .order_by(occurrence.starts_at)
        .limit(UPCOMING)
    )
    if facilitator_id:
        query = query.where(occurrence.facilitator_id == facilitator_id)
    return [Upcoming(by_id[cid], kind, starts, who) for cid, kind, starts, who in session.execute(query)]


def _recognition(session: Session, *, team_id: str, user_id: str, at: datetime) -> Recognition:
    received = session.execute(
        select(func.count(), func.count().filter(Nomination.created_at >= at - service.RECOGNITION_WINDOW))
        .select_from(Nominee)
        .join(Nomination, Nomination.id == Nominee.nomination_id)
        .where(Nominee.team_id == team_id, Nominee.user_id == user_id, Nomination.created_at < at)
    ).one()
    given = session.scalar(
        select(func.count()).where(
            Nomination.team_id == team_id, Nomination.nominator_id == user_id, Nomination.created_at < at
        )
    )
    latest = session.execute(
        select(Nomination.value, Nomination.nominator_id, Community.name)
        .join(Nominee, Nominee.nomination_id == Nomination.id)
        .join(Community, Community.id == Nomination.community_id)
        .where(Nominee.team_id == team_id, Nominee.user_id == user_id, Nomination.created_at < at)
        .order_by(Nomination.created_at.desc(), Nomination.id.desc())
        .limit(3)
    ).all()
    listed = [(str(value), nominator, str(name)) for value, nominator, name in latest]
    return Recognition(int(received[0]), int(received[1]), int(given or 0), listed)
