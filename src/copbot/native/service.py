"""Rules of the facilitator @handle and the living canvas: who is on duty, what is owed to Slack, when."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from copbot.communities import service as communities
from copbot.communities.models import Community
from copbot.errors import InvalidInput
from copbot.native.models import NativeSettings
from copbot.outbox import service as outbox
from copbot.rituals import timing
from copbot.rituals.models import (
    AwayPeriod,
    Occurrence,
    OccurrenceKind,
    RitualSchedule,
    ScheduleStatus,
    Stage,
)

USERGROUP = "usergroup"  # the outbox syncers' names
CANVAS = "canvas"
CANVAS_EVERY = timedelta(minutes=1)  # at most one canvas edit a minute per canvas
HANDLE = re.compile(r"[a-z0-9][a-z0-9._-]{0,79}")
# Slack's refusals that no retry will change: the lead is told and copbot stops trying until asked again.
REFUSALS = {
    "permission_denied": "this workspace's settings do not let apps manage user groups. A workspace admin "
    "can allow it (Settings → Permissions → User Groups)",
    "no_permission": "this workspace's settings do not let apps manage user groups. A workspace admin "
    "can allow it (Settings → Permissions → User Groups)",
    "paid_teams_only": "user groups need a paid Slack plan",
    "missing_scope": "the app lacks the `usergroups:write` scope: reinstall it from `copbot manifest`",
    "name_already_exists": "a user group with that name or handle already exists: pick another handle",
    "restricted_action": "this workspace's settings do not let apps manage user groups",
}


def settings_for(session: Session, *, community: Community) -> NativeSettings:
    """The community's row, made on first use."""
    found = session.scalar(select(NativeSettings).where(NativeSettings.community_id == community.id))
    if found is None:
        found = NativeSettings(team_id=community.team_id, community_id=community.id, usergroup_users=[])
        session.add(found)
        session.flush()
    return found


def default_handle(community: Community) -> str:
    """`cop-<name>-facilitator`, in the characters Slack allows in a handle."""
    slug = re.sub(r"[^a-z0-9]+", "-", community.name.lower()).strip("-")[:40] or "community"
    return f"cop-{slug}-facilitator"


def parse_handle(text: str, community: Community) -> str:
    """A handle as typed (`@` and case dropped) or the default; InvalidInput when Slack would refuse it."""
    handle = text.strip().lstrip("@").lower() or default_handle(community)
    if not HANDLE.fullmatch(handle):
        raise InvalidInput(
            {
                "handle": "A handle takes lower-case letters, digits, `.`, `-` and `_` (up to 80), "
                "e.g. `cop-sre-facilitator`."
            }
        )
    return handle


def set_handle(
    session: Session, *, community: Community, user_id: str, enabled: bool, handle: str | None = None
) -> NativeSettings:
    """Turn the facilitator @handle on (with a handle) or off (leads); a refusal is forgotten on a new try."""
    communities.require_lead(session, community=community, user_id=user_id, action="manage its @handle")
    settings = settings_for(session, community=community)
    if enabled and handle and settings.usergroup_id and handle != settings.handle:
        settings.usergroup_id, settings.usergroup_users, settings.usergroup_enabled = None, [], False
    settings.handle_enabled, settings.handle_refused, settings.changed_by = enabled, None, user_id
    if handle:
        settings.handle = handle
    return settings


def set_canvas(session: Session, *, community: Community, user_id: str, enabled: bool) -> NativeSettings:
    """Turn the living channel canvas on or off (leads)."""
    communities.require_lead(session, community=community, user_id=user_id, action="manage its canvas")
    settings = settings_for(session, community=community)
    settings.canvas_enabled, settings.canvas_refused, settings.changed_by = enabled, None, user_id
    settings.canvas_hash = None  # owe a fresh sync of copbot's sections
    return settings


# --- who is on duty --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Duty:
    """Who the @handle should point at: the next session's facilitator, unless they are away that day."""

    users: tuple[str, ...]

    @property
    def anyone(self) -> bool:
        """Whether somebody is on duty (else the group is disabled, never emptied)."""
        return bool(self.users)


def on_duty(session: Session, *, community: Community, at: datetime) -> Duty:
    """The facilitator of the community's next session not yet over, if one accepted and is not away then."""
    found = session.execute(
        select(Occurrence.facilitator_id, Occurrence.starts_at)
        .join(RitualSchedule, RitualSchedule.id == Occurrence.schedule_id)
        .where(
            Occurrence.community_id == community.id,
            Occurrence.kind == OccurrenceKind.SESSION,
            Occurrence.stage.in_([Stage.PLANNED, Stage.POSTED, Stage.STARTED]),
            func.coalesce(Occurrence.ends_at, Occurrence.starts_at) > at,
            RitualSchedule.status == ScheduleStatus.ACTIVE,
        )
        .order_by(Occurrence.starts_at)
        .limit(1)
    ).first()
    if found is None or found.facilitator_id is None:
        return Duty(())
    day = timing.local_day(found.starts_at, community.timezone)
    away = session.scalar(
        select(AwayPeriod.id).where(
            AwayPeriod.team_id == community.team_id,
            AwayPeriod.user_id == found.facilitator_id,
            AwayPeriod.first_day <= day,
            AwayPeriod.last_day >= day,
        )
    )
    return Duty(() if away else (found.facilitator_id,))


