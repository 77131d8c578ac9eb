"""Block Kit for recognition: the nomination modal, DMs, channel posts, the weekly digest.

Pure functions: data in, dict out, each checked against Slack's limits.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from copbot.blockkit import (
    Message,
    button,
    channel_link,
    check,
    context,
    escape,
    link,
    local_time,
    mention,
    message,
    plain,
    section,
    truncate,
)
from copbot.communities.models import Community
from copbot.recognition.ids import (
    RecognitionAction,
    RecognitionBlock,
    RecognitionField,
    RecognitionSetup,
    RecognitionView,
)
from copbot.recognition.models import Nomination, RecognitionSettings

PUBLIC, PRIVATE = "public", "private"


def _option(value: str) -> dict[str, Any]:
    return {"text": plain(truncate(value, 75)), "value": value[:150]}


def _text_input(field: RecognitionField, label: str, placeholder: str, initial: str) -> dict[str, Any]:
    element: dict[str, Any] = {
        "type": "plain_text_input",
        "action_id": field,
        "multiline": True,
        "max_length": 2000,
        "placeholder": plain(placeholder),
    }
    if initial:
        element["initial_value"] = initial[:2000]
    return {"type": "input", "block_id": field, "label": plain(label), "element": element}


@dataclass(frozen=True)
class ModalContext:
    """What the nomination modal is opened with."""

    community: Community
    settings: RecognitionSettings
    left: int
    nominees: Sequence[str] = ()
    story: str = ""
    permalink: str | None = None
    subject: str | None = None
    subject_title: str | None = None
    dropped: Sequence[tuple[str, str]] = ()  # (user id, why) of pre-filled nominees left out


def nomination_modal(ctx: ModalContext) -> dict[str, Any]:
    """The `/nominate` modal: nominees, value, what they did, the difference, public or private."""
    settings = ctx.settings
    left = f"You can make *{ctx.left}* more this week (of {settings.weekly_limit})."
    blocks: list[dict[str, Any]] = [
        section(f"Recognise someone in *{escape(ctx.community.name)}* for something specific. {left}")
    ]
    if ctx.permalink:
        blocks.append(context(f":link: About {link(ctx.permalink, 'this message')}"))
    if ctx.subject_title:
        blocks.append(context(f":books: About *{escape(ctx.subject_title)}*"))
    if ctx.dropped:
        named = ", ".join(f"{mention(u)} ({why})" for u, why in ctx.dropped)
        blocks.append(context(f":information_source: Left out: {named}."))
    picker: dict[str, Any] = {
        "type": "multi_users_select",
        "action_id": RecognitionField.NOMINEES,
        "placeholder": plain("Who made a difference?"),
        "max_selected_items": 10,
    }
    if ctx.nominees:
        picker["initial_users"] = list(ctx.nominees)
    blocks.append(
        {
            "type": "input",
            "block_id": RecognitionField.NOMINEES,
            "label": plain("Who"),
            # Each change is sent to copbot, which looks the people up while the rest is typed,
            # so the submission's ack finds them in the cache.
            "dispatch_action": True,
            "element": picker,
        }
    )
    blocks.append(
        {
            "type": "input",
            "block_id": RecognitionField.VALUE,
            "label": plain("The value they showed"),
            "element": {
                "type": "static_select",
                "action_id": RecognitionField.VALUE,
                "placeholder": plain("Choose a value"),
                "options": [_option(v) for v in settings.values[:100]],
            },
        }
    )
    blocks.append(
        _text_input(
            RecognitionField.ACTION,
            "What they did",
            "The specific thing: e.g. paired with me for an hour on the flaky deploy",
            ctx.story,
        )
    )
    blocks.append(
        _text_input(
            RecognitionField.IMPACT,
            "The difference it made",
            "e.g. we shipped on Friday instead of next week",
            "",
        )
    )
    share = [_option("Public: share it in the channel"), _option("Private: only they see it")]
    share[0]["value"], share[1]["value"] = PUBLIC, PRIVATE
    blocks.append(
        {
            "type": "input",
            "block_id": RecognitionField.VISIBILITY,
            "label": plain("Share it"),
            "element": {
                "type": "radio_buttons",
                "action_id": RecognitionField.VISIBILITY,
                "options": share,
                "initial_option": share[0],
            },
        }
    )
    meta = {"community_id": ctx.community.id, "permalink": ctx.permalink, "subject": ctx.subject}
    view = {
        "type": "modal",
        "callback_id": RecognitionView.NOMINATE,
        "private_metadata": json.dumps({k: v for k, v in meta.items() if v}),
        "title": plain("Recognise someone"),
        "submit": plain("Send"),
        "close": plain("Cancel"),
        "blocks": blocks,
    }
    return check(view, surface="modal")


def values_setup_field(values: Sequence[str]) -> dict[str, Any]:
    """The set-up modal's "Values people are recognised for" input, pre-filled with `values`."""
    return {
        "type": "input",
        "block_id": RecognitionSetup.VALUES_BLOCK,
        "optional": True,
        "label": plain("Values people are recognised for"),
        "hint": plain("Comma-separated; /nominate offers these. Left empty, the list stays as it is."),
        "element": {
            "type": "plain_text_input",
            "action_id": RecognitionSetup.VALUES_INPUT,
            "max_length": 3000,
            "placeholder": plain("e.g. Curiosity, Generosity, Sharing knowledge, Mentoring"),
            **({"initial_value": ", ".join(values)} if values else {}),
        },
    }


