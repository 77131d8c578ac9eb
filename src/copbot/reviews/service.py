"""Rules about reviews, lessons, playbooks and adoption. Plain Python: no Slack code, the caller commits."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator
from sqlalchemy import String, cast, func, literal, select
from sqlalchemy.orm import Session

from copbot import lookups
from copbot.blockkit import link
from copbot.clock import now
from copbot.communities import service as communities
from copbot.communities.models import Community, Workspace
from copbot.db import dialect_insert, ensure_row
from copbot.errors import InvalidInput, NotFound, PermissionDenied
from copbot.recognition.models import Nomination
from copbot.reviews.models import (
    Adoption,
    Lesson,
    LessonStatus,
    Playbook,
    Review,
    ReviewClaim,
    ReviewOrigin,
    ReviewSettings,
    Template,
)
from copbot.rituals.models import Occurrence

TEXT_LIMIT = 3000  # Slack's plain_text_input maximum
TITLE_LIMIT = 150  # a header block's limit, where the title is shown
LESSON_LIMIT = 500
MAX_LESSONS = 20
MAX_TAGS = 10
TAG_LIMIT = 30
MAX_LINKS = 10
DEFAULT_EMOJI = "bulb"
DEFAULT_REVERIFY_DAYS = 90
DEFAULT_REMINDER_HOURS = 24
_USER_ID = re.compile(r"[UW][A-Z0-9]+")
_BULLET = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s+")


def _lines(text: str) -> list[str]:
    """Non-empty lines with list bullets removed."""
    return [_BULLET.sub("", line).strip() for line in text.splitlines() if _BULLET.sub("", line).strip()]


def _user_ids(values: Any) -> list[str]:
    """Keep only well-formed Slack user ids, without repeats, in order."""
    found: list[str] = []
    for value in values or []:
        if isinstance(value, str) and _USER_ID.fullmatch(value) and value not in found:
            found.append(value)
    return found


def _errors_from(exc: ValidationError, default: str) -> InvalidInput:
    errors: dict[str, str] = {}
    for error in exc.errors():
        field = str(error["loc"][0]) if error["loc"] else default
        errors.setdefault(field, error["msg"].removeprefix("Value error, "))
    return InvalidInput(errors)


class ReviewForm(BaseModel):
    """The review modal's input, validated (its field names are the errors' keys)."""

    model_config = ConfigDict(str_strip_whitespace=True)

    template: str
    title: str
    context: str
    expected: str = ""
    happened: str
    went_well: str = ""
    to_change: str = ""
    lessons: list[str]
    lesson_owner: str | None = None
    decisions: str = ""
    action_owners: list[str] = []
    coauthors: list[str] = []
    tags: list[str] = []
    links: list[str] = []
    related: list[int] = []

    @field_validator("template", mode="before")
    @classmethod
    def _template_known(cls, value: Any) -> str:
        if value not in {t.value for t in Template}:
            raise ValueError("Choose a template.")
        return str(value)

    @field_validator("title")
    @classmethod
    def _title_length(cls, value: str) -> str:
        if len(value) < 3:
            raise ValueError("Give the review a title of at least 3 characters.")
        if len(value) > TITLE_LIMIT:
            raise ValueError(f"Keep the title under {TITLE_LIMIT} characters.")
        return value

    @field_validator("context", "happened")
    @classmethod
    def _required_text(cls, value: str) -> str:
        if len(value) < 3:
            raise ValueError("This one is needed: a sentence or two is enough.")
        if len(value) > TEXT_LIMIT:
            raise ValueError(f"Keep this under {TEXT_LIMIT} characters.")
        return value

    @field_validator("expected", "went_well", "to_change", "decisions")
    @classmethod
    def _text_length(cls, value: str) -> str:
        if len(value) > TEXT_LIMIT:
            raise ValueError(f"Keep this under {TEXT_LIMIT} characters.")
        return value

    @field_validator("lessons", mode="before")
    @classmethod
    def _lessons(cls, value: Any) -> list[str]:
        text = value or ""
        if len(text) > TEXT_LIMIT:
            raise ValueError(f"Keep the lessons under {TEXT_LIMIT} characters in all.")
        lessons = _lines(text)
        if not lessons:
            raise ValueError("Write at least one lesson: what would you tell the next team?")
        if len(lessons) > MAX_LESSONS:
            raise ValueError(f"Keep it to {MAX_LESSONS} lessons, one per line.")
        if any(len(lesson) > LESSON_LIMIT for lesson in lessons):
            raise ValueError(f"Keep each lesson under {LESSON_LIMIT} characters.")
        return lessons

    @field_validator("lesson_owner", mode="before")
    @classmethod
    def _owner(cls, value: Any) -> str | None:
        owners = _user_ids([value])
        return owners[0] if owners else None

    @field_validator("action_owners", "coauthors", mode="before")
    @classmethod
    def _users(cls, value: Any) -> list[str]:
        return _user_ids(value)

    @field_validator("tags", mode="before")
    @classmethod
    def _tags(cls, value: Any) -> list[str]:
        if isinstance(value, list):
            return value
        tags: list[str] = []
        for raw in re.split(r"[,\n]", value or ""):
            tag = raw.strip().lstrip("#").strip().lower()
            if tag and tag not in tags:
                tags.append(tag)
        if len(tags) > MAX_TAGS:
            raise ValueError(f"Use at most {MAX_TAGS} tags.")
        if any(len(tag) > TAG_LIMIT for tag in tags):
            raise ValueError(f"Keep each tag under {TAG_LIMIT} characters.")
        return tags

    @field_validator("links", mode="before")
    @classmethod
    def _links(cls, value: Any) -> list[str]:
        if isinstance(value, list):
            return value
        if len(value or "") > TEXT_LIMIT:
            raise ValueError(f"Keep the links under {TEXT_LIMIT} characters in all.")
        urls = [line.strip() for line in (value or "").splitlines() if line.strip()]
        if len(urls) > MAX_LINKS:
            raise ValueError(f"Give at most {MAX_LINKS} links, one per line.")
        for url in urls:
            try:
                link(url, "")
            except ValueError:
                raise ValueError(f"Not a web link: {url[:80]} (one http(s) link per line).") from None
        return urls

    @field_validator("related", mode="before")
    @classmethod
    def _related(cls, value: Any) -> list[int]:
        return [int(v) for v in value or [] if str(v).isdigit()][:10]

    @classmethod
    def parse(cls, fields: dict[str, Any]) -> ReviewForm:
        """Validate raw modal input; raise InvalidInput naming each bad field's block."""
        cleaned = {k: ("" if v is None and k not in ("lesson_owner",) else v) for k, v in fields.items()}
        try:
            return cls.model_validate(cleaned)
        except ValidationError as exc:
            raise _errors_from(exc, "title") from None


