"""Event listeners that take effect once: handled after the ack, marked done in the same transaction."""

from __future__ import annotations

import logging
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from slack_bolt import Ack, App, BoltResponse

from copbot.clock import now
from copbot.db import session_scope
from copbot.deps import Deps
from copbot.inbox import service as inbox
from copbot.slack.payloads import EventCallback, MalformedPayload
from copbot.slack.workspace import workspace_id

log = logging.getLogger(__name__)

RETRY_FAILED_AFTER = timedelta(seconds=30)


def _ack(ack: Ack) -> None:
    ack()


Handler = Callable[..., None]
Prepare = Callable[..., Any]
Read = Callable[[dict[str, Any]], tuple[Any, ...]]  # the body -> the handler's arguments after `session`


@dataclass(frozen=True)
class _Listener:
    read: Read
    handler: Handler
    prepare: Prepare | None


# Bolt runs the first listener that matches an event: several features listening to one event type share
# one listener, which runs each feature's handler in registration order, in one transaction.
_LISTENING: weakref.WeakKeyDictionary[App, dict[str, list[_Listener]]] = weakref.WeakKeyDictionary()


def on_event(
    app: App,
    deps: Deps,
    event_type: str,
    handler: Handler,
    *,
    prepare: Callable[[dict[str, Any], dict[str, Any]], Any] | None = None,
) -> None:
    """Run `handler(session, event, body)` after the ack; its effects and the inbox mark commit together.

    With `prepare(event, body)`, what it returns is passed on as the handler's fourth argument: it runs
    first, outside any transaction, and is where a handler asks Slack what it needs (users.info).
    Features may each listen to the same event type: their handlers run one after the other.
    The core's raw form (installs); features use `on_payload`.
    """
    _listen(app, deps, event_type, _Listener(lambda body: (body["event"], body), handler, prepare))


def on_payload(
    app: App,
    deps: Deps,
    model: type[EventCallback],
    handler: Handler,
    *,
    prepare: Prepare | None = None,
) -> None:
    """Run `handler(session, payload)` after the ack, `payload` the body read as `model` (whose
    `EVENT_TYPE` names the event); as `on_event` otherwise, `prepare(payload)` included.

    A body that does not read as `model` skips this handler (logged): a replay would not read either.
    """
    if not model.EVENT_TYPE:
        raise ValueError(f"{model.__name__} names no EVENT_TYPE")
    _listen(app, deps, model.EVENT_TYPE, _Listener(lambda body: (model.parse(body),), handler, prepare))


def _listen(app: App, deps: Deps, event_type: str, listener: _Listener) -> None:
    listening = _LISTENING.setdefault(app, {})
    if event_type in listening:
        listening[event_type].append(listener)
        return
    listeners = listening[event_type] = [listener]

    def process(body: dict[str, Any]) -> None:
        ids = {"team_id": workspace_id(body), "event_id": body.get("event_id", "")}
        try:
            calls = []
            for one in listeners:
                try:
                    args = one.read(body)
                except MalformedPayload:
                    continue
                extra = () if one.prepare is None else (one.prepare(*args),)
                calls.append((one.handler, (*args, *extra)))
            with session_scope(deps.sessions) as session:
                for handle, arguments in calls:
                    handle(session, *arguments)
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
