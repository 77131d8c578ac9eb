"""People's use cases: `(session, input) -> outcome`, calling the service for the rules, rendering with
the blocks and owing the outbox messages, in the caller's transaction.

Listeners and jobs call these; the service holds the rules only and imports neither blocks nor the outbox.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from copbot.communities.models import Community
from copbot.outbox import service as outbox
from copbot.people import blocks, service
from copbot.people.models import Onboarding, Question
from copbot.rituals import service as rituals


def welcome(
    session: Session, *, team_id: str, channel_id: str, user_id: str, at: datetime
) -> Onboarding | None:
    """Onboard someone who joined a community's channel and owe their welcome DM (and their mentor's
    introduction); None when no welcome is due."""
    onboarding = service.onboard(session, team_id=team_id, channel_id=channel_id, user_id=user_id, at=at)
    if onboarding is None:
        return None
    community = session.get_one(Community, onboarding.community_id)
    days = service.workspace_settings(session, team_id=team_id).checkin_days
    coming = rituals.upcoming(session, community_id=community.id, after=at, limit=1)
    next_session = (
        blocks.NextSession(title=coming[0][1], starts_at=coming[0][0].starts_at) if coming else None
    )
    welcome_dm = blocks.welcome_dm(
        community, mentor_id=onboarding.mentor_id, checkin_days=days, next_session=next_session
    )
    outbox.direct_message(
        session, team_id=team_id, user_id=user_id, key=f"people-welcome:{onboarding.id}", message=welcome_dm
    )
    if onboarding.mentor_id:
        intro = blocks.mentor_intro_dm(community, newcomer_id=user_id, checkin_days=days)
        key = f"people-mentor-intro:{onboarding.id}"
        outbox.direct_message(session, team_id=team_id, user_id=onboarding.mentor_id, key=key, message=intro)
    return onboarding


def check_in(session: Session, *, onboarding: Onboarding, at: datetime) -> bool:
    """Claim one check-in and owe its DMs (newcomer and mentor); False when another run claimed it."""
    if not service.claim_checkin(session, onboarding=onboarding, at=at) or onboarding.newcomer_id is None:
        return False
    community = session.get_one(Community, onboarding.community_id)
    newcomer = blocks.newcomer_checkin_dm(community, mentor_id=onboarding.mentor_id)
    key = f"people-checkin:{onboarding.id}"
    outbox.direct_message(
        session,
        team_id=onboarding.team_id,
        user_id=onboarding.newcomer_id,
        key=f"{key}:newcomer",
        message=newcomer,
    )
    if onboarding.mentor_id:
        mentor = blocks.mentor_checkin_dm(community, newcomer_id=onboarding.newcomer_id)
        outbox.direct_message(
            session,
            team_id=onboarding.team_id,
            user_id=onboarding.mentor_id,
            key=f"{key}:mentor",
            message=mentor,
        )
    return True


def publish_question(session: Session, *, question: Question) -> Community:
    """Post a drafted question in its community's channel, as the bot."""
    community = service.open_question(session, question=question)
    message = blocks.question_post(question)
    key = service.question_key(question.id)
    outbox.post(session, team_id=question.team_id, channel_id=community.channel_id, key=key, message=message)
    return community


def post_draft(session: Session, *, team_id: str, question_id: int, author: str) -> Community:
    """The asker posts their draft anyway."""
    question = service.draft_to_post(session, team_id=team_id, question_id=question_id, author=author)
    return publish_question(session, question=question)


def end_question(
    session: Session, *, team_id: str, question_id: int, author: str, delete_it: bool, at: datetime
) -> Question:
    """Close (answered) or delete a posted question; only its asker may, and the post is edited."""
    question = service.end_question(
        session, team_id=team_id, question_id=question_id, author=author, delete_it=delete_it, at=at
    )
    message = blocks.question_post(question)
    posted = service.question_key(question.id)
    outbox.update(session, team_id=team_id, key=f"{posted}:{question.status}", of_key=posted, message=message)
    return question
