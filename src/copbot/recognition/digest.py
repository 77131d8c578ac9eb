"""The weekly recognition digest: what a week held (gathered from the database) and how it reads.

Each part of the digest is computed by a small function; parts that read other features' tables live
in `copbot.recognition.learning` and are listed in EXTRA_SECTIONS.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from copbot.blockkit import Message, escape, mention, message, plain, plural, section, truncate
from copbot.communities.models import Community, Member
from copbot.recognition import cosigns, service
from copbot.recognition.blocks import story_text
from copbot.recognition.models import Nomination

WEEK = timedelta(days=7)
MAX_PER_VALUE = 8  # stories shown in full per value; the rest are counted


@dataclass
class Section:
    """One extra part of the digest (new reviews, next rituals, ...): a title and mrkdwn lines."""

    title: str
    lines: list[str]


@dataclass
class DigestData:
    """Everything one week's digest says."""

    community: Community
    start: datetime
    end: datetime
    by_value: dict[str, list[Nomination]] = field(default_factory=dict)  # the stories shown
    value_counts: dict[str, int] = field(default_factory=dict)  # every public nomination, by value
    milestones: list[str] = field(default_factory=list)
    first_kinds: dict[str, str] = field(default_factory=dict)  # user id -> kind of their first contribution
    sections: list[Section] = field(default_factory=list)
    after: list[Section] = field(default_factory=list)  # shown after milestones, even in a quiet week
    cosigns: dict[int, int] = field(default_factory=dict)  # nomination id -> people who co-signed its post

    @property
    def nomination_count(self) -> int:
        """How many public nominations the week had."""
        return sum(self.value_counts.values())

    @property
    def quiet(self) -> bool:
        """True when the week has nothing to celebrate."""
        return not (self.by_value or self.milestones or any(s.lines for s in self.sections))


Gatherer = Callable[[Session, DigestData], None]


def group_by_value(session: Session, data: DigestData) -> None:
    """The week's public nominations by value: every count, and the first few stories of each value."""
    window = (
        Nomination.community_id == data.community.id,
        Nomination.created_at >= data.start,
        Nomination.created_at < data.end,
        Nomination.public.is_(True),
    )
    counts = session.execute(select(Nomination.value, func.count()).where(*window).group_by(Nomination.value))
    data.value_counts = {value: count for value, count in counts}
    # Rank within each value in SQL, so a busy week loads only the stories the message can show.
    ranked = (
        select(
            Nomination.id,
            func.row_number()
            .over(partition_by=Nomination.value, order_by=(Nomination.created_at, Nomination.id))
            .label("rank"),
        )
        .where(*window)
        .subquery()
    )
    shown = session.scalars(
        select(Nomination)
        .join(ranked, ranked.c.id == Nomination.id)
        .where(ranked.c.rank <= MAX_PER_VALUE)
        .options(selectinload(Nomination.nominees))
        .order_by(Nomination.created_at, Nomination.id)
    )
    by_value: dict[str, list[Nomination]] = {}
    for nomination in shown:
        by_value.setdefault(nomination.value, []).append(nomination)
    data.cosigns = cosigns.counts(session, ids=[n.id for stories in by_value.values() for n in stories])
    rank = {v: i for i, v in enumerate(service.settings_for(session, community=data.community).values)}
    data.by_value = dict(sorted(by_value.items(), key=lambda kv: (rank.get(kv[0], len(rank)), kv[0])))


def first_years(session: Session, data: DigestData) -> None:
    """Milestone: members who joined a year ago this week."""
    joined = session.scalars(
        select(Member.user_id)
        .where(
            Member.community_id == data.community.id,
            Member.left_at.is_(None),
            Member.joined_at >= _year_before(data.start),
            Member.joined_at < _year_before(data.end),
        )
        .order_by(Member.user_id)
    )
    for user_id in joined:
        data.milestones.append(f":birthday: {mention(user_id)} has been a member for a year")


def _year_before(at: datetime) -> datetime:
    try:
        return at.replace(year=at.year - 1)
    except ValueError:  # 29 February
        return at.replace(year=at.year - 1, day=28)


def gatherers() -> list[Gatherer]:
    """Every part of the digest, in the order they are computed."""
    from copbot.recognition import learning

    return [group_by_value, learning.first_contributions, first_years, *learning.EXTRA_SECTIONS]


def gather(session: Session, *, community: Community, end: datetime) -> DigestData:
    """Compute the digest of the week ending at `end` (the digest's instant)."""
    data = DigestData(community=community, start=end - WEEK, end=end)
    for part in gatherers():
        part(session, data)
    return data


# --- how it reads ----------------------------------------------------------------------------------


def _nomination_line(nomination: Nomination, cosigned: int = 0) -> str:
    who = ", ".join(mention(u) for u in nomination.nominee_ids)
    by = f" (from {mention(nomination.nominator_id)})" if nomination.nominator_id else ""
    plus = f" · +{cosigned} co-signed" if cosigned else ""
    return f"• {who}{by}{plus}\n{story_text(nomination, width=300)}"


def _value_block(
    value: str, nominations: list[Nomination], total: int, cosigned: dict[int, int]
) -> dict[str, Any]:
    lines = [f"*{escape(value)}* ({total})"]
    lines += [_nomination_line(n, cosigned.get(n.id, 0)) for n in nominations[:MAX_PER_VALUE]]
    if total > len(nominations[:MAX_PER_VALUE]):
        lines.append(f"_…and {total - len(nominations[:MAX_PER_VALUE])} more._")
    text = "\n".join(lines)
    # Cut whole stories, never half a mention: drop lines until it fits.
    while len(text) > 3000 and len(lines) > 2:
        lines.pop(-2 if lines[-1].startswith("_") else -1)
        text = "\n".join(lines) + "\n_…more in the channel._"
    return section(text)


def _extra_blocks(sections: list[Section]) -> list[dict[str, Any]]:
    return [section(f"*{escape(s.title)}*\n" + "\n".join(s.lines)) for s in sections if s.lines]


def digest_message(data: DigestData) -> Message:
    """The channel post of the weekly digest (or the short nudge of a quiet week)."""
    name = data.community.name
    if data.quiet:
        nudge = [
            section(
                f":seedling: A quiet week in *{escape(name)}*. Who helped you lately? "
                "`/nominate @someone` takes a minute, and a lesson you learnt is worth `/postmortem`."
            ),
            *_extra_blocks(data.after),
        ]
        return message(f"A quiet week in {escape(name)}", nudge)
    count = data.nomination_count
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": plain(truncate(f"This week in {name}", 150))},
        section(f":sparkles: {plural(count, 'recognition')} this week."),
    ]
    # Keep room for the extra sections within Slack's 50 blocks.
    for value, nominations in list(data.by_value.items())[:30]:
        total = data.value_counts.get(value, len(nominations))
        blocks.append(_value_block(value, nominations, total, data.cosigns))
    blocks += _extra_blocks(data.sections)
    if data.milestones:
        blocks.append(section("*Milestones*\n" + "\n".join(data.milestones[:30])))
    blocks += _extra_blocks(data.after)
    blocks.append(
        {"type": "context", "elements": [{"type": "mrkdwn", "text": "Recognise someone with `/nominate`."}]}
    )
    return message(f"This week in {escape(name)}", blocks[:50])
