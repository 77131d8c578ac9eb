"""Rules of peer recognition: settings, who may be nominated, the weekly limit, storing a nomination.

Plain Python: no Slack code; the caller commits.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from copbot import lookups
from copbot.blockkit import mention
from copbot.clock import now
from copbot.communities import service as communities
from copbot.communities.models import Community, Member
from copbot.db import affected, dialect_insert, ensure_row
from copbot.errors import InvalidInput, NotFound
from copbot.feature import Counts, Person
from copbot.recognition import cosigns
from copbot.recognition.models import (
    DEFAULT_DIGEST_TIME,
    DEFAULT_DIGEST_WEEKDAY,
    DEFAULT_STORY_MIN,
    DEFAULT_VALUES,
    DEFAULT_WEEKLY_LIMIT,
    Nomination,
    NominationQuota,
    Nominee,
    RecognitionSettings,
    UserFact,
)

MAX_NOMINEES = 10
MAX_VALUES = 20
TEXT_LIMIT = 2000
FACTS_MAX_AGE = timedelta(days=7)  # a bot stays a bot; deletions are rare and re-checked weekly
_MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


# --- settings --------------------------------------------------------------------------------------


lookups.watch(RecognitionSettings)  # cached by the function below


def settings_for(session: Session, *, community: Community) -> RecognitionSettings:
    """Return the community's settings; an unsaved row with the defaults when it has none."""
    where = {"team_id": community.team_id, "community_id": community.id}
    found = lookups.cached(
        session, RecognitionSettings, where, lambda: session.get(RecognitionSettings, community.id)
    )
    if found is not None:
        return found
    return RecognitionSettings(
        community_id=community.id,
        team_id=community.team_id,
        values=list(DEFAULT_VALUES),
        story_min=DEFAULT_STORY_MIN,
        weekly_limit=DEFAULT_WEEKLY_LIMIT,
        hold_for_digest=False,
        digest_enabled=True,
        digest_weekday=DEFAULT_DIGEST_WEEKDAY,
        digest_time=DEFAULT_DIGEST_TIME,
    )


def _stored_settings(session: Session, community: Community) -> RecognitionSettings:
    """The community's stored settings, the defaults stored on first change (race-free)."""
    found = settings_for(session, community=community)
    if found in session:
        return found
    defaults = {
        name: getattr(found, name)
        for name in ("team_id", "values", "story_min", "weekly_limit", "hold_for_digest", "digest_enabled")
    }
    timing = {"digest_weekday": found.digest_weekday, "digest_time": found.digest_time}
    return ensure_row(session, RecognitionSettings, {"community_id": community.id}, **defaults, **timing)


def parse_values(
    text: str, *, field: str = "values", example: str = "`/cop values set Curiosity, Mentoring`"
) -> list[str]:
    """Read a comma-separated list of values (blanks and repeats dropped); raise InvalidInput on `field`."""
    values: list[str] = []
    for raw in text.split(","):
        value = " ".join(raw.split())
        if value and value.casefold() not in {v.casefold() for v in values}:
            values.append(value)
    if not values:
        raise InvalidInput({field: f"Give at least one value, e.g. {example}."})
    if len(values) > MAX_VALUES or any(len(v) > 60 for v in values):
        raise InvalidInput({field: f"Keep to {MAX_VALUES} values of at most 60 characters each."})
    return values


def save_values(session: Session, *, community: Community, user_id: str, values: list[str]) -> list[str]:
    """Replace the community's list of values with an already parsed list (leads only)."""
    communities.require_lead(session, community=community, user_id=user_id, action="edit its values")
    return _store_values(session, community, values)


def _store_values(session: Session, community: Community, values: list[str]) -> list[str]:
    _stored_settings(session, community).values = list(values)
    session.flush()
    return values


