"""The sender never calls Slack while it holds a database connection: every Web API call (posts, DMs,
edits, App Home views, file uploads, the conversations.open before a DM) runs between short transactions,
so a slow Slack never holds a row lock or a pooled connection."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from slack_sdk import WebClient
from sqlalchemy import Engine, event, select
from sqlalchemy.orm import Session

from copbot.blockkit import text_message
from copbot.db import session_factory, session_scope
from copbot.outbox import service as outbox
from copbot.outbox.models import OutboxMessage, Status
from copbot.outbox.sender import OutboxSender
from copbot.tokens import SingleWorkspaceTokens
from tests.fakes.slack_api import FakeSlack

HOME_VIEW = {"type": "home", "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "Hello"}}]}


class Connections:
    """How many of the engine's connections are checked out, as pool events tell."""

    def __init__(self, engine: Engine) -> None:
        self.engine, self.held = engine, 0

    def _out(self, *_: Any) -> None:
        self.held += 1

    def _in(self, *_: Any) -> None:
        self.held -= 1

    def __enter__(self) -> Connections:
        event.listen(self.engine, "checkout", self._out)
        event.listen(self.engine, "checkin", self._in)
        return self

    def __exit__(self, *exc_info: object) -> None:
        event.remove(self.engine, "checkout", self._out)
        event.remove(self.engine, "checkin", self._in)


@pytest.fixture
def connections(engine: Engine) -> Iterator[Connections]:
    with Connections(engine) as counted:
        yield counted


def test_every_slack_call_of_the_sender_runs_outside_a_transaction(
    engine: Engine, fake_slack: FakeSlack, connections: Connections
) -> None:
    later = datetime.now(UTC) + timedelta(minutes=1)
    with session_scope(session_factory(engine)) as session:
        outbox.post(session, team_id="T1", channel_id="C1", key="post", message=text_message("a post"))
        outbox.update(
            session, team_id="T1", key="post:edit", of_key="post", message=text_message("the post, edited")
        )
        outbox.direct_message(session, team_id="T1", user_id="U1", key="dm", message=text_message("a DM"))
        outbox.upload(
            session,
            team_id="T1",
            key="dm:chart",
            of_key="dm",
            content=b"\x89PNG chart",
            filename="chart.png",
            title="Chart",
            alt_text="a chart",
            comment="The chart.",
        )
        outbox.publish_home(session, team_id="T1", user_id="U1", key="home", view=HOME_VIEW)
    assert connections.held == 0
    seen: list[tuple[str, int]] = []
    fake_slack.on_request.append(lambda path: seen.append((path, connections.held)))
    sender = OutboxSender(
        session_factory(engine),
        SingleWorkspaceTokens("xoxb-test"),
        api_url=fake_slack.url,
        clock=lambda: later,
    )
    sender.drain()

    with Session(engine) as session:
        statuses = set(session.scalars(select(OutboxMessage.status)))
    assert statuses == {Status.DELIVERED}
    methods = [path.split("?")[0].rsplit("/", 1)[-1] for path, _ in seen]
    for method in ("chat.postMessage", "chat.update", "conversations.open", "views.publish"):
        assert method in methods
    assert any("upload" in path for path, _ in seen)  # files.upload_v2's upload step
    assert [(path, held) for path, held in seen if held] == []


def test_the_check_sees_a_call_made_inside_a_transaction(
    engine: Engine, fake_slack: FakeSlack, connections: Connections
) -> None:
    seen: list[int] = []
    fake_slack.on_request.append(lambda path: seen.append(connections.held))
    client = WebClient(token="xoxb-test", base_url=fake_slack.url)
    with session_scope(session_factory(engine)) as session:
        session.scalar(select(OutboxMessage.id).limit(1))
        client.chat_postMessage(channel="C1", text="inside")
    client.chat_postMessage(channel="C1", text="outside")
    assert seen == [1, 0]
