"""Rules of rituals: schedules, occurrences and their steps, RSVPs, pulse (who facilitates: facilitators.py).

Plain Python: no Slack code, the caller commits. Every step an occurrence takes (posted, started,
closed) is a compare-and-set on its `stage`, so two ticks or two replicas take each step once.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Self

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from copbot.communities import service as communities
from copbot.communities.models import Community, Role, Workspace
from copbot.db import affected, dialect_insert
from copbot.errors import InvalidInput, NotFound
from copbot.rituals import timing
from copbot.rituals.models import (
    Attendance,
    Exclusion,
    Frequency,
    Occurrence,
    OccurrenceKind,
    PulseAnswer,
    Response,
    RitualSchedule,
    ScheduleKind,
    ScheduleStatus,
    Stage,
)

log = logging.getLogger(__name__)

EDITORS = (Role.LEAD, Role.FACILITATOR)
HORIZON = timedelta(days=15)  # occurrences exist this far ahead, so rotation DMs can go out early
LOOKBACK = timedelta(days=2)  # missed occurrences older than this are not even recorded
FINALE_CALL = timedelta(days=3)  # the call for demos goes out this long before the finale
ANSWER_WINDOW = timedelta(hours=24)  # a facilitator is asked to answer within this
ESCALATE_AFTER = timedelta(hours=12)  # after the reminder, this long before the lead is told
PULSE_MINIMUM = 3  # fewer answers than this and no aggregate is shown (anonymity)
PULSE_QUESTIONS = ("value", "safety")


# --- forms -----------------------------------------------------------------------------------------


class _Form(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True)

    @classmethod
    def parse(cls, fields: dict[str, object]) -> Self:
        """Validate raw modal input; raise InvalidInput naming each bad field."""
        try:
            return cls.model_validate({k: v for k, v in fields.items() if v not in (None, "")})
        except ValidationError as exc:
            errors: dict[str, str] = {}
            for error in exc.errors():
                name = str(error["loc"][0]) if error["loc"] else "title"
                message = "This is required." if error["type"] == "missing" else error["msg"]
                errors.setdefault(name, message.removeprefix("Value error, "))
            raise InvalidInput(errors) from None


class CycleForm(_Form):
    """A cycle: its name, what it will try, and the kickoff, mid-point and finale times (local)."""

    title: str
    plan: str = ""
    kickoff_date: date
    kickoff_time: time
    midpoint_date: date
    midpoint_time: time
    finale_date: date
    finale_time: time

    @field_validator("title")
    @classmethod
    def _title(cls, value: str) -> str:
        if not 2 <= len(value) <= 150:
            raise ValueError("Give it a name of 2 to 150 characters.")
        return value


class SessionsForm(_Form):
    """Recurring sessions: topic, how often, first date (its weekday repeats), time(s), length."""

    title: str
    frequency: Frequency
    first_date: date
    local_time: time
    alt_local_time: time | None = None
    duration_minutes: int = 60
    rotation_days: int = 3

    @field_validator("title")
    @classmethod
    def _title(cls, value: str) -> str:
        if not 2 <= len(value) <= 150:
            raise ValueError("Give the sessions a topic of 2 to 150 characters.")
        return value

    @field_validator("duration_minutes")
    @classmethod
    def _duration(cls, value: int) -> int:
        if not 15 <= value <= 480:
            raise ValueError("Sessions last between 15 minutes and 8 hours.")
        return value

    @field_validator("rotation_days")
    @classmethod
    def _rotation(cls, value: int) -> int:
        if not 1 <= value <= 14:
            raise ValueError("Ask the facilitator 1 to 14 days ahead.")
        return value


def _local_instant(
    errors: dict[str, str], day: date, at: time, zone: str, *, fields: tuple[str, str], now: datetime
) -> datetime:
    """The UTC instant of a form's date and time, recording a field error when it cannot be used."""
    date_field, time_field = fields
    if not timing.exists_locally(day, at, zone):
        errors[time_field] = f"{at:%H:%M} does not exist on {day:%d %b %Y} in {zone} (clocks go forward)."
    instant = timing.to_utc(day, at, zone)
    if instant <= now and date_field not in errors:
        errors[date_field] = "This is in the past: choose a later date or time."
    return instant


