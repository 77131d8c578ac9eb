"""Replays every Slack-shaped request in tests/fixtures/slack through the real HTTP server (OAuth mode).

Three organisations: copbot installed in workspace T0HOME, org-wide in Grid org E0ORG (workspace T0WORK),
and a Slack Connect partner T0OTHER where it is not installed. Each fixture must get its status (or
response), touch only its own workspace (rows, and the token of every Web API call it causes) and log no
error.
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from slack_sdk.oauth.installation_store import Installation
from sqlalchemy import Engine, and_, select
from sqlalchemy.orm import Session

import copbot.models  # noqa: F401 (every table, for the expectations)
from copbot.db import Base
from copbot.runtime import Runtime
from tests.conftest import SIGNING_SECRET, ServerThread
from tests.e2e.test_oauth_workspaces import oauth_runtime, oauth_server  # noqa: F401 (fixtures)
from tests.fakes.slack_api import Call, FakeSlack
from tests.fakes.slack_client import FORM, JSON, SlackSender
from tests.waiting import wait_until

pytestmark = pytest.mark.e2e

FIXTURES = sorted((Path(__file__).parents[1] / "fixtures" / "slack").glob("*.json"))
TOKENS = {"T0HOME": "xoxb-home", "T0WORK": "xoxb-org"}  # T0WORK is served by the org-wide install


def _install(runtime: Runtime, fake: FakeSlack) -> None:
    store = runtime.installations.store
    home = Installation(
        app_id="A0COPBOT", team_id="T0HOME", team_name="Home", bot_token="xoxb-home", bot_id="B0COPBOT",
        bot_user_id="U0COPBOT", user_id="U0HOMEANN",
    )  # fmt: skip
    org = Installation(
        app_id="A0COPBOT", enterprise_id="E0ORG", enterprise_name="Org Corp", team_id=None,
        bot_token="xoxb-org", bot_id="B0COPBOT", bot_user_id="W0COPBOT", user_id="W0ADMIN",
        is_enterprise_install=True,
    )  # fmt: skip
    store.save(home)
    store.save(org)
    fake.tokens.update({"xoxb-home": "T0HOME", "xoxb-org": "E0ORG"})
    fake.strict_tokens = True


def _preload(fake: FakeSlack, state: dict[str, Any]) -> None:
    for key, messages in state.get("threads", {}).items():
        channel, ts = key.split()
        fake.threads[(channel, ts)] = messages
    for user in state.get("users", []):
        fake.add_user(user["id"], team_id=user["team_id"])
    fake.mpim_channels.update(state.get("mpim_channels", []))


def _send(slack: SlackSender, fixture: dict[str, Any], response_url: str) -> Any:
    body = json.loads(json.dumps(fixture["body"]).replace("RESPONSE_URL", response_url))
    if fixture["transport"] == "events":
        return slack.post_signed(json.dumps(body).encode(), JSON)
    if fixture["transport"] == "command":
        return slack.post_signed(urlencode(body).encode(), FORM)
    return slack.post_signed(urlencode({"payload": json.dumps(body)}).encode(), FORM)


def _rows(engine: Engine, table_name: str, where: dict[str, Any]) -> list[Any]:
    table = Base.metadata.tables[table_name]
    conditions = [table.c[k] == v for k, v in where.items() if k != "processed"]
    if where.get("processed"):
        conditions.append(table.c.processed_at.is_not(None))
    with Session(engine) as session:
        return list(session.execute(select(table).where(and_(*conditions))).all())


def _check(
    name: str, fixture: dict[str, Any], response: Any, engine: Engine, fake: FakeSlack, since: int
) -> None:
    expect = fixture["expect"]
    assert response.status_code == expect["status"], f"{name}: HTTP {response.status_code} {response.text}"
    if "options_include" in expect:
        assert expect["options_include"] in response.text, f"{name}: {response.text}"
    for method in expect.get("web_api", []):
        wait_until(
            lambda m=method: any(c.method == m for c in fake.calls[since:]), f"{name}: no {method} call"
        )
    for table, where in expect.get("rows", []):
        wait_until(lambda t=table, w=where: _rows(engine, t, w), f"{name}: no {table} row {where}")
    for table, where in expect.get("no_rows", []):
        assert not _rows(engine, table, where), f"{name}: unexpected {table} row {where}"


def _wrong_calls(calls: list[Call], token: str) -> list[str]:
    """Calls made with another workspace's token, or refused by Slack."""
    return [
        f"{c.method} token={c.token} outcome={c.outcome}"
        for c in calls
        if c.method not in ("response_url",) and (c.token != token or c.outcome != "ok")
    ]


def test_every_fixture_replays_through_the_real_server(
    oauth_runtime: Runtime,  # noqa: F811
    oauth_server: ServerThread,  # noqa: F811
    fake_slack: FakeSlack,
    engine: Engine,
    caplog: pytest.LogCaptureFixture,
) -> None:
    assert len(FIXTURES) >= 12
    _install(oauth_runtime, fake_slack)
    slack = SlackSender(oauth_server.url, SIGNING_SECRET)
    caplog.set_level(logging.INFO)
    for path in FIXTURES:
        fixture = json.loads(path.read_text(encoding="utf-8"))
        assert fixture["surface"] and fixture["shaped_after"], f"{path.name} must say what it stands for"
        _preload(fake_slack, fixture.get("slack_state", {}))
        since = len(fake_slack.calls)
        response = _send(slack, fixture, fake_slack.response_url(path.stem))
        _check(path.stem, fixture, response, engine, fake_slack, since)
        time.sleep(0.1)  # let the fixture's after-ack work finish before the next one starts
        wrong = _wrong_calls(fake_slack.calls[since:], TOKENS[fixture["expect"]["workspace"]])
        assert not wrong, f"{path.stem}: {wrong}"
    since = len(fake_slack.calls)
    oauth_runtime.sender.drain()  # what the fixtures owe Slack: announcements, welcome DMs, Home tabs
    delivered = fake_slack.calls[since:]
    assert {c.token for c in delivered} <= set(TOKENS.values()) and all(c.outcome == "ok" for c in delivered)
    assert any(c.method == "views.publish" and c.token == "xoxb-org" for c in delivered)  # the org's Home tab
    assert any(c.method == "chat.postMessage" and c.params.get("channel") == "DU0PARTNER2" for c in delivered)
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    assert not errors, [r.getMessage() for r in errors]
