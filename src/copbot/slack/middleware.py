"""Global middleware: the events inbox (record before ack, drop Slack's retries) and request logging."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from slack_bolt import BoltRequest, BoltResponse

from copbot.clock import now
from copbot.db import session_scope
from copbot.deps import Deps
from copbot.inbox import service as inbox
from copbot.slack.workspace import workspace_id

log = logging.getLogger("copbot.requests")

REPLAY = "copbot_replay"


def describe(body: dict[str, Any]) -> str:
    """Name a request for the logs: its kind and id, never its text or tokens."""
    if "command" in body:
        return f"command {body.get('command')}"
    kind = body.get("type", "?")
    if kind == "event_callback":
        return f"event {body.get('event', {}).get('type')} {body.get('event_id')}"
    if kind in ("view_submission", "view_closed"):
        return f"{kind} {body.get('view', {}).get('callback_id')}"
    if kind == "block_actions":
        return "block_actions " + ",".join(a.get("action_id", "") for a in body.get("actions", []))
    if kind in ("shortcut", "message_action"):
        return f"{kind} {body.get('callback_id')}"
    return str(kind)


def inbox_middleware(deps: Deps) -> Callable[..., BoltResponse | None]:
    """Build the middleware that stores each event before it is acked and acks Slack's retries at once.

    The event is claimed by this process for one lease, renewed while it lives: if it dies before the
    handler commits, a live replica replays the event once the lease lapses.
    """
    lease = timedelta(seconds=deps.settings.lease_seconds)

    def record_event(req: BoltRequest, resp: BoltResponse, next: Callable[[], None]) -> BoltResponse | None:
        body = req.body
        team_id = workspace_id(body)  # the key `mark_processed` uses too, so a handled event is done
        # No user id here: it would name the author of an anonymous question (`/cop ask`) at DEBUG.
        log.debug("%s team=%s", describe(body), team_id)
        if body.get("type") != "event_callback" or req.context.get(REPLAY):
            next()
            return None
        with session_scope(deps.sessions) as session:
            fresh = inbox.record(
                session,
                team_id=team_id,
                event_id=body.get("event_id", ""),
                event_type=body.get("event", {}).get("type", ""),
                payload=body,
                claimed_by=deps.identity,
                claimed_until=now() + lease,
            )
        if not fresh:
            log.info("event %s already received: acked, not handled again", body.get("event_id"))
            return BoltResponse(status=200, body="")
        next()
        return None

    return record_event