def validate_cycle(form: CycleForm, *, zone: str, now: datetime) -> tuple[datetime, datetime, datetime]:
    """The cycle's three instants in UTC, or InvalidInput naming each bad field."""
    errors: dict[str, str] = {}
    instants = [
        _local_instant(
            errors,
            getattr(form, f"{name}_date"),
            getattr(form, f"{name}_time"),
            zone,
            fields=(f"{name}_date", f"{name}_time"),
            now=now,
        )
        for name in ("kickoff", "midpoint", "finale")
    ]
    kickoff, midpoint, finale = instants
    if finale <= kickoff:
        errors.setdefault("finale_date", "The finale must come after the kickoff.")
    elif not kickoff < midpoint < finale:
        errors.setdefault("midpoint_date", "The mid-point must fall between kickoff and finale.")
    if errors:
        raise InvalidInput(errors)
    return kickoff, midpoint, finale


def validate_sessions(form: SessionsForm, *, zone: str, now: datetime) -> None:
    """Refuse a first session in the past or at a time that does not exist that day."""
    errors: dict[str, str] = {}
    _local_instant(
        errors,
        form.first_date,
        form.local_time,
        zone,
        fields=("first_date", "local_time"),
        now=now,
    )
    if form.alt_local_time is not None:
        if form.alt_local_time == form.local_time:
            errors["alt_local_time"] = "Pick a different time, or leave this empty."
        elif not timing.exists_locally(form.first_date, form.alt_local_time, zone):
            errors["alt_local_time"] = f"{form.alt_local_time:%H:%M} does not exist that day in {zone}."
    if errors:
        raise InvalidInput(errors)


# --- schedules -------------------------------------------------------------------------------------


def can_edit(session: Session, *, community: Community, user_id: str) -> bool:
    """Whether the user may plan and change the community's rituals (leads and facilitators)."""
    return user_id in communities.holders(session, community=community, roles=EDITORS)


def require_editor(session: Session, *, community: Community, user_id: str) -> None:
    """Refuse unless the user leads or facilitates the community."""
    communities.require_role(
        session, community=community, user_id=user_id, roles=EDITORS, action="change its rituals"
    )


def save_cycle(
    session: Session,
    *,
    community: Community,
    user_id: str,
    form: CycleForm,
    now: datetime,
    schedule_id: int | None = None,
) -> RitualSchedule:
    """Store a cycle as a draft (or edit one); its times are checked in the community's zone."""
    require_editor(session, community=community, user_id=user_id)
    kickoff, midpoint, finale = validate_cycle(form, zone=community.timezone, now=now)
    schedule = _editable(session, community, schedule_id, ScheduleKind.CYCLE, user_id)
    schedule.title, schedule.plan = form.title, form.plan
    schedule.kickoff_at, schedule.midpoint_at, schedule.finale_at = kickoff, midpoint, finale
    session.flush()
    if schedule.status != ScheduleStatus.DRAFT:
        _forget_planned(session, schedule)  # recorded again at the new times on the next tick
    return schedule


def save_schedule(
    session: Session,
    *,
    kind: ScheduleKind,
    community: Community,
    user_id: str,
    fields: dict[str, object],
    now: datetime,
    schedule_id: int | None = None,
) -> RitualSchedule:
    """Parse and store the cycle or sessions modal's fields; raise InvalidInput naming the bad ones."""
    if kind == ScheduleKind.CYCLE:
        cycle = CycleForm.parse(fields)
        return save_cycle(
            session, community=community, user_id=user_id, form=cycle, now=now, schedule_id=schedule_id
        )
    sessions = SessionsForm.parse(fields)
    return save_sessions(
        session, community=community, user_id=user_id, form=sessions, now=now, schedule_id=schedule_id
    )


def save_sessions(
    session: Session,
    *,
    community: Community,
    user_id: str,
    form: SessionsForm,
    now: datetime,
    schedule_id: int | None = None,
) -> RitualSchedule:
    """Store recurring sessions as a draft (or edit them)."""
    require_editor(session, community=community, user_id=user_id)
    validate_sessions(form, zone=community.timezone, now=now)
    schedule = _editable(session, community, schedule_id, ScheduleKind.SESSIONS, user_id)
    schedule.title, schedule.frequency, schedule.first_date = form.title, form.frequency, form.first_date
    schedule.local_time = f"{form.local_time:%H:%M}"
    schedule.alt_local_time = f"{form.alt_local_time:%H:%M}" if form.alt_local_time else None
    schedule.duration_minutes, schedule.rotation_days = form.duration_minutes, form.rotation_days
    session.flush()
    if schedule.status != ScheduleStatus.DRAFT:
        _forget_planned(session, schedule)  # regenerated from the new rule on the next tick
    return schedule


