"""Block Kit for action items: the owner's DMs, the "Edit actions" modal, `/cop actions`, and the lines
the review post and the App Home show. Pure functions: data in, dict out."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date
from typing import Any

from copbot.actions.ids import ActionsAction, ActionsBlock, ActionsField, ActionsView, field_block
from copbot.actions.models import ActionItem, ItemStatus
from copbot.actions.parsing import HOW_TO_WRITE
from copbot.actions.service import OpenItem, Stage
from copbot.blockkit import (
    Message,
    button,
    channel_link,
    check,
    context,
    divider,
    escape,
    header,
    mention,
    message,
    plain,
    plural,
    section,
    truncate,
)
from copbot.communities.models import Community

Block = dict[str, Any]
OUTCOMES = {ItemStatus.DONE: ":white_check_mark: Done", ItemStatus.NOT_DOING: ":no_entry_sign: Not doing"}
DECISIONS_HINT = (
    f"One per line. Add a due date to a line ({HOW_TO_WRITE}) and its owner is reminded that morning."
)


def _message(text: str, blocks: list[Block]) -> Message:
    return message(text, blocks)


def day(value: date) -> str:
    """A due date as people read it: "Tue 15 Dec"."""
    return f"{value:%a} {value.day} {value:%b}"


def item_line(item: ActionItem, *, today: date, owner: bool = True) -> str:
    """One item as a bullet: its state, its words, its owner and its due date."""
    text = escape(item.text)
    who = f" → {mention(item.owner_id)}" if owner and item.owner_id else ""
    if item.status == ItemStatus.DONE:
        return f"• :white_check_mark: ~{text}~{who}"
    if item.status == ItemStatus.NOT_DOING:
        return f"• :no_entry_sign: ~{text}~{who} · _not doing_"
    if item.due_on is None:
        return f"• {text}{who}"
    if item.due_on < today:
        return f"• :warning: {text}{who} · *overdue since {day(item.due_on)}*"
    return f"• {text}{who} · due {day(item.due_on)}"


def items_section(items: Sequence[ActionItem], *, today: date, also: Sequence[str] = ()) -> Block:
    """The review post's "Decisions and follow-up actions", with each item's state (and the people
    chosen as owners beyond the lines, as `also`)."""
    still = sum(1 for item in items if item.is_open)
    tally = f" · {still} of {len(items)} open" if still else " · all closed"
    lines = "\n".join(item_line(item, today=today) for item in items)
    if also:
        lines += "\nAlso following up: " + ", ".join(mention(u) for u in also)
    return section(f"*Decisions and follow-up actions*{tally}\n{lines}")


def edit_button(review_id: int) -> Block:
    """The "Edit actions" button, on the review post and the App Home."""
    return button("Edit actions", ActionsAction.EDIT, str(review_id))


# --- the owner's DM --------------------------------------------------------------------------------


def dm_block_id(item: ActionItem, stage: Stage) -> str:
    """The DM's actions block id: which item, and which DM (stage and due date) it is."""
    return f"{ActionsBlock.DM}:{item.id}:{stage.value}:{item.due_on}"


def due_message(
    item: ActionItem, *, community: Community, review_title: str, stage: Stage, today: date
) -> Message:
    """The owner's DM on the due date (or the one reminder after): Done, Not doing, or a new date."""
    assert item.due_on is not None  # only dated items are owed a DM
    if stage == Stage.DUE:
        lead = f":alarm_clock: An action you own in {channel_link(community.channel_id)} is due today"
    else:
        late = plural((today - item.due_on).days, "day")
        where = channel_link(community.channel_id)
        lead = f":hourglass: An action you own in {where} is still open, {late} after its date"
    blocks = [
        section(f"{lead}:\n>{escape(item.text)}\n_From the review *{escape(review_title)}*._"),
        {
            "type": "actions",
            "block_id": dm_block_id(item, stage),
            "elements": [
                button("Done", ActionsAction.DONE, str(item.id), style="primary"),
                button("Not doing", ActionsAction.NOT_DOING, str(item.id)),
                {
                    "type": "datepicker",
                    "action_id": ActionsAction.NEW_DATE,
                    "placeholder": plain("New date"),
                },
            ],
        },
    ]
    return _message(
        "An action you own is due" if stage == Stage.DUE else "An action you own is still open", blocks
    )


