"""Event listeners that take effect once: handled after the ack, marked done in the same transaction."""

from __future__ import annotations

import logging
import weakref
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from slack_bolt import Ack, App, BoltResponse

from copbot.clock import now
from copbot.db import session_scope
from copbot.deps import Deps
from copbot.inbox import service as inbox
from copbot.slack.workspace import workspace_id

log = logging.getLogger(__name__)

RETRY_FAILED_AFTER = timedelta(seconds=30)


def _ack(ack: Ack) -> None:
    ack()


Handler = Callable[..., None]
Prepare = Callable[[dict[str, Any], dict[str, Any]], Any]
# Bolt runs the first listener that matches an event: several features listening to one event type share
# one listener, which runs each feature's handler in registration order, in one transaction.
_LISTENING: weakref.WeakKeyDictionary[App, dict[str, list[tuple[Handler, Prepare | None]]]] = (
    weakref.WeakKeyDictionary()
)


def on_event(
    app: App,
    deps: Deps,
    event_type: str,
    handler: Handler,
    *,
    prepare: Prepare | None = None,
) -> None:
    """Run `handler(session, event, body)` after the ack; its effects and the inbox mark commit together.

    With `prepare(event, body)`, what it returns is passed on as the handler's fourth argument: it runs
    first, outside any transaction, and is where a handler asks Slack what it needs (users.info).
    Features may each listen to the same event type: their handlers run one after the other.
    """
    listening = _LISTENING.setdefault(app, {})
    if event_type in listening:
        listening[event_type].append((handler, prepare))
        return
    handlers = listening[event_type] = [(handler, prepare)]

    def process(body: dict[str, Any]) -> None:
        ids = {"team_id": workspace_id(body), "event_id": body.get("event_id", "")}
        try:
            extras = [() if ready is None else (ready(body["event"], body),) for _, ready in handlers]
            with session_scope(deps.sessions) as session:
                for (handle, _), extra in zip(handlers, extras, strict=True):
                    handle(session, body["event"], body, *extra)
                inbox.mark_processed(session, **ids)
        except Exception:
            with session_scope(deps.sessions) as session:  # the replay job tries it again, a few times
                inbox.release(session, **ids, retry_at=now() + RETRY_FAILED_AFTER)
            raise
        deps.outbox.notify()

    process.__name__ = f"process_{event_type}"  # Bolt tells lazy functions apart by name
    app.event(event_type)(ack=_ack, lazy=[process])


def acknowledge_unhandled_event(deps: Deps, body: dict[str, Any], response: BoltResponse) -> None:
    """Answer 200 to an event no feature listens for (Slack disables apps that fail too often)."""
    with session_scope(deps.sessions) as session:
        inbox.mark_processed(session, team_id=workspace_id(body), event_id=body.get("event_id", ""))
    response.status, response.body = 200, ""
