"""Bolt's `authorize`: the workspace's bot token from the token lookup, its identity cached."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from slack_bolt.authorization import AuthorizeResult

from copbot.slack.client import SlackClient
from copbot.tokens import TokenResolver

log = logging.getLogger(__name__)


def build_authorize(
    tokens: TokenResolver, *, api_url: str, timeout: float
) -> Callable[..., AuthorizeResult | None]:
    """Return an `authorize` function; `auth.test` runs once per token, not once per request."""
    identities: dict[str, AuthorizeResult] = {}
    lock = threading.Lock()

    def authorize(
        enterprise_id: str | None, team_id: str | None, logger: logging.Logger
    ) -> AuthorizeResult | None:
        token = tokens.bot_token(team_id or "")
        if token is None:
            log.warning("no bot token for team %s", team_id)
            return None
        cached = identities.get(token)
        if cached is not None:
            return cached
        with lock:
            if token not in identities:
                client = SlackClient(base_url=api_url, timeout=timeout)  # type: ignore[arg-type]  # slack-sdk annotates int; a float works
                response = client.auth_test(token=token)
                identities[token] = AuthorizeResult.from_auth_test_response(
                    auth_test_response=response, bot_token=token
                )
            return identities[token]

    return authorize
