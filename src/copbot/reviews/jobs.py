"""Scheduled work of the reviews feature (lesson re-verification DMs, session review reminders) and export."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from copbot.communities.models import Community
from copbot.db import session_scope
from copbot.reviews import checkin_flows, flows, spread
from copbot.reviews.models import Playbook, Review
from copbot.scheduling.jobs import Job, JobContext

log = logging.getLogger(__name__)


def remind_due_lessons(ctx: JobContext) -> None:
    """DM each owner once per due date about lessons past their re-verification date."""
    with session_scope(ctx.deps.sessions) as session:
        count = flows.remind_due_lessons(session, at=ctx.at)
    if count:
        log.info("asked owners to re-verify %d lessons", count)
        ctx.deps.outbox.notify()


def remind_unreviewed_sessions(ctx: JobContext) -> None:
    """DM a session's facilitator once when no review is linked to it after the community's delay."""
    with session_scope(ctx.deps.sessions) as session:
        count = flows.remind_unreviewed_sessions(session, at=ctx.at)
    if count:
        log.info("reminded %d facilitators of sessions without a review", count)
        ctx.deps.outbox.notify()


def ask_adopters(ctx: JobContext) -> None:
    """DM adopters once each, 30 and 90 days after "We applied this": does it stick?"""
    with session_scope(ctx.deps.sessions) as session:
        count = checkin_flows.owe_checkins(session, at=ctx.at)
    if count:
        log.info("asked %d adopters whether a practice stuck", count)
        ctx.deps.outbox.notify()


def jobs() -> list[Job]:
    """The reviews feature's jobs."""
    return [
        Job("reviews.lessons_due", remind_due_lessons, every=timedelta(hours=1), grace=timedelta(hours=1)),
        Job("reviews.adoption_checkins", ask_adopters, every=timedelta(hours=1), grace=timedelta(hours=1)),
        Job("reviews.session_reminders", remind_unreviewed_sessions, every=timedelta(minutes=15)),
    ]


def export_records(session: Session, communities: list[Community]) -> dict[str, list[dict[str, Any]]]:
    """Reviews (with their lessons) and playbooks of the exported communities."""
    by_id = {c.id: c for c in communities}
    reviews = session.scalars(select(Review).where(Review.community_id.in_(by_id)).order_by(Review.id))
    playbooks = session.scalars(
        select(Playbook).where(Playbook.community_id.in_(by_id)).order_by(Playbook.id)
    )
    return {
        "reviews": [_review(r, by_id[r.community_id]) for r in reviews],
        "playbooks": [
            {
                "team_id": p.team_id,
                "channel_id": by_id[p.community_id].channel_id,
                "id": p.id,
                "title": p.title,
                "when_to_use": p.when_to_use,
                "steps": p.steps.splitlines(),
                "author_id": p.author_id,
                "source_review_id": p.source_review_id,
                "created_at": p.created_at.isoformat(),
            }
            for p in playbooks
        ],
        "adoptions": spread.adoption_records(session, communities),
    }


def _review(review: Review, community: Community) -> dict[str, Any]:
    return {
        "team_id": review.team_id,
        "channel_id": community.channel_id,
        "id": review.id,
        "template": review.template,
        "title": review.title,
        "author_id": review.author_id,
        "coauthors": review.coauthors,
        "context": review.context,
        "expected": review.expected,
        "happened": review.happened,
        "went_well": review.went_well,
        "to_change": review.to_change,
        "decisions": review.decisions,
        "action_owners": review.action_owners,
        "tags": review.tags,
        "links": review.links,
        "related_ids": review.related_ids,
        "occurrence_id": review.occurrence_id,
        "lessons": [
            {
                "text": lesson.text,
                "owner_id": lesson.owner_id,
                "status": lesson.status,
                "verify_due_at": lesson.verify_due_at.isoformat(),
            }
            for lesson in review.lessons
        ],
        "created_at": review.created_at.isoformat(),
        "updated_at": review.updated_at.isoformat(),
    }
