"""A signed payload the gate lets through but a listener cannot read (a part it needs missing) gets a clear
answer where the person acted, stores nothing and logs one warning: never a traceback."""

from __future__ import annotations

import json
import logging
import time

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from copbot.communities.models import Community
from copbot.inbox.models import ProcessedEvent
from tests.e2e.test_slack_edge import SETUP_VALUES
from tests.fakes.slack_api import FakeSlack
from tests.fakes.slack_client import (
    SlackSender,
    block_action_payload,
    view_submission_payload,
)

pytestmark = pytest.mark.e2e


def _count(engine: Engine, model: type) -> int:
    with Session(engine) as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def _no_tracebacks(caplog: pytest.LogCaptureFixture) -> None:
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]
    assert [r for r in caplog.records if r.name == "copbot.slack.payloads" and r.levelno == logging.WARNING]


def test_a_modal_submission_without_its_user_answers_in_the_modal(
    slack: SlackSender, engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    payload = view_submission_payload(
        "community_setup", SETUP_VALUES, private_metadata=json.dumps({"channel_id": "C1"})
    )
    del payload["user"]
    response = slack.interaction(payload)
    assert response.status_code == 200
    answer = response.json()
    assert answer["response_action"] == "push"
    assert "could not read" in json.dumps(answer["view"]["blocks"])
    assert _count(engine, Community) == 0
    _no_tracebacks(caplog)


def test_a_click_without_its_user_is_answered_ephemerally(
    slack: SlackSender, engine: Engine, fake_slack: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    payload = block_action_payload(
        "people_forget_me", value="forget", response_url=fake_slack.response_url("f")
    )
    del payload["user"]
    assert slack.interaction(payload).status_code == 200
    (answer,) = fake_slack.wait_for("response_url")
    assert "could not read" in answer.params["text"] and answer.params["response_type"] == "ephemeral"
    _no_tracebacks(caplog)


def test_an_event_that_cannot_be_read_is_marked_done_without_effect(
    slack: SlackSender, engine: Engine, fake_slack: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    event = {"type": "reaction_added", "user": "U2", "reaction": "bulb", "item": "not an object"}
    assert slack.event(event, event_id="EvBroken").status_code == 200
    deadline = time.monotonic() + 5
    while _count(engine, ProcessedEvent) == 0 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert _count(engine, ProcessedEvent) == 1
    assert [c.method for c in fake_slack.calls if c.method != "auth.test"] == []
    _no_tracebacks(caplog)
