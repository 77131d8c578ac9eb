"""Block Kit's building blocks as pure functions: text objects, blocks and interactive elements.

Section and context text is cut to Slack's limit (3,000 characters), headers to 150, button and option
labels to 75, so a long user-provided title shortens instead of failing a whole message. Text given to
`section`, `context` and `fields` is mrkdwn: escape user text before (see `blockkit.text.escape`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from copbot.blockkit.limits import LIMITS
from copbot.blockkit.text import truncate

Block = dict[str, Any]
Style = Literal["primary", "danger"]


def plain(text: str) -> Block:
    """A plain_text object (shown as typed; emoji codes render)."""
    return {"type": "plain_text", "text": text, "emoji": True}


def mrkdwn(text: str) -> Block:
    """A mrkdwn text object."""
    return {"type": "mrkdwn", "text": text}


def section(text: str, *, block_id: str | None = None, accessory: Block | None = None) -> Block:
    """A section of mrkdwn text, with an optional accessory element."""
    block: Block = {"type": "section", "text": mrkdwn(truncate(text, LIMITS.section_text))}
    if block_id:
        block["block_id"] = block_id
    if accessory is not None:
        block["accessory"] = accessory
    return block


def fields(pairs: Sequence[tuple[str, str]]) -> Block:
    """A section of label/value fields, two columns wide (at most ten)."""
    cells = [mrkdwn(truncate(f"*{label}*\n{value}", LIMITS.section_field_text)) for label, value in pairs]
    return {"type": "section", "fields": cells[: LIMITS.section_fields]}


def context(text: str) -> Block:
    """A context block: one line of small mrkdwn text."""
    return {"type": "context", "elements": [mrkdwn(truncate(text, LIMITS.section_text))]}


def header(text: str) -> Block:
    """A header block."""
    return {"type": "header", "text": plain(truncate(text, LIMITS.header_text))}


def divider() -> Block:
    """A divider block."""
    return {"type": "divider"}


def button(text: str, action_id: str, value: str, *, style: Style | None = None) -> Block:
    """A button element (`style` primary or danger)."""
    element: Block = {
        "type": "button",
        "text": plain(truncate(text, LIMITS.button_text)),
        "action_id": action_id,
        "value": value,
    }
    if style:
        element["style"] = style
    return element


def actions(*elements: Block, block_id: str | None = None) -> Block:
    """An actions block of buttons and menus."""
    block: Block = {"type": "actions", "elements": list(elements)}
    if block_id:
        block["block_id"] = block_id
    return block


def option(text: str, value: str) -> Block:
    """An option of a select menu (its label cut to 75 characters)."""
    return {"text": plain(truncate(text, LIMITS.option_text)), "value": value}
