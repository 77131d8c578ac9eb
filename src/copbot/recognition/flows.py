"""Recognition's use cases: `(session, input) -> outcome`, calling the service for the rules, rendering
with the blocks and owing the outbox messages, in the caller's transaction.

The weekly digest's flow is `jobs.send_digest` (claim the week, gather, owe the post).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from copbot.communities import service as communities
from copbot.communities.models import Community
from copbot.outbox import service as outbox
from copbot.recognition import blocks, cosigns, service
from copbot.recognition.models import Nomination


@dataclass(frozen=True)
class Nominated:
    """A stored nomination, its community, the nominations its author has left this week."""

    nomination: Nomination
    community: Community
    left: int


def nominate(
    session: Session, *, team_id: str, community_id: int, nominator_id: str, form: service.NominationForm
) -> Nominated:
    """Store a nomination and owe each nominee a DM and, when it is posted now, the channel post."""
    community = service.community_by_id(session, team_id=team_id, community_id=community_id)
    nomination, left = service.nominate(session, community=community, nominator_id=nominator_id, form=form)
    dm = blocks.nominee_dm(nomination, community)
    for user_id in nomination.nominee_ids:
        key = f"nomination:{nomination.id}:dm:{user_id}"
        outbox.direct_message(session, team_id=community.team_id, user_id=user_id, key=key, message=dm)
    if nomination.posted:
        post = blocks.channel_post(nomination)
        key = cosigns.post_key(nomination.id)
        outbox.post(
            session, team_id=community.team_id, channel_id=community.channel_id, key=key, message=post
        )
    return Nominated(nomination, community, left)


@dataclass(frozen=True)
class PostReaction:
    """An emoji put on (or taken off) a message copbot posted, by `user_id`."""

    team_id: str
    channel_id: str
    message_ts: str
    emoji: str
    user_id: str
    added: bool


def react_to_post(session: Session, reaction: PostReaction) -> bool:
    """When the message is a nomination's channel post, count the reaction as a co-sign (or take it back);
    False when the message is not one, or the person may not co-sign it."""
    community = communities.community_for_channel(
        session, team_id=reaction.team_id, channel_id=reaction.channel_id
    )
    if community is None:
        return False
    posts = cosigns.recent_posts(session, community=community)
    key = outbox.delivered_key(
        session,
        team_id=reaction.team_id,
        keys=list(posts),
        channel_id=reaction.channel_id,
        ts=reaction.message_ts,
    )
    if key is None:
        return False
    nomination = session.get_one(Nomination, posts[key])
    if reaction.added:
        return cosigns.react(session, nomination=nomination, user_id=reaction.user_id, emoji=reaction.emoji)
    cosigns.unreact(session, nomination=nomination, user_id=reaction.user_id, emoji=reaction.emoji)
    return True
