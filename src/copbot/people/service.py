"""Rules about people: roles, teams, onboarding and mentors, anonymous questions, forgetting, retention.

Plain Python: no Slack code, no blocks, no outbox (`people.flows` renders and owes the messages); the
caller commits.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from copbot import lookups
from copbot.blockkit import mention
from copbot.communities import service as communities
from copbot.communities.models import Community, Member, MemberRole, Role, Workspace
from copbot.db import affected, ensure_row
from copbot.errors import InvalidInput, NotFound, PermissionDenied
from copbot.feature import Counts, Person
from copbot.people.models import Onboarding, PeopleSettings, Profile, Question, QuestionStatus
from copbot.rituals import facilitators

REWELCOME_AFTER = timedelta(days=30)
MENTORING_PERIOD = timedelta(days=90)  # a pairing counts towards a mentor's load this long
MAX_TZ_GAP = timedelta(hours=6)
QUESTION_MIN, QUESTION_MAX = 10, 2000
TEAM_MAX = 120
OPT_IN_ROLES = (Role.MENTOR,)  # facilitating is the rotation's: rituals.facilitators.set_facilitating

_USER_ID = re.compile(r"[UW][A-Z0-9]{2,31}")
_MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")
_FIELD_ID = re.compile(r"Xf[A-Za-z0-9]{2,30}")


# --- parsing and hashing ---------------------------------------------------------------------------


def is_user_id(value: str) -> bool:
    """Tell whether a string is shaped like a Slack user id."""
    return bool(_USER_ID.fullmatch(value))


def parse_user(token: str) -> str:
    """Read a user id from an escaped mention (`<@U123|name>`, as `/cop` delivers it) or a bare id."""
    found = _MENTION.fullmatch(token.strip())
    if found:
        return found.group(1)
    if _USER_ID.fullmatch(token.strip()):
        return token.strip()
    if token.startswith("@"):
        raise InvalidInput(
            {"user": f"I could not tell who `{token[:40]}` is: pick the person from Slack's @ suggestions."}
        )
    raise InvalidInput({"user": "Name a person with @, picked from Slack's suggestions (e.g. `@Ada`)."})


def parse_role(word: str) -> Role:
    """Read a role name, case-insensitively, or list the known ones."""
    try:
        return Role(word.strip().lower())
    except ValueError:
        known = ", ".join(r.value for r in Role)
        raise InvalidInput({"role": f"`{word[:30]}` is not a role. Roles: {known}."}) from None


def hash_key(*, hash_key: str | None, signing_secret: str | None, bot_token: str | None) -> bytes:
    """The HMAC key for anonymous authors: COPBOT_HASH_KEY, else derived from the signing secret."""
    if hash_key:
        return hash_key.encode()
    base = signing_secret or bot_token
    if not base:
        raise PermissionDenied("Anonymous questions need COPBOT_HASH_KEY set; ask the operator.")
    # Derived, not the secret itself, so the hash key never equals a credential Slack also holds.
    return hmac.new(base.encode(), b"copbot anonymous author key", hashlib.sha256).digest()


def author_hash(key: bytes, *, team_id: str, user_id: str) -> str:
    """The keyed hash standing in for a question's author (HMAC-SHA256, hex)."""
    return hmac.new(key, f"{team_id}:{user_id}".encode(), hashlib.sha256).hexdigest()


# --- workspace settings ----------------------------------------------------------------------------


lookups.watch(PeopleSettings)  # cached by the function below


def workspace_settings(session: Session, *, team_id: str) -> PeopleSettings:
    """Return the workspace's people settings, creating the defaults on first use (race-free)."""
    where = {"team_id": team_id}
    found = lookups.cached(session, PeopleSettings, where, lambda: session.get(PeopleSettings, team_id))
    if found is None:
        communities.ensure_workspace(session, team_id=team_id)
        found = ensure_row(session, PeopleSettings, {"team_id": team_id})
    return found


