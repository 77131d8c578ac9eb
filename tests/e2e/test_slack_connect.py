"""Slack Connect channels: the payload's team is the other organisation's; copbot keeps to its own."""

from __future__ import annotations

import json
import logging
import time
from datetime import timedelta

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from copbot.clock import now
from copbot.communities.models import Community
from copbot.inbox import service as inbox
from copbot.inbox.models import ProcessedEvent
from copbot.people.models import Onboarding
from copbot.runtime import Runtime
from copbot.scheduling.runner import tick
from copbot.slack.events import on_event
from tests.e2e.test_slack_edge import SETUP_VALUES
from tests.fakes.slack_api import FakeSlack
from tests.fakes.slack_client import SlackSender, view_submission_payload
from tests.waiting import wait_until

pytestmark = pytest.mark.e2e

HOME, OTHER = "T1", "T0OTHER"  # copbot is installed in T1; T0OTHER is the partner organisation


def _connect_setup(slack: SlackSender, user_id: str = "U1") -> dict:
    """`/cop setup` submitted by someone of the partner organisation, in the shared channel C1."""
    payload = view_submission_payload(
        "community_setup",
        SETUP_VALUES,
        team_id=OTHER,
        user_id=user_id,
        private_metadata=json.dumps({"channel_id": "C1"}),
    )
    payload["view"]["app_installed_team_id"] = HOME  # what Slack sends from a Connect channel
    response = slack.interaction(payload)
    assert response.status_code == 200, response.text
    return payload


def _event_row(engine: Engine, event_id: str) -> ProcessedEvent | None:
    with Session(engine) as session:
        return session.scalars(
            select(ProcessedEvent).where(ProcessedEvent.event_id == event_id)
        ).one_or_none()


def test_setup_in_a_connect_channel_makes_the_community_in_copbots_workspace(
    slack: SlackSender, engine: Engine
) -> None:
    _connect_setup(slack)
    with Session(engine) as session:
        assert [(c.team_id, c.channel_id) for c in session.scalars(select(Community))] == [(HOME, "C1")]


def test_connect_event_takes_effect_once_and_is_marked_done(
    runtime: Runtime, slack: SlackSender, engine: Engine, fake_slack: FakeSlack
) -> None:
    _connect_setup(slack)
    joined = {
        "type": "member_joined_channel",
        "user": "U77",
        "channel": "C1",
        "channel_type": "C",
        "team": OTHER,
    }
    assert slack.event(joined, team_id=OTHER, installed_team_id=HOME, event_id="EvConnect").status_code == 200
    wait_until(lambda: (row := _event_row(engine, "EvConnect")) is not None and row.processed_at, "the mark")
    row = _event_row(engine, "EvConnect")
    assert row.team_id == HOME  # recorded and marked under the same workspace
    with Session(engine) as session:
        assert [(o.team_id, o.newcomer_id) for o in session.scalars(select(Onboarding))] == [(HOME, "U77")]
    runtime.sender.drain()
    assert any(c.params.get("channel") == "DU77" for c in fake_slack.calls_to("chat.postMessage"))
    # minutes later the replay job finds nothing stranded: no loop
    with Session(engine) as session:
        later = now() + timedelta(hours=1)
        assert (
            inbox.claim_stranded(session, at=later, identity="test", until=later, received_before=later) == []
        )


def test_replays_stop_at_the_cap_with_a_clear_log_line(
    runtime: Runtime, engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    runs: list[str] = []

    def always_fails(session: Session, event: dict, body: dict) -> None:
        runs.append(body["event_id"])
        raise RuntimeError("handler keeps failing")

    on_event(runtime.app, runtime.deps, "app_mention", always_fails)
    body = {
        "type": "event_callback",
        "team_id": OTHER,
        "api_app_id": "A1",
        "event_id": "EvStuck",
        "event_time": 1,
        "event": {"type": "app_mention", "user": "U3", "text": "hi", "channel": "C1", "ts": "2.2"},
        "authorizations": [{"team_id": HOME, "user_id": "UBOT", "is_bot": True}],
        "is_ext_shared_channel": True,
    }
    with Session(engine) as session:
        session.add(
            ProcessedEvent(
                team_id=HOME,
                event_id="EvStuck",
                event_type="app_mention",
                payload=body,
                received_at=now() - timedelta(minutes=5),
            )
        )
        session.commit()
    caplog.set_level(logging.WARNING, logger="copbot.inbox.jobs")
    at = now()
    for minute in range(inbox.MAX_REPLAYS + 3):
        tick(at + timedelta(minutes=minute), deps=runtime.deps, app=runtime.app, sender=runtime.sender)
        runtime.app.listener_runner.listener_executor.submit(lambda: None).result()  # let lazy work start
    wait_until(lambda: len(runs) == inbox.MAX_REPLAYS, "five replays")
    time.sleep(0.2)
    assert len(runs) == inbox.MAX_REPLAYS
    last = [r.getMessage() for r in caplog.records if "for the last time" in r.getMessage()]
    assert last == [f"event EvStuck is replayed for the last time ({inbox.MAX_REPLAYS} replays): "
                    "if this fails too it stays unhandled in the inbox until purged"]  # fmt: skip