# --- what is owed ----------------------------------------------------------------------------------


def usergroup_key(settings: NativeSettings) -> str:
    """The outbox key prefix of a community's user-group syncs."""
    return f"native:{USERGROUP}:{settings.community_id}:"


def canvas_key(settings: NativeSettings) -> str:
    """The outbox key prefix of a community's canvas syncs."""
    return f"native:{CANVAS}:{settings.community_id}:"


def usergroup_state(session: Session, settings: NativeSettings, *, at: datetime) -> dict[str, Any]:
    """What the community's user group should be now: its name and handle, and who is in it (nobody:
    disabled). `wanted` false: copbot no longer keeps it (disable it if it is enabled)."""
    community = session.get_one(Community, settings.community_id)
    wanted = settings.handle_enabled and not settings.handle_refused
    duty = on_duty(session, community=community, at=at) if wanted else Duty(())
    return {
        "wanted": wanted,
        "users": list(duty.users),
        "handle": settings.handle or default_handle(community),
        "name": f"{community.name} facilitator"[:80],
        "description": f"Whoever facilitates {community.name}'s next session (kept by copbot)"[:140],
    }


def handle_out_of_date(settings: NativeSettings, state: dict[str, Any]) -> bool:
    """Whether the user group in Slack differs from `state` (as far as copbot last made it)."""
    if settings.handle_refused:
        return False
    if not state["wanted"]:
        return settings.usergroup_id is not None and settings.usergroup_enabled
    if settings.usergroup_id is None:
        return True
    if not state["users"]:
        return settings.usergroup_enabled
    return not settings.usergroup_enabled or state["users"] != list(settings.usergroup_users)


def owe_sync(
    session: Session, settings: NativeSettings, *, target: str, state: dict[str, Any], at: datetime
) -> bool:
    """Owe bringing a community's user group or canvas to `state`; when a sync is owed already it takes
    the newer state instead (one edit, the latest); a canvas waits a minute after its last edit."""
    prefix = usergroup_key(settings) if target == USERGROUP else canvas_key(settings)
    owed = outbox.pending(session, team_id=settings.team_id, key_prefix=prefix)
    if owed is not None:  # coalesce: the owed sync carries the newest state (unless it is being sent)
        if owed.payload.get("state") != state:
            outbox.restate(session, owed, state=state)
        return False
    not_before = None  # due at once...
    if target == CANVAS and settings.canvas_synced_at is not None:
        not_before = settings.canvas_synced_at + CANVAS_EVERY  # ...but a canvas a minute after its last edit
    return outbox.sync(
        session,
        team_id=settings.team_id,
        key=f"{prefix}{at:%Y%m%dT%H%M%S.%f}",
        target=target,
        subject_id=settings.community_id,
        state=state,
        not_before=not_before,
    )


def enabled_settings(session: Session) -> list[NativeSettings]:
    """Every community row with a surface on (or a user group still to disable)."""
    return list(
        session.scalars(
            select(NativeSettings).where(
                NativeSettings.handle_enabled
                | NativeSettings.canvas_enabled
                | NativeSettings.usergroup_enabled
            )
        )
    )


def refuse(settings: NativeSettings, *, target: str, error: str) -> str:
    """Record the workspace's refusal so copbot stops trying; return the sentence for the lead."""
    if target == USERGROUP:
        settings.handle_refused = error[:64]
        return REFUSALS.get(error, f"Slack answered `{error}`")
    settings.canvas_refused = error[:64]
    return CANVAS_REFUSALS.get(error, f"Slack answered `{error}`")


CANVAS_REFUSALS = {
    "team_tier_cannot_create_channel_canvases": "channel canvases need a paid Slack plan",
    "canvas_disabled_user_team": "canvases are turned off in this workspace",
    "restricted_action": "this workspace's settings do not let apps create canvases in this channel",
    "missing_scope": "the app lacks the `canvases:write` scope: reinstall it from `copbot manifest`",
    "not_in_channel": "copbot is not in the channel: invite it, then run `/cop canvas on` again",
    "channel_not_found": "copbot cannot see the channel: invite it, then run `/cop canvas on` again",
    "canvas_not_found": "the channel's canvas is gone: run `/cop canvas on` to make a new one",
    "canvas_deleted": "the channel's canvas was deleted: run `/cop canvas on` to make a new one",
    "access_denied": "copbot may not edit the channel's canvas: share it with copbot (Can edit)",
}
