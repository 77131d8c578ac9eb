"""The Web API client every copbot call goes through: slack-sdk's, refusing to call Slack while this
thread holds SQLite's write lock.

SQLite has one writer at a time. A Slack call made inside a write transaction keeps the file locked for
as long as Slack takes to answer (seconds when it is slow), and every other request's commit waits behind
it: acks that should take milliseconds take as long as Slack. Calls belong before the transaction or
after its commit (the outbox sends after it).
"""

from __future__ import annotations

import logging
import urllib.request
from typing import Any

from slack_sdk import WebClient
from slack_sdk.web import SlackResponse

from copbot.db import holds_sqlite_write_lock
from copbot.slack import keepalive

log = logging.getLogger(__name__)

# Tests turn this on, so a call made under the lock fails the test that made it; in production the call
# goes ahead (refusing it would lose the work) and is logged as the bug it is.
STRICT = False
violations = 0  # calls made under the lock since start (tests read it)


class SlackCallUnderWriteLock(RuntimeError):
    """A Web API call was made while this thread held SQLite's write lock."""


class SlackClient(WebClient):
    """slack-sdk's WebClient, checking before each call that no SQLite write transaction is open, and
    sending on kept-alive connections (`copbot.slack.keepalive`)."""

    def api_call(self, api_method: str, **kwargs: Any) -> SlackResponse:
        """Call the Web API, unless (STRICT) this thread holds SQLite's write lock."""
        if holds_sqlite_write_lock():
            global violations
            violations += 1
            if STRICT:
                raise SlackCallUnderWriteLock(f"{api_method} called inside a SQLite write transaction")
            log.error("%s called inside a SQLite write transaction: other writers wait for Slack", api_method)
        return super().api_call(api_method, **kwargs)

    def _perform_urllib_http_request_internal(self, url: str, req: urllib.request.Request) -> dict[str, Any]:
        # slack-sdk's narrowest hook: the request is built, and its retry handlers and error handling wrap
        # this call. A proxy stays on urllib's path (its environment rules, e.g. no_proxy, are urllib's).
        if self.proxy or not url.lower().startswith("http"):
            return super()._perform_urllib_http_request_internal(url, req)
        return keepalive.send(req, timeout=self.timeout, context=self.ssl)


def guard(client: WebClient) -> WebClient:
    """Give a client (Bolt's per-request one) the check; the same object, its class now `SlackClient`."""
    if type(client) is WebClient:
        client.__class__ = SlackClient  # adds a method only: no state to convert
    return client