def _editable(
    session: Session, community: Community, schedule_id: int | None, kind: ScheduleKind, user_id: str
) -> RitualSchedule:
    if schedule_id is None:
        schedule = RitualSchedule(
            team_id=community.team_id,
            community_id=community.id,
            kind=kind,
            status=ScheduleStatus.DRAFT,
            title="",
            created_by=user_id,
        )
        session.add(schedule)
        return schedule
    schedule = get_schedule(session, team_id=community.team_id, schedule_id=schedule_id)
    if schedule.community_id != community.id or schedule.kind != kind:
        raise NotFound("That schedule belongs elsewhere.")
    return schedule


def _forget_planned(session: Session, schedule: RitualSchedule) -> None:
    session.execute(
        delete(Occurrence).where(Occurrence.schedule_id == schedule.id, Occurrence.stage == Stage.PLANNED)
    )


def get_schedule(session: Session, *, team_id: str, schedule_id: int) -> RitualSchedule:
    """Return one of the workspace's schedules."""
    schedule = session.get(RitualSchedule, schedule_id)
    if schedule is None or schedule.team_id != team_id:
        raise NotFound(f"There is no schedule #{schedule_id}. `/cop schedule list` shows them.")
    return schedule


def schedules(session: Session, *, community: Community) -> list[RitualSchedule]:
    """The community's schedules, oldest first."""
    return list(
        session.scalars(
            select(RitualSchedule)
            .where(RitualSchedule.community_id == community.id)
            .order_by(RitualSchedule.id)
        )
    )


def set_status(
    session: Session,
    *,
    community: Community,
    user_id: str,
    schedule_id: int,
    status: ScheduleStatus,
    now: datetime,
) -> RitualSchedule:
    """Go live, pause or resume a schedule (leads and facilitators)."""
    require_editor(session, community=community, user_id=user_id)
    schedule = get_schedule(session, team_id=community.team_id, schedule_id=schedule_id)
    if schedule.community_id != community.id:
        raise NotFound("That schedule belongs to another community.")
    activate(schedule, status=status, now=now)
    session.flush()
    return schedule


def activate(schedule: RitualSchedule, *, status: ScheduleStatus, now: datetime) -> None:
    """Change a schedule's status; going live counts occurrences from `now` only."""
    if status == ScheduleStatus.ACTIVE and schedule.status != ScheduleStatus.ACTIVE:
        schedule.active_since = now
    schedule.status, schedule.paused_reason = status, None


def delete_schedule(session: Session, *, community: Community, user_id: str, schedule_id: int) -> str:
    """Delete a schedule and its occurrences; return its title."""
    require_editor(session, community=community, user_id=user_id)
    schedule = get_schedule(session, team_id=community.team_id, schedule_id=schedule_id)
    if schedule.community_id != community.id:
        raise NotFound("That schedule belongs to another community.")
    title = schedule.title
    session.delete(schedule)
    session.flush()
    return title


def pause_community(session: Session, *, team_id: str, channel_id: str, reason: str) -> Community | None:
    """Pause every live schedule of the channel's community; return it when something was paused."""
    community = communities.community_for_channel(session, team_id=team_id, channel_id=channel_id)
    if community is None:
        return None
    paused = affected(
        session.execute(
            update(RitualSchedule)
            .where(
                RitualSchedule.community_id == community.id, RitualSchedule.status == ScheduleStatus.ACTIVE
            )
            .values(status=ScheduleStatus.PAUSED, paused_reason=reason)
        )
    )
    return community if paused else None


# --- occurrences -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Planned:
    """An occurrence a schedule's rule produces."""

    kind: OccurrenceKind
    starts_at: datetime
    ends_at: datetime | None
    post_at: datetime


def planned(schedule: RitualSchedule, zone: str, *, since: datetime, until: datetime) -> list[Planned]:
    """The occurrences a schedule makes with `since <= starts_at <= until`."""
    if schedule.kind == ScheduleKind.CYCLE:
        found = _cycle_plan(schedule)
    else:
        found = _sessions_plan(schedule, zone, since=since, until=until)
    return [p for p in found if since <= p.starts_at <= until]


