"""Block Kit payloads judged by slack-sdk's own model classes, as Slack would judge them.

The fake Slack runs every view and every message's blocks through `slack_sdk.models` (`View(...)`,
`Block.parse(...)`, `validate_json()`), and the test client does the same for what copbot answers in an
ack, so a payload Slack would refuse fails the test that sent it.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

VIEW_METHODS = frozenset({"views.open", "views.push", "views.update", "views.publish"})
MESSAGE_METHODS = frozenset({"chat.postMessage", "chat.update", "chat.postEphemeral", "response_url"})


def problems_in_call(method: str, params: dict[str, Any]) -> list[str]:
    """What Slack would refuse in a Web API call's Block Kit (views and message blocks)."""
    if method in VIEW_METHODS and "view" in params:
        return view_problems(params["view"])
    if method in MESSAGE_METHODS and params.get("blocks") not in (None, "", []):
        return blocks_problems(params["blocks"])
    return []


def view_problems(view: Any) -> list[str]:
    """A modal or Home tab view, checked by `slack_sdk.models.views.View`."""
    if not isinstance(view, dict):
        return [f"view: expected an object, got {type(view).__name__}"]
    try:
        View(**view).validate_json()
    except (SlackObjectFormationError, TypeError, ValueError, KeyError) as error:
        return [f"view: {error}"]
    return blocks_problems(view.get("blocks") or [], where="view.blocks")


def blocks_problems(blocks: Any, *, where: str = "blocks") -> list[str]:
    """Each block parsed by `Block.parse` and validated; unknown block types are refused."""
    if not isinstance(blocks, list):
        return [f"{where}: expected a list, got {type(blocks).__name__}"]
    found = []
    for index, block in enumerate(blocks):
        try:
            parsed = _quietly(Block.parse, block)
            if parsed is None:
                found.append(f"{where}[{index}]: unknown block {block!r:.80}")
                continue
            parsed.validate_json()
        except (SlackObjectFormationError, TypeError, ValueError, KeyError, AttributeError) as error:
            found.append(
                f"{where}[{index}] ({block.get('type') if isinstance(block, dict) else '?'}): {error}"
            )
    return found


def answer_problems(answer: Any) -> list[str]:
    """What copbot answers in an ack: ephemeral blocks, or a `response_action` with a view."""
    if not isinstance(answer, dict):
        return []
    if isinstance(answer.get("view"), dict):
        return view_problems(answer["view"])
    if answer.get("blocks"):
        return blocks_problems(answer["blocks"])
    return []


def _quietly(parse: Any, block: Any) -> Any:
    # Block.parse logs a warning for unknown types; the caller reports them itself.
    logger = logging.getLogger("slack_sdk.models.blocks.blocks")
    previous, logger.disabled = logger.disabled, True
    try:
        return parse(block)
    finally:
        logger.disabled = previous
