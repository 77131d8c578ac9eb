"""Digest parts and lookups that read other features' tables: reviews and playbooks, rituals.

Kept apart so that the rest of recognition depends only on communities.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import exists, func, literal, select, union_all
from sqlalchemy.orm import Session

from copbot.blockkit import escape, local_time, mention, plural, truncate
from copbot.errors import NotFound
from copbot.recognition.models import Nomination
from copbot.recognition.travelled import practices_travelled
from copbot.reviews.models import Adoption, Playbook, Review
from copbot.rituals import models as rituals

if TYPE_CHECKING:
    from copbot.recognition.digest import DigestData


REVIEW_MILESTONES = (10, 25, 50, 100)
LISTED = 10  # items per section


@dataclass(frozen=True)
class ThankedItem:
    """A review or playbook whose authors someone wants to thank."""

    community_id: int
    authors: list[str]
    title: str


def _library_item(session: Session, kind: str, raw_id: str) -> Review | Playbook | None:
    """The review or playbook a `review:<id>` / `playbook:<id>` value names, if it exists."""
    if not raw_id.isdigit():
        return None
    if kind == "review":
        return session.get(Review, int(raw_id))
    return session.get(Playbook, int(raw_id)) if kind == "playbook" else None


def item_for_thanks(session: Session, *, team_id: str, value: str) -> ThankedItem:
    """Read the `review:<id>` / `playbook:<id>` value of a "Thank the author" button."""
    kind, _, raw_id = value.partition(":")
    item = _library_item(session, kind, raw_id)
    if item is None or item.team_id != team_id:
        raise NotFound("That review or playbook no longer exists.")
    authors = [item.author_id, *(item.coauthors if isinstance(item, Review) else [])]
    return ThankedItem(community_id=item.community_id, authors=list(dict.fromkeys(authors)), title=item.title)


def _section(data: DigestData, title: str, lines: list[str], *, after: bool = False) -> None:
    from copbot.recognition.digest import Section

    if lines:
        (data.after if after else data.sections).append(Section(title, lines))


def _in_week(column: Any, data: DigestData) -> tuple[Any, Any]:
    return column >= data.start, column < data.end


def _authors(review: Review) -> str:
    return ", ".join(mention(u) for u in dict.fromkeys([review.author_id, *(review.coauthors or [])]))


def new_in_library(session: Session, data: DigestData) -> None:
    """The week's new reviews and playbooks."""
    community_id = data.community.id
    reviews = session.scalars(
        select(Review)
        .where(Review.community_id == community_id, *_in_week(Review.created_at, data))
        .order_by(Review.created_at)
        .limit(LISTED + 1)
    ).all()
    playbooks = session.scalars(
        select(Playbook)
        .where(Playbook.community_id == community_id, *_in_week(Playbook.created_at, data))
        .order_by(Playbook.created_at)
        .limit(LISTED + 1)
    ).all()
    lines = [f":memo: *{escape(truncate(r.title, 150))}* by {_authors(r)}" for r in reviews[:LISTED]]
    lines += [
        f":clipboard: Playbook *{escape(truncate(p.title, 150))}* by {mention(p.author_id)}"
        for p in playbooks[:LISTED]
    ]
    if len(reviews) > LISTED or len(playbooks) > LISTED:
        lines.append("_…and more: `/cop search` finds them._")
    _section(data, "New in the library", lines)


def review_milestones(session: Session, data: DigestData) -> None:
    """Milestone: the community's 10th/25th/50th/100th review."""
    community_id = data.community.id
    before = (
        session.scalar(
            select(func.count()).where(Review.community_id == community_id, Review.created_at < data.start)
        )
        or 0
    )
    week = session.scalars(
        select(Review)
        .where(Review.community_id == community_id, *_in_week(Review.created_at, data))
        .order_by(Review.created_at, Review.id)
    ).all()
    for number, review in enumerate(week, start=before + 1):
        if number in REVIEW_MILESTONES:
            data.milestones.append(
                f":trophy: The community's {number}th review: *{escape(truncate(review.title, 150))}*"
            )


def lesson_of_the_week(session: Session, data: DigestData) -> None:
    """The review or playbook most applied ("we applied this") or thanked this week."""
    community_id = data.community.id
    scores: dict[tuple[str, int], list[int]] = {}
    applied = session.execute(
        select(Adoption.item_kind, Adoption.item_id, func.count())
        .where(Adoption.team_id == data.community.team_id, *_in_week(Adoption.created_at, data))
        .group_by(Adoption.item_kind, Adoption.item_id)
    )
    for kind, item_id, count in applied:
        scores.setdefault((kind, item_id), [0, 0])[0] += count
    thanked = session.execute(
        select(Nomination.subject, func.count())
        .where(
            Nomination.community_id == community_id,
            Nomination.subject.is_not(None),
            *_in_week(Nomination.created_at, data),
        )
        .group_by(Nomination.subject)
    )
    for subject, count in thanked:
        kind, _, raw_id = (subject or "").partition(":")
        if raw_id.isdigit():
            scores.setdefault((kind, int(raw_id)), [0, 0])[1] += count
    for (kind, item_id), (applied_n, thanked_n) in sorted(scores.items(), key=lambda kv: -sum(kv[1])):
        item = _library_item(session, kind, str(item_id))
        if item is None or item.community_id != community_id:
            continue
        counts = [f"applied by {applied_n}"] if applied_n else []
        counts += [f"thanked {plural(thanked_n, 'time')}"] if thanked_n else []
        line = (
            f":bulb: *{escape(truncate(item.title, 150))}* by {mention(item.author_id)}: {', '.join(counts)}"
        )
        _section(data, "Lesson of the week", [line])
        return