def _cycle_plan(schedule: RitualSchedule) -> list[Planned]:
    kickoff, midpoint, finale = schedule.kickoff_at, schedule.midpoint_at, schedule.finale_at
    if kickoff is None or midpoint is None or finale is None:
        return []
    call_at = max(finale - FINALE_CALL, midpoint)
    return [
        Planned(OccurrenceKind.KICKOFF, kickoff, None, kickoff),
        Planned(OccurrenceKind.MIDPOINT, midpoint, None, midpoint),
        Planned(OccurrenceKind.FINALE, finale, None, call_at),
    ]


def _sessions_plan(schedule: RitualSchedule, zone: str, *, since: datetime, until: datetime) -> list[Planned]:
    if schedule.first_date is None or schedule.local_time is None or schedule.frequency is None:
        return []
    first_day = max(schedule.first_date, timing.local_day(since, zone) - timedelta(days=1))
    found = []
    for index, day in timing.session_dates(
        schedule.first_date,
        Frequency(schedule.frequency),
        until=timing.local_day(until, zone) + timedelta(days=1),
    ):
        if day < first_day:
            continue
        slot = schedule.alt_local_time if schedule.alt_local_time and index % 2 else schedule.local_time
        starts = timing.to_utc(day, timing.parse_hhmm(slot), zone)
        ends = starts + timedelta(minutes=schedule.duration_minutes)
        found.append(
            Planned(OccurrenceKind.SESSION, starts, ends, starts - timedelta(minutes=schedule.remind_minutes))
        )
    return found


def materialize(session: Session, *, at: datetime) -> int:
    """Record live schedules' occurrences from a little before `at` to the horizon; return the new count."""
    rows = session.execute(
        select(RitualSchedule, Community.timezone)
        .join(Community, Community.id == RitualSchedule.community_id)
        .join(Workspace, Workspace.team_id == Community.team_id)
        .where(RitualSchedule.status == ScheduleStatus.ACTIVE, Workspace.uninstalled_at.is_(None))
    ).all()
    wanted = []
    for schedule, zone in rows:
        since = max(at - LOOKBACK, schedule.active_since or at)
        for plan in planned(schedule, zone, since=since, until=at + HORIZON):
            wanted.append((schedule, plan))
    if not wanted:
        return 0
    existing = set(
        session.execute(
            select(Occurrence.schedule_id, Occurrence.kind, Occurrence.starts_at).where(
                Occurrence.schedule_id.in_({s.id for s, _ in wanted}), Occurrence.starts_at >= at - LOOKBACK
            )
        ).all()
    )
    new = [
        {
            "team_id": s.team_id,
            "community_id": s.community_id,
            "schedule_id": s.id,
            "kind": p.kind.value,
            "starts_at": p.starts_at,
            "ends_at": p.ends_at,
            "post_at": p.post_at,
            "stage": Stage.PLANNED.value,
            "revision": 0,
            "created_at": at,
        }
        for s, p in wanted
        if (s.id, p.kind.value, p.starts_at) not in existing
    ]
    if not new:
        return 0
    insert = dialect_insert(session)
    session.execute(
        insert(Occurrence).on_conflict_do_nothing(index_elements=["schedule_id", "kind", "starts_at"]), new
    )
    return len(new)


def upcoming(
    session: Session, *, community_id: int, after: datetime, limit: int = 3
) -> list[tuple[Occurrence, str]]:
    """The community's next occurrences still to happen after `after`, with their schedule's title."""
    return [
        (occurrence, title)
        for occurrence, title in session.execute(
            select(Occurrence, RitualSchedule.title)
            .join(RitualSchedule, RitualSchedule.id == Occurrence.schedule_id)
            .where(
                Occurrence.community_id == community_id,
                Occurrence.starts_at >= after,
                Occurrence.stage.in_([Stage.PLANNED, Stage.POSTED, Stage.STARTED]),
                RitualSchedule.status == ScheduleStatus.ACTIVE,
            )
            .order_by(Occurrence.starts_at)
            .limit(limit)
        )
    ]


def due(session: Session, *, stage: Stage, at: datetime, column: str, limit: int = 500) -> list[int]:
    """Ids of live schedules' occurrences at `stage` whose `column` instant has come."""
    instant = getattr(Occurrence, column)
    return list(
        session.scalars(
            select(Occurrence.id)
            .join(RitualSchedule, RitualSchedule.id == Occurrence.schedule_id)
            .join(Workspace, Workspace.team_id == Occurrence.team_id)  # an uninstalled workspace rests
            .where(
                Occurrence.stage == stage,
                instant <= at,
                RitualSchedule.status == ScheduleStatus.ACTIVE,
                Workspace.uninstalled_at.is_(None),
            )
            .order_by(Occurrence.post_at, Occurrence.id)
            .limit(limit)
        )
    )


