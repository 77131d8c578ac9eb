"""No Web API call while this thread holds SQLite's write lock: tests fail on one, production logs it."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, select

from copbot.communities.models import Workspace
from copbot.db import holds_sqlite_write_lock, session_factory, session_scope
from copbot.slack import client as slack_client
from copbot.slack.client import SlackCallUnderWriteLock, SlackClient
from tests.fakes.slack_api import FakeSlack


def test_a_slack_call_inside_a_sqlite_write_transaction_is_refused(
    engine: Engine, fake_slack: FakeSlack
) -> None:
    if engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL has no database-wide write lock")
    client = SlackClient(token="xoxb-test", base_url=fake_slack.url)
    with session_scope(session_factory(engine)) as session:
        session.scalars(select(Workspace)).all()
        assert not holds_sqlite_write_lock()
        client.auth_test()  # a read transaction blocks no writer
        session.add(Workspace(team_id="T1", name="One"))
        session.flush()
        assert holds_sqlite_write_lock()
        before = slack_client.violations
        with pytest.raises(SlackCallUnderWriteLock):
            client.users_info(user="U1")
        assert slack_client.violations == before + 1
    assert not holds_sqlite_write_lock()
    client.users_info(user="U1")  # after the commit: fine
    assert [c.method for c in fake_slack.calls_to("users.info")] == ["users.info"]


def test_outside_tests_the_call_goes_ahead_and_is_logged(
    engine: Engine, fake_slack: FakeSlack, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    if engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL has no database-wide write lock")
    monkeypatch.setattr(slack_client, "STRICT", False)
    client = SlackClient(token="xoxb-test", base_url=fake_slack.url)
    with session_scope(session_factory(engine)) as session:
        session.add(Workspace(team_id="T1", name="One"))
        session.flush()
        client.users_info(user="U1")
    assert "users.info called inside a SQLite write transaction" in caplog.text
    assert len(fake_slack.calls_to("users.info")) == 1
