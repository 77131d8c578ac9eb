"""Co-signs: anyone but the nominator and the nominees who puts an emoji (any emoji) on a nomination's
channel post co-signs it, once per person however many emoji they add; removing their last emoji takes
the co-sign back. Co-signs are not nominations: they use none of the weekly limit.

Plain Python: no Slack code, the caller commits.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from copbot.clock import now
from copbot.communities.models import Community
from copbot.db import affected, dialect_insert
from copbot.feature import Counts, Person
from copbot.recognition.models import Nomination, NominationReaction

WINDOW = timedelta(days=90)  # reactions on posts older than this are not looked up


def post_key(nomination_id: int) -> str:
    """The outbox key a nomination's channel post is sent under."""
    return f"nomination:{nomination_id}:post"


def recent_posts(session: Session, *, community: Community, at: datetime | None = None) -> dict[str, int]:
    """The outbox keys of the community's nominations posted lately -> their ids (a reaction's candidates)."""
    ids = session.scalars(
        select(Nomination.id).where(
            Nomination.team_id == community.team_id,
            Nomination.community_id == community.id,
            Nomination.posted.is_(True),
            Nomination.created_at >= (at or now()) - WINDOW,
        )
    )
    return {post_key(i): i for i in ids}


def react(session: Session, *, nomination: Nomination, user_id: str, emoji: str) -> bool:
    """Record a reaction on the nomination's post; True when it counts (not the nominator or a nominee)."""
    if not user_id or user_id == nomination.nominator_id or user_id in nomination.nominee_ids:
        return False
    values = {
        "team_id": nomination.team_id,
        "nomination_id": nomination.id,
        "user_id": user_id,
        "emoji": emoji.split("::")[0],  # a skin tone is the same emoji
        "created_at": now(),
    }
    insert = dialect_insert(session)(NominationReaction).values(**values)
    session.execute(insert.on_conflict_do_nothing(index_elements=["nomination_id", "user_id", "emoji"]))
    return True


def unreact(session: Session, *, nomination: Nomination, user_id: str, emoji: str) -> None:
    """Forget one reaction; the person still co-signs while another of their emoji stays."""
    session.execute(
        delete(NominationReaction).where(
            NominationReaction.nomination_id == nomination.id,
            NominationReaction.user_id == user_id,
            NominationReaction.emoji == emoji.split("::")[0],
        )
    )


def counts(session: Session, *, ids: Sequence[int]) -> dict[int, int]:
    """How many people co-sign each nomination."""
    if not ids:
        return {}
    rows = session.execute(
        select(NominationReaction.nomination_id, func.count(func.distinct(NominationReaction.user_id)))
        .where(NominationReaction.nomination_id.in_(list(ids)))
        .group_by(NominationReaction.nomination_id)
    )
    return {nomination_id: int(n) for nomination_id, n in rows}


def cosigners(session: Session, *, nomination_id: int) -> list[str]:
    """Who co-signs a nomination, in the order they first reacted."""
    rows = session.execute(
        select(NominationReaction.user_id, func.min(NominationReaction.id))
        .where(NominationReaction.nomination_id == nomination_id)
        .group_by(NominationReaction.user_id)
        .order_by(func.min(NominationReaction.id))
    )
    return [user_id for user_id, _ in rows]


def forget(session: Session, person: Person) -> Counts:
    """A forgotten person co-signs nothing any more."""
    query = delete(NominationReaction).where(
        NominationReaction.team_id == person.team_id, NominationReaction.user_id == person.user_id
    )
    return {"nomination_reactions": affected(session.execute(query))}


def purge_before(session: Session, cutoff: datetime, team_id: str) -> int:
    """Delete co-signs made before the cutoff."""
    query = delete(NominationReaction).where(
        NominationReaction.team_id == team_id, NominationReaction.created_at < cutoff
    )
    return affected(session.execute(query))
