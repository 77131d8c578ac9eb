"""The same event many times, events and submissions racing each other, and a slow Slack while events
arrive: one effect each, no IntegrityError, every ack on time."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from copbot.communities.models import Community, MemberRole, Role, Workspace
from copbot.db import ensure_row, session_factory, session_scope
from copbot.inbox.models import ProcessedEvent
from copbot.people.models import Onboarding, PeopleSettings, Profile
from copbot.runtime import Runtime
from tests.conftest import ServerThread
from tests.fakes.slack_api import FakeSlack
from tests.fakes.slack_client import SlackSender
from tests.processes import wait_for
from tests.reliability.conftest import ACK_LIMIT, Acks
from tests.reliability.helpers import count, make_community, setup_values


def _handled(engine: Engine) -> int:
    with Session(engine) as session:
        return session.scalar(
            select(func.count()).select_from(ProcessedEvent).where(ProcessedEvent.processed_at.is_not(None))
        )


def test_duplicated_and_concurrent_events_take_effect_once_with_slack_slow(
    runtime: Runtime,
    server: ServerThread,
    slack: SlackSender,
    fake_slack: FakeSlack,
    engine: Engine,
    acks: Acks,
    figures: Callable[..., None],
) -> None:
    make_community(engine, team="T9", channel="C9")  # a new workspace: no people settings yet
    fake_slack.delays["users.info"] = 0.3  # Slack answers slowly; the acks must not wait for it
    joined = [{"type": "member_joined_channel", "user": f"U{n:04d}", "channel": "C9"} for n in range(6)]
    calls = [lambda e=event: slack.event(e, team_id="T9") for event in joined]  # first joins, at once
    same = {"type": "member_joined_channel", "user": "U0100", "channel": "C9"}
    calls += [lambda: slack.event(same, team_id="T9", event_id="EvSame")] * 11  # one event, 11 times
    acks.send(calls)
    assert [r.status_code for r in acks.ok] == [200] * len(calls) and acks.slowest < ACK_LIMIT
    settled = wait_for(lambda: _handled(engine) == 7, timeout=30)
    with Session(engine) as session:
        onboarded = session.scalar(select(func.count(func.distinct(Onboarding.newcomer_id))))
        welcomes = session.scalar(select(func.count()).select_from(Onboarding))
    figures(
        events_sent=len(calls),
        acked=len(acks.ok),
        handled=_handled(engine),
        onboarded=onboarded,
        settings_rows=count(engine, PeopleSettings),
        seconds_to_handle=settled,
        slowest_ack=acks.slowest,
    )
    assert onboarded == welcomes == 7  # six newcomers and the one event sent 11 times, once each
    assert count(engine, PeopleSettings) == 1 and count(engine, ProcessedEvent) == 7


def test_concurrent_get_or_create_requests_make_one_row(
    runtime: Runtime,
    server: ServerThread,
    slack: SlackSender,
    engine: Engine,
    acks: Acks,
    figures: Callable[..., None],
) -> None:
    metadata = json.dumps({"channel_id": "C77"})
    setups = [
        lambda: slack.view_submission("community_setup", setup_values("Race"), private_metadata=metadata)
    ] * 6
    acks.send(setups)
    make_community(engine, channel="C78")
    for user in ("U0201", "U0202"):
        slack.command("/cop", "join", channel_id="C78", user_id=user)
    volunteers = [
        lambda u=user: slack.command("/cop", "facilitate on", channel_id="C78", user_id=u)
        for user in ("U0201", "U0202")
        for _ in range(4)
    ]
    acks.send(volunteers)
    sessions = session_factory(engine)

    def first_contact(n: int) -> None:  # every get-or-create helper, from many transactions at once
        with session_scope(sessions) as session:
            ensure_row(session, Workspace, {"team_id": "T55"})
            ensure_row(session, Profile, {"team_id": "T55", "user_id": f"U{n % 2}"})

    started = time.monotonic()
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(first_contact, range(16)))
    answers = [r.json() for r in acks.ok]
    went_wrong = sum("Something went wrong" in json.dumps(a) for a in answers)
    with Session(engine) as session:
        guilds = session.scalar(select(func.count()).where(Community.channel_id == "C77"))
        facilitators = session.scalar(select(func.count()).where(MemberRole.role == Role.FACILITATOR))
        profiles = session.scalar(select(func.count()).where(Profile.team_id == "T55"))
    figures(
        requests=len(acks.responses),
        acked=len(acks.ok),
        went_wrong=went_wrong,
        communities=guilds,
        facilitator_roles=facilitators,
        direct_get_or_create_seconds=time.monotonic() - started,
        slowest_ack=acks.slowest,
    )
    assert len(acks.ok) == len(acks.responses) and went_wrong == 0 and acks.slowest < ACK_LIMIT
    assert guilds == 1 and facilitators == 2 and profiles == 2
    assert count(engine, Workspace) == 2  # T1 (C77 and C78) and T55, once each
