"""Rules about action items: made from a review's lines, edited, closed, rescheduled, and due for DMs.

Plain Python: no Slack code, the caller commits. A review's `decisions` text mirrors its items (one line
each, its due date written as "by YYYY-MM-DD"), so editing the review later finds the same items again.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, case, select
from sqlalchemy.orm import Session

from copbot.actions.models import ActionItem, ItemStatus
from copbot.actions.parsing import DueDateError, ParsedLine, due_phrase, parse_line
from copbot.clock import now
from copbot.communities.models import Community, Workspace
from copbot.errors import InvalidInput, NotFound, PermissionDenied
from copbot.reviews.models import Review

MAX_ITEMS = 25
TEXT_MIN, TEXT_MAX = 3, 500
DUE_HOUR = time(9, 0)  # the due DM arrives on the morning of the due date, in the community's time zone
REMINDER_AFTER = timedelta(days=3)
_BULLET = re.compile(r"^\s*(?:[-*•]|\d+[.)]|\[ ?\])\s+")
_USER_ID = re.compile(r"[UW][A-Z0-9]+")


class Stage(StrEnum):
    """Which DM an open item is owed: the one on its due date, or the reminder after."""

    DUE = "due"
    REMINDER = "reminder"


def today_in(community: Community, at: datetime | None = None) -> date:
    """The community's date at `at` (now by default)."""
    return (at or now()).astimezone(ZoneInfo(community.timezone)).date()


def _morning(day: date, community: Community) -> datetime:
    return datetime.combine(day, DUE_HOUR, ZoneInfo(community.timezone)).astimezone(UTC)


def _lines(text: str) -> list[str]:
    stripped = (_BULLET.sub("", line).strip() for line in text.splitlines())
    return [line for line in stripped if line]


def _key(text: str) -> str:
    return " ".join(text.lower().split())


# --- items from a review ---------------------------------------------------------------------------


def items_for_review(session: Session, *, review_id: int) -> list[ActionItem]:
    """A review's items, in the order of its lines."""
    query = select(ActionItem).where(ActionItem.review_id == review_id).order_by(ActionItem.position)
    return list(session.scalars(query))


def sync_items(session: Session, *, review: Review, community: Community) -> list[ActionItem]:
    """Make the review's action lines its items: an unchanged line keeps its item (owner, state, DMs);
    a new line gets the owner named in it, else the owner chosen for its place, else the author.

    Raises InvalidInput on `decisions` for a date it cannot read; rewrites `review.decisions` in the
    items' own words.
    """
    today = today_in(community)
    parsed: list[ParsedLine] = []
    for number, raw in enumerate(_lines(review.decisions), 1):
        try:
            read = parse_line(raw, today=today)
        except DueDateError as error:
            raise InvalidInput({"decisions": f"Line {number}: {error}"}) from None
        if read.text:
            parsed.append(read)
    if len(parsed) > MAX_ITEMS:
        raise InvalidInput({"decisions": f"Keep it to {MAX_ITEMS} decisions and actions, one per line."})
    kept = {_key(item.text): item for item in items_for_review(session, review_id=review.id)}
    items = []
    for position, line in enumerate(parsed):
        item = kept.pop(_key(line.text), None)
        if item is None:
            positional = review.action_owners[position] if position < len(review.action_owners) else None
            item = ActionItem(
                team_id=review.team_id,
                community_id=review.community_id,
                review_id=review.id,
                owner_id=line.owner_id or positional or review.author_id,
                status=ItemStatus.OPEN,
            )
            session.add(item)
        elif line.owner_id:
            item.owner_id = line.owner_id
        item.position, item.text, item.due_on = position, line.text[:TEXT_MAX], line.due_on
        items.append(item)
    for gone in kept.values():
        session.delete(gone)
    review.decisions = mirror(items)
    session.flush()
    return items


def mirror(items: Sequence[ActionItem]) -> str:
    """The review's decisions text as its items stand."""
    return "\n".join(f"{item.text}{due_phrase(item.due_on)}" for item in items)


# --- who may do what -------------------------------------------------------------------------------


def _review_of(session: Session, item: ActionItem) -> Review:
    return session.get_one(Review, item.review_id)


