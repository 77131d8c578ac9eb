"""Privacy for action items: forget an owner, and the retention rule's deletions.

A forgotten owner's items stay (they are the review's decisions) but name no one and are asked about no
more; whoever closed an item is forgotten the same way.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, update
from sqlalchemy.orm import Session

from copbot.actions.models import ActionItem
from copbot.db import affected
from copbot.feature import Counts, Person

FORMER_MEMBER = ""  # no one: the due DM job skips items without an owner


def forget_user(session: Session, person: Person) -> Counts:
    """Remove the user's id from every action item of the workspace."""
    owned = update(ActionItem).where(
        ActionItem.team_id == person.team_id, ActionItem.owner_id == person.user_id
    )
    closed = update(ActionItem).where(
        ActionItem.team_id == person.team_id, ActionItem.closed_by == person.user_id
    )
    changed = affected(session.execute(owned.values(owner_id=FORMER_MEMBER)))
    changed += affected(session.execute(closed.values(closed_by=None)))
    return {"action_items": changed}


def purge_before(session: Session, cutoff: datetime, team_id: str) -> int:
    """Delete action items made before `cutoff` (their reviews go too, by the reviews' own rule)."""
    query = delete(ActionItem).where(ActionItem.created_at < cutoff, ActionItem.team_id == team_id)
    return affected(session.execute(query))
