"""The outbox's syncers for the @handle and the canvas: make Slack match the state a message carries.

They run in the outbox sender, never on a request thread. Each Web API call's effect is recorded in its
own short transaction right after it succeeds, so a failure half-way resumes where it stopped; a Slack
error propagates to the sender, which retries what is transient and reports a refusal to the feature's
`on_delivery_failure` hook.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk import WebClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from copbot.clock import now
from copbot.communities.models import Community
from copbot.db import session_scope
from copbot.native import canvas, service
from copbot.native.models import NativeSettings
from copbot.outbox.models import OutboxMessage

log = logging.getLogger(__name__)


def _load(sessions: sessionmaker[Session], message: OutboxMessage) -> tuple[NativeSettings, str] | None:
    """The community's settings row (detached) and its channel, or None when the community is gone."""
    with session_scope(sessions) as session:
        found = session.execute(
            select(NativeSettings, Community.channel_id)
            .join(Community, Community.id == NativeSettings.community_id)
            .where(NativeSettings.community_id == message.payload["subject_id"])
            .where(NativeSettings.team_id == message.team_id)
        ).first()
        if found is None:
            return None
        session.expunge(found[0])
        return found[0], found[1]


def sync_usergroup(sessions: sessionmaker[Session], client: WebClient, message: OutboxMessage) -> None:
    """Point the community's user group at whoever is on duty; disable it (never empty it) when nobody is."""
    loaded = _load(sessions, message)
    if loaded is None:
        return
    settings, state = loaded[0], message.payload["state"]
    group, users, enabled = settings.usergroup_id, list(settings.usergroup_users), settings.usergroup_enabled
    if state["wanted"] and group is None:
        created = client.usergroups_create(
            name=state["name"], handle=state["handle"], description=state["description"]
        )["usergroup"]
        group, users, enabled = created["id"], [], True
        _record(sessions, settings.id, usergroup_id=group, usergroup_users=[], usergroup_enabled=True)
        log.info("user group @%s created for community %s", state["handle"], settings.community_id)
    if group is None:
        return
    if state["wanted"] and state["users"]:
        if not enabled:
            client.usergroups_enable(usergroup=group)
            _record(sessions, settings.id, usergroup_enabled=True)
        if state["users"] != users:
            client.usergroups_users_update(usergroup=group, users=state["users"])
            _record(sessions, settings.id, usergroup_users=state["users"])
    elif enabled:
        client.usergroups_disable(
            usergroup=group
        )  # Slack refuses an empty group: disable it, keep its member
        _record(sessions, settings.id, usergroup_enabled=False)


def sync_canvas(sessions: sessionmaker[Session], client: WebClient, message: OutboxMessage) -> None:
    """Bring copbot's sections of the channel canvas up to date (making the canvas if there is none)."""
    loaded = _load(sessions, message)
    if loaded is None or not loaded[0].canvas_enabled or loaded[0].canvas_refused:
        return
    (settings, channel_id), state = loaded, message.payload["state"]
    parts = [canvas.Section(heading, body) for heading, body in state["sections"]]
    synced = {"canvas_hash": state["hash"], "canvas_synced_at": now()}
    canvas_id = settings.canvas_id or _existing_canvas(client, channel_id)
    if canvas_id is None:
        made = client.conversations_canvases_create(
            channel_id=channel_id, document_content={"type": "markdown", "markdown": canvas.document(parts)}
        )
        _record(sessions, settings.id, canvas_id=made["canvas_id"], **synced)
        return
    if settings.canvas_id is None:
        _record(sessions, settings.id, canvas_id=canvas_id)
    for part in parts:
        _put_section(client, canvas_id, part)
    _record(sessions, settings.id, **synced)


def _existing_canvas(client: WebClient, channel_id: str) -> str | None:
    """The channel's canvas, when people made one already (copbot then adds its sections to it)."""
    info = client.conversations_info(channel=channel_id)["channel"]
    found = (info.get("properties") or {}).get("canvas", {}).get("file_id")
    return str(found) if found else None


def _put_section(client: WebClient, canvas_id: str, part: canvas.Section) -> None:
    """Replace copbot's section in place, or add it at the end when it is not there (new, or deleted)."""
    found = client.canvases_sections_lookup(
        canvas_id=canvas_id, criteria={"section_types": ["h2"], "contains_text": part.heading}
    )["sections"]
    content = {"type": "markdown", "markdown": part.markdown}
    change: dict[str, Any] = (
        {"operation": "replace", "section_id": found[0]["id"], "document_content": content}
        if found
        else {"operation": "insert_at_end", "document_content": content}
    )
    client.canvases_edit(canvas_id=canvas_id, changes=[change])


def _record(sessions: sessionmaker[Session], settings_id: int, **values: Any) -> None:
    with session_scope(sessions) as session:
        row = session.get_one(NativeSettings, settings_id)
        for name, value in values.items():
            setattr(row, name, value)


def syncers() -> dict[str, Any]:
    """The outbox syncers this feature provides, by target name."""
    return {service.USERGROUP: sync_usergroup, service.CANVAS: sync_canvas}
