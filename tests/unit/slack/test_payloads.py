"""The payload models, on the bodies Slack sends (tests/fixtures/slack/, shaped after Slack's SDK suites)."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import pytest

from copbot.features import FEATURES
from copbot.slack.payloads import (
    AppHomeOpenedEvent,
    BlockActions,
    BlockSuggestion,
    FunctionExecutedEvent,
    MalformedPayload,
    MemberJoinedChannelEvent,
    MessageShortcut,
    ReactionAddedEvent,
    ViewSubmission,
)

FIXTURES = Path(__file__).parents[2] / "fixtures" / "slack"


def _fixture(name: str) -> dict[str, Any]:
    body: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text())["body"]
    return body


def test_view_submission_in_slack_connect_is_the_installed_workspace() -> None:
    body = _fixture("01_view_submission_setup_in_slack_connect")
    body["view"]["app_installed_team_id"] = "T0HOME"
    submission = ViewSubmission.parse(body)
    assert submission.team_id == "T0HOME" and submission.user_id == "U0PARTNER"
    assert submission.team_domain is None  # the payload's domain is the partner's
    assert submission.view.callback_id == "community_setup"
    assert submission.view.metadata == {"channel_id": "C0HOME"}
    assert submission.view.values["name"]["name_input"]["value"] == "Shared Incident Guild"


def test_org_wide_block_action_with_team_null() -> None:
    click = BlockActions.parse(_fixture("04_block_actions_join_org_wide_team_null"))
    assert (click.team_id, click.user_id, click.channel_id) == ("T0WORK", "W0ORGDAN", "C0ORG")
    assert (click.action.action_id, click.action.value) == ("join_community", "1")
    assert click.action.action_ts == "1606810830.123456"
    assert click.response_url == "RESPONSE_URL" and click.view is None
    assert click.message is not None and click.message.person is None  # a bot's message


def test_block_suggestion_reads_what_was_typed() -> None:
    suggestion = BlockSuggestion.parse(_fixture("05_block_suggestion_timezone_org_wide"))
    assert (suggestion.team_id, suggestion.value, suggestion.action_id) == (
        "T0WORK",
        "berl",
        "timezone_select",
    )


def test_message_shortcuts_read_the_thread_root_and_the_author() -> None:
    broadcast = MessageShortcut.parse(_fixture("07_message_action_capture_thread_broadcast_in_slack_connect"))
    assert broadcast.message.root_ts == "1633663824.000500" and broadcast.message.person == "U0PARTNER"
    assert broadcast.team_domain == "home-co" and broadcast.trigger_id == "111.222.broadcast"
    bot = MessageShortcut.parse(_fixture("08_message_action_recognize_a_bot_message"))
    assert bot.message.person is None
    group = MessageShortcut.parse(_fixture("09_message_action_capture_in_a_group_dm"))
    assert group.message.root_ts == group.message.ts == "1700000000.000100"
    assert group.channel_id == "G0MPIM"


def test_events_read_their_envelope_and_event() -> None:
    joined = MemberJoinedChannelEvent.parse(_fixture("10_event_member_joined_channel_in_slack_connect"))
    assert (joined.team_id, joined.event.user, joined.event.channel) == ("T0HOME", "U0PARTNER2", "C0HOME")
    reaction = ReactionAddedEvent.parse(_fixture("11_event_reaction_added_in_slack_connect"))
    assert reaction.event.item.type == "message" and reaction.event.item_user == "U0HOMEANN"
    assert reaction.bot_user_ids == {"U0COPBOT"} and reaction.event_id == "Ev0CONNECTREACT"
    home = AppHomeOpenedEvent.parse(_fixture("12_event_app_home_opened_org_wide"))
    assert (home.team_id, home.event.user, home.event.tab) == ("T0WORK", "W0ORGBOB", "home")


def test_function_executed_falls_back_to_the_function_workspace() -> None:
    # shaped after bolt-python tests/scenario_tests/test_function.py (function_executed)
    body = {
        "token": "verification_token",
        "enterprise_id": None,
        "team_id": None,
        "api_app_id": "A0COPBOT",
        "event": {
            "type": "function_executed",
            "function": {"id": "Fn1", "callback_id": "recognise", "title": "Recognise", "team_id": "T0HOME"},
            "inputs": None,
            "function_execution_id": "Fx1",
            "workflow_execution_id": "Wx1",
            "event_ts": "1698958075.998738",
            "bot_access_token": "xwfp-valid",
        },
        "type": "event_callback",
        "event_id": "Ev1",
        "event_time": 1698958075,
    }
    payload = FunctionExecutedEvent.parse(body)
    assert payload.event.function.callback_id == "recognise" and payload.event.inputs == {}
    assert payload.event.function.team_id == "T0HOME"


def test_nulls_count_as_absent() -> None:
    body = _fixture("04_block_actions_join_org_wide_team_null")
    body["actions"][0]["value"] = None
    body["view"] = None
    click = BlockActions.parse(body)
    assert click.action.value == "" and click.view is None


def test_private_metadata_that_is_not_an_object_reads_as_empty() -> None:
    body = _fixture("02_view_submission_setup_org_wide_team_null")
    for metadata in ("not json", "[1, 2]", ""):
        body["view"]["private_metadata"] = metadata
        assert ViewSubmission.parse(body).view.metadata == {}


@pytest.mark.parametrize(
    ("model", "fixture", "break_it"),
    [
        (BlockActions, "04_block_actions_join_org_wide_team_null", lambda b: b.update(actions=[])),
        (BlockActions, "04_block_actions_join_org_wide_team_null", lambda b: b.pop("user")),
        (
            BlockActions,
            "04_block_actions_join_org_wide_team_null",
            lambda b: b["actions"][0].pop("action_id"),
        ),
        (ViewSubmission, "02_view_submission_setup_org_wide_team_null", lambda b: b.update(view="V1")),
        (ViewSubmission, "02_view_submission_setup_org_wide_team_null", lambda b: b["user"].pop("id")),
        (MessageShortcut, "09_message_action_capture_in_a_group_dm", lambda b: b.pop("channel")),
        (ReactionAddedEvent, "11_event_reaction_added_in_slack_connect", lambda b: b.update(event=[])),
    ],
)
def test_a_body_without_what_the_listener_needs_is_malformed(
    model: type[Any], fixture: str, break_it: Any, caplog: pytest.LogCaptureFixture
) -> None:
    body = _fixture(fixture)
    break_it(body)
    with pytest.raises(MalformedPayload) as raised:
        model.parse(body)
    assert "could not read" in str(raised.value)
    logged = [r.getMessage() for r in caplog.records if r.name == "copbot.slack.payloads"]
    assert len(logged) == 1 and "W0ORG" not in logged[0] and "Lessons" not in logged[0]  # never the body


def test_a_body_that_is_not_an_object_is_malformed() -> None:
    with pytest.raises(MalformedPayload):
        BlockActions.parse(["not", "a", "body"])


def test_no_feature_reads_a_raw_payload() -> None:
    """Features read Slack's bodies through the payload models: no `body[...]`, `body.get(...)` (or
    `payload[...]`) in any module of any registered feature."""
    raw = re.compile(r"(?<![.\w])(body|payload)(\[|\.get\()")
    offenders = []
    for feature in FEATURES:
        package = Path(sys.modules[feature.register.__module__].__file__ or "").parent
        for path in sorted(package.rglob("*.py")):
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if raw.search(line):
                    offenders.append(f"{package.name}/{path.name}:{number}: {line.strip()}")
    assert offenders == []
