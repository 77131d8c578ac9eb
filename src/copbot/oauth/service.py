"""Workspace lifecycle rules: installed, uninstalled (schedules stop, data stays), re-installed."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from copbot.clock import now
from copbot.communities.models import Workspace
from copbot.communities.service import ensure_workspace


def mark_installed(session: Session, *, team_id: str, name: str | None = None) -> Workspace:
    """Record an install or re-install: the workspace is active again."""
    workspace = ensure_workspace(session, team_id=team_id)
    workspace.uninstalled_at = None
    if name:
        workspace.name = name
    return workspace


def mark_uninstalled(session: Session, *, team_id: str, at: datetime | None = None) -> Workspace:
    """Record an uninstall: its schedules stop; its data stays until the retention rule removes it."""
    workspace = ensure_workspace(session, team_id=team_id)
    workspace.uninstalled_at = at or now()
    return workspace