def _writes(review: Review, user_id: str) -> bool:
    return user_id == review.author_id or user_id in review.coauthors


def get_item(session: Session, *, team_id: str, item_id: int, user_id: str) -> ActionItem:
    """An item its owner (or its review's authors) may act on."""
    item = session.get(ActionItem, item_id)
    if item is None or item.team_id != team_id:
        raise NotFound("That action no longer exists: its review may have been edited.")
    if user_id != item.owner_id and not _writes(_review_of(session, item), user_id):
        raise PermissionDenied(f"Only the action's owner can do that. It belongs to <@{item.owner_id}>.")
    return item


def editable_items(session: Session, *, team_id: str, review_id: int, user_id: str) -> list[ActionItem]:
    """The review's items the user may edit: all of them for its authors, their own for owners."""
    review = session.get(Review, review_id)
    if review is None or review.team_id != team_id:
        raise NotFound("That review no longer exists.")
    items = items_for_review(session, review_id=review_id)
    if not _writes(review, user_id):
        items = [item for item in items if item.owner_id == user_id]
    if not items:
        raise PermissionDenied("Only the review's authors and the actions' owners can edit its actions.")
    return items


def items_owned(session: Session, *, team_id: str, user_id: str, limit: int = 25) -> list[ActionItem]:
    """The user's open items, those due soonest first."""
    query = (
        select(ActionItem)
        .where(ActionItem.team_id == team_id, ActionItem.owner_id == user_id)
        .where(ActionItem.status == ItemStatus.OPEN.value)
        .order_by(*_soonest_first())
        .limit(limit)
    )
    return list(session.scalars(query))


def _soonest_first() -> tuple[ColumnElement[Any], ...]:
    undated_last = case((ActionItem.due_on.is_(None), 1), else_=0)
    return (undated_last, ActionItem.due_on.asc(), ActionItem.id.asc())


# --- edits and outcomes ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ItemEdit:
    """One item as the "Edit actions" modal submitted it."""

    item_id: int
    text: str
    owner_id: str | None
    due_on: date | None


def edit_items(
    session: Session, *, team_id: str, user_id: str, review_id: int, edits: Sequence[ItemEdit]
) -> list[ActionItem]:
    """Apply the modal's edits to the items the user may edit; raise InvalidInput naming each bad field
    (`text:ID`, `owner:ID`, `due:ID`) and change nothing then."""
    items = {i.id: i for i in editable_items(session, team_id=team_id, review_id=review_id, user_id=user_id)}
    review = session.get_one(Review, review_id)
    today = today_in(session.get_one(Community, review.community_id))
    errors: dict[str, str] = {}
    for edit in edits:
        item = items.get(edit.item_id)
        if item is None:
            continue
        text = " ".join(edit.text.split())
        if not TEXT_MIN <= len(text) <= TEXT_MAX:
            errors[f"text:{item.id}"] = f"Write the action in {TEXT_MIN} to {TEXT_MAX} characters."
        if not edit.owner_id or not _USER_ID.fullmatch(edit.owner_id):
            errors[f"owner:{item.id}"] = "Choose who follows this up."
        if edit.due_on is not None and edit.due_on != item.due_on and edit.due_on < today:
            errors[f"due:{item.id}"] = "Pick today or a later date (or clear it for no due date)."
    if errors:
        raise InvalidInput(errors)
    for edit in edits:
        item = items.get(edit.item_id)
        if item is not None and edit.owner_id:
            item.text, item.owner_id, item.due_on = " ".join(edit.text.split()), edit.owner_id, edit.due_on
    review.decisions = mirror(items_for_review(session, review_id=review_id))
    session.flush()
    return list(items.values())


def close_item(
    session: Session, *, team_id: str, user_id: str, item_id: int, outcome: ItemStatus
) -> tuple[ActionItem, bool]:
    """Record Done or Not doing; the second value is False when the item already had that outcome."""
    item = get_item(session, team_id=team_id, item_id=item_id, user_id=user_id)
    if item.status == outcome:
        return item, False
    item.status, item.closed_at, item.closed_by = outcome, now(), user_id
    session.flush()
    return item, True