class PlaybookForm(BaseModel):
    """The playbook modal's input, validated."""

    model_config = ConfigDict(str_strip_whitespace=True)

    playbook_title: str
    playbook_when: str
    playbook_steps: str

    @field_validator("playbook_title")
    @classmethod
    def _title(cls, value: str) -> str:
        if not 3 <= len(value) <= TITLE_LIMIT:
            raise ValueError(f"Give the playbook a title of 3 to {TITLE_LIMIT} characters.")
        return value

    @field_validator("playbook_when")
    @classmethod
    def _when(cls, value: str) -> str:
        if len(value) < 3:
            raise ValueError("Say when to use it: the situation that calls for this playbook.")
        if len(value) > TEXT_LIMIT:
            raise ValueError(f"Keep this under {TEXT_LIMIT} characters.")
        return value

    @field_validator("playbook_steps")
    @classmethod
    def _steps(cls, value: str) -> str:
        if not _lines(value):
            raise ValueError("List at least one step, one per line.")
        if len(value) > TEXT_LIMIT:
            raise ValueError(f"Keep the steps under {TEXT_LIMIT} characters.")
        return value

    @property
    def step_list(self) -> list[str]:
        """The steps, one per line, bullets removed."""
        return _lines(self.playbook_steps)

    @classmethod
    def parse(cls, fields: dict[str, Any]) -> PlaybookForm:
        """Validate raw modal input; raise InvalidInput naming each bad field's block."""
        try:
            return cls.model_validate({k: v or "" for k, v in fields.items()})
        except ValidationError as exc:
            raise _errors_from(exc, "playbook_title") from None


# --- settings --------------------------------------------------------------------------------------


lookups.watch(ReviewSettings)  # cached by the function below


def settings_for(session: Session, *, team_id: str, community_id: int) -> ReviewSettings:
    """The community's review settings, or the defaults (not stored) when it has none."""
    where = {"team_id": team_id, "community_id": community_id}
    found = lookups.cached(
        session, ReviewSettings, where, lambda: session.get(ReviewSettings, (team_id, community_id))
    )
    if found is not None:
        return found
    return ReviewSettings(
        team_id=team_id,
        community_id=community_id,
        capture_emoji=DEFAULT_EMOJI,
        reverify_days=DEFAULT_REVERIFY_DAYS,
        reminder_hours=DEFAULT_REMINDER_HOURS,
    )


