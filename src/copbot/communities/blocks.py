"""Block Kit for communities: help, the set-up modal, announcements. Pure functions: data in, dict out."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from copbot.blockkit import Message, channel_link, check, escape, mention, message, plain, section, truncate
from copbot.communities.ids import Action, Block, View
from copbot.communities.models import Community
from copbot.slack.commands import HelpEntry


@dataclass(frozen=True)
class HelpTopic:
    """One group of `/cop help`: its key (`/cop help <key>`), how it is shown, and its entries."""

    key: str
    emoji: str
    title: str
    blurb: str
    entries: Sequence[HelpEntry]


USAGE_KEY = (
    "`&lt;word&gt;`: yours to fill in · `[…]`: optional · `a|b`: one of them · `/cop help`: every topic"
)


def help_overview(
    topics: Sequence[HelpTopic], *, intro: str | None = None, footer: str | None = None
) -> Message:
    """The ephemeral `/cop help`: one short section per thing people want to do, naming its commands."""
    blocks: list[dict[str, Any]] = [section(intro)] if intro else []
    for topic in topics:
        names = " · ".join(_usage(_command_name(e.usage)) for e in topic.entries)
        blocks.append(section(f"{topic.emoji} *{topic.title}*: {topic.blurb}\n{names}"))
    hint = "`/cop help &lt;topic&gt;` for more: " + ", ".join(f"`{t.key}`" for t in topics) + "."
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": hint}]})
    if footer:
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": footer}]})
    return message("What copbot can do", blocks)


def help_topic(topic: HelpTopic, *, intro: str | None = None) -> Message:
    """The ephemeral `/cop help <topic>`: each command of the topic, how to call it and what it does."""
    lines = "\n".join(f"{_usage(e.usage)}  {escape(e.summary)}" for e in topic.entries)
    blocks = [
        *([section(intro)] if intro else []),
        section(f"{topic.emoji} *{topic.title}*\n{truncate(lines, 2900)}"),
        {"type": "context", "elements": [{"type": "mrkdwn", "text": USAGE_KEY}]},
    ]
    return message(f"copbot help: {topic.title}", blocks)


def _command_name(usage: str) -> str:
    """`/cop search <words>` -> `/cop search`; a shortcut's name stays whole."""
    if not usage.startswith("/"):
        return usage
    words = usage.split()
    return " ".join(words[:2]) if words[0] == "/cop" and len(words) > 1 else words[0]


def _usage(usage: str) -> str:
    """A command in code style, a shortcut or button by name in italics; `<…>` escaped for mrkdwn."""
    return f"`{escape(usage)}`" if usage.startswith("/") else f"_{escape(usage)}_"


def _text_input(
    block: Block,
    action: Action,
    label: str,
    *,
    initial: str,
    placeholder: str,
    optional: bool,
    multiline: bool,
) -> dict[str, Any]:
    element: dict[str, Any] = {
        "type": "plain_text_input",
        "action_id": action,
        "multiline": multiline,
        "max_length": 80 if block == Block.NAME else 3000,
        "placeholder": plain(placeholder),
    }
    if initial:
        element["initial_value"] = initial
    return {
        "type": "input",
        "block_id": block,
        "label": plain(label),
        "optional": optional,
        "element": element,
    }


