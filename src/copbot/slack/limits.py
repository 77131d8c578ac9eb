"""Length caps on everything a person can type, checked at the edge before any listener (or SQL) runs.

Slack itself keeps modal fields to 3000 characters and button values to 2000, but a request can carry
anything: a 50 KB type-ahead query once made SQLite give up ("LIKE or GLOB pattern too complex"). Over
a cap, the person is answered where they typed: an ephemeral reply to a command, a field error in a
modal; a type-ahead query is cut to its cap (the first 100 characters find what the rest would).
A slash command without its team, user or channel, or a modal whose private metadata is not the JSON
copbot put there, did not come from Slack as it is: refused with a 400 before any listener runs.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from typing import Any

from slack_bolt import BoltRequest, BoltResponse

log = logging.getLogger(__name__)

COMMAND_TEXT_MAX = 3000
SUGGESTION_MAX = 100
FIELD_MAX = 3000
ACTION_VALUE_MAX = 2000
COMMAND_IDS = ("command", "team_id", "user_id", "channel_id")


def too_long_fields(state_values: dict[str, Any]) -> dict[str, str]:
    """Field errors for every modal input over `FIELD_MAX` characters, by block id."""
    return {
        block_id: f"This is {length:,} characters long: keep it under {FIELD_MAX:,}."
        for block_id, length in _field_lengths(state_values)
        if length > FIELD_MAX
    }


def _field_lengths(state_values: dict[str, Any]) -> Iterator[tuple[str, int]]:
    if not isinstance(state_values, dict):
        return
    for block_id, actions in state_values.items():
        for action in (actions or {}).values() if isinstance(actions, dict) else ():
            value = action.get("value") if isinstance(action, dict) else None
            if isinstance(value, str):
                yield block_id, len(value)


def _metadata_is_json(metadata: object) -> bool:
    """copbot's modals carry JSON (or nothing) in `private_metadata`; Slack echoes it untouched."""
    if metadata in (None, ""):
        return True
    try:
        json.loads(str(metadata))
    except ValueError:
        return False
    return True


def _ephemeral(text: str) -> BoltResponse:
    body = json.dumps({"response_type": "ephemeral", "text": text})
    return BoltResponse(status=200, body=body, headers={"content-type": "application/json;charset=utf-8"})


def _field_errors(errors: dict[str, str]) -> BoltResponse:
    body = json.dumps({"response_action": "errors", "errors": errors})
    return BoltResponse(status=200, body=body, headers={"content-type": "application/json;charset=utf-8"})


def input_limits_middleware() -> Callable[..., BoltResponse | None]:
    """Build the global middleware that enforces the caps."""

    def enforce(req: BoltRequest, resp: BoltResponse, next: Callable[[], None]) -> BoltResponse | None:
        body = req.body
        kind = body.get("type")
        if "command" in body:
            if not all(isinstance(body.get(name), str) for name in COMMAND_IDS):
                log.warning("refused a slash command without its team, user or channel")
                return BoltResponse(status=400, body="malformed request")
            text = body.get("text")
            if not isinstance(text, str | None) or len(text or "") > COMMAND_TEXT_MAX:
                log.info("command %s: text over %d characters refused", body.get("command"), COMMAND_TEXT_MAX)
                return _ephemeral(
                    f":warning: That is too long for `{str(body.get('command'))[:40]}`: keep it under "
                    f"{COMMAND_TEXT_MAX:,} characters (the form that opens has room for longer text)."
                )
        elif kind == "block_suggestion":
            value = body.get("value")
            if isinstance(value, str) and len(value) > SUGGESTION_MAX:
                body["value"] = value[:SUGGESTION_MAX]
        elif kind == "view_submission":
            if not _metadata_is_json(body.get("view", {}).get("private_metadata")):
                log.warning("refused a modal submission whose private_metadata is not ours")
                return BoltResponse(status=400, body="malformed request")
            errors = too_long_fields(body.get("view", {}).get("state", {}).get("values", {}))
            if errors:
                return _field_errors(errors)
        elif kind == "block_actions":
            actions = body.get("actions") or []
            if any(len(str(a.get("value") or "")) > ACTION_VALUE_MAX for a in actions if isinstance(a, dict)):
                log.info("block_actions with a value over %d characters ignored", ACTION_VALUE_MAX)
                return BoltResponse(status=200, body="")
        next()
        return None

    return enforce