def team_field_id(session: Session, *, team_id: str) -> str | None:
    """The Slack profile field teams come from, without creating the settings (a read)."""
    return session.scalar(select(PeopleSettings.team_field_id).where(PeopleSettings.team_id == team_id))


def change_setting(
    session: Session, *, team_id: str, channel_id: str, user_id: str, name: str, value: str
) -> PeopleSettings:
    """Change a workspace setting (leads only): team-field, checkin-days, ask-limit, retention."""
    community = communities.require_community(session, team_id=team_id, channel_id=channel_id)
    communities.require_lead(session, community=community, user_id=user_id, action=f"change `{name}`")
    current = workspace_settings(session, team_id=team_id)
    word = value.strip()
    off = word.lower() in ("off", "none", "")
    if name == "team-field":
        if not off and not _FIELD_ID.fullmatch(word):
            raise InvalidInput({name: "Give the profile field's id, like `Xf0123ABCD` (or `off`)."})
        current.team_field_id = None if off else word
    elif name == "retention":
        current.retention_months = None if off else _number(name, word, 1, 120)
    elif name == "checkin-days":
        current.checkin_days = _number(name, word, 1, 365)
    elif name == "ask-limit":
        current.ask_daily_limit = _number(name, word, 1, 100)
    else:
        raise InvalidInput({name: f"Unknown setting `{name}`."})
    session.flush()
    return current


def _number(name: str, word: str, low: int, high: int) -> int:
    if not word.isdigit() or not low <= int(word) <= high:
        raise InvalidInput({name: f"`{name}` takes a whole number from {low} to {high}."})
    return int(word)


# --- roles -----------------------------------------------------------------------------------------


def _membership(session: Session, *, community: Community, user_id: str, join: bool) -> Member:
    member = communities.find_member(session, community=community, user_id=user_id)
    if member is not None and member.active:
        return member
    if not join:
        raise NotFound(f"{mention(user_id)} is not a member of this community: `/cop join` first.")
    communities.join(session, team_id=community.team_id, channel_id=community.channel_id, user_id=user_id)
    member = communities.find_member(session, community=community, user_id=user_id)
    assert member is not None
    _sync_department(session, team_id=community.team_id, user_id=user_id)
    return member


def change_role(
    session: Session,
    *,
    team_id: str,
    channel_id: str,
    actor_id: str,
    target_id: str,
    role: Role,
    grant: bool,
) -> tuple[Community, bool]:
    """Grant or remove a role (leads only); False when nothing changed. The last lead stays."""
    community = communities.require_community(session, team_id=team_id, channel_id=channel_id)
    verb = "give roles" if grant else "remove roles"
    communities.require_lead(session, community=community, user_id=actor_id, action=verb)
    if not grant and role == Role.LEAD and communities.leads(session, community=community) == [target_id]:
        raise PermissionDenied("A community needs a lead: make someone else lead before removing this one.")
    member = _membership(session, community=community, user_id=target_id, join=grant)
    if role == Role.FACILITATOR:  # the role is a place in the rotation: one door for every way in
        return community, facilitators.facilitate(session, community=community, member=member, on=grant)
    return community, communities.set_role(session, member=member, role=role, on=grant)


def opt_in(
    session: Session, *, team_id: str, channel_id: str, user_id: str, role: Role, on: bool
) -> tuple[Community, bool]:
    """A member takes up or drops mentoring themselves; False when nothing changed."""
    if role not in OPT_IN_ROLES:
        raise PermissionDenied(f"Only a lead can give the {role.value} role.")
    community = communities.require_community(session, team_id=team_id, channel_id=channel_id)
    member = _membership(session, community=community, user_id=user_id, join=False)
    return community, communities.set_role(session, member=member, role=role, on=on)


