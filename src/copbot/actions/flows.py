"""The action items' use cases: `(session, input) -> outcome`, calling the service, rendering with the
blocks and owing the outbox messages (the owner's DM, the review post's update), in the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.orm import Session

from copbot.actions import blocks, service
from copbot.actions.models import ActionItem, ItemStatus
from copbot.actions.service import ItemEdit, Stage
from copbot.communities.models import Community
from copbot.outbox import service as outbox
from copbot.reviews import flows as reviews
from copbot.reviews.models import Review
from copbot.reviews.search import post_key


def dm_key(item_id: int, stage: Stage | str, due_on: date | str | None) -> str:
    """The outbox key of an item's DM for one stage and due date: it is sent once."""
    return f"action:{item_id}:{Stage(stage).value}:{due_on}"


def send_due(session: Session, *, at: datetime) -> int:
    """Owe each owner one DM per due date and stage (on the date's morning, and a reminder after)."""
    due = service.claim_due(session, at=at)
    for entry in due:
        item, community = entry.item, entry.community
        review = session.get_one(Review, item.review_id)
        dm = blocks.due_message(
            item,
            community=community,
            review_title=review.title,
            stage=entry.stage,
            today=service.today_in(community, at),
        )
        key = dm_key(item.id, entry.stage, item.due_on)
        outbox.direct_message(session, team_id=item.team_id, user_id=item.owner_id, key=key, message=dm)
    return len(due)


@dataclass(frozen=True)
class Answer:
    """A click on an item's DM: Done, Not doing, or a new date; `dm` names the DM it was made on."""

    team_id: str
    user_id: str
    item_id: int
    outcome: ItemStatus | None = None
    new_date: date | None = None
    dm: tuple[str, str] | None = None  # (stage, due date) of the DM clicked


def answer(session: Session, entry: Answer) -> ActionItem:
    """Record the owner's answer, owe the DM's update in place and the review post's update."""
    if entry.new_date is not None:
        item = service.reschedule(
            session,
            team_id=entry.team_id,
            user_id=entry.user_id,
            item_id=entry.item_id,
            due_on=entry.new_date,
        )
        changed = True
    else:
        item, changed = service.close_item(
            session,
            team_id=entry.team_id,
            user_id=entry.user_id,
            item_id=entry.item_id,
            outcome=entry.outcome or ItemStatus.DONE,
        )
    if not changed:
        return item
    review = session.get_one(Review, item.review_id)
    state = f"{item.status}:{item.due_on}:{item.updated_at.isoformat()}"
    if entry.dm is not None:
        community = session.get_one(Community, item.community_id)
        dm = dm_key(item.id, *entry.dm)
        shown = blocks.answered_message(item, community=community, review_title=review.title)
        outbox.update(session, team_id=item.team_id, key=f"{dm}:as:{state}", of_key=dm, message=shown)
    refresh_post(session, review, key=f"review:{review.id}:action:{item.id}:{state}")
    return item


def save_edits(
    session: Session, *, team_id: str, user_id: str, review_id: int, edits: Sequence[ItemEdit]
) -> list[ActionItem]:
    """Store the "Edit actions" modal and owe the review post's update."""
    items = service.edit_items(session, team_id=team_id, user_id=user_id, review_id=review_id, edits=edits)
    review = session.get_one(Review, review_id)
    stamp = max((item.updated_at for item in items), default=review.updated_at).isoformat()
    refresh_post(session, review, key=f"review:{review.id}:actions-edit:{stamp}")
    return items


def refresh_post(session: Session, review: Review, *, key: str) -> None:
    """Owe the review post's update, showing its items as they now stand."""
    outbox.update(
        session,
        team_id=review.team_id,
        key=key,
        of_key=post_key("review", review.id),
        message=reviews.review_post(session, review),
    )