def next_rituals(session: Session, data: DigestData) -> None:
    """The community's next three ritual occurrences after the digest."""
    occurrence, schedule = rituals.Occurrence, rituals.RitualSchedule
    upcoming = session.execute(
        select(occurrence, schedule.title)
        .join(schedule, schedule.id == occurrence.schedule_id)
        .where(
            occurrence.community_id == data.community.id,
            occurrence.starts_at >= data.end,
            occurrence.stage.in_([rituals.Stage.PLANNED, rituals.Stage.POSTED, rituals.Stage.STARTED]),
        )
        .order_by(occurrence.starts_at)
        .limit(3)
    ).all()
    lines = []
    for item, title in upcoming:
        when = local_time(item.starts_at)
        host = f", facilitated by {mention(item.facilitator_id)}" if item.facilitator_id else ""
        lines.append(f":calendar: *{escape(truncate(title, 150))}* ({escape(item.kind)}) {when}{host}")
    _section(data, "Coming up", lines, after=True)


def first_facilitations(session: Session, data: DigestData) -> None:
    """Milestone: members who facilitated a session for the first time this week."""
    occurrence = rituals.Occurrence
    week = set(
        session.scalars(
            select(occurrence.facilitator_id).where(
                occurrence.community_id == data.community.id,
                occurrence.facilitator_id.is_not(None),
                occurrence.stage.in_(HELD),
                *_in_week(occurrence.starts_at, data),
            )
        )
    )
    earlier = set(
        session.scalars(
            select(occurrence.facilitator_id)
            .where(
                occurrence.community_id == data.community.id,
                occurrence.facilitator_id.in_(week),
                occurrence.stage.in_(HELD),
                occurrence.starts_at < data.start,
            )
            .distinct()
        )
    )
    # Whose very first contribution was facilitating already has that milestone: one line per event.
    told = {user for user, kind in data.first_kinds.items() if kind == "facilitation"}
    for user_id in sorted(u for u in week - earlier - told if u):
        data.milestones.append(f":microphone: {mention(user_id)} facilitated for the first time")


# --- a member's first contribution -----------------------------------------------------------------

CONTRIBUTION_NAMES = {
    "nomination": "a recognition",
    "review": "a review",
    "playbook": "a playbook",
    "facilitation": "facilitating a session",
    "attendance": "attending a session",
}
# Rituals' stages of an occurrence that took place.
HELD = (rituals.Stage.POSTED, rituals.Stage.STARTED, rituals.Stage.DONE)


def _contributions(community_id: int) -> list[tuple[str, Any, Any, tuple[Any, ...]]]:
    """Every kind of contribution: (kind, who column, when column, its filters)."""
    kinds: list[tuple[str, Any, Any, tuple[Any, ...]]] = [
        (
            "nomination",
            Nomination.nominator_id,
            Nomination.created_at,
            (Nomination.community_id == community_id,),
        ),
        ("review", Review.author_id, Review.created_at, (Review.community_id == community_id,)),
        ("playbook", Playbook.author_id, Playbook.created_at, (Playbook.community_id == community_id,)),
    ]
    occurrence = rituals.Occurrence
    held = (occurrence.community_id == community_id, occurrence.stage.in_(HELD))
    kinds.append(("facilitation", occurrence.facilitator_id, occurrence.starts_at, held))
    attended = (
        rituals.Attendance.occurrence_id == occurrence.id,
        rituals.Attendance.attended.is_(True),
        *held,
    )
    kinds.append(("attendance", rituals.Attendance.user_id, occurrence.starts_at, attended))
    return kinds


def first_contributors(session: Session, *, community_id: int, start: Any, end: Any) -> list[tuple[str, str]]:
    """(user id, kind of their first contribution) of members whose first contribution was in [start, end).

    The week's contributors are few; for each, NOT EXISTS stops at the first earlier contribution of any
    kind (index seeks), so the cost follows the week, not the community's history.
    """
    kinds = _contributions(community_id)
    week = union_all(
        *(
            select(who.label("user_id"), literal(kind).label("kind"), when.label("at")).where(
                *filters, who.is_not(None), when >= start, when < end
            )
            for kind, who, when, filters in kinds
        )
    ).subquery("week")
    earlier = [
        ~exists().where(*filters, who == week.c.user_id, when < start) for _, who, when, filters in kinds
    ]
    ranked = (
        select(
            week.c.user_id,
            week.c.kind,
            func.row_number()
            .over(partition_by=week.c.user_id, order_by=(week.c.at, week.c.kind))
            .label("rank"),
        )
        .where(*earlier)
        .subquery("ranked")
    )
    rows = session.execute(
        select(ranked.c.user_id, ranked.c.kind).where(ranked.c.rank == 1).order_by(ranked.c.user_id)
    )
    return [(user_id, kind) for user_id, kind in rows]


def first_contributions(session: Session, data: DigestData) -> None:
    """Milestone: members whose first contribution of any kind (recognition, review, ...) was this week."""
    for user_id, kind in first_contributors(
        session, community_id=data.community.id, start=data.start, end=data.end
    ):
        data.first_kinds[user_id] = kind
        data.milestones.append(
            f":seedling: {mention(user_id)} made their first contribution: {CONTRIBUTION_NAMES[kind]}"
        )


EXTRA_SECTIONS: list[Callable[[Session, DigestData], None]] = [
    new_in_library,
    review_milestones,
    lesson_of_the_week,
    practices_travelled,
    first_facilitations,
    next_rituals,
]
