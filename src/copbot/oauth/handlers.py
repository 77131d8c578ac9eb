"""Uninstall and token revocation: tokens go, schedules stop, data stays until retention removes it."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from slack_bolt import App
from sqlalchemy.orm import Session

from copbot.db import session_scope
from copbot.deps import Deps
from copbot.oauth import service
from copbot.oauth.stores import InstallationStore
from copbot.slack.events import on_event
from copbot.slack.workspace import resolve

log = logging.getLogger(__name__)


def register(app: App, deps: Deps, store: InstallationStore) -> None:
    """Listen for `app_uninstalled` and `tokens_revoked`; learn which organisation a workspace is in."""

    def uninstalled(session: Session, event: dict[str, Any], body: dict[str, Any]) -> None:
        where = resolve(body)
        if where.is_enterprise_install and where.enterprise_id:
            store.delete_all(enterprise_id=where.enterprise_id, team_id=None)
            stopped = service.mark_organisation(session, enterprise_id=where.enterprise_id, installed=False)
            log.info(
                "uninstalled from organisation %s: tokens deleted, %d workspaces stopped",
                where.enterprise_id,
                stopped,
            )
            return
        store.delete_all(enterprise_id=where.enterprise_id, team_id=where.team_id)
        service.mark_uninstalled(session, team_id=where.team_id)
        log.info("uninstalled from workspace %s: tokens deleted, schedules stopped", where.team_id)

    def revoked(session: Session, event: dict[str, Any], body: dict[str, Any]) -> None:
        where = resolve(body)
        tokens = event.get("tokens") or {}
        if tokens.get("bot"):
            uninstalled(session, event, body)
        team_id = None if where.is_enterprise_install else where.team_id
        for user_id in tokens.get("oauth") or []:
            store.delete_installation(enterprise_id=where.enterprise_id, team_id=team_id, user_id=user_id)

    on_event(app, deps, "app_uninstalled", uninstalled)
    on_event(app, deps, "tokens_revoked", revoked)
    app.use(organisation_middleware(deps))


def organisation_middleware(deps: Deps) -> Callable[..., Any]:
    """Remember the organisation of each workspace that reaches copbot through an org-wide install, so
    scheduled posts and the outbox find the org's token for that workspace. Once per workspace per process.
    """
    known: set[tuple[str, str]] = set()

    def remember(body: dict[str, Any], next: Callable[[], Any]) -> Any:
        where = resolve(body)
        pair = (where.team_id, where.enterprise_id or "")
        if where.team_id and where.enterprise_id and pair not in known:
            with session_scope(deps.sessions) as session:
                service.remember_organisation(
                    session, team_id=where.team_id, enterprise_id=where.enterprise_id
                )
            known.add(pair)
        return next()

    return remember