STEP_INSTANTS = (
    (Stage.PLANNED, "post_at"),
    (Stage.POSTED, "starts_at"),
    (Stage.STARTED, "ends_at"),
)


def next_step_at(session: Session, *, after: datetime) -> datetime | None:
    """The first instant after `after` at which a live schedule's occurrence takes a step (its post,
    its start, its end): the scheduler wakes for it, so a ritual posts on time, not at the next poll."""
    found = []
    for stage, column in STEP_INSTANTS:
        instant = getattr(Occurrence, column)
        found.append(
            session.scalar(
                select(func.min(instant))
                .join(RitualSchedule, RitualSchedule.id == Occurrence.schedule_id)
                .where(
                    Occurrence.stage == stage,
                    instant > after,
                    RitualSchedule.status == ScheduleStatus.ACTIVE,
                )
            )
        )
    return min((instant for instant in found if instant is not None), default=None)


def advance(session: Session, *, occurrence_id: int, from_stage: Stage, to_stage: Stage) -> Occurrence | None:
    """Move an occurrence one step, once: the occurrence when this call won, None when another did."""
    moved = affected(
        session.execute(
            update(Occurrence)
            .where(Occurrence.id == occurrence_id, Occurrence.stage == from_stage)
            .values(stage=to_stage)
            .execution_options(synchronize_session=False)
        )
    )
    if moved != 1:
        return None
    occurrence = session.get(Occurrence, occurrence_id)
    if occurrence is not None:
        session.refresh(occurrence)
    return occurrence


def context(session: Session, occurrence: Occurrence) -> tuple[Community, RitualSchedule]:
    """The community and schedule of an occurrence."""
    community = communities.community_by_id(
        session, team_id=occurrence.team_id, community_id=occurrence.community_id
    )
    if community is None:
        raise NotFound("That community no longer exists.")
    return community, session.get_one(RitualSchedule, occurrence.schedule_id)


def excluded(session: Session, *, occurrence: Occurrence, zone: str) -> Exclusion | None:
    """The exclusion a session falls on, if any."""
    if occurrence.kind != OccurrenceKind.SESSION:
        return None
    day = timing.local_day(occurrence.starts_at, zone)
    return session.scalar(
        select(Exclusion).where(
            Exclusion.community_id == occurrence.community_id,
            Exclusion.first_day <= day,
            Exclusion.last_day >= day,
        )
    )


def bump_revision(session: Session, *, occurrence: Occurrence) -> int:
    """Take the next revision number of an occurrence's post (unique key for an in-place edit)."""
    revision = session.execute(
        update(Occurrence)
        .where(Occurrence.id == occurrence.id)
        .values(revision=Occurrence.revision + 1)
        .returning(Occurrence.revision)
        .execution_options(synchronize_session=False)
    ).scalar_one()
    set_committed_value(occurrence, "revision", revision)  # the row already holds it: no second UPDATE
    return revision


def occurrence_for(session: Session, *, team_id: str, occurrence_id: int | str) -> Occurrence:
    """Return one of the workspace's occurrences."""
    try:
        found = session.get(Occurrence, int(occurrence_id))
    except (TypeError, ValueError):
        found = None
    if found is None or found.team_id != team_id:
        raise NotFound("That ritual no longer exists.")
    return found


def occurrences(
    session: Session, *, community: Community, since: datetime, limit: int = 10
) -> list[Occurrence]:
    """The community's coming occurrences that are still to happen."""
    return list(
        session.scalars(
            select(Occurrence)
            .where(Occurrence.community_id == community.id, Occurrence.starts_at >= since)
            .order_by(Occurrence.starts_at)
            .limit(limit)
        )
    )


# --- RSVP, attendance, sign-ups, pulse -------------------------------------------------------------


@dataclass(frozen=True)
class Tally:
    """What the buttons on a post have gathered."""

    going: int = 0
    cant: int = 0
    async_: int = 0
    attended: int = 0
    signed_up: tuple[str, ...] = ()


def tally(session: Session, *, occurrence: Occurrence) -> Tally:
    """Count RSVPs, presence and sign-ups for an occurrence."""
    rows = session.execute(
        select(Attendance.user_id, Attendance.rsvp, Attendance.attended, Attendance.signed_up)
        .where(Attendance.occurrence_id == occurrence.id)
        .order_by(Attendance.updated_at, Attendance.id)
    ).all()
    return Tally(
        going=sum(r.rsvp == Response.GOING for r in rows),
        cant=sum(r.rsvp == Response.CANT for r in rows),
        async_=sum(r.rsvp == Response.ASYNC for r in rows),
        attended=sum(bool(r.attended) for r in rows),
        signed_up=tuple(r.user_id for r in rows if r.signed_up),
    )