def answered_message(item: ActionItem, *, community: Community, review_title: str) -> Message:
    """What the DM becomes once its owner answered."""
    if item.status == ItemStatus.OPEN and item.due_on is not None:
        outcome = f":calendar: New date: {day(item.due_on)}. I'll remind you that morning."
    else:
        outcome = OUTCOMES.get(ItemStatus(item.status), item.status) + ". Thanks for closing the loop."
    text = (
        f">{escape(item.text)}\n_From the review *{escape(review_title)}* in "
        f"{channel_link(community.channel_id)}._\n{outcome}"
    )
    return _message("Action updated", [section(text)])


# --- the edit modal --------------------------------------------------------------------------------


def edit_modal(*, review_id: int, review_title: str, items: Sequence[ActionItem]) -> Block:
    """One text, owner and due date per item the person may edit."""
    blocks: list[Block] = [context(f"Actions of *{escape(truncate(review_title, 200))}*.")]
    for n, item in enumerate(items, 1):
        text: Block = {
            "type": "plain_text_input",
            "action_id": ActionsField.TEXT,
            "initial_value": item.text[:500],
            "max_length": 500,
        }
        owner: Block = {"type": "users_select", "action_id": ActionsField.OWNER}
        if item.owner_id:
            owner["initial_user"] = item.owner_id
        due: Block = {
            "type": "datepicker",
            "action_id": ActionsField.DUE,
            "placeholder": plain("No due date"),
        }
        if item.due_on:
            due["initial_date"] = item.due_on.isoformat()
        blocks += [
            _input(field_block(ActionsField.TEXT, item.id), f"Action {n}", text),
            _input(field_block(ActionsField.OWNER, item.id), "Owner", owner),
            _input(field_block(ActionsField.DUE, item.id), "Due", due, optional=True),
        ]
    view = {
        "type": "modal",
        "callback_id": ActionsView.EDIT,
        "private_metadata": json.dumps({"review_id": review_id}),
        "title": plain("Edit actions"),
        "submit": plain("Save"),
        "close": plain("Cancel"),
        "blocks": blocks[:100],
    }
    return check(view, surface="modal")


def _input(block_id: str, label: str, element: Block, *, optional: bool = False) -> Block:
    return {
        "type": "input",
        "block_id": block_id,
        "label": plain(label),
        "optional": optional,
        "element": element,
    }


# --- /cop actions ----------------------------------------------------------------------------------


def open_list(community: Community, found: Sequence[OpenItem], *, today: date) -> Message:
    """The community's open items, grouped by owner, the owners with overdue items first."""
    name = escape(community.name)
    if not found:
        return _message(f"No open actions in {name}", [section(f":tada: *{name}* has no open actions.")])
    groups: dict[str, list[OpenItem]] = {}
    for entry in found:  # already overdue first, then by date: the first owner seen is the most urgent
        groups.setdefault(entry.item.owner_id, []).append(entry)
    overdue = sum(1 for entry in found if entry.overdue)
    summary = f"{plural(len(found), 'open action')}" + (f", {overdue} overdue" if overdue else "")
    blocks: list[Block] = [header(f"Open actions of {truncate(community.name, 100)}"), context(summary)]
    for owner_id, entries in list(groups.items())[:45]:
        lines = "\n".join(
            f"{item_line(e.item, today=today, owner=False)} · _{escape(truncate(e.review_title, 80))}_"
            for e in entries
        )
        who = mention(owner_id) if owner_id else "No owner (a former member)"
        blocks.append(section(f"*{who}*\n{lines}"))
    return _message(f"Open actions of {name}: {summary}", blocks)


def home_section(entries: Sequence[tuple[ActionItem, date]]) -> list[Block]:
    """The owner's open items on their App Home (each with its community's date), with Edit actions."""
    if not entries:
        return []
    blocks: list[Block] = [divider(), section(":dart: *Your open actions*")]
    for item, today in entries[:10]:
        line = item_line(item, today=today, owner=False)
        blocks.append(section(line, accessory=edit_button(item.review_id)))
    return blocks