def set_values(session: Session, *, community: Community, user_id: str, text: str) -> list[str]:
    """Replace the community's list of values (leads only); `text` is comma-separated."""
    communities.require_lead(session, community=community, user_id=user_id, action="edit its values")
    return _store_values(session, community, parse_values(text))


@dataclass(frozen=True)
class SettingChange:
    """One parsed `/cop recognition ...` change."""

    name: str
    value: object


def parse_setting(args: str) -> SettingChange:
    """Read `min-story N`, `limit N`, `public now|digest`, `digest off|DAY HH:MM`."""
    words = args.lower().split()
    name, rest = (words[0], words[1:]) if words else ("", [])
    if name in ("min-story", "limit") and len(rest) == 1 and rest[0].isdigit():
        number = int(rest[0])
        bounds = (0, 1000) if name == "min-story" else (1, 50)
        if bounds[0] <= number <= bounds[1]:
            return SettingChange(name, number)
        raise InvalidInput({name: f"`{name}` takes a number from {bounds[0]} to {bounds[1]}."})
    if name == "public" and rest in (["now"], ["digest"]):
        return SettingChange(name, rest[0] == "digest")
    if name == "digest" and rest == ["off"]:
        return SettingChange("digest-off", None)
    if name == "digest" and len(rest) == 2 and rest[0][:3] in [d[:3] for d in WEEKDAYS]:
        found = re.fullmatch(r"([01]?\d|2[0-3]):([0-5]\d)", rest[1])
        if found:
            weekday = [d[:3] for d in WEEKDAYS].index(rest[0][:3])
            return SettingChange("digest", (weekday, f"{int(found.group(1)):02d}:{found.group(2)}"))
    raise InvalidInput({"setting": "I did not understand that setting."})


def change_setting(session: Session, *, community: Community, user_id: str, change: SettingChange) -> None:
    """Apply one recognition setting (leads only)."""
    communities.require_lead(
        session, community=community, user_id=user_id, action="change its recognition settings"
    )
    stored = _stored_settings(session, community)
    if change.name == "min-story":
        stored.story_min = int(change.value)  # type: ignore[call-overload]
    elif change.name == "limit":
        stored.weekly_limit = int(change.value)  # type: ignore[call-overload]
    elif change.name == "public":
        stored.hold_for_digest = bool(change.value)
    elif change.name == "digest-off":
        stored.digest_enabled = False
    elif change.name == "digest":
        stored.digest_enabled = True
        stored.digest_weekday, stored.digest_time = change.value  # type: ignore[misc]
    session.flush()


# --- where a nomination belongs --------------------------------------------------------------------


def resolve_community(session: Session, *, team_id: str, channel_id: str, user_id: str) -> Community:
    """The channel's community, else the one community the user belongs to; else say what to do."""
    community = communities.community_for_channel(session, team_id=team_id, channel_id=channel_id)
    if community is not None:
        return community
    theirs = list(
        session.scalars(
            select(Community)
            .join(Member, Member.community_id == Community.id)
            .where(Community.team_id == team_id, Member.user_id == user_id, Member.left_at.is_(None))
            .order_by(Community.id)
        )
    )
    if len(theirs) == 1:
        return theirs[0]
    if not theirs:
        raise NotFound(communities.NO_COMMUNITY)
    raise NotFound("You belong to several communities: run `/nominate` in the channel of the one it is for.")


def community_by_id(session: Session, *, team_id: str, community_id: int) -> Community:
    """Return a community of the workspace by id."""
    community = communities.community_by_id(session, team_id=team_id, community_id=community_id)
    if community is None:
        raise NotFound("That community no longer exists.")
    return community


# --- the weekly limit ------------------------------------------------------------------------------


def week_start(at: datetime, zone: str) -> date:
    """The local Monday of the week holding `at` in the community's time zone."""
    local = at.astimezone(ZoneInfo(zone)).date()
    return local - timedelta(days=local.weekday())


