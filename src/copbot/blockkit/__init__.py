"""Pure Block Kit: text (escaping, mentions, truncation), Slack's limits, elements and the Message type.

Nothing here imports Slack's SDK, Bolt or copbot's features: builders in each feature's `blocks.py`
compose these functions, and tests check their output against the limits.
"""

from copbot.blockkit.elements import (
    Block,
    actions,
    button,
    context,
    divider,
    fields,
    header,
    mrkdwn,
    option,
    plain,
    section,
)
from copbot.blockkit.limits import LIMITS, BlockKitLimitError, Limits, Surface, check, violations
from copbot.blockkit.message import Message, message, text_message
from copbot.blockkit.text import channel_link, escape, link, local_time, mention, plural, truncate

__all__ = [
    "LIMITS",
    "Block",
    "BlockKitLimitError",
    "Limits",
    "Message",
    "Surface",
    "actions",
    "button",
    "channel_link",
    "check",
    "context",
    "divider",
    "escape",
    "fields",
    "header",
    "link",
    "local_time",
    "mention",
    "message",
    "mrkdwn",
    "option",
    "plain",
    "plural",
    "section",
    "text_message",
    "truncate",
    "violations",
]
