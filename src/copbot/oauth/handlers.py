"""Uninstall and token revocation: tokens go, schedules stop, data stays until retention removes it."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import App
from sqlalchemy.orm import Session

from copbot.deps import Deps
from copbot.oauth import service
from copbot.oauth.stores import InstallationStore
from copbot.slack.events import on_event

log = logging.getLogger(__name__)


def register(app: App, deps: Deps, store: InstallationStore) -> None:
    """Listen for `app_uninstalled` and `tokens_revoked`."""

    def uninstalled(session: Session, event: dict[str, Any], body: dict[str, Any]) -> None:
        team_id = body.get("team_id", "")
        store.delete_all(enterprise_id=None, team_id=team_id)
        service.mark_uninstalled(session, team_id=team_id)
        log.info("uninstalled from workspace %s: tokens deleted, schedules stopped", team_id)

    def revoked(session: Session, event: dict[str, Any], body: dict[str, Any]) -> None:
        team_id = body.get("team_id", "")
        tokens = event.get("tokens", {})
        if tokens.get("bot"):
            uninstalled(session, event, body)
        for user_id in tokens.get("oauth", []):
            store.delete_installation(enterprise_id=None, team_id=team_id, user_id=user_id)

    on_event(app, deps, "app_uninstalled", uninstalled)
    on_event(app, deps, "tokens_revoked", revoked)