def role_holders(
    session: Session, *, team_id: str, channel_id: str
) -> tuple[Community, dict[Role, list[str]]]:
    """Who holds which role in the channel's community (active members only)."""
    community = communities.require_community(session, team_id=team_id, channel_id=channel_id)
    rows = session.execute(
        select(MemberRole.role, Member.user_id)
        .join(Member, MemberRole.member_id == Member.id)
        .where(Member.community_id == community.id, Member.left_at.is_(None))
        .order_by(Member.user_id)
    )
    held: dict[Role, list[str]] = {role: [] for role in Role}
    for role, user_id in rows:
        held[Role(role)].append(user_id)
    return community, held


# --- teams -----------------------------------------------------------------------------------------


def profile_for(session: Session, *, team_id: str, user_id: str) -> Profile:
    """Return what we keep about a person, creating an empty record on first use (race-free)."""
    return ensure_row(session, Profile, {"team_id": team_id, "user_id": user_id})


def record_slack_profile(
    session: Session,
    *,
    team_id: str,
    user_id: str,
    is_bot: bool,
    tz_offset: int | None,
    profile_team: str | None,
    at: datetime,
) -> Profile:
    """Store what Slack says about a person (bot or not, time zone, team field) and sync their team."""
    profile = profile_for(session, team_id=team_id, user_id=user_id)
    profile.is_bot, profile.tz_offset, profile.fetched_at = is_bot, tz_offset, at
    profile.profile_team = (profile_team or "").strip()[:TEAM_MAX] or None
    _sync_department(session, team_id=team_id, user_id=user_id)
    return profile


def set_team(
    session: Session, *, team_id: str, channel_id: str, actor_id: str, target_id: str, name: str
) -> tuple[Community, Profile]:
    """Set a person's team by hand (themselves, or a lead for anyone); the profile field still wins."""
    community = communities.require_community(session, team_id=team_id, channel_id=channel_id)
    if actor_id != target_id:
        communities.require_lead(session, community=community, user_id=actor_id, action="set someone's team")
    name = " ".join(name.split())
    if not name or len(name) > TEAM_MAX:
        raise InvalidInput({"team": f"Give a team name of 1 to {TEAM_MAX} characters, e.g. `/cop team SRE`."})
    profile = profile_for(session, team_id=team_id, user_id=target_id)
    profile.manual_team = None if name.lower() == "off" else name
    _sync_department(session, team_id=team_id, user_id=target_id)
    return community, profile


def _sync_department(session: Session, *, team_id: str, user_id: str) -> None:
    """Copy the person's team onto every membership, where the metrics of cross-team reach read it."""
    profile = session.scalar(select(Profile).where(Profile.team_id == team_id, Profile.user_id == user_id))
    if profile is None:
        return
    session.execute(
        update(Member)
        .where(Member.team_id == team_id, Member.user_id == user_id)
        .values(department=profile.team)
    )


# --- onboarding ------------------------------------------------------------------------------------


def recently_welcomed(session: Session, *, community: Community, user_id: str, at: datetime) -> bool:
    """Tell whether the user was welcomed to this community within the last 30 days."""
    last = session.scalar(
        select(func.max(Onboarding.welcomed_at)).where(
            Onboarding.community_id == community.id, Onboarding.newcomer_id == user_id
        )
    )
    return last is not None and last > at - REWELCOME_AFTER


