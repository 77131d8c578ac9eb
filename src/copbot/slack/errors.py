"""One error handler: domain errors become a clear message; the unexpected is logged with an id."""

from __future__ import annotations

import json
import logging
import uuid
from typing import Any

from slack_bolt import BoltResponse
from slack_bolt.error import BoltUnhandledRequestError

from copbot.db import is_over_budget
from copbot.errors import CopbotError, InvalidInput

log = logging.getLogger(__name__)

BUSY = ":hourglass_flowing_sand: copbot is busy right now and saved nothing. Please try again in a moment."


def user_message(error: Exception) -> str:
    """Words for the person who acted; unexpected errors get an id they can quote to an operator."""
    if isinstance(error, CopbotError):
        return str(error)
    error_id = uuid.uuid4().hex[:8]
    log.error("unexpected error %s", error_id, exc_info=error)
    return f":warning: Something went wrong on our side. If it happens again, quote error id `{error_id}`."


def handle_error(error: Exception, body: dict[str, Any], response: BoltResponse | None) -> None:
    """Turn a listener's exception into the answer Slack shows, in place of a bare 500."""
    if response is None or isinstance(error, BoltUnhandledRequestError):
        return
    kind = body.get("type")
    response.status = 200
    response.headers["content-type"] = ["application/json;charset=utf-8"]
    if is_over_budget(error):
        answer_busy(body, response)
    elif kind == "view_submission" and isinstance(error, InvalidInput):
        response.body = json.dumps({"response_action": "errors", "errors": error.field_errors})
    elif kind == "view_submission":
        response.body = json.dumps({"response_action": "push", "view": error_view(user_message(error))})
    elif "command" in body:
        response.body = json.dumps({"response_type": "ephemeral", "text": user_message(error)})
    else:
        user_message(error)
        response.body = ""


def answer_busy(body: dict[str, Any], response: BoltResponse) -> None:
    """The database did not answer within the ack budget: everything was rolled back; say so where the
    person acted (an event gets a 503, so Slack sends it again later)."""
    kind = body.get("type")
    log.warning("%s: the database did not answer in time; answered 'try again'", kind or "command")
    if kind == "view_submission":
        blocks = body.get("view", {}).get("blocks", [])
        inputs = [b["block_id"] for b in blocks if b.get("type") == "input" and b.get("block_id")]
        reply = (
            {"response_action": "errors", "errors": {inputs[0]: BUSY}}
            if inputs
            else {"response_action": "push", "view": error_view(BUSY)}
        )
        response.body = json.dumps(reply)
    elif "command" in body:
        response.body = json.dumps({"response_type": "ephemeral", "text": BUSY})
    elif kind == "block_suggestion":
        response.body = json.dumps({"options": []})
    elif kind == "event_callback":
        response.status, response.body = 503, ""
    else:
        response.body = ""


def error_view(text: str) -> dict[str, Any]:
    """A small modal that tells what went wrong."""
    return {
        "type": "modal",
        "title": {"type": "plain_text", "text": "Something went wrong"},
        "close": {"type": "plain_text", "text": "Close"},
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": text}}],
    }
