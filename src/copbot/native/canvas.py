"""The living canvas: copbot's own sections of the channel canvas, gathered from the rows and rendered.

Each section starts with an h2 whose text ends in MARK, so copbot finds (canvases.sections.lookup) and
replaces only its own sections; whatever people wrote under their own headings is never touched.
Rendering is pure (data in, markdown out); gathering reads the database.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from copbot.communities.models import Community
from copbot.reviews.models import Adoption, Lesson, LessonStatus, Playbook, Review
from copbot.rituals import service as rituals
from copbot.rituals import timing
from copbot.rituals.models import OccurrenceKind

MARK = " · copbot"
CHARTER, RITUALS, PLAYBOOKS, LESSONS = (
    f"{title}{MARK}" for title in ("Charter", "Next rituals", "Most applied playbooks", "Latest lessons")
)
KIND_NAMES = {
    OccurrenceKind.SESSION: "Session",
    OccurrenceKind.KICKOFF: "Kickoff",
    OccurrenceKind.MIDPOINT: "Mid-point reflection",
    OccurrenceKind.FINALE: "Finale demonstrations",
}
TOP = 5


@dataclass(frozen=True)
class Ritual:
    """One coming ritual as the canvas lists it."""

    when: str  # local, already formatted
    title: str
    kind: str
    facilitator: str | None


@dataclass(frozen=True)
class CanvasData:
    """What copbot's sections show."""

    community: Community
    rituals: Sequence[Ritual]
    playbooks: Sequence[tuple[str, int]]  # title, times applied
    lessons: Sequence[tuple[str, str]]  # lesson, review title


@dataclass(frozen=True)
class Section:
    """One of copbot's sections: its h2 heading (with MARK) and the markdown under it."""

    heading: str
    body: str

    @property
    def markdown(self) -> str:
        """The section as canvas markdown."""
        return f"## {self.heading}\n{self.body}\n"


# --- rendering (pure) ------------------------------------------------------------------------------


def _line(text: str, limit: int = 300) -> str:
    """User text on one line, unable to start a heading, quote or list of its own."""
    flat = " ".join(text.split())
    flat = re.sub(r"^[#>*\-+\d.\s]+", "", flat)
    return flat[: limit - 1] + "…" if len(flat) > limit else flat


def sections(data: CanvasData) -> list[Section]:
    """copbot's four sections, in order."""
    community = data.community
    charter = [f"**Purpose:** {_line(community.purpose)}"]
    for label, text in (
        ("Learning goals", community.learning_goals),
        ("Boundaries", community.boundaries),
        ("Norms", community.norms),
    ):
        if text.strip():
            charter.append(f"**{label}:** {_line(text)}")
    rituals_lines = [
        f"- {r.when} · {_line(r.title, 120)} ({r.kind})"
        + (f" · facilitated by ![](@{r.facilitator})" if r.facilitator else " · facilitator to be found")
        for r in data.rituals
    ] or ["Nothing scheduled yet: a lead plans rituals with `/cop schedule`."]
    playbook_lines = [
        f"- {_line(title, 150)} · applied {count} time{'s' if count != 1 else ''}"
        for title, count in data.playbooks
    ] or ["No playbooks yet: `/cop playbook new` starts one."]
    lesson_lines = [
        f"- {_line(lesson)} _(from “{_line(title, 120)}”)_" for lesson, title in data.lessons
    ] or ["No lessons yet: `/postmortem` captures the first."]
    return [
        Section(CHARTER, "\n".join(charter)),
        Section(RITUALS, "\n".join(rituals_lines)),
        Section(PLAYBOOKS, "\n".join(playbook_lines)),
        Section(LESSONS, "\n".join(lesson_lines)),
    ]


def document(parts: Sequence[Section]) -> str:
    """The sections as one markdown document (for a new canvas)."""
    return "\n".join(part.markdown for part in parts)


def digest(parts: Sequence[Section]) -> str:
    """A fingerprint of the sections: a canvas is edited only when it changes."""
    return hashlib.sha256(document(parts).encode()).hexdigest()


# --- gathering -------------------------------------------------------------------------------------


def gather(session: Session, *, community: Community, at: datetime) -> CanvasData:
    """Read what copbot's sections show now."""
    coming = [
        Ritual(
            when=timing.local_text(o.starts_at, community.timezone),
            title=title,
            kind=KIND_NAMES.get(OccurrenceKind(o.kind), o.kind),
            facilitator=o.facilitator_id,
        )
        for o, title in rituals.upcoming(session, community_id=community.id, after=at, limit=3)
    ]
    applied = func.count(Adoption.id)
    playbooks = session.execute(
        select(Playbook.title, applied)
        .join(Adoption, (Adoption.item_id == Playbook.id) & (Adoption.item_kind == "playbook"))
        .where(Playbook.team_id == community.team_id, Playbook.community_id == community.id)
        .group_by(Playbook.id, Playbook.title)
        .order_by(applied.desc(), Playbook.id.desc())
        .limit(TOP)
    ).all()
    lessons = session.execute(
        select(Lesson.text, Review.title)
        .join(Review, Review.id == Lesson.review_id)
        .where(
            Review.team_id == community.team_id,
            Review.community_id == community.id,
            Lesson.status != LessonStatus.RETIRED,
        )
        .order_by(Review.id.desc(), Lesson.position)
        .limit(TOP)
    ).all()
    return CanvasData(
        community=community,
        rituals=coming,
        playbooks=[(t, n) for t, n in playbooks],
        lessons=[(text, title) for text, title in lessons],
    )


def state(session: Session, *, community: Community, at: datetime) -> dict[str, object]:
    """copbot's sections as the outbox carries them to the canvas syncer, with their fingerprint."""
    parts = sections(gather(session, community=community, at=at))
    return {"sections": [[part.heading, part.body] for part in parts], "hash": digest(parts)}
