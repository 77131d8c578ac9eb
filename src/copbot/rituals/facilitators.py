"""Who facilitates rituals: the rotation and each one's place in it, time away, excluded days, and the
requests to facilitate (ask, remind, escalate, answer). Plain Python: no Slack code, the caller commits.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import date, datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from copbot.communities import service as communities
from copbot.communities.models import Community, Member, MemberRole, Role
from copbot.db import affected, dialect_insert
from copbot.errors import InvalidInput, NotFound, PermissionDenied
from copbot.rituals import timing
from copbot.rituals.models import (
    AskStatus,
    AwayPeriod,
    Exclusion,
    FacilitatorAsk,
    Occurrence,
    OccurrenceKind,
    RitualSchedule,
    RotationMember,
    ScheduleStatus,
    Stage,
)
from copbot.rituals.service import ANSWER_WINDOW, ESCALATE_AFTER, HORIZON, require_editor

log = logging.getLogger(__name__)


def rotation(session: Session, *, community: Community) -> list[str]:
    """Who facilitates, in turn order. The facilitator role is the one record of who facilitates
    (`/cop rotation in`, `/cop facilitate on` and a lead's `/cop role @x facilitator` all set it);
    `ritual_rotation` only keeps each one's place, and those without a place come last."""
    place = aliased(RotationMember)
    return list(
        session.scalars(
            select(Member.user_id)
            .join(MemberRole, MemberRole.member_id == Member.id)
            .outerjoin(place, (place.community_id == Member.community_id) & (place.user_id == Member.user_id))
            .where(
                Member.community_id == community.id,
                Member.left_at.is_(None),
                MemberRole.role == Role.FACILITATOR.value,
            )
            .order_by(place.position.is_(None), place.position, MemberRole.granted_at, MemberRole.id)
        )
    )


def set_facilitating(session: Session, *, community: Community, user_id: str, on: bool) -> bool:
    """Put a member into the facilitator rotation (they take the facilitator role) or out of it;
    False when nothing changed. Only members may join; a returning member gets their old place back."""
    member = communities.find_member(session, community=community, user_id=user_id)
    if member is None or not member.active:
        if on:
            raise PermissionDenied("Join the community first (`/cop join`), then opt in to facilitate.")
        return False
    return facilitate(session, community=community, member=member, on=on)


def facilitate(session: Session, *, community: Community, member: Member, on: bool) -> bool:
    """Give or take a member's facilitator role, which is their place in the rotation (kept when out,
    taken at the end when new); False when nothing changed."""
    changed = communities.set_role(session, member=member, role=Role.FACILITATOR, on=on)
    if on:
        _places(session, community)
    return changed


def _places(session: Session, community: Community) -> list[RotationMember]:
    """The places of everyone in the rotation, in order, giving newcomers to it a place at the end."""
    order = rotation(session, community=community)
    places = {
        r.user_id: r
        for r in session.scalars(select(RotationMember).where(RotationMember.community_id == community.id))
    }
    last = max((r.position for r in places.values()), default=0)
    for user_id in order:
        if user_id not in places:
            last += 1
            place = RotationMember(
                team_id=community.team_id, community_id=community.id, user_id=user_id, position=last
            )
            try:
                with session.begin_nested():
                    session.add(place)
            except IntegrityError:  # placed by a concurrent request a moment ago (a double click)
                place = session.scalars(
                    select(RotationMember).where(
                        RotationMember.community_id == community.id, RotationMember.user_id == user_id
                    )
                ).one()
            places[user_id] = place
    session.flush()
    return [places[u] for u in order]


def reorder(session: Session, *, community: Community, user_id: str, order: Sequence[str]) -> list[str]:
    """Put the named members first, in that order (leads and facilitators); the rest keep theirs after."""
    require_editor(session, community=community, user_id=user_id)
    current = {r.user_id: r for r in _places(session, community)}
    unknown = [u for u in order if u not in current]
    if unknown:
        raise InvalidInput(
            {
                "rotation": "Not in the rotation yet (they opt in with `/cop rotation in`): "
                + ", ".join(f"<@{u}>" for u in unknown)
            }
        )
    rest = [u for u in current if u not in order]
    for position, member in enumerate([*dict.fromkeys(order), *rest], start=1):
        current[member].position = position
    session.flush()
    return rotation(session, community=community)


def away(
    session: Session, *, team_id: str, user_id: str, first_day: date, last_day: date, today: date
) -> AwayPeriod:
    """Mark a member away from `first_day` to `last_day` inclusive."""
    if last_day < first_day:
        raise InvalidInput({"away": "The end date comes before the start date."})
    if last_day < today:
        raise InvalidInput({"away": "Those dates are in the past."})
    if (last_day - first_day).days > 366:
        raise InvalidInput({"away": "Mark at most a year at a time."})
    period = AwayPeriod(team_id=team_id, user_id=user_id, first_day=first_day, last_day=last_day)
    session.add(period)
    session.flush()
    return period


def away_periods(session: Session, *, team_id: str, user_id: str, today: date) -> list[AwayPeriod]:
    """A member's current and coming away periods."""
    return list(
        session.scalars(
            select(AwayPeriod)
            .where(AwayPeriod.team_id == team_id, AwayPeriod.user_id == user_id, AwayPeriod.last_day >= today)
            .order_by(AwayPeriod.first_day)
        )
    )


def clear_away(session: Session, *, team_id: str, user_id: str) -> int:
    """Remove a member's away periods; return how many."""
    return affected(
        session.execute(
            delete(AwayPeriod).where(AwayPeriod.team_id == team_id, AwayPeriod.user_id == user_id)
        )
    )


def add_exclusion(
    session: Session,
    *,
    community: Community,
    user_id: str,
    first_day: date,
    last_day: date,
    reason: str,
    today: date,
) -> Exclusion:
    """Add dates on which no session happens (leads and facilitators)."""
    require_editor(session, community=community, user_id=user_id)
    if last_day < first_day:
        raise InvalidInput({"exclusion": "The end date comes before the start date."})
    if last_day < today:
        raise InvalidInput({"exclusion": "Those dates are in the past."})
    exclusion = Exclusion(
        team_id=community.team_id,
        community_id=community.id,
        first_day=first_day,
        last_day=last_day,
        reason=reason[:200],
        created_by=user_id,
    )
    session.add(exclusion)
    session.flush()
    return exclusion


def exclusions(session: Session, *, community: Community, today: date) -> list[Exclusion]:
    """The community's current and coming exclusion dates."""
    return list(
        session.scalars(
            select(Exclusion)
            .where(Exclusion.community_id == community.id, Exclusion.last_day >= today)
            .order_by(Exclusion.first_day)
        )
    )


def needing_facilitator(session: Session, *, at: datetime) -> list[int]:
    """Sessions within their rotation window with no facilitator and nobody currently asked."""
    open_ask = select(FacilitatorAsk.id).where(
        FacilitatorAsk.occurrence_id == Occurrence.id, FacilitatorAsk.status == AskStatus.ASKED
    )
    candidates = session.execute(
        select(Occurrence.id, Occurrence.starts_at, RitualSchedule.rotation_days)
        .join(RitualSchedule, RitualSchedule.id == Occurrence.schedule_id)
        .where(
            RitualSchedule.status == ScheduleStatus.ACTIVE,
            Occurrence.kind == OccurrenceKind.SESSION,
            Occurrence.stage.in_([Stage.PLANNED, Stage.POSTED]),
            Occurrence.facilitator_id.is_(None),
            Occurrence.starts_at > at,
            Occurrence.starts_at <= at + HORIZON,
            ~open_ask.exists(),
        )
        .order_by(Occurrence.starts_at)
    ).all()
    return [oid for oid, starts, days in candidates if starts - timedelta(days=days) <= at]


def next_candidate(session: Session, *, occurrence: Occurrence, zone: str) -> str | None:
    """The next member in line for a session: after the previous session's facilitator, skipping
    those already asked for it, those away that day and those opted out."""
    community = session.get_one(Community, occurrence.community_id)
    users = rotation(session, community=community)
    if not users:
        return None
    asked = set(
        session.scalars(select(FacilitatorAsk.user_id).where(FacilitatorAsk.occurrence_id == occurrence.id))
    )
    day = timing.local_day(occurrence.starts_at, zone)
    gone = set(
        session.scalars(
            select(AwayPeriod.user_id).where(
                AwayPeriod.team_id == occurrence.team_id,
                AwayPeriod.first_day <= day,
                AwayPeriod.last_day >= day,
            )
        )
    )
    previous = session.scalar(
        select(Occurrence.facilitator_id)
        .where(
            Occurrence.community_id == occurrence.community_id,
            Occurrence.kind == OccurrenceKind.SESSION,
            Occurrence.starts_at < occurrence.starts_at,
            Occurrence.facilitator_id.is_not(None),
        )
        .order_by(Occurrence.starts_at.desc())
        .limit(1)
    )
    start = users.index(previous) + 1 if previous in users else 0
    for user_id in users[start:] + users[:start]:
        if user_id not in asked and user_id not in gone:
            return user_id
    return None


def ask(session: Session, *, occurrence: Occurrence, user_id: str, at: datetime) -> FacilitatorAsk | None:
    """Record that a member is asked to facilitate (once per session and member)."""
    insert = dialect_insert(session)
    respond_by = min(at + ANSWER_WINDOW, max(occurrence.starts_at - timedelta(hours=2), at))
    created = session.execute(
        insert(FacilitatorAsk)
        .values(
            team_id=occurrence.team_id,
            occurrence_id=occurrence.id,
            user_id=user_id,
            status=AskStatus.ASKED.value,
            asked_at=at,
            respond_by=respond_by,
        )
        .on_conflict_do_nothing(index_elements=["occurrence_id", "user_id"])
        .returning(FacilitatorAsk.id)
    ).scalar()
    return session.get(FacilitatorAsk, created) if created is not None else None


def asks_to_chase(session: Session, *, at: datetime) -> list[tuple[int, str]]:
    """Open asks past their answer time: (id, "remind") once, then (id, "escalate") once."""
    rows = session.execute(
        select(FacilitatorAsk, Occurrence.starts_at)
        .join(Occurrence, Occurrence.id == FacilitatorAsk.occurrence_id)
        .where(
            FacilitatorAsk.status == AskStatus.ASKED,
            FacilitatorAsk.escalated_at.is_(None),
            FacilitatorAsk.respond_by <= at,
        )
    ).all()
    found = []
    for chase, starts_at in rows:
        if chase.reminded_at is None:
            found.append((chase.id, "remind"))
        elif at >= min(
            chase.reminded_at + ESCALATE_AFTER, max(starts_at - timedelta(hours=1), chase.reminded_at)
        ):
            found.append((chase.id, "escalate"))
    return found


def mark_chased(session: Session, *, ask_id: int, step: str, at: datetime) -> FacilitatorAsk | None:
    """Record a reminder or an escalation, once; the ask when this call did it."""
    column = FacilitatorAsk.reminded_at if step == "remind" else FacilitatorAsk.escalated_at
    moved = affected(
        session.execute(
            update(FacilitatorAsk)
            .where(FacilitatorAsk.id == ask_id, column.is_(None), FacilitatorAsk.status == AskStatus.ASKED)
            .values({column.key: at})
            .execution_options(synchronize_session=False)
        )
    )
    if moved != 1:
        return None
    found = session.get_one(FacilitatorAsk, ask_id)
    session.refresh(found)
    return found


def answer_ask(
    session: Session, *, team_id: str, ask_id: int | str, user_id: str, answer: AskStatus, at: datetime
) -> tuple[FacilitatorAsk, Occurrence]:
    """Accept, swap or skip a facilitator request (only the person asked)."""
    try:
        found = session.get(FacilitatorAsk, int(ask_id))
    except (TypeError, ValueError):
        found = None
    if found is None or found.team_id != team_id:
        raise NotFound("That request no longer exists.")
    if found.user_id != user_id:
        raise PermissionDenied("This request was sent to someone else.")
    occurrence = session.get_one(Occurrence, found.occurrence_id)
    if found.status != AskStatus.ASKED:
        raise InvalidInput({"ask": f"You already answered this request ({found.status})."})
    if occurrence.starts_at <= at:
        raise InvalidInput({"ask": "This session has already started."})
    found.status, found.answered_at = answer, at
    if answer == AskStatus.ACCEPTED:
        occurrence.facilitator_id = user_id
    elif answer == AskStatus.SWAPPED:
        _swap_with_next(session, occurrence, user_id)
    session.flush()
    return found, occurrence


def _swap_with_next(session: Session, occurrence: Occurrence, user_id: str) -> None:
    """Trade places with the next in the rotation, so the swapper takes the following turn."""
    community = session.get_one(Community, occurrence.community_id)
    order = _places(session, community)
    mine = next((i for i, r in enumerate(order) if r.user_id == user_id), None)
    if mine is None or len(order) < 2:
        return
    other = order[(mine + 1) % len(order)]
    order[mine].position, other.position = other.position, order[mine].position


def previous_asks(session: Session, *, occurrence: Occurrence) -> list[FacilitatorAsk]:
    """Everyone asked for a session, in order."""
    return list(
        session.scalars(
            select(FacilitatorAsk)
            .where(FacilitatorAsk.occurrence_id == occurrence.id)
            .order_by(FacilitatorAsk.id)
        )
    )