def change_settings(
    session: Session, *, community: Community, user_id: str, changes: dict[str, str]
) -> ReviewSettings:
    """Let a lead set the capture emoji, re-verification days or reminder delay (hours)."""
    communities.require_lead(session, community=community, user_id=user_id, action="change review settings")
    defaults = settings_for(session, team_id=community.team_id, community_id=community.id)
    found = ensure_row(
        session,
        ReviewSettings,
        {"team_id": community.team_id, "community_id": community.id},
        capture_emoji=defaults.capture_emoji,
        reverify_days=defaults.reverify_days,
        reminder_hours=defaults.reminder_hours,
    )
    for name, raw in changes.items():
        if name == "emoji":
            emoji = raw.strip(":").lower()
            if not re.fullmatch(r"[a-z0-9_+\-']{1,100}", emoji):
                raise InvalidInput({"emoji": "Give an emoji name, e.g. `bulb` or `:bulb:`."})
            found.capture_emoji = emoji
        elif name in ("reverify", "reminder"):
            limit = 3650 if name == "reverify" else 24 * 30
            if not raw.isdigit() or not 1 <= int(raw) <= limit:
                raise InvalidInput({name: f"`{name}` takes a whole number from 1 to {limit}."})
            setattr(found, "reverify_days" if name == "reverify" else "reminder_hours", int(raw))
        else:
            raise InvalidInput({name: "Settings are `emoji=NAME`, `reverify=DAYS` and `reminder=HOURS`."})
    session.flush()
    return found


# --- reviews ---------------------------------------------------------------------------------------


def workspace_communities(session: Session, *, team_id: str) -> list[Community]:
    """The workspace's communities, by name (for the modal's community choice)."""
    return list(
        session.scalars(select(Community).where(Community.team_id == team_id).order_by(Community.name))
    )


def require_community_id(session: Session, *, team_id: str, community_id: Any) -> Community:
    """The community a modal named, in this workspace."""
    community = None
    if str(community_id or "").isdigit():
        community = session.get(Community, int(community_id))
    if community is None or community.team_id != team_id:
        raise InvalidInput({"community": "Choose the community this review belongs to."})
    return community


def get_review(session: Session, *, team_id: str, review_id: int) -> Review:
    """A review of this workspace, or NotFound."""
    review = session.get(Review, review_id)
    if review is None or review.team_id != team_id:
        raise NotFound("That review no longer exists.")
    return review


def _apply(review: Review, form: ReviewForm, *, related: list[int]) -> None:
    for name in ("template", "title", "context", "expected", "happened", "went_well", "to_change"):
        setattr(review, name, getattr(form, name))
    review.decisions = form.decisions
    review.action_owners, review.coauthors = form.action_owners, form.coauthors
    review.tags, review.links, review.related_ids = form.tags, form.links, related


def _existing_related(session: Session, *, team_id: str, ids: Sequence[int], own_id: int | None) -> list[int]:
    if not ids:
        return []
    found = set(session.scalars(select(Review.id).where(Review.team_id == team_id, Review.id.in_(ids))))
    return [i for i in ids if i in found and i != own_id]


def _sync_lessons(review: Review, texts: list[str], *, owner_id: str, at: datetime, days: int) -> None:
    """Replace the lessons with `texts`; a lesson whose text is unchanged keeps its owner and status."""
    kept = {lesson.text: lesson for lesson in review.lessons}
    lessons = []
    for position, text in enumerate(texts):
        lesson = kept.pop(text, None) or Lesson(
            team_id=review.team_id,
            text=text,
            owner_id=owner_id,
            status=LessonStatus.VERIFIED,
            verified_at=at,
            verify_due_at=at + timedelta(days=days),
        )
        lesson.position = position
        lessons.append(lesson)
    review.lessons = lessons
    review.lessons_text = "\n".join(texts)


