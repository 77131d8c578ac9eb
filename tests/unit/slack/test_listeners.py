"""The listener kit: telling the person who acted."""

from __future__ import annotations

import logging

import pytest
from slack_bolt import Respond

from copbot.slack.listeners import answering, tell
from tests.fakes.slack_api import FakeSlack


def test_tell_answers_under_the_message_clicked(fake_slack: FakeSlack) -> None:
    tell(Respond(response_url=fake_slack.response_url("click")), "Done.")
    (answer,) = fake_slack.calls_to("response_url")
    assert answer.params["text"] == "Done." and answer.params["response_type"] == "ephemeral"


def test_a_click_with_no_message_to_answer_under_is_not_an_error(caplog: pytest.LogCaptureFixture) -> None:
    # a click in a modal or on the App Home carries no response_url: Bolt's respond would raise
    with caplog.at_level(logging.INFO), answering(Respond(response_url=None)):
        tell(Respond(response_url=None), "Done.")
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
