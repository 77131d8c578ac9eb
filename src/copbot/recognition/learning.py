"""Digest parts and lookups that read other features' tables (reviews and playbooks).

Kept apart so that the rest of recognition depends only on communities.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from copbot.errors import NotFound
from copbot.reviews.models import Playbook, Review

EXTRA_SECTIONS: list[Callable[[Session, Any], None]] = []


@dataclass(frozen=True)
class ThankedItem:
    """A review or playbook whose authors someone wants to thank."""

    community_id: int
    authors: list[str]
    title: str


def item_for_thanks(session: Session, *, team_id: str, value: str) -> ThankedItem:
    """Read the `review:<id>` / `playbook:<id>` value of a "Thank the author" button."""
    kind, _, raw_id = value.partition(":")
    model = {"review": Review, "playbook": Playbook}.get(kind)
    item = session.get(model, int(raw_id)) if model is not None and raw_id.isdigit() else None
    if item is None or item.team_id != team_id:
        raise NotFound("That review or playbook no longer exists.")
    authors = [item.author_id, *getattr(item, "coauthors", [])]
    return ThankedItem(community_id=item.community_id, authors=list(dict.fromkeys(authors)), title=item.title)
