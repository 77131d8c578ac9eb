"""Practices that spread: which community applied an item, and what each community exported / imported.

Rules, plain Python (no Slack): an adoption is local when the adopter applies an item of a community
they belong to and no other; it is recorded for another community when the adopter belongs to it: the
one of the channel where they clicked, or their only other one; with several, they are asked which.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, distinct, func, select
from sqlalchemy.orm import Session

from copbot.communities.models import Community, Member
from copbot.errors import NotFound
from copbot.reviews import service
from copbot.reviews.models import Adoption, AdoptionCheckin, Playbook, Review


def item_of(session: Session, *, team_id: str, kind: str, item_id: int) -> Review | Playbook:
    """The review or playbook a button names, in this workspace."""
    if kind == "review":
        return service.get_review(session, team_id=team_id, review_id=item_id)
    if kind == "playbook":
        return service.get_playbook(session, team_id=team_id, playbook_id=item_id)
    raise NotFound("That item no longer exists.")


def memberships(session: Session, *, team_id: str, user_id: str) -> list[Community]:
    """The communities a person belongs to now, by name."""
    return list(
        session.scalars(
            select(Community)
            .join(Member, (Member.community_id == Community.id) & (Member.team_id == Community.team_id))
            .where(Member.team_id == team_id, Member.user_id == user_id, Member.left_at.is_(None))
            .order_by(Community.name, Community.id)
        )
    )


def adopter_choices(
    session: Session, *, team_id: str, user_id: str, source_community_id: int, channel_id: str | None
) -> list[Community]:
    """The other communities this adoption may count for: none (local), one, or several to ask about."""
    others = [
        c for c in memberships(session, team_id=team_id, user_id=user_id) if c.id != source_community_id
    ]
    here = [c for c in others if c.channel_id == channel_id]
    return here or others


def adopt(
    session: Session, *, team_id: str, user_id: str, item: Review | Playbook, adopter_community_id: int | None
) -> bool:
    """Record the adoption once per member and item (for the adopter's community, local when None)."""
    if adopter_community_id is not None and adopter_community_id != item.community_id:
        choices = memberships(session, team_id=team_id, user_id=user_id)
        if adopter_community_id not in {c.id for c in choices}:
            raise NotFound("You are not a member of that community.")
    return service.adopt(
        session,
        team_id=team_id,
        user_id=user_id,
        kind="review" if isinstance(item, Review) else "playbook",
        item_id=item.id,
        source_community_id=item.community_id,
        adopter_community_id=adopter_community_id or item.community_id,
    )


@dataclass(frozen=True)
class Spread:
    """A community's practices that crossed over: its items applied elsewhere, others' items applied here."""

    exported: int  # distinct items of this community applied by another community
    imported: int  # distinct items of other communities applied here
    adopting_communities: int  # distinct other communities that applied its items


def _crossed() -> ColumnElement[bool]:
    return Adoption.adopter_community_id != Adoption.source_community_id


def _distinct_items(*conditions: ColumnElement[bool]) -> Select[int]:
    items = select(Adoption.item_kind, Adoption.item_id).where(*conditions, _crossed()).distinct()
    return select(func.count()).select_from(items.subquery())


def spread_of(
    session: Session,
    *,
    team_id: str,
    community_id: int,
    start: datetime | None = None,
    stop: datetime | None = None,
) -> Spread:
    """How many practices a community exported and imported (distinct items), and to how many others:
    ever, or by adoptions made in [start, stop)."""
    window = [Adoption.team_id == team_id]
    window += [Adoption.created_at >= start] if start is not None else []
    window += [Adoption.created_at < stop] if stop is not None else []
    exported = _distinct_items(*window, Adoption.source_community_id == community_id)
    imported = _distinct_items(*window, Adoption.adopter_community_id == community_id)
    adopters = select(func.count(distinct(Adoption.adopter_community_id))).where(
        *window, Adoption.source_community_id == community_id, _crossed()
    )
    return Spread(
        exported=session.scalar(exported) or 0,
        imported=session.scalar(imported) or 0,
        adopting_communities=session.scalar(adopters) or 0,
    )


def adopting_communities(session: Session, *, team_id: str, kind: str, item_id: int) -> int:
    """How many other communities applied an item."""
    count = session.scalar(
        select(func.count(distinct(Adoption.adopter_community_id))).where(
            Adoption.team_id == team_id, Adoption.item_kind == kind, Adoption.item_id == item_id, _crossed()
        )
    )
    return int(count or 0)


MILESTONES = (1, 3, 10)  # other communities applying one practice: first, then 3, then 10


def milestone_reached(count: int) -> int | None:
    """The milestone an item's count of adopting communities has just reached, if any."""
    return count if count in MILESTONES else None


def authors_of(item: Review | Playbook) -> list[str]:
    """Who wrote an item: a review's author and co-authors, a playbook's author."""
    people = [item.author_id, *item.coauthors] if isinstance(item, Review) else [item.author_id]
    return list(dict.fromkeys(people))


def communities_by_id(session: Session, *, team_id: str, ids: Sequence[int]) -> dict[int, Community]:
    """Communities of the workspace by id."""
    if not ids:
        return {}
    found = session.scalars(select(Community).where(Community.team_id == team_id, Community.id.in_(ids)))
    return {c.id: c for c in found}


def adoption_records(session: Session, communities: Sequence[Community]) -> list[dict[str, Any]]:
    """`copbot export`'s adoptions: of the communities' items or by them, with both channels."""
    ids = [c.id for c in communities]
    adoptions = session.scalars(
        select(Adoption)
        .where(Adoption.source_community_id.in_(ids) | Adoption.adopter_community_id.in_(ids))
        .order_by(Adoption.id)
    ).all()
    named = {i for a in adoptions for i in (a.source_community_id, a.adopter_community_id) if i is not None}
    answers: dict[int, dict[str, str | None]] = {}
    checkins = select(AdoptionCheckin).where(AdoptionCheckin.adoption_id.in_([a.id for a in adoptions]))
    for checkin in session.scalars(checkins):
        answers.setdefault(checkin.adoption_id, {})[f"day_{checkin.stage}"] = checkin.answer
    found = session.execute(select(Community.id, Community.channel_id).where(Community.id.in_(named)))
    channels = {community_id: channel_id for community_id, channel_id in found}
    return [
        {
            "team_id": a.team_id,
            "item_kind": a.item_kind,
            "item_id": a.item_id,
            "user_id": a.user_id,
            "channel_id": channels.get(a.source_community_id or 0),
            "adopter_channel_id": channels.get(a.adopter_community_id or 0),
            "across_communities": a.crossed,
            "created_at": a.created_at.isoformat(),
            "checkins": answers.get(a.id, {}),
        }
        for a in adoptions
    ]
