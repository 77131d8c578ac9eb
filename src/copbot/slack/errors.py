"""One error handler: domain errors become a clear message; the unexpected is logged with an id."""

from __future__ import annotations

import json
import logging
import uuid
from typing import Any

from slack_bolt import BoltResponse
from slack_bolt.error import BoltUnhandledRequestError

from copbot.errors import CopbotError, InvalidInput

log = logging.getLogger(__name__)


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
    if kind == "view_submission" and isinstance(error, InvalidInput):
        response.body = json.dumps({"response_action": "errors", "errors": error.field_errors})
    elif kind == "view_submission":
        response.body = json.dumps({"response_action": "push", "view": error_view(user_message(error))})
    elif "command" in body:
        response.body = json.dumps({"response_type": "ephemeral", "text": user_message(error)})
    else:
        user_message(error)
        response.body = ""


def error_view(text: str) -> dict[str, Any]:
    """A small modal that tells what went wrong."""
    return {
        "type": "modal",
        "title": {"type": "plain_text", "text": "Something went wrong"},
        "close": {"type": "plain_text", "text": "Close"},
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": text}}],
    }