def create_review(
    session: Session,
    *,
    team_id: str,
    user_id: str,
    community: Community,
    form: ReviewForm,
    occurrence_id: int | None = None,
    nomination_id: int | None = None,
) -> Review:
    """Store a new review with its lessons, each owned (the author unless set) and due for re-verification.

    It is linked to the session `occurrence_id` when that is one of the community's (a session deleted
    meanwhile, or an id that names none, leaves the review unlinked), and to the recognition
    `nomination_id` it was turned from, when that is one of the community's.
    """
    if occurrence_id is not None and not _community_session(session, community, occurrence_id):
        occurrence_id = None
    review = Review(
        team_id=team_id, community_id=community.id, author_id=user_id, occurrence_id=occurrence_id
    )
    _apply(review, form, related=_existing_related(session, team_id=team_id, ids=form.related, own_id=None))
    days = settings_for(session, team_id=team_id, community_id=community.id).reverify_days
    _sync_lessons(review, form.lessons, owner_id=form.lesson_owner or user_id, at=now(), days=days)
    session.add(review)
    session.flush()
    nomination = session.get(Nomination, nomination_id) if nomination_id is not None else None
    if nomination is not None and nomination.community_id == community.id:
        session.add(ReviewOrigin(review_id=review.id, team_id=team_id, nomination_id=nomination.id))
        session.flush()
    return review


def get_nomination(session: Session, *, team_id: str, nomination_id: int) -> Nomination:
    """A recognition of this workspace posted in its channel (its story is public), or NotFound."""
    nomination = session.get(Nomination, nomination_id)
    if nomination is None or nomination.team_id != team_id or not nomination.public:
        raise NotFound("That recognition no longer exists.")
    return nomination


def origin_of(session: Session, *, review: Review) -> Nomination | None:
    """The recognition a review was turned from, if any."""
    origin = session.get(ReviewOrigin, review.id)
    return session.get(Nomination, origin.nomination_id) if origin is not None else None


def _community_session(session: Session, community: Community, occurrence_id: int) -> bool:
    found = select(Occurrence.id).where(
        Occurrence.id == occurrence_id, Occurrence.community_id == community.id
    )
    return session.scalar(found) is not None


def require_editor(review: Review, *, user_id: str) -> None:
    """Refuse unless the user wrote the review (its author or a co-author)."""
    if user_id != review.author_id and user_id not in review.coauthors:
        raise PermissionDenied("Only the review's author or co-authors can edit it.")


def update_review(
    session: Session, *, team_id: str, user_id: str, review_id: int, form: ReviewForm
) -> Review:
    """Edit a review (its authors only); bumps its revision so the channel post is updated once per edit."""
    review = get_review(session, team_id=team_id, review_id=review_id)
    require_editor(review, user_id=user_id)
    _apply(
        review, form, related=_existing_related(session, team_id=team_id, ids=form.related, own_id=review.id)
    )
    days = settings_for(session, team_id=team_id, community_id=review.community_id).reverify_days
    _sync_lessons(review, form.lessons, owner_id=form.lesson_owner or review.author_id, at=now(), days=days)
    review.revision += 1
    session.flush()
    return review


def delete_review(session: Session, *, team_id: str, user_id: str, review_id: int) -> None:
    """Delete a review (its author only); the search index follows through its triggers."""
    review = get_review(session, team_id=team_id, review_id=review_id)
    if user_id != review.author_id:
        raise PermissionDenied("Only the review's author can delete it.")
    session.delete(review)
    session.flush()


TYPEAHEAD_MAX = 100  # characters of a type-ahead query that reach SQL


def find_reviews(session: Session, *, team_id: str, text: str, limit: int = 20) -> list[Review]:
    """Reviews whose title contains `text` (for the "related reviews" type-ahead), newest first."""
    escaped = text.strip()[:TYPEAHEAD_MAX].replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    query = select(Review).where(Review.team_id == team_id)
    if escaped:
        query = query.where(Review.title.ilike(f"%{escaped}%", escape="\\"))
    return list(session.scalars(query.order_by(Review.id.desc()).limit(limit)))


def reviews_by_id(session: Session, *, team_id: str, ids: Sequence[int]) -> dict[int, Review]:
    """The workspace's reviews among `ids`."""
    if not ids:
        return {}
    rows = session.scalars(select(Review).where(Review.team_id == team_id, Review.id.in_(list(ids))))
    return {review.id: review for review in rows}


# --- lessons ---------------------------------------------------------------------------------------


