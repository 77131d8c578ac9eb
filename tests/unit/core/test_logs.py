"""Logs never carry secrets: tokens are masked wherever they appear, even in slack_sdk's DEBUG lines."""

from __future__ import annotations

import io
import logging

import pytest

from copbot import logs


@pytest.fixture
def captured():
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    logs.configure(logging.DEBUG, "the-signing-secret")
    buffer = io.StringIO()
    root.handlers[0].setStream(buffer)  # copbot's own handler, writing here instead of stderr
    yield buffer.getvalue
    root.handlers[:], root.level = saved


def test_tokens_and_secrets_are_masked(captured) -> None:
    log = logging.getLogger("slack_sdk.web.base_client")
    log.debug("Sending a request - headers: {'Authorization': '(redacted)'} token=%s", "xoxb-123-456-abcDEF")
    log.info("app token xapp-1-A1-999-zzz and refresh xoxe-1-abc, secret the-signing-secret")
    output = captured()
    assert "xoxb-123" not in output and "abcDEF" not in output
    assert "xapp-1-A1" not in output and "xoxe-1-abc" not in output
    assert "the-signing-secret" not in output
    assert "xoxb-***" in output and "xapp-***" in output


def test_ordinary_lines_are_untouched(captured) -> None:
    logging.getLogger("copbot").info("outbox %s delivered", "digest:1")
    assert "outbox digest:1 delivered" in captured()