def _attendance(session: Session, occurrence: Occurrence, user_id: str) -> Attendance:
    """The user's row for an occurrence, made on first use (a double click is not an error)."""
    insert = dialect_insert(session)
    session.execute(
        insert(Attendance)
        .values(
            team_id=occurrence.team_id,
            occurrence_id=occurrence.id,
            user_id=user_id,
            attended=False,
            signed_up=False,
        )
        .on_conflict_do_nothing(index_elements=["occurrence_id", "user_id"])
    )
    return session.scalars(
        select(Attendance)
        .where(Attendance.occurrence_id == occurrence.id, Attendance.user_id == user_id)
        .with_for_update()
    ).one()


def rsvp(session: Session, *, occurrence: Occurrence, user_id: str, response: Response, at: datetime) -> bool:
    """Record a member's RSVP; False when it was already that."""
    if occurrence.kind != OccurrenceKind.SESSION:
        raise InvalidInput({"rsvp": "Only sessions take RSVPs."})
    if occurrence.ends_at is not None and occurrence.ends_at <= at:
        raise InvalidInput({"rsvp": "This session is over; RSVPs are closed."})
    row = _attendance(session, occurrence, user_id)
    if row.rsvp == response:
        return False
    row.rsvp, row.updated_at = response, at
    return True


def mark_attended(session: Session, *, occurrence: Occurrence, user_id: str, at: datetime) -> bool:
    """Record that a member was at a session that has started; False when already recorded."""
    if occurrence.starts_at > at:
        raise InvalidInput({"attended": "The session has not started yet: come back once it has."})
    row = _attendance(session, occurrence, user_id)
    if row.attended:
        return False
    row.attended, row.updated_at = True, at
    return True


def sign_up(session: Session, *, occurrence: Occurrence, user_id: str, at: datetime) -> bool:
    """Sign a member up (kickoff: to take part; finale: to demo); False when already signed up."""
    if occurrence.kind == OccurrenceKind.FINALE and occurrence.starts_at <= at:
        raise InvalidInput({"signup": "The finale has started; the line-up is closed."})
    row = _attendance(session, occurrence, user_id)
    if row.signed_up:
        return False
    row.signed_up, row.updated_at = True, at
    return True


def respondent_key(secret: str | bytes) -> bytes:
    """Derive the HMAC key for anonymous pulse answers from a secret (never the secret itself)."""
    raw = secret.encode() if isinstance(secret, str) else secret
    return hmac.new(raw, b"copbot pulse respondent key", hashlib.sha256).digest()


def answer_pulse(
    session: Session, *, occurrence: Occurrence, user_id: str, question: str, score: int, key: bytes
) -> None:
    """Store (or change) a member's anonymous 1-5 answer; only a keyed hash stands for them."""
    if occurrence.kind != OccurrenceKind.MIDPOINT or question not in PULSE_QUESTIONS or not 1 <= score <= 5:
        raise InvalidInput({"pulse": "That answer does not fit this pulse."})
    respondent = hmac.new(
        key, f"{occurrence.team_id}:{occurrence.id}:{user_id}".encode(), "sha256"
    ).hexdigest()
    insert = dialect_insert(session)
    session.execute(
        insert(PulseAnswer)
        .values(
            team_id=occurrence.team_id,
            occurrence_id=occurrence.id,
            question=question,
            respondent=respondent,
            score=score,
        )
        .on_conflict_do_update(
            index_elements=["occurrence_id", "question", "respondent"], set_={"score": score}
        )
    )


def pulse(session: Session, *, occurrence: Occurrence) -> dict[str, tuple[int, float | None]]:
    """Per question: how many answered, and the mean only when at least PULSE_MINIMUM did."""
    rows = session.execute(
        select(PulseAnswer.question, func.count(), func.avg(PulseAnswer.score))
        .where(PulseAnswer.occurrence_id == occurrence.id)
        .group_by(PulseAnswer.question)
    ).all()
    found = {q: (n, float(mean) if n >= PULSE_MINIMUM else None) for q, n, mean in rows}
    return {q: found.get(q, (0, None)) for q in PULSE_QUESTIONS}
