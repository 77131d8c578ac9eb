"""Event listeners that take effect once: handled after the ack, marked done in the same transaction."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App, BoltResponse
from sqlalchemy.orm import Session

from copbot.db import session_scope
from copbot.deps import Deps
from copbot.inbox import service as inbox

log = logging.getLogger(__name__)

EventHandler = Callable[[Session, dict[str, Any], dict[str, Any]], None]


def _ack(ack: Ack) -> None:
    ack()


def on_event(app: App, deps: Deps, event_type: str, handler: EventHandler) -> None:
    """Run `handler(session, event, body)` after the ack; its effects and the inbox mark commit together."""

    def process(body: dict[str, Any]) -> None:
        with session_scope(deps.sessions) as session:
            handler(session, body["event"], body)
            inbox.mark_processed(session, team_id=body.get("team_id", ""), event_id=body.get("event_id", ""))
        deps.outbox.notify()

    process.__name__ = f"process_{event_type}"  # Bolt tells lazy functions apart by name
    app.event(event_type)(ack=_ack, lazy=[process])


def acknowledge_unhandled_event(deps: Deps, body: dict[str, Any], response: BoltResponse) -> None:
    """Answer 200 to an event no feature listens for (Slack disables apps that fail too often)."""
    with session_scope(deps.sessions) as session:
        inbox.mark_processed(session, team_id=body.get("team_id", ""), event_id=body.get("event_id", ""))
    response.status, response.body = 200, ""