def remaining(session: Session, *, community: Community, user_id: str, at: datetime | None = None) -> int:
    """How many nominations the user may still make in the community this week."""
    limit = settings_for(session, community=community).weekly_limit
    used = session.scalar(
        select(NominationQuota.used).where(
            NominationQuota.community_id == community.id,
            NominationQuota.nominator_id == user_id,
            NominationQuota.week_start == week_start(at or now(), community.timezone),
        )
    )
    return max(0, limit - (used or 0))


def claim_slot(session: Session, *, community: Community, user_id: str, at: datetime, limit: int) -> bool:
    """Take one of the week's nominations for the user; False when none is left. Race-free."""
    week = week_start(at, community.timezone)
    insert = dialect_insert(session)
    session.execute(
        insert(NominationQuota)
        .values(
            team_id=community.team_id,
            community_id=community.id,
            nominator_id=user_id,
            week_start=week,
            used=0,
        )
        .on_conflict_do_nothing(index_elements=["community_id", "nominator_id", "week_start"])
    )
    # One conditional UPDATE: the row lock (PostgreSQL) or the single writer (SQLite) orders concurrent
    # claims, and each re-reads `used` before adding, so exactly `limit` of them succeed.
    claimed = session.execute(
        update(NominationQuota)
        .where(
            NominationQuota.community_id == community.id,
            NominationQuota.nominator_id == user_id,
            NominationQuota.week_start == week,
            NominationQuota.used < limit,
        )
        .values(used=NominationQuota.used + 1)
        .execution_options(synchronize_session=False)
    )
    return affected(claimed) == 1


# --- known user facts ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Fact:
    """What Slack says of a user that matters here."""

    user_id: str
    is_bot: bool
    deleted: bool


def stale_users(
    session: Session, *, team_id: str, user_ids: Iterable[str], at: datetime | None = None
) -> list[str]:
    """The users whose facts are unknown or older than FACTS_MAX_AGE, in the given order."""
    wanted = list(dict.fromkeys(user_ids))
    fresh = set(
        session.scalars(
            select(UserFact.user_id).where(
                UserFact.team_id == team_id,
                UserFact.user_id.in_(wanted),
                UserFact.fetched_at >= (at or now()) - FACTS_MAX_AGE,
            )
        )
    )
    return [u for u in wanted if u not in fresh]


def record_facts(session: Session, *, team_id: str, facts: Sequence[Fact]) -> None:
    """Remember what `users.info` said (insert or refresh)."""
    insert = dialect_insert(session)
    for fact in facts:
        statement = insert(UserFact).values(
            team_id=team_id, user_id=fact.user_id, is_bot=fact.is_bot, deleted=fact.deleted, fetched_at=now()
        )
        session.execute(
            statement.on_conflict_do_update(
                index_elements=["team_id", "user_id"],
                set_={"is_bot": fact.is_bot, "deleted": fact.deleted, "fetched_at": now()},
            )
        )


def refused_users(session: Session, *, team_id: str, user_ids: Iterable[str]) -> dict[str, str]:
    """The given users known to be bots or deleted, each with the reason."""
    wanted = list(user_ids)
    if not wanted:  # `/nominate` without names: no round trip
        return {}
    rows = session.scalars(select(UserFact).where(UserFact.team_id == team_id, UserFact.user_id.in_(wanted)))
    return {f.user_id: "a bot" if f.is_bot else "deactivated" for f in rows if f.is_bot or f.deleted}


# --- nominating ------------------------------------------------------------------------------------


def parse_command_text(text: str) -> tuple[list[str], str]:
    """Split `/nominate <@U1|ada> <@U2> for fixing the pager` into nominees and the story's start."""
    nominees: list[str] = []
    rest = text.strip()
    while found := _MENTION.match(rest):
        nominees.append(found.group(1))
        rest = rest[found.end() :].lstrip(" ,&").lstrip()
        if rest.lower().startswith("and "):
            rest = rest[4:]
    return list(dict.fromkeys(nominees))[:MAX_NOMINEES], rest.strip()


