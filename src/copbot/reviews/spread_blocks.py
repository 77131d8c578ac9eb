"""Block Kit for practices that spread: similar items of other communities, "where did you apply it?",
the authors' news that their practice was applied elsewhere. Pure functions: data in, dict out."""

from __future__ import annotations

import json
from collections.abc import Sequence

from copbot.blockkit import (
    Block,
    Message,
    button,
    channel_link,
    check,
    context,
    escape,
    mention,
    message,
    option,
    plain,
    section,
)
from copbot.communities.models import Community
from copbot.reviews.blocks import _safe_link
from copbot.reviews.ids import ReviewAction, ReviewField, ReviewView
from copbot.reviews.models import Playbook, Review
from copbot.reviews.search import Found

KIND_LABELS = {"review": "Review", "playbook": "Playbook"}


def _title(item: Found) -> str:
    return _safe_link(item.url, item.title) if item.url else f"*{escape(item.title)}*"


def applied_button(kind: str, item_id: int) -> Block:
    """ "We applied this" for an item, as on its channel post."""
    return button("We applied this", ReviewAction.APPLIED, f"{kind}:{item_id}", style="primary")


def similar_message(review: Review, found: Sequence[Found]) -> Message:
    """The author's DM after a review: what other communities learned about something like it."""
    blocks: list[Block] = [
        section(
            f":bulb: While you wrote up *{escape(review.title)}*, other communities met something like it:"
        )
    ]
    for item in found:
        where = channel_link(item.community.channel_id) if item.community else "Another community"
        text = f"{where} solved something like this: {_title(item)}\n_{KIND_LABELS[item.kind]}_"
        blocks.append(section(text, accessory=applied_button(item.kind, item.item_id)))
    blocks.append(
        context("Tried one of them? *We applied this* tells its authors, and counts for your community.")
    )
    text = f"Other communities solved something like {escape(review.title)}"
    return message(text, blocks)


def applied_where_modal(*, title: str, kind: str, item_id: int, choices: Sequence[Community]) -> Block:
    """Ask a member of several other communities which one applied the item."""
    view = {
        "type": "modal",
        "callback_id": ReviewView.APPLIED_WHERE,
        "private_metadata": json.dumps({"kind": kind, "item_id": item_id}),
        "title": plain("We applied this"),
        "submit": plain("Record"),
        "close": plain("Cancel"),
        "blocks": [
            section(f"You applied *{escape(title)}*. For which of your communities?"),
            {
                "type": "input",
                "block_id": ReviewField.APPLIED_COMMUNITY,
                "label": plain("Community"),
                "element": {
                    "type": "static_select",
                    "action_id": ReviewField.APPLIED_COMMUNITY,
                    "placeholder": plain("Choose a community"),
                    "options": [option(c.name, str(c.id)) for c in choices[:100]],
                },
            },
        ],
    }
    return check(view, surface="modal")


def applied_recorded_view(*, title: str, community: Community) -> Block:
    """The modal after the adopter chose their community."""
    text = f":raised_hands: Noted: {channel_link(community.channel_id)} applied *{escape(title)}*. Thank you!"
    view = {
        "type": "modal",
        "title": plain("We applied this"),
        "close": plain("Done"),
        "blocks": [section(text)],
    }
    return check(view, surface="modal")


def applied_elsewhere_message(
    item: Review | Playbook, *, adopter: str, community: Community, communities: int, url: str | None
) -> Message:
    """An author's DM: their practice was applied by another community."""
    kind = "review" if isinstance(item, Review) else "playbook"
    title = _safe_link(url, item.title) if url else f"*{escape(item.title)}*"
    text = (
        f":seedling: Your {kind} {title} travelled: {mention(adopter)} applied it in "
        f"{channel_link(community.channel_id)}."
    )
    note = (
        "The first community beyond yours to apply it."
        if communities == 1
        else f"{communities} other communities have applied it now."
    )
    blocks = [section(text), context(note)]
    return message(f"Your {kind} {escape(item.title)} was applied elsewhere", blocks)
