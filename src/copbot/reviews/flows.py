"""The reviews feature's use cases: `(session, input) -> outcome`, calling the service for the rules,
rendering with the blocks and owing the outbox messages, in the caller's transaction.

Listeners (modal submissions, buttons, the reaction capture) and jobs call these.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from copbot.actions import service as actions
from copbot.blockkit import Message
from copbot.communities.models import Community
from copbot.outbox import service as outbox
from copbot.reviews import blocks, search, service
from copbot.reviews.models import Playbook, Review


@dataclass(frozen=True)
class ReviewEntry:
    """A submitted review modal: a new review (in `community_id`, maybe of a session) or an edit."""

    team_id: str
    user_id: str
    form: service.ReviewForm
    review_id: int | None = None
    community_id: Any = None  # from the modal's metadata or its community picker
    occurrence_id: int | None = None
    nomination_id: int | None = None  # "Turn this into a lesson": the recognition it is written from


@dataclass(frozen=True)
class SavedReview:
    """A stored review, its community, and whether it was new."""

    review: Review
    community: Community
    created: bool


def save_review(session: Session, entry: ReviewEntry) -> SavedReview:
    """Store a new review and owe its channel post, or store an edit and owe the post's update."""
    if entry.review_id is not None:
        review = service.update_review(
            session, team_id=entry.team_id, user_id=entry.user_id, review_id=entry.review_id, form=entry.form
        )
        community = session.get_one(Community, review.community_id)
        actions.sync_items(session, review=review, community=community)
        outbox.update(
            session,
            team_id=entry.team_id,
            key=f"review:{review.id}:edit:{review.revision}",
            of_key=search.post_key("review", review.id),
            message=review_post(session, review),
        )
        return SavedReview(review, community, created=False)
    community = service.require_community_id(session, team_id=entry.team_id, community_id=entry.community_id)
    review = service.create_review(
        session,
        team_id=entry.team_id,
        user_id=entry.user_id,
        community=community,
        form=entry.form,
        occurrence_id=entry.occurrence_id,
        nomination_id=entry.nomination_id,
    )
    actions.sync_items(session, review=review, community=community)
    owe_post(
        session, community=community, kind="review", item_id=review.id, message=review_post(session, review)
    )
    return SavedReview(review, community, created=True)


def owe_post(session: Session, *, community: Community, kind: str, item_id: int, message: Message) -> str:
    """Owe a new review's or playbook's post in its community's channel; its outbox key."""
    key = search.post_key(kind, item_id)
    outbox.post(session, team_id=community.team_id, channel_id=community.channel_id, key=key, message=message)
    return key


@dataclass(frozen=True)
class PlaybookEntry:
    """A submitted playbook modal, maybe promoted from a review."""

    team_id: str
    user_id: str
    form: service.PlaybookForm
    community_id: Any
    source_review_id: int | None = None
    domain: str | None = None  # the workspace's slack.com subdomain, for the link to the review


def save_playbook(session: Session, entry: PlaybookEntry) -> Playbook:
    """Store a playbook and owe its channel post."""
    community = service.require_community_id(session, team_id=entry.team_id, community_id=entry.community_id)
    playbook = service.create_playbook(
        session,
        team_id=entry.team_id,
        user_id=entry.user_id,
        community=community,
        form=entry.form,
        source_review_id=entry.source_review_id,
    )
    message = playbook_post(session, playbook, domain=entry.domain)
    owe_post(session, community=community, kind="playbook", item_id=playbook.id, message=message)
    return playbook


@dataclass(frozen=True)
class Reaction:
    """An emoji someone put on a message (the message's author and channel, the reacting person)."""

    team_id: str
    channel_id: str
    message_ts: str
    emoji: str
    author_id: str
    reactor_id: str | None


def offer_capture(session: Session, reaction: Reaction) -> bool:
    """When the emoji is the community's capture emoji, owe the author (once per message) an offer to
    record the message as a review; False when none is due."""
    capture = service.capture_by_reaction(
        session,
        team_id=reaction.team_id,
        channel_id=reaction.channel_id,
        message_ts=reaction.message_ts,
        emoji=reaction.emoji,
        author_id=reaction.author_id,
    )
    if capture is None:
        return False
    message = blocks.capture_message(
        community=capture.community,
        channel_id=capture.channel_id,
        message_ts=capture.message_ts,
        reactor=reaction.reactor_id,
    )
    key = f"reaction-capture:{capture.channel_id}:{capture.message_ts}"
    outbox.direct_message(
        session, team_id=capture.community.team_id, user_id=capture.author_id, key=key, message=message
    )
    return True


def remind_due_lessons(session: Session, *, at: datetime) -> int:
    """Owe each owner a DM, once per due date, about lessons past their re-verification date."""
    due = service.lessons_due(session, at=at)
    for lesson in due:
        community = session.get_one(Community, lesson.review.community_id)
        message = blocks.lesson_due_message(lesson, community=community)
        lesson.reminded_for = lesson.verify_due_at
        key = f"lesson-due:{lesson.id}:{lesson.verify_due_at.isoformat()}"
        outbox.direct_message(
            session, team_id=lesson.team_id, user_id=lesson.owner_id, key=key, message=message
        )
    return len(due)


def remind_unreviewed_sessions(session: Session, *, at: datetime) -> int:
    """Owe a session's facilitator one DM when no review is linked to it after the community's delay."""
    due = service.sessions_to_remind(session, at=at)
    for reminder in due:
        message = blocks.session_reminder(community=reminder.community, occurrence_id=reminder.occurrence_id)
        key = f"session-reminder:{reminder.occurrence_id}"
        team_id = reminder.community.team_id
        outbox.direct_message(
            session, team_id=team_id, user_id=reminder.facilitator_id, key=key, message=message
        )
    return len(due)


def review_post(session: Session, review: Review) -> Message:
    """A review's channel post as it stands (related titles, adoption count, its action items)."""
    community = session.get_one(Community, review.community_id)
    related = service.reviews_by_id(session, team_id=review.team_id, ids=review.related_ids)
    counts = service.adoption_counts(session, team_id=review.team_id, kind="review", ids=[review.id])
    return blocks.review_message(
        review,
        community=community,
        related=[related[i] for i in review.related_ids if i in related],
        applied=counts.get(review.id, 0),
        items=actions.items_for_review(session, review_id=review.id),
        origin=service.origin_of(session, review=review),
        today=actions.today_in(community),
    )


def playbook_post(session: Session, playbook: Playbook, *, domain: str | None) -> Message:
    """A playbook's channel post as it stands, linked to its review's post when it has one."""
    source = session.get(Review, playbook.source_review_id) if playbook.source_review_id else None
    source_url = (
        search.post_link(session, team_id=playbook.team_id, kind="review", item_id=source.id, domain=domain)
        if source
        else None
    )
    counts = service.adoption_counts(session, team_id=playbook.team_id, kind="playbook", ids=[playbook.id])
    return blocks.playbook_message(
        playbook, source=source, source_url=source_url, applied=counts.get(playbook.id, 0)
    )
