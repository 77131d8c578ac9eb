"""Does it stick? 30 and 90 days after "We applied this", the adopter is asked once per stage whether
they still do it and whether it helped; the answers are a retention metric per practice, and a practice
nobody still uses is flagged for re-verification. Rules, plain Python (no Slack); the caller commits.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from copbot.db import dialect_insert
from copbot.errors import NotFound, PermissionDenied
from copbot.reviews.models import (
    Adoption,
    AdoptionCheckin,
    CheckinAnswer,
    LessonStatus,
    Playbook,
    Review,
)

STAGES = (30, 90)  # days after the adoption
LATE = timedelta(days=14)  # a stage missed by longer than this is skipped, not asked at once
MIN_ANSWERS = 3  # no aggregate, no flag, from fewer answers
BATCH = 500


def due(session: Session, *, at: datetime, stage: int) -> list[Adoption]:
    """Adoptions whose check-in at `stage` days is due at `at` (not late by more than LATE) and not taken."""
    taken = select(AdoptionCheckin.id).where(
        AdoptionCheckin.adoption_id == Adoption.id, AdoptionCheckin.stage == stage
    )
    edge = at - timedelta(days=stage)
    return list(
        session.scalars(
            select(Adoption)
            .where(Adoption.created_at <= edge, Adoption.created_at > edge - LATE, ~taken.exists())
            .order_by(Adoption.id)
            .limit(BATCH)
        )
    )


def claim(session: Session, *, adoption: Adoption, stage: int) -> AdoptionCheckin | None:
    """Take the adoption's check-in at `stage`; None when another run already took it (once-only)."""
    values = {"team_id": adoption.team_id, "adoption_id": adoption.id, "stage": stage}
    statement = dialect_insert(session)(AdoptionCheckin).values(**values)
    statement = statement.on_conflict_do_nothing(index_elements=["adoption_id", "stage"])
    checkin_id = session.execute(statement.returning(AdoptionCheckin.id)).scalar()
    return session.get(AdoptionCheckin, checkin_id) if checkin_id is not None else None


def item_of(session: Session, adoption: Adoption) -> Review | Playbook | None:
    """The review or playbook an adoption is of (None once deleted)."""
    if adoption.item_kind == "review":
        return session.get(Review, adoption.item_id)
    return session.get(Playbook, adoption.item_id)


@dataclass(frozen=True)
class Answered:
    """A check-in answered, the practice it is about, and whether that answer flagged the practice."""

    checkin: AdoptionCheckin
    item: Review | Playbook | None
    flagged: bool


def answer(
    session: Session, *, team_id: str, checkin_id: int, user_id: str, value: str, at: datetime
) -> Answered:
    """Record (or change) the adopter's answer; flag the practice when nobody still uses it."""
    checkin = session.get(AdoptionCheckin, checkin_id)
    if checkin is None or checkin.team_id != team_id:
        raise NotFound("That question is out of date.")
    adoption = session.get_one(Adoption, checkin.adoption_id)
    if adoption.user_id != user_id:
        raise PermissionDenied("Only the person who applied it can answer this.")
    checkin.answer, checkin.answered_at = CheckinAnswer(value).value, at
    session.flush()
    item = item_of(session, adoption)
    flagged = item is not None and _flag_if_unused(session, item, at=at)
    return Answered(checkin, item, flagged)


@dataclass(frozen=True)
class Retention:
    """How a practice holds up: answers at its latest stage with at least MIN_ANSWERS, and how many
    still use it (Yes)."""

    kind: str
    item_id: int
    title: str
    stage: int
    answers: int
    still: int
    flagged: bool

    @property
    def share(self) -> float:
        """The share of answers that still use it and found it helped."""
        return self.still / self.answers


def _answers(
    session: Session, *, kinds_ids: Sequence[tuple[str, int]], team_id: str
) -> dict[tuple[str, int], dict[int, list[str]]]:
    """Answers by item and stage."""
    rows = session.execute(
        select(Adoption.item_kind, Adoption.item_id, AdoptionCheckin.stage, AdoptionCheckin.answer)
        .join(Adoption, Adoption.id == AdoptionCheckin.adoption_id)
        .where(AdoptionCheckin.team_id == team_id, AdoptionCheckin.answer.is_not(None))
    )
    wanted = set(kinds_ids)
    found: dict[tuple[str, int], dict[int, list[str]]] = {}
    for kind, item_id, stage, value in rows:
        if value is not None and (not wanted or (kind, item_id) in wanted):
            found.setdefault((kind, item_id), {}).setdefault(stage, []).append(value)
    return found


def _latest(stages: dict[int, list[str]]) -> tuple[int, list[str]] | None:
    """The latest stage with enough answers to say anything."""
    enough = [stage for stage, values in stages.items() if len(values) >= MIN_ANSWERS]
    return (max(enough), stages[max(enough)]) if enough else None


def _flag_if_unused(session: Session, item: Review | Playbook, *, at: datetime) -> bool:
    """Flag the practice when at its latest stage with MIN_ANSWERS answers none still uses it; a
    review's lessons fall due for re-verification (their owners are asked), a playbook is marked."""
    kind = "review" if isinstance(item, Review) else "playbook"
    stages = _answers(session, kinds_ids=[(kind, item.id)], team_id=item.team_id).get((kind, item.id), {})
    latest = _latest(stages)
    if latest is None or CheckinAnswer.YES in latest[1]:
        return False
    if isinstance(item, Playbook):
        if item.unused_since is not None:
            return False
        item.unused_since = at
        return True
    due = [lesson for lesson in item.lessons if lesson.status_at(at) == LessonStatus.VERIFIED]
    for lesson in due:
        lesson.verify_due_at = at
    return bool(due)


def retention(session: Session, *, team_id: str, community_id: int) -> list[Retention]:
    """The community's practices with enough answers, least kept first."""
    answers = _answers(session, kinds_ids=[], team_id=team_id)
    reviews = {
        r.id: r
        for r in session.scalars(
            select(Review).where(Review.team_id == team_id, Review.community_id == community_id)
        )
    }
    playbooks = {
        p.id: p
        for p in session.scalars(
            select(Playbook).where(Playbook.team_id == team_id, Playbook.community_id == community_id)
        )
    }
    found = []
    for (kind, item_id), stages in answers.items():
        item = (reviews if kind == "review" else playbooks).get(item_id)
        latest = _latest(stages)
        if item is None or latest is None:
            continue
        stage, values = latest
        still = values.count(CheckinAnswer.YES)
        flagged = (isinstance(item, Playbook) and item.unused_since is not None) or still == 0
        found.append(Retention(kind, item_id, item.title, stage, len(values), still, flagged))
    return sorted(found, key=lambda r: (r.share, r.title))