@dataclass(frozen=True)
class NominationForm:
    """What the nomination modal asks for."""

    nominees: list[str]
    value: str
    action: str
    impact: str
    public: bool
    permalink: str | None = None
    subject: str | None = None


@dataclass
class FormErrors:
    """Field errors collected across checks, keyed by the nomination's field names."""

    errors: dict[str, str] = field(default_factory=dict)

    def add(self, field: str, message: str) -> None:
        self.errors.setdefault(field, message)

    def raise_any(self) -> None:
        if self.errors:
            raise InvalidInput(dict(self.errors))


def check_form(form: NominationForm, *, settings: RecognitionSettings, nominator_id: str) -> FormErrors:
    """The checks that need no database: nominees named, not oneself, a known value, a specific story."""
    errors = FormErrors()
    if not form.nominees:
        errors.add("nominees", "Choose at least one person to recognise.")
    elif nominator_id in form.nominees:
        errors.add("nominees", "You can't nominate yourself: recognise someone else's work.")
    elif len(form.nominees) > MAX_NOMINEES:
        errors.add("nominees", f"Recognise at most {MAX_NOMINEES} people at once.")
    if form.value not in settings.values:
        errors.add("value", "Choose one of the community's values.")
    told = len(form.action.strip()) + len(form.impact.strip())
    if not form.action.strip():
        errors.add("action", "Say what they did.")
    elif told < settings.story_min:
        errors.add(
            "action",
            f"Tell a little more, so it is specific: at least {settings.story_min} characters across "
            f"what they did and the difference it made (now {told}).",
        )
    if not form.impact.strip():
        errors.add("impact", "Say what difference it made.")
    for block, text in (("action", form.action), ("impact", form.impact)):
        if len(text) > TEXT_LIMIT:
            errors.add(block, f"Keep this under {TEXT_LIMIT} characters.")
    return errors


def nominate(
    session: Session,
    *,
    community: Community,
    nominator_id: str,
    form: NominationForm,
    at: datetime | None = None,
) -> tuple[Nomination, int]:
    """Validate and store a nomination; return it and how many the nominator has left this week."""
    at = at or now()
    settings = settings_for(session, community=community)
    errors = check_form(form, settings=settings, nominator_id=nominator_id)
    refused = refused_users(session, team_id=community.team_id, user_ids=form.nominees)
    if refused:
        named = ", ".join(f"{mention(u)} is {why}" for u, why in refused.items())
        errors.add("nominees", f"Only people can be recognised: {named}.")
    errors.raise_any()
    if not claim_slot(session, community=community, user_id=nominator_id, at=at, limit=settings.weekly_limit):
        raise InvalidInput(
            {
                "nominees": f"You have made your {settings.weekly_limit} nominations "
                "this week, so that each one stays meaningful. More from Monday."
            }
        )
    nomination = Nomination(
        team_id=community.team_id,
        community_id=community.id,
        nominator_id=nominator_id,
        value=form.value,
        action=form.action.strip(),
        impact=form.impact.strip(),
        public=form.public,
        permalink=form.permalink,
        subject=form.subject,
        posted=form.public and not settings.hold_for_digest,
        created_at=at,
        nominees=[Nominee(team_id=community.team_id, user_id=u) for u in form.nominees],
    )
    session.add(nomination)
    session.flush()
    return nomination, remaining(session, community=community, user_id=nominator_id, at=at)


# --- the digest's schedule -------------------------------------------------------------------------


def digest_instant(settings: RecognitionSettings, zone: str, week_of: date) -> datetime:
    """The UTC instant of the digest in the local week starting on Monday `week_of`."""
    day = week_of + timedelta(days=settings.digest_weekday)
    hour, minute = (int(p) for p in settings.digest_time.split(":"))
    # Wall-clock time in the community's zone: 09:00 stays 09:00 across DST (a skipped hour resolves
    # forward, an ambiguous one to its first occurrence, as zoneinfo's fold=0 does).
    return datetime.combine(day, time(hour, minute), tzinfo=ZoneInfo(zone)).astimezone(ZoneInfo("UTC"))


