"""What a person's App Home shows: their communities, sessions, turns, recognition and their part.

Plain Python over SQL: no Slack code, the caller commits.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cache
from typing import Any, cast
from zoneinfo import ZoneInfo

from sqlalchemy import CompoundSelect, Select, Table, bindparam, func, literal_column, select, true, union_all
from sqlalchemy.orm import Session
from sqlalchemy.sql import Subquery

from copbot.actions.models import ActionItem, ItemStatus
from copbot.communities.models import Community, Member, MemberRole, Role
from copbot.db import built_once
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
class CommunityRow:
    """The columns of a community that App Home shows and its stored views need (not the ORM row)."""

    id: int
    team_id: str
    channel_id: str
    name: str
    purpose: str
    timezone: str


@dataclass(frozen=True)
class Membership:
    """One community the person belongs to, with their roles and their part this quarter."""

    community: CommunityRow
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

    community: CommunityRow
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

    community: CommunityRow
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
    session.flush()  # its reads are Core statements, which do not flush what the caller added
    memberships = _memberships(session, team_id=team_id, user_id=user_id, at=at)
    upcoming, turns = _upcoming(session, [m.community for m in memberships], at=at, user_id=user_id)
    led = [m.community for m in memberships if m.is_lead]
    boards = []
    if dashboards:
        for community in led[:MAX_DASHBOARDS]:
            metrics, trend = snapshots.home_dashboard(
                session, community=community, at=at, refresh=refresh_views
            )
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


# App Home is read on every `app_home_opened`: its statements are Core (its rows are only read, so the
# ORM's per-statement and per-row work buys nothing), built once with bound parameters (building and
# cache-keying a statement costs more than running it), and merged where one statement can answer: a lead
# with one community costs six reads (memberships, your part, sessions, stored views, recognition, actions).
_COMMUNITIES_TABLE = cast(Table, Community.__table__)
_MEMBERS_TABLE = cast(Table, Member.__table__)
_NOMINATIONS_TABLE = cast(Table, Nomination.__table__)
_NOMINEES_TABLE = cast(Table, Nominee.__table__)
_COMMUNITIES = _COMMUNITIES_TABLE.c
_MEMBERS = _MEMBERS_TABLE.c
_ROLES = cast(Table, MemberRole.__table__).c
_ONBOARDINGS = cast(Table, Onboarding.__table__).c
_OCCURRENCES_TABLE = cast(Table, Occurrence.__table__)
_OCCURRENCES = _OCCURRENCES_TABLE.c
_NOMINATIONS = _NOMINATIONS_TABLE.c
_NOMINEES = _NOMINEES_TABLE.c
_ACTIONS = cast(Table, ActionItem.__table__).c


def _build_memberships(dialect: str) -> Select[Any]:
    """The person's communities with their joining, their roles (joined by commas) and their mentor."""
    joined = func.string_agg if dialect == "postgresql" else func.group_concat
    roles = select(joined(_ROLES.role, ",")).where(_ROLES.member_id == _MEMBERS.id).scalar_subquery()
    mentor = (
        select(_ONBOARDINGS.mentor_id)
        .where(
            _ONBOARDINGS.team_id == bindparam("team_id"),
            _ONBOARDINGS.community_id == _COMMUNITIES.id,
            _ONBOARDINGS.newcomer_id == bindparam("user_id"),
            _ONBOARDINGS.ended_at.is_(None),
        )
        .order_by(_ONBOARDINGS.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    return (
        select(
            _COMMUNITIES.id,
            _COMMUNITIES.team_id,
            _COMMUNITIES.channel_id,
            _COMMUNITIES.name,
            _COMMUNITIES.purpose,
            _COMMUNITIES.timezone,
            _MEMBERS.joined_at,
            roles.label("roles"),
            mentor.label("mentor_id"),
        )
        .join(_MEMBERS_TABLE, _MEMBERS.community_id == _COMMUNITIES.id)
        .where(
            _MEMBERS.team_id == bindparam("team_id"),
            _MEMBERS.user_id == bindparam("user_id"),
            _MEMBERS.left_at.is_(None),
        )
        .order_by(_COMMUNITIES.name, _COMMUNITIES.id)
        .limit(MAX_COMMUNITIES)
    )


_MEMBERSHIPS = built_once(_build_memberships)


def _memberships(session: Session, *, team_id: str, user_id: str, at: datetime) -> list[Membership]:
    person = {"team_id": team_id, "user_id": user_id}
    found = []
    for row in session.execute(_MEMBERSHIPS(session), person):
        community = CommunityRow(row.id, row.team_id, row.channel_id, row.name, row.purpose, row.timezone)
        contributions, attended, held = _my_part(session, community=community, user_id=user_id, at=at)
        roles = sorted(row.roles.split(",")) if row.roles else []
        found.append(
            Membership(community, roles, row.joined_at, contributions, attended, held, row.mentor_id)
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
    held = (
        select(func.count())
        .select_from(_OCCURRENCES_TABLE)
        .where(*sources.held(**window, sessions_only=True))
    )
    return select(
        func.count(), func.count().filter(contribution.c.kind == "attendance"), held.scalar_subquery()
    ).select_from(contribution)


def _my_part(
    session: Session, *, community: CommunityRow, user_id: str, at: datetime
) -> tuple[int, int | None, int | None]:
    """The person's contributions this quarter, and sessions attended of those held."""
    quarter = period_at(PeriodKind.QUARTER, at, community.timezone)
    window = {"team_id": community.team_id, "community_id": community.id, "start": quarter.start, "stop": at}
    mine, attended, held = session.execute(_my_part_query(), {**window, "user_id": user_id}).one()
    return int(mine), int(attended), int(held or 0)


@cache
def _upcoming_query() -> CompoundSelect[Any]:
    """The next sessions of the person's communities, then the next of their facilitation turns."""

    def coming(turns: bool) -> Subquery:
        query = (
            select(
                literal_column("1" if turns else "0").label("turn"),
                _OCCURRENCES.community_id,
                _OCCURRENCES.kind,
                _OCCURRENCES.starts_at,
                _OCCURRENCES.facilitator_id,
                _OCCURRENCES.id,
            )
            .where(
                _OCCURRENCES.community_id.in_(bindparam("community_ids", expanding=True)),
                _OCCURRENCES.starts_at >= bindparam("at"),
                _OCCURRENCES.stage.in_(("planned", "posted", "started")),
            )
            .order_by(_OCCURRENCES.starts_at, _OCCURRENCES.id)
            .limit(UPCOMING)
        )
        if turns:
            query = query.where(_OCCURRENCES.facilitator_id == bindparam("user_id"))
        return query.subquery()

    # Each side limited in a subquery of its own: SQLite allows no LIMIT on a member of a UNION.
    both = union_all(select(coming(False)), select(coming(True)))
    shown = both.selected_columns
    return both.order_by(shown.turn, shown.starts_at, shown.id)


def _upcoming(
    session: Session, communities: list[CommunityRow], *, at: datetime, user_id: str
) -> tuple[list[Upcoming], list[Upcoming]]:
    """The next occurrences in the person's communities, and the next where they facilitate."""
    if not communities:
        return [], []
    by_id = {c.id: c for c in communities}
    values = {"community_ids": list(by_id), "at": at, "user_id": user_id}
    found: tuple[list[Upcoming], list[Upcoming]] = ([], [])
    for turn, community_id, kind, starts_at, facilitator_id, _ in session.execute(_upcoming_query(), values):
        found[int(turn)].append(Upcoming(by_id[community_id], kind, starts_at, facilitator_id))
    return found


@cache
def _recognition_query() -> Select[Any]:
    """Nominations received (all, and lately), given, and the latest three received: one read."""
    received_by = (
        _NOMINEES.team_id == bindparam("team_id"),
        _NOMINEES.user_id == bindparam("user_id"),
        _NOMINATIONS.created_at < bindparam("at"),
    )
    received = (
        select(
            func.count().label("received"),
            func.count().filter(_NOMINATIONS.created_at >= bindparam("recent")).label("recently"),
        )
        .select_from(_NOMINEES_TABLE)
        .join(_NOMINATIONS_TABLE, _NOMINATIONS.id == _NOMINEES.nomination_id)
        .where(*received_by)
        .subquery("received")
    )
    given = (
        select(func.count().label("given"))
        .where(
            _NOMINATIONS.team_id == bindparam("team_id"),
            _NOMINATIONS.nominator_id == bindparam("user_id"),
            _NOMINATIONS.created_at < bindparam("at"),
        )
        .subquery("given")
    )
    latest = (
        select(
            _NOMINATIONS.value,
            _NOMINATIONS.nominator_id,
            _COMMUNITIES.name,
            _NOMINATIONS.created_at,
            _NOMINATIONS.id,
        )
        .join(_NOMINEES_TABLE, _NOMINEES.nomination_id == _NOMINATIONS.id)
        .join(_COMMUNITIES_TABLE, _COMMUNITIES.id == _NOMINATIONS.community_id)
        .where(*received_by)
        .order_by(_NOMINATIONS.created_at.desc(), _NOMINATIONS.id.desc())
        .limit(3)
        .subquery("latest")
    )
    # The counts are one row; the latest are joined to it (outer: the counts come back with none received).
    return (
        select(
            received.c.received,
            received.c.recently,
            given.c.given,
            latest.c.value,
            latest.c.nominator_id,
            latest.c.name,
        )
        .select_from(received.join(given, true()).outerjoin(latest, true()))
        .order_by(latest.c.created_at.desc(), latest.c.id.desc())
    )


def _recognition(session: Session, *, team_id: str, user_id: str, at: datetime) -> Recognition:
    values = {"team_id": team_id, "user_id": user_id, "at": at, "recent": at - service.RECOGNITION_WINDOW}
    rows = session.execute(_recognition_query(), values).all()
    received, recently, given = rows[0][:3]
    listed = [(str(r.value), r.nominator_id, str(r.name)) for r in rows if r.value is not None]
    return Recognition(int(received), int(recently), int(given or 0), listed)


@cache
def _open_actions_query() -> Select[Any]:
    return (
        select(
            _ACTIONS.id,
            _ACTIONS.review_id,
            _ACTIONS.text,
            _ACTIONS.owner_id,
            _ACTIONS.due_on,
            _ACTIONS.status,
            _COMMUNITIES.timezone,
        )
        .join(_COMMUNITIES_TABLE, _COMMUNITIES.id == _ACTIONS.community_id)
        .where(_ACTIONS.team_id == bindparam("team_id"), _ACTIONS.owner_id == bindparam("user_id"))
        .where(_ACTIONS.status == ItemStatus.OPEN.value)
        .order_by(_ACTIONS.due_on.is_(None), _ACTIONS.due_on, _ACTIONS.id)
        .limit(UPCOMING * 2)
    )


def _open_actions(
    session: Session, *, team_id: str, user_id: str, at: datetime
) -> list[tuple[ActionItem, date]]:
    """The person's open review actions, soonest due first (undated last).

    Each is a transient `ActionItem` of the columns its line shows, never added to the session.
    """
    rows = session.execute(_open_actions_query(), {"team_id": team_id, "user_id": user_id})
    return [
        (
            ActionItem(
                id=r.id,
                review_id=r.review_id,
                text=r.text,
                owner_id=r.owner_id,
                due_on=r.due_on,
                status=r.status,
            ),
            at.astimezone(ZoneInfo(r.timezone)).date(),
        )
        for r in rows
    ]
