"""What a person's App Home shows: their communities, sessions, turns, recognition and their part.

Plain Python over SQL: no Slack code, the caller commits.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, bindparam, func, select
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
    as_of: datetime | None = None  # when its numbers were counted, if the records changed since


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


def home(
    session: Session,
    *,
    team_id: str,
    user_id: str,
    at: datetime,
    dashboards: bool = True,
    refresh_views: bool = True,
) -> Home:
    """Gather a person's App Home as of `at`; leads get their communities' dashboards (stored views:
    one behind the records is shown with its age and, with `refresh_views`, refreshed in the background)."""
    memberships = _memberships(session, team_id=team_id, user_id=user_id, at=at)
    communities = [m.community for m in memberships]
    upcoming = _upcoming(session, communities, at=at)
    turns = _upcoming(session, communities, at=at, facilitator_id=user_id)
    led = [m.community for m in memberships if m.is_lead]
    boards = []
    if dashboards:
        for community in led[:MAX_DASHBOARDS]:
            metrics = snapshots.metrics(
                session,
                community=community,
                kind=snapshots.HOME_METRICS,
                at=at,
                fairness=True,
                refresh=refresh_views,
            )
            trend = snapshots.trends(session, community=community, at=at, refresh=refresh_views)
            as_of = min((s.as_of for s in (metrics, trend) if s.as_of), default=None)
            boards.append(Dashboard(community, metrics.value, trend.value, as_of))
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


# App Home is read on every `app_home_opened`: its statements are built once, with bound parameters, so
# a request only binds values (building and cache-keying a statement costs more than running it).


@cache
def _memberships_query() -> Select[Community, Member]:
    return (
        select(Community, Member)
        .join(Member, Member.community_id == Community.id)
        .where(
            Member.team_id == bindparam("team_id"),
            Member.user_id == bindparam("user_id"),
            Member.left_at.is_(None),
        )
        .order_by(Community.name, Community.id)
        .limit(MAX_COMMUNITIES)
    )


@cache
def _roles_query() -> Select[int, str]:
    return select(MemberRole.member_id, MemberRole.role).where(
        MemberRole.member_id.in_(bindparam("member_ids", expanding=True))
    )


@cache
def _mentors_query() -> Select[int, str | None]:
    return select(Onboarding.community_id, Onboarding.mentor_id).where(
        Onboarding.team_id == bindparam("team_id"),
        Onboarding.newcomer_id == bindparam("user_id"),
        Onboarding.ended_at.is_(None),
    )


def _memberships(session: Session, *, team_id: str, user_id: str, at: datetime) -> list[Membership]:
    person = {"team_id": team_id, "user_id": user_id}
    rows = session.execute(_memberships_query(), person).all()
    if not rows:
        return []
    roles: dict[int, list[str]] = {}
    member_ids = [m.id for _, m in rows]
    for member_id, role in session.execute(_roles_query(), {"member_ids": member_ids}):
        roles.setdefault(member_id, []).append(role)
    mentors: dict[int, str | None] = {
        community_id: mentor for community_id, mentor in session.execute(_mentors_query(), person)
    }
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


@cache
def _my_part_query() -> Select[int, int, int]:
    """The person's contributions and attendances in a window, and the sessions held in it: one read."""
    window: dict[str, Any] = {
        "team_id": bindparam("team_id"),
        "community_id": bindparam("community_id"),
        "start": bindparam("start"),
        "stop": bindparam("stop"),
    }
    contribution = sources.contribution_rows(**window, anonymous=False, user_id=bindparam("user_id"))
    held = select(func.count()).select_from(Occurrence).where(*sources.held(**window, sessions_only=True))
    return select(
        func.count(), func.count().filter(contribution.c.kind == "attendance"), held.scalar_subquery()
    ).select_from(contribution)


def _my_part(
    session: Session, *, community: Community, user_id: str, at: datetime
) -> tuple[int, int | None, int | None]:
    """The person's contributions this quarter, and sessions attended of those held."""
    quarter = period_at(PeriodKind.QUARTER, at, community.timezone)
    window = {"team_id": community.team_id, "community_id": community.id, "start": quarter.start, "stop": at}
    mine, attended, held = session.execute(_my_part_query(), {**window, "user_id": user_id}).one()
    return int(mine), int(attended), int(held or 0)


@cache
def _upcoming_query(by_facilitator: bool) -> Select[int, str, datetime, str | None]:
    occurrence = Occurrence
    query = (
        select(occurrence.community_id, occurrence.kind, occurrence.starts_at, occurrence.facilitator_id)
        .where(
            occurrence.community_id.in_(bindparam("community_ids", expanding=True)),
            occurrence.starts_at >= bindparam("at"),
        )
        .where(occurrence.stage.in_(("planned", "posted", "started")))
        .order_by(occurrence.starts_at)
        .limit(UPCOMING)
    )
    if by_facilitator:
        query = query.where(occurrence.facilitator_id == bindparam("facilitator_id"))
    return query


def _upcoming(
    session: Session, communities: list[Community], *, at: datetime, facilitator_id: str | None = None
) -> list[Upcoming]:
    if not communities:
        return []
    by_id = {c.id: c for c in communities}
    values = {"community_ids": list(by_id), "at": at, "facilitator_id": facilitator_id}
    rows = session.execute(_upcoming_query(facilitator_id is not None), values)
    return [Upcoming(by_id[cid], kind, starts, who) for cid, kind, starts, who in rows]


@cache
def _received_query() -> Select[int, int]:
    return (
        select(func.count(), func.count().filter(Nomination.created_at >= bindparam("recent")))
        .select_from(Nominee)
        .join(Nomination, Nomination.id == Nominee.nomination_id)
        .where(
            Nominee.team_id == bindparam("team_id"),
            Nominee.user_id == bindparam("user_id"),
            Nomination.created_at < bindparam("at"),
        )
    )


@cache
def _given_query() -> Select[int]:
    return select(func.count()).where(
        Nomination.team_id == bindparam("team_id"),
        Nomination.nominator_id == bindparam("user_id"),
        Nomination.created_at < bindparam("at"),
    )


@cache
def _latest_query() -> Select[str, str | None, str]:
    return (
        select(Nomination.value, Nomination.nominator_id, Community.name)
        .join(Nominee, Nominee.nomination_id == Nomination.id)
        .join(Community, Community.id == Nomination.community_id)
        .where(
            Nominee.team_id == bindparam("team_id"),
            Nominee.user_id == bindparam("user_id"),
            Nomination.created_at < bindparam("at"),
        )
        .order_by(Nomination.created_at.desc(), Nomination.id.desc())
        .limit(3)
    )


def _recognition(session: Session, *, team_id: str, user_id: str, at: datetime) -> Recognition:
    values = {"team_id": team_id, "user_id": user_id, "at": at, "recent": at - service.RECOGNITION_WINDOW}
    received, received_recently = session.execute(_received_query(), values).one()
    given = session.scalar(_given_query(), values)
    latest = session.execute(_latest_query(), values).all()
    listed = [(str(value), nominator, str(name)) for value, nominator, name in latest]
    return Recognition(int(received), int(received_recently), int(given or 0), listed)
