"""The action items' surfaces for the gallery: the review post with its items, the owner's DMs, the edit
modal and `/cop actions`, built from fixed in-memory rows (see `surfaces.py`)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from copbot.actions import blocks as action_blocks
from copbot.actions.models import ActionItem
from copbot.actions.service import OpenItem, Stage
from copbot.reviews import blocks as review_blocks
from tests.gallery.surfaces import COMMUNITY, NOW, _review

Payload = dict[str, Any]
TODAY = NOW.date()


def _item(
    item_id: int, position: int, text: str, owner: str, due: date | None, status: str = "open"
) -> ActionItem:
    return ActionItem(
        id=item_id, team_id="T1", community_id=1, review_id=7, position=position, text=text, owner_id=owner,
        due_on=due, status=status, created_at=NOW - timedelta(days=10),
    )  # fmt: skip


def _items() -> list[ActionItem]:
    return [
        _item(21, 0, "Write the failover script", "U3", TODAY + timedelta(days=4)),
        _item(22, 1, "Alert on replica lag above 30 s", "U5", TODAY - timedelta(days=2)),
        _item(23, 2, "Add the drill to the on-call handbook", "U2", None, status="done"),
        _item(24, 3, "Buy a second pager", "U3", None, status="not_doing"),
    ]


def action_surfaces() -> dict[str, Callable[[], Payload]]:
    """The action items' surfaces."""
    review, items = _review(), _items()
    script, alert = items[0], items[1]
    due_today = _item(21, 0, "Write the failover script", "U3", TODAY)
    answered = _item(22, 1, "Alert on replica lag above 30 s", "U5", TODAY + timedelta(days=7))
    listed = [
        OpenItem(alert, review.title, overdue=True),
        OpenItem(script, review.title, overdue=False),
        OpenItem(_item(25, 0, "Share the runbook with #cop-sre", "U3", None), "Queue backlog", overdue=False),
    ]
    return {
        "review-post-actions": lambda: review_blocks.review_message(
            review, community=COMMUNITY, applied=2, items=items, today=TODAY
        ),
        "action-due-dm": lambda: action_blocks.due_message(
            due_today, community=COMMUNITY, review_title=review.title, stage=Stage.DUE, today=TODAY
        ),
        "action-reminder-dm": lambda: action_blocks.due_message(
            alert,
            community=COMMUNITY,
            review_title=review.title,
            stage=Stage.REMINDER,
            today=TODAY + timedelta(days=1),
        ),
        "action-answered-dm": lambda: action_blocks.answered_message(
            answered, community=COMMUNITY, review_title=review.title
        ),
        "actions-edit-modal": lambda: action_blocks.edit_modal(
            review_id=7, review_title=review.title, items=items[:2]
        ),
        "actions-list": lambda: action_blocks.open_list(COMMUNITY, listed, today=TODAY),
    }
