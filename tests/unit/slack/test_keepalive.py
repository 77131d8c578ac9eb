"""Web API calls share kept-alive connections, and every failure still reads as slack-sdk's would."""

from __future__ import annotations

import http.client
import urllib.error

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from copbot.db import session_factory, session_scope
from copbot.outbox import service as outbox
from copbot.outbox.models import OutboxMessage, Status
from copbot.outbox.sender import CONNECTION_ERRORS, OutboxSender
from copbot.slack.client import SlackClient, guard
from copbot.tokens import SingleWorkspaceTokens
from tests.fakes.slack_api import FakeSlack
from tests.waiting import wait_until

TOKEN = "xoxb-test"
MODAL = {
    "type": "modal",
    "title": {"type": "plain_text", "text": "Nominate"},
    "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "Who?"}}],
}


def _client(fake: FakeSlack, token: str = TOKEN, timeout: float = 2) -> SlackClient:
    # As the outbox builds its clients: no retry handler may resend a request.
    return SlackClient(token=token, base_url=fake.url, timeout=timeout, retry_handlers=[])  # type: ignore[arg-type]


def test_calls_through_every_client_share_one_connection(fake_slack: FakeSlack) -> None:
    first, second = _client(fake_slack, "xoxb-one"), _client(fake_slack, "xoxb-two")  # the outbox's
    bolt = guard(WebClient(token=TOKEN, base_url=fake_slack.url))  # Bolt's per-request client
    for n in range(10):
        first.chat_postMessage(channel="C1", text=f"post {n}")
        second.users_info(user="U1")
        bolt.views_open(trigger_id=f"t{n}", view=MODAL)
    assert len(fake_slack.calls) == 30
    assert fake_slack.connections_accepted == 1
    assert [call.token for call in fake_slack.calls[:2]] == ["xoxb-one", "xoxb-two"]


def test_a_connection_the_server_closed_while_idle_is_replaced(fake_slack: FakeSlack) -> None:
    fake_slack.idle_timeout = 0.2  # as a server does with an idle keep-alive connection
    client = _client(fake_slack)
    client.auth_test()
    wait_until(lambda: fake_slack.connections_open == 0, "the fake to close the idle connection")
    assert client.chat_postMessage(channel="C1", text="after the close")["ok"]
    assert fake_slack.connections_accepted == 2
    assert [call.outcome for call in fake_slack.calls_to("chat.postMessage")] == ["ok"]  # sent once


def test_a_dropped_connection_and_a_timeout_are_connection_errors_and_nothing_is_resent(
    fake_slack: FakeSlack,
) -> None:
    client = _client(fake_slack, timeout=0.3)
    client.auth_test()  # the next calls go out on a kept-alive connection
    fake_slack.fail_next("chat.postMessage", drop=True)
    with pytest.raises(CONNECTION_ERRORS) as dropped:
        client.chat_postMessage(channel="C1", text="dropped")
    assert isinstance(dropped.value, http.client.RemoteDisconnected)  # what urllib raises
    fake_slack.delays["chat.postMessage"] = 1.0
    with pytest.raises(CONNECTION_ERRORS) as late:
        client.chat_postMessage(channel="C1", text="late")
    assert isinstance(late.value, TimeoutError)
    fake_slack.wait_for("chat.postMessage", 2)  # recorded once answered, after the client gave up
    assert [call.outcome for call in fake_slack.calls_to("chat.postMessage")] == ["dropped", "ok"]


def test_a_refused_connection_is_a_urllib_error(fake_slack: FakeSlack) -> None:
    client = _client(fake_slack)
    fake_slack.stop()
    with pytest.raises(urllib.error.URLError):
        client.auth_test()


def test_error_answers_are_slack_sdks(fake_slack: FakeSlack) -> None:
    client = _client(fake_slack)
    fake_slack.fail_next("chat.postMessage", status=429, retry_after=7)
    with pytest.raises(SlackApiError) as limited:
        client.chat_postMessage(channel="C1", text="x")
    assert limited.value.response.status_code == 429
    assert limited.value.response.headers["retry-after"] == "7"
    fake_slack.fail_next("chat.postMessage", error="channel_not_found")
    with pytest.raises(SlackApiError) as refused:
        client.chat_postMessage(channel="C1", text="x")
    assert refused.value.response["error"] == "channel_not_found"
    assert fake_slack.connections_accepted == 1  # error answers keep the connection too


def test_the_outbox_keeps_a_post_dropped_on_a_kept_alive_connection_uncertain(
    engine: Engine, fake_slack: FakeSlack
) -> None:
    sender = OutboxSender(session_factory(engine), SingleWorkspaceTokens(TOKEN), api_url=fake_slack.url)
    _enqueue(engine, "k1")
    assert sender.deliver_due().delivered == 1
    _enqueue(engine, "k2")
    fake_slack.fail_next("chat.postMessage", drop=True)  # on the connection k1 went out on
    assert sender.deliver_due().retried == 1
    with Session(engine) as session:
        row = session.scalars(select(OutboxMessage).where(OutboxMessage.key == "k2")).one()
    assert (row.status, row.last_error) == (Status.UNCERTAIN, "connection: RemoteDisconnected")
    assert [call.outcome for call in fake_slack.calls_to("chat.postMessage")] == ["ok", "dropped"]
    assert fake_slack.connections_accepted == 1


def _enqueue(engine: Engine, key: str) -> None:
    with session_scope(session_factory(engine)) as session:
        outbox.enqueue(
            session, team_id="T1", key=key, kind=outbox.Kind.POST, channel_id="C1", payload={"text": key}
        )
