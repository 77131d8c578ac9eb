"""After-ack work end to end: what the ack refused starts nothing; modals run in the view lane."""

from __future__ import annotations

import pytest

from copbot.runtime import Runtime
from tests.fakes.slack_api import FakeSlack
from tests.fakes.slack_client import SlackSender

pytestmark = pytest.mark.e2e


def test_a_refused_nominate_starts_no_lookup_and_no_modal(
    slack: SlackSender, fake_slack: FakeSlack, runtime: Runtime
) -> None:
    reply = slack.command("/nominate", "<@U2|ada> <@U3|grace>", channel_id="C9").json()
    assert "/cop setup" in reply["text"]
    runtime.app.listener_runner.lazy_listener_runner.shutdown()  # wait for any after-ack work
    assert fake_slack.calls_to("users.info") == [] and fake_slack.calls_to("views.open") == []


def test_a_refused_cop_subcommand_starts_no_after_ack_work(
    slack: SlackSender, fake_slack: FakeSlack, runtime: Runtime
) -> None:
    url = fake_slack.response_url()
    reply = slack.command("/cop", "export", channel_id="C9", response_url=url).json()  # no community here
    assert reply["response_type"] == "ephemeral" and "/cop setup" in reply["text"]
    runtime.app.listener_runner.lazy_listener_runner.shutdown()
    assert fake_slack.calls_to("response_url") == []


def test_modal_work_is_routed_to_the_view_lane(runtime: Runtime) -> None:
    runner = runtime.app.listener_runner.lazy_listener_runner
    by_command = {}
    for listener in runtime.app._listeners:  # which lane each command's after-ack work takes
        for function in listener.lazy_functions:
            by_command.setdefault(function.__name__, runner.lane_for(function).name)
    assert by_command["open_from_command"] == "views"  # /nominate and /postmortem
    assert by_command["after_ack_view"] == "views"  # /cop setup, playbook new, schedule, ask
    assert by_command["after_ack"] == "background"  # /cop stats, export
    assert by_command["process_app_home_opened"] == "background"