def setup_modal(
    *,
    channel_id: str,
    community: Community | None,
    default_timezone: str,
    channel_name: str = "",
    extra: Sequence[dict[str, Any]] = (),
) -> dict[str, Any]:
    """The modal that creates or edits the community bound to a channel; `extra`: other features' fields."""

    def initial(name: str) -> str:
        return getattr(community, name) if community else ""

    timezone = community.timezone if community else default_timezone
    fields = [
        (Block.NAME, Action.NAME, "Name", "e.g. Incident Response Guild", False, False),
        (
            Block.PURPOSE,
            Action.PURPOSE,
            "Purpose",
            "Why this community exists, in a sentence or two",
            False,
            True,
        ),
        (
            Block.LEARNING_GOALS,
            Action.LEARNING_GOALS,
            "Learning goals",
            "What members want to get better at",
            True,
            True,
        ),
        (Block.BOUNDARIES, Action.BOUNDARIES, "Boundaries", "What is in scope, and what is not", True, True),
        (
            Block.NORMS,
            Action.NORMS,
            "Norms",
            "How we treat each other and each other's questions",
            True,
            True,
        ),
    ]
    blocks: list[dict[str, Any]] = [
        section(
            f"This community lives in {channel_link(channel_id)}."
            if not channel_name
            else f"This community lives in *#{escape(channel_name)}*."
        )
    ]
    for block, action, label, placeholder, optional, multiline in fields:
        blocks.append(
            _text_input(
                block,
                action,
                label,
                initial=initial(block.value),
                placeholder=placeholder,
                optional=optional,
                multiline=multiline,
            )
        )
    blocks.append(
        {
            "type": "input",
            "block_id": Block.TIMEZONE,
            "label": plain("Time zone"),
            "hint": plain("Rituals are scheduled in this zone. Type a city to search."),
            "element": {
                "type": "external_select",
                "action_id": Action.TIMEZONE,
                "min_query_length": 2,
                "placeholder": plain("Type a city, e.g. Berlin"),
                "initial_option": timezone_option(timezone),
            },
        }
    )
    blocks.extend(extra)
    view = {
        "type": "modal",
        "callback_id": View.COMMUNITY_SETUP,
        "private_metadata": json.dumps({"channel_id": channel_id}),
        "title": plain("Edit community" if community else "Set up a community"),
        "submit": plain("Save"),
        "close": plain("Cancel"),
        "blocks": blocks,
    }
    return check(view, surface="modal")


def timezone_option(zone: str) -> dict[str, Any]:
    """One time zone as a select option."""
    return {"text": plain(zone.replace("_", " ")), "value": zone}


def timezone_options(zones: Sequence[str]) -> dict[str, Any]:
    """The answer to the time zone select's type-ahead."""
    return {"options": [timezone_option(zone) for zone in zones[:100]]}


def saved_view(community: Community, *, created: bool) -> dict[str, Any]:
    """The modal shown after a successful save."""
    verb = "is ready" if created else "is updated"
    text = f":white_check_mark: *{escape(community.name)}* {verb}."
    if created:
        text += " You are its first lead. Members join with `/cop join`."
    view = {
        "type": "modal",
        "title": plain("Community saved"),
        "close": plain("Done"),
        "blocks": [section(text)],
    }
    return check(view, surface="modal")


def community_summary(community: Community) -> list[dict[str, Any]]:
    """The community's charter: purpose, goals, boundaries, norms, each escaped."""
    parts = [
        ("Purpose", community.purpose),
        ("Learning goals", community.learning_goals),
        ("Boundaries", community.boundaries),
        ("Norms", community.norms),
    ]
    return [section(truncate(f"*{label}*\n{escape(text)}", 3000)) for label, text in parts if text]


def announcement(community: Community, *, lead_id: str) -> Message:
    """The channel post that opens a new community."""
    blocks = [
        {"type": "header", "text": plain(truncate(f"Welcome to {community.name}", 150))},
        *community_summary(community),
        {
            "type": "context",
            "elements": [
                {
                    "type": "mrkdwn",
                    "text": f"Set up by {mention(lead_id)}. "
                    "Join with `/cop join`; `/cop help` lists the rest.",
                }
            ],
        },
        {
            "type": "actions",
            "block_id": "community_actions",
            "elements": [
                {
                    "type": "button",
                    "action_id": Action.JOIN,
                    "text": plain("Join"),
                    "style": "primary",
                    "value": str(community.id),
                }
            ],
        },
    ]
    text = f"{escape(community.name)} is open: join with /cop join"
    return message(text, blocks)


def joined_message(community: Community, *, joined: bool) -> str:
    """The ephemeral answer to `/cop join`."""
    if not joined:
        return f"You are already a member of *{escape(community.name)}*."
    return f":wave: Welcome to *{escape(community.name)}*! `/cop help` shows what you can do here."


def left_message(community: Community, *, left: bool) -> str:
    """The ephemeral answer to `/cop leave`."""
    if not left:
        return f"You are not a member of *{escape(community.name)}*."
    return f"You have left *{escape(community.name)}*. `/cop join` brings you back any time."