def lessons_due(session: Session, *, at: datetime, limit: int = 500) -> list[Lesson]:
    """Lessons past their re-verification date whose owner has not yet been asked about that date."""
    return list(
        session.scalars(
            select(Lesson)
            .join(Workspace, Workspace.team_id == Lesson.team_id)
            .where(Workspace.uninstalled_at.is_(None))  # an uninstalled workspace's schedules rest
            .where(Lesson.status != LessonStatus.RETIRED.value, Lesson.verify_due_at <= at)
            .where(Lesson.owner_id != "")  # a forgotten owner is asked nothing
            .where((Lesson.reminded_for.is_(None)) | (Lesson.reminded_for != Lesson.verify_due_at))
            .order_by(Lesson.verify_due_at, Lesson.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    )


def get_lesson(session: Session, *, team_id: str, lesson_id: int, user_id: str) -> Lesson:
    """A lesson the user owns (or wrote the review of)."""
    lesson = session.get(Lesson, lesson_id)
    if lesson is None or lesson.team_id != team_id:
        raise NotFound("That lesson no longer exists.")
    if user_id not in (lesson.owner_id, lesson.review.author_id):
        raise PermissionDenied(f"Only the lesson's owner can do that. It belongs to <@{lesson.owner_id}>.")
    return lesson


def _reverify(session: Session, lesson: Lesson, at: datetime) -> None:
    days = settings_for(
        session, team_id=lesson.team_id, community_id=lesson.review.community_id
    ).reverify_days
    lesson.status, lesson.verified_at = LessonStatus.VERIFIED, at
    lesson.verify_due_at = at + timedelta(days=days)


def verify_lesson(session: Session, *, team_id: str, lesson_id: int, user_id: str) -> Lesson:
    """The owner says the lesson still holds: verified now, due again after the community's period."""
    lesson = get_lesson(session, team_id=team_id, lesson_id=lesson_id, user_id=user_id)
    _reverify(session, lesson, now())
    session.flush()
    return lesson


def rewrite_lesson(session: Session, *, team_id: str, lesson_id: int, user_id: str, text: str) -> Lesson:
    """The owner updates the lesson's wording: verified now, and the review's search text follows."""
    text = " ".join(text.split())
    if not 3 <= len(text) <= LESSON_LIMIT:
        raise InvalidInput({"lesson_text": f"Write the lesson in 3 to {LESSON_LIMIT} characters."})
    lesson = get_lesson(session, team_id=team_id, lesson_id=lesson_id, user_id=user_id)
    lesson.text = text
    _reverify(session, lesson, now())
    review = lesson.review
    review.lessons_text = "\n".join(item.text for item in review.lessons)
    session.flush()
    return lesson


def retire_lesson(session: Session, *, team_id: str, lesson_id: int, user_id: str) -> Lesson:
    """The owner says the lesson no longer holds; search shows it as retired."""
    lesson = get_lesson(session, team_id=team_id, lesson_id=lesson_id, user_id=user_id)
    lesson.status = LessonStatus.RETIRED
    session.flush()
    return lesson


# --- playbooks and adoption ------------------------------------------------------------------------


def create_playbook(
    session: Session,
    *,
    team_id: str,
    user_id: str,
    community: Community,
    form: PlaybookForm,
    source_review_id: int | None = None,
) -> Playbook:
    """Store a playbook, optionally promoted from a review of the same workspace."""
    if source_review_id is not None:
        get_review(session, team_id=team_id, review_id=source_review_id)
    playbook = Playbook(
        team_id=team_id,
        community_id=community.id,
        author_id=user_id,
        title=form.playbook_title,
        when_to_use=form.playbook_when,
        steps="\n".join(form.step_list),
        source_review_id=source_review_id,
    )
    session.add(playbook)
    session.flush()
    return playbook


def get_playbook(session: Session, *, team_id: str, playbook_id: int) -> Playbook:
    """A playbook of this workspace, or NotFound."""
    playbook = session.get(Playbook, playbook_id)
    if playbook is None or playbook.team_id != team_id:
        raise NotFound("That playbook no longer exists.")
    return playbook


def list_playbooks(session: Session, *, community: Community, limit: int = 20) -> list[tuple[Playbook, int]]:
    """The community's playbooks, newest first, each with how many members applied it."""
    playbooks = list(
        session.scalars(
            select(Playbook)
            .where(Playbook.team_id == community.team_id, Playbook.community_id == community.id)
            .order_by(Playbook.id.desc())
            .limit(limit)
        )
    )
    counts = adoption_counts(
        session, team_id=community.team_id, kind="playbook", ids=[p.id for p in playbooks]
    )
    return [(p, counts.get(p.id, 0)) for p in playbooks]


def adopt(
    session: Session,
    *,
    team_id: str,
    user_id: str,
    kind: str,
    item_id: int,
    source_community_id: int,
    adopter_community_id: int,
) -> bool:
    """Record that a member applied a review or playbook (see `spread`); False when they already had."""
    values = {
        "team_id": team_id,
        "item_kind": kind,
        "item_id": item_id,
        "user_id": user_id,
        "source_community_id": source_community_id,
        "adopter_community_id": adopter_community_id,
        "created_at": now(),
    }
    return _insert_once(session, Adoption, values, ["team_id", "item_kind", "item_id", "user_id"])


def adoption_counts(session: Session, *, team_id: str, kind: str, ids: Sequence[int]) -> dict[int, int]:
    """How many members applied each item."""
    if not ids:
        return {}
    rows = session.execute(
        select(Adoption.item_id, func.count())
        .where(Adoption.team_id == team_id, Adoption.item_kind == kind, Adoption.item_id.in_(list(ids)))
        .group_by(Adoption.item_id)
    )
    return {item_id: count for item_id, count in rows}


# --- one-time claims -------------------------------------------------------------------------------


def _insert_once(
    session: Session, model: type[Adoption] | type[ReviewClaim], values: dict[str, Any], unique: list[str]
) -> bool:
    insert = dialect_insert(session)
    statement = insert(model).values(**values).on_conflict_do_nothing(index_elements=unique)
    return session.execute(statement.returning(model.id)).scalar() is not None


def claim(session: Session, *, team_id: str, key: str, data: dict[str, Any] | None = None) -> bool:
    """Take a one-time key (a reaction's DM, a session's reminder); False when it was already taken."""
    values = {"team_id": team_id, "key": key, "data": data or {}, "created_at": now()}
    return _insert_once(session, ReviewClaim, values, ["team_id", "key"])


@dataclass(frozen=True)
class Capture:
    """A message someone flagged with the capture emoji: its author gets one DM."""

    community: Community
    author_id: str
    channel_id: str
    message_ts: str


def capture_by_reaction(
    session: Session, *, team_id: str, channel_id: str, message_ts: str, emoji: str, author_id: str | None
) -> Capture | None:
    """Claim a message flagged with its community's capture emoji; None when not one or already claimed."""
    community = communities.community_for_channel(session, team_id=team_id, channel_id=channel_id)
    if community is None or not author_id:
        return None
    wanted = settings_for(session, team_id=team_id, community_id=community.id).capture_emoji
    if emoji.split("::")[0] != wanted:  # `thumbsup::skin-tone-2` counts as `thumbsup`
        return None
    if not claim(
        session, team_id=team_id, key=f"reaction:{channel_id}:{message_ts}", data={"author": author_id}
    ):
        return None
    return Capture(community=community, author_id=author_id, channel_id=channel_id, message_ts=message_ts)


# --- session review reminders ----------------------------------------------------------------------

REMINDER_WINDOW = timedelta(days=14)  # sessions that ended longer ago than this are not chased


@dataclass(frozen=True)
class SessionReminder:
    """A session with no review after its community's delay: its facilitator gets one DM."""

    occurrence_id: int
    facilitator_id: str
    community: Community


def sessions_to_remind(session: Session, *, at: datetime) -> list[SessionReminder]:
    """Claim every ended session with no linked review after its community's delay; each only once."""
    reviewed = select(Review.id).where(Review.occurrence_id == Occurrence.id).exists()
    claimed = (
        select(ReviewClaim.id)
        .where(ReviewClaim.team_id == Occurrence.team_id)
        .where(ReviewClaim.key == literal("session-reminder:") + cast(Occurrence.id, String))
        .exists()
    )
    rows = session.execute(
        select(Occurrence, Community)
        .join(Community, Community.id == Occurrence.community_id)
        .join(Workspace, Workspace.team_id == Community.team_id)
        .where(Workspace.uninstalled_at.is_(None))
        .where(Occurrence.kind == "session", Occurrence.facilitator_id.is_not(None))
        .where(Occurrence.ends_at <= at, Occurrence.ends_at > at - REMINDER_WINDOW)
        .where(~reviewed, ~claimed)
        .order_by(Occurrence.ends_at)
        .limit(500)
    )
    due = []
    for occurrence, community in rows:
        hours = settings_for(session, team_id=community.team_id, community_id=community.id).reminder_hours
        ended, facilitator = occurrence.ends_at, occurrence.facilitator_id
        if ended is None or facilitator is None or ended + timedelta(hours=hours) > at:
            continue  # the query asked for both; the checks are for the type checker
        if claim(session, team_id=community.team_id, key=f"session-reminder:{occurrence.id}"):
            due.append(SessionReminder(occurrence.id, facilitator, community))
    return due