def thanks_view(nomination: Nomination, *, left: int, held: bool) -> dict[str, Any]:
    """The modal shown once a nomination is stored."""
    who = ", ".join(mention(u) for u in nomination.nominee_ids)
    if not nomination.public:
        where = "Only they will see it."
    elif held:
        where = "It will be shared in this week's digest."
    else:
        where = "It is being shared in the channel."
    text = f":tada: Thank you! {who} will get your note. {where}\nYou can make {left} more this week."
    view = {
        "type": "modal",
        "title": plain("Recognition sent"),
        "close": plain("Done"),
        "blocks": [section(text)],
    }
    return check(view, surface="modal")


def story_text(nomination: Nomination, *, width: int = 1400) -> str:
    """The nomination's story in mrkdwn: what they did, and the difference it made."""
    action = truncate(escape(nomination.action), width)
    impact = truncate(escape(nomination.impact), width)
    text = f"*What they did:* {action}\n*The difference it made:* {impact}"
    if nomination.permalink:
        text += f"\n{link(nomination.permalink, 'See the message')}"
    return text


def nominee_dm(nomination: Nomination, community: Community) -> Message:
    """The DM each nominee gets: who recognised them, for what, and what it changed."""
    by = mention(nomination.nominator_id) if nomination.nominator_id else "Someone"
    head = f":sparkles: {by} recognised you for *{escape(nomination.value)}* in *{escape(community.name)}*."
    blocks = [section(head), section(story_text(nomination))]
    if len(nomination.nominee_ids) > 1:
        blocks.append(context("Together with " + ", ".join(mention(u) for u in nomination.nominee_ids)))
    visibility = (
        "It will be shared with the community." if nomination.public else "It was sent to you privately."
    )
    blocks.append(context(visibility))
    # The notification is all many people read: it says who, as the message does.
    text = f"{by} recognised you for {escape(nomination.value)} in {escape(community.name)}"
    return message(text, blocks)


def channel_post(nomination: Nomination) -> Message:
    """The channel post of a public nomination."""
    who = ", ".join(mention(u) for u in nomination.nominee_ids)
    by = mention(nomination.nominator_id) if nomination.nominator_id else "a member"
    head = f":clap: {who}, recognised for *{escape(nomination.value)}* by {by}"
    lesson = button("Turn this into a lesson", RecognitionAction.TURN_INTO_LESSON, str(nomination.id))
    blocks = [
        section(head),
        section(story_text(nomination)),
        {"type": "actions", "block_id": RecognitionBlock.POST_ACTIONS, "elements": [lesson]},
        context("Recognise someone with `/nominate`. Any emoji on this post co-signs it."),
    ]
    text = f"{by.capitalize() if by == 'a member' else by} recognised {who} for {escape(nomination.value)}"
    return message(text, blocks)


def settings_text(
    community: Community, settings: RecognitionSettings, *, next_digest: datetime | None
) -> str:
    """The ephemeral summary of a community's recognition settings."""
    from copbot.recognition.service import WEEKDAYS

    values = ", ".join(escape(v) for v in settings.values)
    public = "held for the weekly digest" if settings.hold_for_digest else "posted in the channel at once"
    if settings.digest_enabled and next_digest is not None:
        day = WEEKDAYS[settings.digest_weekday].capitalize()
        when = local_time(next_digest)
        digest = f"{day}s at {settings.digest_time} ({escape(community.timezone)}); next {when}"
    else:
        digest = "off"
    return (
        f"*Recognition in {escape(community.name)}*\n"
        f"• Values: {values}\n"
        f"• Stories of at least {settings.story_min} characters; "
        f"{settings.weekly_limit} nominations a person a week\n"
        f"• Public nominations are {public}\n"
        f"• Weekly digest: {digest}\n"
        "Leads change these with `/cop values set A, B, C`, `/cop recognition min-story N`, "
        "`/cop recognition limit N`, `/cop recognition public now|digest`, "
        "`/cop recognition digest monday 09:00` or `/cop recognition digest off`."
    )


def where(community: Community) -> str:
    """The community's channel, as a link."""
    return channel_link(community.channel_id)