def onboard(
    session: Session, *, team_id: str, channel_id: str, user_id: str, at: datetime
) -> Onboarding | None:
    """Onboard someone who joined a community's channel: membership, newcomer role, mentor, check-in date.

    None when no welcome is due (no community, a bot, welcomed in the last 30 days). The caller
    (`flows.welcome`) owes the DMs.
    """
    community = communities.community_for_channel(session, team_id=team_id, channel_id=channel_id)
    if community is None:
        return None
    profile = profile_for(session, team_id=team_id, user_id=user_id)
    if profile.is_bot:
        return None
    member = _membership(session, community=community, user_id=user_id, join=True)
    if recently_welcomed(session, community=community, user_id=user_id, at=at):
        return None
    first_time = not session.scalar(
        select(func.count()).where(Onboarding.community_id == community.id, Onboarding.newcomer_id == user_id)
    )
    if first_time:
        communities.set_role(session, member=member, role=Role.NEWCOMER, on=True)
    session.execute(
        update(Onboarding)
        .where(
            Onboarding.newcomer_id == user_id, Onboarding.team_id == team_id, Onboarding.ended_at.is_(None)
        )
        .values(ended_at=at)
    )
    mentor_id = pick_mentor(session, community=community, newcomer_id=user_id, at=at)
    days = workspace_settings(session, team_id=team_id).checkin_days
    onboarding = Onboarding(
        team_id=team_id,
        community_id=community.id,
        newcomer_id=user_id,
        mentor_id=mentor_id,
        welcomed_at=at,
        checkin_due_at=at + timedelta(days=days),
    )
    session.add(onboarding)
    session.flush()
    return onboarding


@dataclass(frozen=True)
class _Candidate:
    user_id: str
    mentees: int
    same_team: bool
    last_paired: datetime
    far: bool

    @property
    def rank(self) -> tuple[int, bool, datetime, str]:
        # Fewest current mentees, then another team, then the longest since last paired.
        return (self.mentees, self.same_team, self.last_paired, self.user_id)


def pick_mentor(session: Session, *, community: Community, newcomer_id: str, at: datetime) -> str | None:
    """Choose an opted-in mentor: never a past pair, within 6 h of time zone when anyone is, least loaded."""
    team_id = community.team_id
    past = set(
        session.scalars(
            select(Onboarding.mentor_id).where(
                Onboarding.team_id == team_id, Onboarding.newcomer_id == newcomer_id
            )
        )
    )
    ids = [
        u for u in communities.holders(session, community=community, roles=[Role.MENTOR]) if u != newcomer_id
    ]
    ids = [u for u in ids if u not in past]
    if not ids:
        return None
    candidates = _candidates(session, community=community, newcomer_id=newcomer_id, ids=ids, at=at)
    near = [c for c in candidates if not c.far]
    return min(near or candidates, key=lambda c: c.rank).user_id


def _candidates(
    session: Session, *, community: Community, newcomer_id: str, ids: list[str], at: datetime
) -> list[_Candidate]:
    team_id = community.team_id
    offsets = dict(
        session.execute(
            select(Profile.user_id, Profile.tz_offset).where(
                Profile.team_id == team_id, Profile.user_id.in_([*ids, newcomer_id])
            )
        ).all()
    )
    teams = dict(
        session.execute(
            select(Member.user_id, Member.department).where(
                Member.community_id == community.id, Member.user_id.in_([*ids, newcomer_id])
            )
        ).all()
    )
    pairings = session.execute(
        select(
            Onboarding.mentor_id, Onboarding.welcomed_at, Onboarding.ended_at, Onboarding.newcomer_id
        ).where(Onboarding.team_id == team_id, Onboarding.mentor_id.in_(ids))
    ).all()
    mentees = dict.fromkeys(ids, 0)
    last = dict.fromkeys(ids, datetime.min.replace(tzinfo=UTC))
    for mentor_id, welcomed_at, ended_at, mentee in pairings:
        if mentor_id is None:
            continue  # the query asked for these mentors: never None
        last[mentor_id] = max(last[mentor_id], welcomed_at)
        if ended_at is None and mentee is not None and welcomed_at > at - MENTORING_PERIOD:
            mentees[mentor_id] += 1
    own_offset, own_team = offsets.get(newcomer_id), (teams.get(newcomer_id) or "").lower()

    def far(user_id: str) -> bool:
        other = offsets.get(user_id)
        if own_offset is None or other is None:
            return False  # an unknown time zone is no reason to pass someone over
        return abs(own_offset - other) > MAX_TZ_GAP.total_seconds()

    return [
        _Candidate(
            user_id=u,
            mentees=mentees[u],
            same_team=bool(own_team) and (teams.get(u) or "").lower() == own_team,
            last_paired=last[u],
            far=far(u),
        )
        for u in ids
    ]


