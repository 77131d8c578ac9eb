"""Privacy for rituals: forget a member, and the retention rule's deletions."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, update
from sqlalchemy.orm import Session

from copbot.db import affected
from copbot.feature import Counts, Person
from copbot.rituals.models import (
    Attendance,
    AwayPeriod,
    Exclusion,
    FacilitatorAsk,
    Occurrence,
    RitualSchedule,
    RotationMember,
)


def purge_before(session: Session, cutoff: datetime, team_id: str) -> int:
    """Retention: delete occurrences (with their RSVPs, attendance, pulse and asks) held before the cutoff,
    and exclusions and away periods recorded before it."""
    removed = 0
    for model, column in (
        (Occurrence, Occurrence.starts_at),
        (Exclusion, Exclusion.created_at),
        (AwayPeriod, AwayPeriod.created_at),
    ):
        removed += affected(session.execute(delete(model).where(column < cutoff, model.team_id == team_id)))
    return removed


def forget_user(session: Session, person: Person) -> Counts:
    """Delete or anonymise every rituals record naming the user (pulse answers never name anyone)."""
    team_id, user_id = person.team_id, person.user_id
    counts: dict[str, int] = {}
    for model in (Attendance, RotationMember, AwayPeriod, FacilitatorAsk):
        deleted = session.execute(delete(model).where(model.team_id == team_id, model.user_id == user_id))
        counts[model.__tablename__] = affected(deleted)
    counts["ritual_occurrences"] = affected(
        session.execute(
            update(Occurrence)
            .where(Occurrence.team_id == team_id, Occurrence.facilitator_id == user_id)
            .values(facilitator_id=None)
        )
    )
    for creator in (RitualSchedule, Exclusion):
        named = (creator.team_id == team_id, creator.created_by == user_id)
        changed = session.execute(update(creator).where(*named).values(created_by=""))
        counts[creator.__tablename__] = affected(changed)
    return counts
