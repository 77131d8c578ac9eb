"""Malformed requests get a 4xx, one log line and no effect; a non-integer signature timestamp gets 401."""

from __future__ import annotations

import json
import logging
import time
from urllib.parse import urlencode

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from copbot.db import Base
from copbot.inbox.models import ProcessedEvent
from tests.conftest import SIGNING_SECRET
from tests.fakes.slack_api import FakeSlack
from tests.fakes.slack_client import FORM, JSON, SlackSender, signature

pytestmark = pytest.mark.e2e


def _form(payload: object) -> bytes:
    return urlencode({"payload": json.dumps(payload)}).encode()


MALFORMED = {
    "not-utf8-form": (b"payload=\xff\xfe%7B%7D", FORM),
    "not-utf8-json": (b'{"type": "event_callback", "x": "\xff"}', JSON),
    "payload-not-json": (b"payload=%7Bnot+json", FORM),
    "payload-a-list": (_form([1, 2]), FORM),
    "payload-a-string": (_form("hello"), FORM),
    "payload-null": (_form(None), FORM),
    "events-list": (b"[]", JSON),
    "events-null": (b"null", JSON),
    "events-not-json": (b"{", JSON),
    "event-callback-without-event": (json.dumps({"type": "event_callback", "team_id": "T1"}).encode(), JSON),
    "block-actions-without-actions": (
        _form({"type": "block_actions", "team": {"id": "T1"}, "user": {"id": "U1"}}),
        FORM,
    ),
    "block-actions-empty-actions": (
        _form({"type": "block_actions", "team": {"id": "T1"}, "user": {"id": "U1"}, "actions": []}),
        FORM,
    ),
    "view-submission-without-view": (
        _form({"type": "view_submission", "team": {"id": "T1"}, "user": {"id": "U1"}}),
        FORM,
    ),
}


def _rows(engine: Engine) -> int:
    with Session(engine) as session:
        return sum(session.scalar(select(func.count()).select_from(t)) for t in Base.metadata.sorted_tables)


@pytest.mark.parametrize("name", list(MALFORMED))
def test_malformed_signed_requests_get_400_and_store_nothing(
    name: str, slack: SlackSender, engine: Engine, fake_slack: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    body, content_type = MALFORMED[name]
    caplog.set_level(logging.INFO)
    response = slack.post_signed(body, content_type)
    assert response.status_code == 400
    time.sleep(0.05)
    assert _rows(engine) == 0 and fake_slack.calls == []
    refused = [r for r in caplog.records if r.name == "copbot.requests" and "refused" in r.getMessage()]
    assert len(refused) == 1 and refused[0].levelno == logging.WARNING
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]


@pytest.mark.parametrize("timestamp", ["abc", "1.5", "", "-5", "1e9", "0x10"])
def test_a_signature_timestamp_that_is_not_an_integer_gets_401(
    timestamp: str, slack: SlackSender, engine: Engine
) -> None:
    body = json.dumps(
        {"type": "event_callback", "event_id": "Ev1", "event": {"type": "app_mention"}}
    ).encode()
    headers = {
        "Content-Type": JSON,
        "X-Slack-Request-Timestamp": timestamp,
        # signed over the same text, as a forger replaying a signature with a mangled timestamp would
        "X-Slack-Signature": signature(SIGNING_SECRET, int(time.time()), body),
    }
    assert slack.post_raw(body, headers).status_code == 401
    assert _rows(engine) == 0


def test_a_malformed_body_without_a_valid_signature_is_401_not_400(slack: SlackSender) -> None:
    assert slack.post_signed(b"[]", JSON, bad_signature=True).status_code == 401
    assert slack.post_signed(b"payload=\xff", FORM, unsigned=True).status_code == 401


def test_well_formed_requests_still_pass(slack: SlackSender, engine: Engine) -> None:
    assert slack.command("/cop", "help").status_code == 200
    assert slack.event({"type": "emoji_changed", "subtype": "add"}, event_id="EvOk").status_code == 200
    with Session(engine) as session:
        assert session.scalar(select(func.count()).select_from(ProcessedEvent)) == 1
