"""Workspace lifecycle rules: installed, uninstalled (schedules stop, data stays), re-installed."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from copbot.clock import now
from copbot.communities.models import Workspace
from copbot.communities.service import ensure_workspace
from copbot.db import affected


def mark_installed(
    session: Session, *, team_id: str, name: str | None = None, enterprise_id: str | None = None
) -> Workspace:
    """Record an install or re-install: the workspace is active again."""
    workspace = ensure_workspace(session, team_id=team_id)
    workspace.uninstalled_at = None
    if name:
        workspace.name = name
    if enterprise_id:
        workspace.enterprise_id = enterprise_id
    return workspace


def mark_uninstalled(session: Session, *, team_id: str, at: datetime | None = None) -> Workspace:
    """Record an uninstall: its schedules stop; its data stays until the retention rule removes it."""
    workspace = ensure_workspace(session, team_id=team_id)
    workspace.uninstalled_at = at or now()
    return workspace


def mark_organisation(session: Session, *, enterprise_id: str, installed: bool) -> int:
    """An org-wide install or uninstall: every workspace copbot knows in that organisation follows it."""
    result = session.execute(
        update(Workspace)
        .where(Workspace.enterprise_id == enterprise_id)
        .values(uninstalled_at=None if installed else now())
    )
    return affected(result)


def remember_organisation(session: Session, *, team_id: str, enterprise_id: str) -> None:
    """Note which organisation a workspace belongs to (learned from its requests)."""
    workspace = ensure_workspace(session, team_id=team_id)
    if workspace.enterprise_id != enterprise_id:
        workspace.enterprise_id = enterprise_id


def enterprise_of(session: Session, team_id: str) -> str | None:
    """The organisation a workspace belongs to, when copbot has learned it."""
    return session.scalar(select(Workspace.enterprise_id).where(Workspace.team_id == team_id))
