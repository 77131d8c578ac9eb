"""A message's payload: its notification text and its blocks, checked against Slack's limits."""

from __future__ import annotations

from typing import Any, NotRequired, TypedDict

from copbot.blockkit.limits import check


class Message(TypedDict):
    """What `chat.postMessage`, `respond` and the outbox take: `text` (notifications, screen readers)
    and `blocks`."""

    text: str
    blocks: list[dict[str, Any]]
    response_type: NotRequired[str]


def message(text: str, blocks: list[dict[str, Any]]) -> Message:
    """A message, checked against Slack's limits (raises BlockKitLimitError naming each one broken)."""
    check({"text": text, "blocks": blocks}, surface="message")
    return {"text": text, "blocks": blocks}


def text_message(text: str) -> Message:
    """A message of text alone (mrkdwn), without blocks."""
    return {"text": text, "blocks": []}