def due_checkins(session: Session, *, at: datetime, limit: int = 200) -> list[Onboarding]:
    """Onboardings whose check-in is due at `at` and not yet sent."""
    return list(
        session.scalars(
            select(Onboarding)
            .join(Workspace, Workspace.team_id == Onboarding.team_id)
            .where(
                Workspace.uninstalled_at.is_(None),  # an uninstalled workspace's schedules rest
                Onboarding.checkin_sent_at.is_(None),
                Onboarding.checkin_due_at <= at,
                Onboarding.newcomer_id.is_not(None),
            )
            .order_by(Onboarding.checkin_due_at)
            .limit(limit)
        )
    )


def claim_checkin(session: Session, *, onboarding: Onboarding, at: datetime) -> bool:
    """Claim one check-in (once, whoever runs); False when another run claimed it."""
    claimed = affected(
        session.execute(
            update(Onboarding)
            .where(Onboarding.id == onboarding.id, Onboarding.checkin_sent_at.is_(None))
            .values(checkin_sent_at=at)
        )
    )
    return bool(claimed)


# --- anonymous questions ---------------------------------------------------------------------------


def check_question(text: str) -> str:
    """Validate a question's text; raise InvalidInput on the modal's field."""
    text = text.strip()
    if len(text) < QUESTION_MIN:
        raise InvalidInput({"text": f"Ask in at least {QUESTION_MIN} characters."})
    if len(text) > QUESTION_MAX:
        raise InvalidInput({"text": f"Keep the question under {QUESTION_MAX} characters."})
    return text


def draft_question(
    session: Session, *, team_id: str, channel_id: str, author: str, text: str, at: datetime
) -> Question:
    """Store a question not yet posted, after the rate limit; `author` is the keyed hash."""
    community = communities.require_community(session, team_id=team_id, channel_id=channel_id)
    text = check_question(text)
    limit = workspace_settings(session, team_id=team_id).ask_daily_limit
    asked = session.scalar(
        select(func.count()).where(
            Question.team_id == team_id,
            Question.author_hash == author,
            Question.created_at > at - timedelta(days=1),
            Question.status != QuestionStatus.DROPPED,
        )
    )
    if limit is not None and (asked or 0) >= limit:
        raise PermissionDenied(
            f"You have asked {limit} questions in the last 24 hours, the limit here. Try again tomorrow."
        )
    question = Question(
        team_id=team_id,
        community_id=community.id,
        author_hash=author,
        text=text,
        status=QuestionStatus.DRAFT,
        created_at=at,
    )
    session.add(question)
    session.flush()
    return question


def open_question(session: Session, *, question: Question) -> Community:
    """A drafted question becomes open (posted by `flows.publish_question`); return its community."""
    question.status = QuestionStatus.OPEN
    session.flush()
    return session.get_one(Community, question.community_id)


def question_key(question_id: int) -> str:
    """The outbox key of a question's channel post."""
    return f"people-question:{question_id}"


def asker_question(session: Session, *, team_id: str, question_id: int, author: str) -> Question:
    """Return a question, only to the person who asked it (by the keyed hash)."""
    question = session.get(Question, question_id)
    if question is None or question.team_id != team_id or question.status == QuestionStatus.DELETED:
        raise NotFound("That question is gone.")
    if question.author_hash is None or not hmac.compare_digest(question.author_hash, author):
        raise PermissionDenied("Only the person who asked this question can do that.")
    return question


def drop_draft(session: Session, *, team_id: str, question_id: int, author: str) -> None:
    """The asker stops at the matching reviews: the draft is not posted and its text is dropped."""
    question = asker_question(session, team_id=team_id, question_id=question_id, author=author)
    if question.status != QuestionStatus.DRAFT:
        raise InvalidInput({"question": "That question is already posted."})
    question.status, question.text = QuestionStatus.DROPPED, ""