def due_digest(settings: RecognitionSettings, zone: str, at: datetime, grace: timedelta) -> datetime | None:
    """The digest instant due at `at` (reached, and less than `grace` ago), if any."""
    if not settings.digest_enabled:
        return None
    monday = week_start(at, zone)
    for week in (monday, monday - timedelta(days=7)):  # the digest may be due late on a Sunday night
        due = digest_instant(settings, zone, week)
        if due <= at < due + grace:
            return due
    return None


def next_digest(settings: RecognitionSettings, zone: str, at: datetime) -> datetime:
    """The first digest instant after `at`."""
    monday = week_start(at, zone)
    for week in (monday, monday + timedelta(days=7)):
        due = digest_instant(settings, zone, week)
        if due > at:
            return due
    return digest_instant(settings, zone, monday + timedelta(days=14))


# --- export and privacy ----------------------------------------------------------------------------


def export_nominations(session: Session, *, communities_: Sequence[Community]) -> list[dict[str, object]]:
    """Every nomination of the given communities, as plain records for `copbot export`."""
    from sqlalchemy.orm import selectinload

    by_id = {c.id: c for c in communities_}
    rows = session.scalars(
        select(Nomination)
        .where(Nomination.community_id.in_(list(by_id)))
        .options(selectinload(Nomination.nominees))
        .order_by(Nomination.community_id, Nomination.id)
    )
    return [
        {
            "team_id": n.team_id,
            "channel_id": by_id[n.community_id].channel_id,
            "id": n.id,
            "nominator_id": n.nominator_id,
            "nominees": n.nominee_ids,
            "value": n.value,
            "action": n.action,
            "impact": n.impact,
            "public": n.public,
            "permalink": n.permalink,
            "subject": n.subject,
            "cosigned_by": cosigns.cosigners(session, nomination_id=n.id) if n.posted else [],
            "created_at": n.created_at.isoformat(),
        }
        for n in rows
    ]


def forget_user(session: Session, person: Person) -> Counts:
    """Remove a person from recognition: their nominations name no nominator, and they are no nominee.

    A nomination whose only nominee was this person is deleted with its story.
    """
    team_id, user_id = person.team_id, person.user_id
    counts: dict[str, int] = {}
    counts["nomination_nominees"] = affected(
        session.execute(delete(Nominee).where(Nominee.team_id == team_id, Nominee.user_id == user_id))
    )
    orphans = select(Nomination.id).where(Nomination.team_id == team_id, ~Nomination.nominees.any())
    counts["nominations"] = affected(session.execute(delete(Nomination).where(Nomination.id.in_(orphans))))
    counts["nominations"] += affected(
        session.execute(
            update(Nomination)
            .where(Nomination.team_id == team_id, Nomination.nominator_id == user_id)
            .values(nominator_id=None)
            .execution_options(synchronize_session=False)
        )
    )
    for model, column in ((NominationQuota, NominationQuota.nominator_id), (UserFact, UserFact.user_id)):
        deleted = session.execute(delete(model).where(model.team_id == team_id, column == user_id))
        counts[model.__tablename__] = affected(deleted)
    return {**counts, **cosigns.forget(session, person)}


def purge_before(session: Session, cutoff: datetime, team_id: str) -> int:
    """Delete a workspace's nominations, quotas and cached facts older than the cutoff."""
    removed = 0
    for model, condition in (
        (Nomination, Nomination.created_at < cutoff),
        (NominationQuota, NominationQuota.week_start < cutoff.date()),
        (UserFact, UserFact.fetched_at < cutoff),
    ):
        removed += affected(session.execute(delete(model).where(condition, model.team_id == team_id)))
    return removed + cosigns.purge_before(session, cutoff, team_id)
