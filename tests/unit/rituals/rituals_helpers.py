"""Shared set-up for the rituals tests: a community with members, schedules made live at fixed instants."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from copbot.communities import service as communities
from copbot.communities.models import Community, MemberRole, Role
from copbot.rituals import facilitators, service
from copbot.rituals.models import Frequency, Occurrence, RitualSchedule, ScheduleStatus
from copbot.runtime import Runtime
from copbot.scheduling.runner import TickReport, tick
from tests.fakes.slack_api import FakeSlack

ZONE = "Europe/Berlin"
T0 = datetime(2027, 2, 27, 8, 0, tzinfo=UTC)  # "now" when schedules are made


def utc(*parts: int) -> datetime:
    """A UTC instant."""
    return datetime(*parts, tzinfo=UTC)


def make_community(
    session: Session, *, channel: str = "C1", lead: str = "U1", zone: str = ZONE, team: str = "T1"
) -> Community:
    """A community with a lead, committed."""
    form = communities.CommunityForm(
        name="Incident Guild",
        purpose="Learn from every incident we run.",
        learning_goals="Blameless reviews",
        timezone=zone,
    )
    community, _ = communities.save_community(
        session, team_id=team, channel_id=channel, user_id=lead, form=form
    )
    session.commit()
    return community


def add_member(
    session: Session, community: Community, user_id: str, *, role: Role | None = None, rotation: bool = False
) -> None:
    """A member, optionally with a role and in the rotation."""
    communities.join(session, team_id=community.team_id, channel_id=community.channel_id, user_id=user_id)
    if role is not None:
        member = communities.find_member(session, community=community, user_id=user_id)
        member.roles.append(MemberRole(team_id=community.team_id, role=role))
    if rotation:
        facilitators.set_facilitating(session, community=community, user_id=user_id, on=True)
    session.commit()


def live_sessions(
    session: Session,
    community: Community,
    *,
    first: date,
    at: time = time(9, 0),
    alt: time | None = None,
    frequency: Frequency = Frequency.WEEKLY,
    title: str = "Incident drills",
    rotation_days: int = 3,
    now: datetime = T0,
) -> RitualSchedule:
    """Recurring sessions, live since `now`."""
    form = service.SessionsForm(
        title=title,
        frequency=frequency,
        first_date=first,
        local_time=at,
        alt_local_time=alt,
        duration_minutes=60,
        rotation_days=rotation_days,
    )
    schedule = service.save_sessions(
        session, community=community, user_id=community.created_by, form=form, now=now
    )
    service.activate(schedule, status=ScheduleStatus.ACTIVE, now=now)
    session.commit()
    return schedule


def started_sessions(session: Session, community: Community, *, minutes_ago: int = 10) -> datetime:
    """Weekly sessions whose first one started `minutes_ago` (live since a day before); its local start."""
    from datetime import timedelta
    from zoneinfo import ZoneInfo

    start = (datetime.now(UTC) - timedelta(minutes=minutes_ago)).astimezone(ZoneInfo(community.timezone))
    live_sessions(
        session,
        community,
        first=start.date(),
        at=start.time().replace(second=0, microsecond=0),
        now=datetime.now(UTC) - timedelta(days=1),
    )
    return start


def live_cycle(
    session: Session,
    community: Community,
    *,
    kickoff: datetime,
    midpoint: datetime,
    finale: datetime,
    now: datetime = T0,
) -> RitualSchedule:
    """A cycle, live since `now` (instants given in UTC, converted to the community's local time)."""
    from zoneinfo import ZoneInfo

    def local(instant: datetime) -> tuple[date, time]:
        value = instant.astimezone(ZoneInfo(community.timezone))
        return value.date(), value.time()

    k, m, f = local(kickoff), local(midpoint), local(finale)
    form = service.CycleForm(
        title="Spring cycle",
        plan="Try game days",
        kickoff_date=k[0],
        kickoff_time=k[1],
        midpoint_date=m[0],
        midpoint_time=m[1],
        finale_date=f[0],
        finale_time=f[1],
    )
    schedule = service.save_cycle(
        session, community=community, user_id=community.created_by, form=form, now=now
    )
    service.activate(schedule, status=ScheduleStatus.ACTIVE, now=now)
    session.commit()
    return schedule


def run_tick(runtime: Runtime, at: datetime) -> TickReport:
    """One `copbot tick --at` (jobs, then the outbox drained)."""
    return tick(at, deps=runtime.deps, app=None, sender=runtime.sender)


def occurrences(session: Session) -> list[Occurrence]:
    """Every occurrence, in time order (fresh from the database)."""
    session.expire_all()
    return list(session.scalars(select(Occurrence).order_by(Occurrence.starts_at, Occurrence.kind)))


def ours(call: Any) -> bool:
    """Tell whether a Web API call carries a rituals outbox key (other features' jobs run in `tick` too)."""
    key = (call.params.get("metadata") or {}).get("event_payload", {}).get("key", "")
    return key.startswith("ritual:")


def posts(fake_slack: FakeSlack, channel: str = "C1", *, replies: bool = False) -> list[Any]:
    """Delivered rituals posts in a channel (thread replies only when asked)."""
    return [
        c
        for c in fake_slack.calls_to("chat.postMessage")
        if c.params.get("channel") == channel
        and c.outcome == "ok"
        and ours(c)
        and (replies or not c.params.get("thread_ts"))
    ]


def dms(fake_slack: FakeSlack, user: str) -> list[Any]:
    """Delivered rituals DMs to a user."""
    return [
        c
        for c in fake_slack.calls_to("chat.postMessage")
        if c.params.get("channel") == f"D{user}" and c.outcome == "ok" and ours(c)
    ]


def blocks_text(call: Any) -> str:
    """Every block of a call, as one string."""
    return json.dumps(call.params.get("blocks"))
