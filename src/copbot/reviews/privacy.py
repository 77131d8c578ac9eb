"""Privacy for the practice library: forget a member, and the retention rule's deletions.

A forgotten member's reviews, lessons and playbooks stay (they are the community's library) but no
longer name them; their "we applied this" marks stay counted under an anonymous placeholder.
"""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from copbot.db import affected
from copbot.feature import Counts, Person
from copbot.privacy import scrub
from copbot.reviews.models import Adoption, AdoptionCheckin, Lesson, Playbook, Review, ReviewClaim

FORMER_MEMBER = ""  # stands where a forgotten member's id was: renders as no one


def forget_user(session: Session, person: Person) -> Counts:
    """Remove the user's id from every reviews record of the workspace."""
    team_id, user_id = person.team_id, person.user_id
    counts: dict[str, int] = {}
    authored = ((Review, Review.author_id), (Lesson, Lesson.owner_id), (Playbook, Playbook.author_id))
    for model, column in authored:
        named = (model.team_id == team_id, column == user_id)
        changed = session.execute(update(model).where(*named).values({column.key: FORMER_MEMBER}))
        counts[model.__tablename__] = affected(changed)
    marks = select(Adoption).where(Adoption.team_id == team_id, Adoption.user_id == user_id)
    # Their check-in answers go: the retention metric keeps only answers from people it may name.
    answers = delete(AdoptionCheckin).where(
        AdoptionCheckin.adoption_id.in_(marks.with_only_columns(Adoption.id))
    )
    counts["review_adoption_checkins"] = affected(session.execute(answers))
    for adoption in session.scalars(marks):
        adoption.user_id = f"anonymous-{adoption.id}"  # still one mark, counted once, naming no one
        counts["review_adoptions"] = counts.get("review_adoptions", 0) + 1
    for review in session.scalars(select(Review).where(Review.team_id == team_id)):
        if user_id in review.coauthors or user_id in review.action_owners:
            review.coauthors = [u for u in review.coauthors if u != user_id]
            review.action_owners = [u for u in review.action_owners if u != user_id]
            counts["reviews"] += 1
    for claim in session.scalars(select(ReviewClaim).where(ReviewClaim.team_id == team_id)):
        if user_id in json.dumps(claim.data) or user_id in claim.key:
            claim.data, claim.key = scrub(claim.data, user_id), claim.key.replace(user_id, "someone")
            counts["review_claims"] = counts.get("review_claims", 0) + 1
    return counts


def purge_before(session: Session, cutoff: datetime, team_id: str) -> int:
    """Delete reviews, playbooks, adoption marks and claims made before `cutoff`; return the count."""
    removed = 0
    for model in (AdoptionCheckin, Adoption, ReviewClaim, Playbook, Review):  # lessons: with their review
        query = delete(model).where(model.created_at < cutoff, model.team_id == team_id)
        removed += affected(session.execute(query))
    return removed
