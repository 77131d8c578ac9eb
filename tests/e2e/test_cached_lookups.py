"""Cached lookups through the real server: a repeated request reads no community, and a lead's edit of
the community or its settings is seen by the very next request."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest
from sqlalchemy import event

from copbot import lookups
from copbot.runtime import Runtime
from tests.fakes.slack_api import FakeSlack
from tests.fakes.slack_client import SlackSender, external, plain

pytestmark = pytest.mark.e2e


def _setup(slack: SlackSender, name: str) -> None:
    values = {
        "name": {"name_input": plain(name)},
        "purpose": {"purpose_input": plain("Learn from every incident we run.")},
        "learning_goals": {"learning_goals_input": plain(None)},
        "boundaries": {"boundaries_input": plain(None)},
        "norms": {"norms_input": plain(None)},
        "timezone": {"timezone_select": external("Europe/Berlin")},
    }
    meta = json.dumps({"channel_id": "C1"})
    assert slack.view_submission("community_setup", values, private_metadata=meta).status_code == 200


@pytest.fixture
def statements(runtime: Runtime) -> Iterator[list[str]]:
    seen: list[str] = []
    event.listen(runtime.engine, "before_cursor_execute", lambda *a: seen.append(a[2]))
    yield seen


def _settled(runtime: Runtime, before: int) -> None:
    """On PostgreSQL, wait for a write's own NOTIFY (a later second eviction) before counting reads."""
    if runtime.engine.dialect.name != "postgresql":
        return
    cache = lookups.cache_for(runtime.engine)
    deadline = time.monotonic() + 5
    while cache.generation < before + 2 and time.monotonic() < deadline:
        time.sleep(0.01)


def test_an_edit_of_the_community_and_its_settings_is_seen_at_once(
    slack: SlackSender, fake_slack: FakeSlack, runtime: Runtime, statements: list[str]
) -> None:
    cache = lookups.cache_for(runtime.engine)
    before = cache.generation
    _setup(slack, "Incident Guild")
    _settled(runtime, before)
    assert "*Incident Guild*" in slack.command("/cop", "values").json()["text"]
    statements.clear()
    assert "*Incident Guild*" in slack.command("/cop", "values").json()["text"]
    assert not [s for s in statements if "FROM communities" in s or "FROM recognition_settings" in s]

    _setup(slack, "Reliability Guild")  # the lead edits the set-up
    assert "*Reliability Guild*" in slack.command("/cop", "values").json()["text"]
    slack.command("/cop", "values set Speed, Care")
    assert "*Speed*, *Care*" in slack.command("/cop", "values").json()["text"]
    assert "2 nominations" in slack.command("/cop", "recognition limit 2").json()["text"]
    assert "2 nominations" in slack.command("/cop", "recognition").json()["text"]
