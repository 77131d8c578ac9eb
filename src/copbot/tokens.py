"""The one lookup of a workspace's bot token, used by requests, the sender and the scheduler."""

from __future__ import annotations

from typing import Protocol


class TokenResolver(Protocol):
    """Finds the bot token of a workspace."""

    def bot_token(self, team_id: str) -> str | None:
        """Return the bot token for `team_id`, or None when copbot is not installed there."""
        ...


class SingleWorkspaceTokens:
    """Single-workspace mode: the one `SLACK_BOT_TOKEN` serves every request."""

    def __init__(self, token: str | None):
        self._token = token

    def bot_token(self, team_id: str) -> str | None:
        """Return the configured token, whatever the team."""
        return self._token
