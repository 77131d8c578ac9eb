"""What the Slack-native surfaces say to people: pure functions from rows to mrkdwn text."""

from __future__ import annotations

from copbot.blockkit.text import escape
from copbot.communities.models import Community
from copbot.native import service
from copbot.native.models import NativeSettings


def _handle(community: Community, settings: NativeSettings) -> str:
    return f"@{settings.handle or service.default_handle(community)}"


def handle_status(community: Community, settings: NativeSettings, duty: service.Duty) -> str:
    """`/cop handle`: whether the @handle is kept, and who it points at now."""
    if not settings.handle_enabled:
        return (
            f"The facilitator @handle is off. `/cop handle on` keeps {_handle(community, settings)} pointing "
            "at whoever facilitates the next session (`/cop handle on @another-name` picks the name)."
        )
    if settings.handle_refused:
        return (
            f"{_handle(community, settings)} is on, but Slack refused it (`{settings.handle_refused}`). "
            "Once that is fixed, `/cop handle on` tries again."
        )
    who = f"<@{duty.users[0]}>" if duty.anyone else "nobody yet (the group is disabled until someone accepts)"
    return f"{_handle(community, settings)} points at the next session's facilitator: {who}."


def handle_changed(community: Community, settings: NativeSettings) -> str:
    """The answer to `/cop handle on|off`."""
    handle = _handle(community, settings)
    if settings.handle_enabled:
        return (
            f":white_check_mark: {handle} will point at whoever facilitates {escape(community.name)}'s next "
            "session. It follows the rotation within a minute (accepts, swaps, skips, time away) and is "
            "disabled, not emptied, while nobody is on duty."
        )
    return f"{handle} is no longer kept by copbot; I'm disabling it."


def canvas_status(settings: NativeSettings) -> str:
    """`/cop canvas`: whether copbot keeps its sections on the channel canvas."""
    if not settings.canvas_enabled:
        return (
            "The living canvas is off. `/cop canvas on` keeps the charter, the next rituals and who "
            "facilitates, the most applied playbooks and the latest lessons on this channel's canvas."
        )
    if settings.canvas_refused:
        return (
            f"The living canvas is on, but Slack refused it (`{settings.canvas_refused}`). Once that is "
            "fixed, `/cop canvas on` tries again."
        )
    return (
        "The living canvas is on: copbot keeps its own sections (headings ending in “· copbot”) up to date, "
        "at most once a minute, and never touches what people write under their own headings."
    )


def canvas_changed(settings: NativeSettings) -> str:
    """The answer to `/cop canvas on|off`."""
    if settings.canvas_enabled:
        return (
            ":white_check_mark: The channel canvas will show the charter, the next rituals and who "
            "facilitates, the five most applied playbooks and the latest lessons. copbot edits only its own "
            "sections (headings ending in “· copbot”), at most once a minute."
        )
    return "copbot no longer updates the channel canvas; what is on it stays as it is."


def refused_dm(community: Community, settings: NativeSettings, *, target: str, reason: str) -> str:
    """The leads' DM when the workspace refuses the @handle or the canvas."""
    name = escape(community.name)
    if target == service.USERGROUP:
        return (
            f":warning: I couldn't keep {_handle(community, settings)} pointing at {name}'s facilitator: "
            f"{reason}. I've stopped trying; `/cop handle on` in <#{community.channel_id}> tries again."
        )
    return (
        f":warning: I couldn't update {name}'s channel canvas: {reason}. I've stopped trying; "
        f"`/cop canvas on` in <#{community.channel_id}> tries again."
    )