def draft_to_post(session: Session, *, team_id: str, question_id: int, author: str) -> Question:
    """The asker's draft, which they chose to post anyway (refused once it is posted)."""
    question = asker_question(session, team_id=team_id, question_id=question_id, author=author)
    if question.status != QuestionStatus.DRAFT:
        raise InvalidInput({"question": "That question is already posted."})
    return question


def end_question(
    session: Session, *, team_id: str, question_id: int, author: str, delete_it: bool, at: datetime
) -> Question:
    """Close (answered) or delete a posted question; only its asker may (`flows` edits the post)."""
    question = asker_question(session, team_id=team_id, question_id=question_id, author=author)
    if question.status not in (QuestionStatus.OPEN, QuestionStatus.CLOSED):
        raise InvalidInput({"question": "That question was never posted."})
    if delete_it:
        question.status, question.text = QuestionStatus.DELETED, ""
    else:
        question.status = QuestionStatus.CLOSED
    question.closed_at = at
    session.flush()
    return question


def questions_for_export(session: Session, *, community_ids: list[int]) -> list[Question]:
    """Posted questions of these communities (never their author)."""
    return list(
        session.scalars(
            select(Question)
            .where(
                Question.community_id.in_(community_ids),
                Question.status.in_([QuestionStatus.OPEN, QuestionStatus.CLOSED]),
            )
            .order_by(Question.id)
        )
    )


# --- privacy: forget a person, retention -----------------------------------------------------------


def forget_person(session: Session, person: Person) -> Counts:
    """People's rows naming the person: profile gone, onboardings without them, questions unhashed.

    With `person.hash_key` (the anonymous-author key) their questions also lose their author hash.
    """
    team_id, user_id = person.team_id, person.user_id
    counts: dict[str, int] = {}
    mine = (Profile.team_id == team_id, Profile.user_id == user_id)
    counts["people_profiles"] = affected(session.execute(delete(Profile).where(*mine)))
    as_newcomer = (Onboarding.team_id == team_id, Onboarding.newcomer_id == user_id)
    as_mentor = (Onboarding.team_id == team_id, Onboarding.mentor_id == user_id)
    counts["people_onboardings"] = affected(
        session.execute(update(Onboarding).where(*as_newcomer).values(newcomer_id=None))
    ) + affected(session.execute(update(Onboarding).where(*as_mentor).values(mentor_id=None)))
    if person.hash_key is not None:
        hashed = author_hash(person.hash_key, team_id=team_id, user_id=user_id)
        asked = (Question.team_id == team_id, Question.author_hash == hashed)
        counts["people_questions"] = affected(
            session.execute(update(Question).where(*asked).values(author_hash=None))
        )
    return counts


def months_before(at: datetime, months: int) -> datetime:
    """The same day-of-month `months` earlier (clamped to the month's last day)."""
    year, month = divmod(at.year * 12 + at.month - 1 - months, 12)
    month += 1
    days = [
        31,
        29 if year % 4 == 0 and (year % 100 or year % 400 == 0) else 28,
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ]
    return at.replace(year=year, month=month, day=min(at.day, days[month - 1]))


def retention_cutoffs(session: Session, *, at: datetime) -> dict[str, datetime]:
    """Each workspace that set a retention, with the instant before which its raw records go."""
    retaining = session.scalars(select(PeopleSettings).where(PeopleSettings.retention_months.is_not(None)))
    return {s.team_id: months_before(at, s.retention_months) for s in retaining if s.retention_months}


def purge_before(session: Session, cutoff: datetime, team_id: str) -> int:
    """Retention: delete the workspace's onboardings and questions older than the cutoff."""
    onboardings = delete(Onboarding).where(Onboarding.team_id == team_id, Onboarding.welcomed_at < cutoff)
    questions = delete(Question).where(Question.team_id == team_id, Question.created_at < cutoff)
    return affected(session.execute(onboardings)) + affected(session.execute(questions))