def reschedule(session: Session, *, team_id: str, user_id: str, item_id: int, due_on: date) -> ActionItem:
    """Give the item a new due date (open again if it was closed): a new due DM comes on that date."""
    item = get_item(session, team_id=team_id, item_id=item_id, user_id=user_id)
    community = session.get_one(Community, item.community_id)
    if due_on < today_in(community):
        raise InvalidInput({"due": "Pick today or a later date."})
    item.due_on, item.status, item.closed_at, item.closed_by = due_on, ItemStatus.OPEN, None, None
    session.flush()
    return item


# --- due DMs ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DueItem:
    """An open item owed one DM at this stage, claimed for this due date."""

    item: ActionItem
    community: Community
    stage: Stage


def stage_at(item: ActionItem, community: Community, at: datetime) -> Stage | None:
    """Which DM the item is owed at `at`, if any: one on the due date's morning, one reminder after."""
    if item.due_on is None or not item.is_open or not item.owner_id:
        return None
    if item.reminder_for == item.due_on:
        return None
    if at >= _morning(item.due_on + REMINDER_AFTER, community):
        return Stage.REMINDER
    if at >= _morning(item.due_on, community) and item.due_dm_for != item.due_on:
        return Stage.DUE
    return None


def claim_due(session: Session, *, at: datetime, limit: int = 500) -> list[DueItem]:
    """Claim the open items owed a DM at `at`; each is marked so it is owed that DM once per due date."""
    soon = at.date() + timedelta(days=1)  # no zone is more than a day ahead of UTC
    rows = session.execute(
        select(ActionItem, Community)
        .join(Community, Community.id == ActionItem.community_id)
        .join(Workspace, Workspace.team_id == ActionItem.team_id)
        .where(Workspace.uninstalled_at.is_(None))
        .where(ActionItem.status == ItemStatus.OPEN.value, ActionItem.due_on <= soon)
        .where(ActionItem.owner_id != "")
        .where((ActionItem.reminder_for.is_(None)) | (ActionItem.reminder_for != ActionItem.due_on))
        .order_by(ActionItem.due_on, ActionItem.id)
        .limit(limit)
        .with_for_update(of=ActionItem, skip_locked=True)
    ).all()
    due = []
    for item, community in rows:
        stage = stage_at(item, community, at)
        if stage is None:
            continue
        item.due_dm_for = item.due_on
        if stage == Stage.REMINDER:
            item.reminder_for = item.due_on
        due.append(DueItem(item, community, stage))
    session.flush()
    return due


def next_due(session: Session, *, at: datetime) -> datetime | None:
    """The first instant after `at` at which an open item is owed a DM (for the scheduler's wake-up)."""
    rows = session.execute(
        select(ActionItem, Community)
        .join(Community, Community.id == ActionItem.community_id)
        .where(ActionItem.status == ItemStatus.OPEN.value, ActionItem.due_on.is_not(None))
        .where((ActionItem.reminder_for.is_(None)) | (ActionItem.reminder_for != ActionItem.due_on))
        .order_by(ActionItem.due_on)
        .limit(200)
    ).all()
    instants = []
    for item, community in rows:
        assert item.due_on is not None  # the query asked for it
        for day in (item.due_on, item.due_on + REMINDER_AFTER):
            if (instant := _morning(day, community)) > at:
                instants.append(instant)
    return min(instants, default=None)


# --- listing ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OpenItem:
    """An open item with the review it came from, for lists."""

    item: ActionItem
    review_title: str
    overdue: bool


def open_items(session: Session, *, community: Community, limit: int = 100) -> list[OpenItem]:
    """The community's open items: overdue first, then by due date, undated last."""
    today = today_in(community)
    rows = session.execute(
        select(ActionItem, Review.title)
        .join(Review, Review.id == ActionItem.review_id)
        .where(ActionItem.team_id == community.team_id, ActionItem.community_id == community.id)
        .where(ActionItem.status == ItemStatus.OPEN.value)
        .order_by(*_soonest_first())
        .limit(limit)
    ).all()
    return [OpenItem(item, title, item.due_on is not None and item.due_on < today) for item, title in rows]
