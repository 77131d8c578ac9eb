"""The digest celebrates practices that travelled: the community's reviews and playbooks applied by
another community this week, and the milestones of one practice reaching 1, 3 and 10 other communities.

Reads reviews' adoptions (see `copbot.reviews.spread`), like `learning` reads the library.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import distinct, func, select
from sqlalchemy.orm import Session

from copbot.blockkit import channel_link, escape, truncate
from copbot.communities.models import Community
from copbot.reviews.models import Adoption, Playbook, Review
from copbot.reviews.spread import MILESTONES

if TYPE_CHECKING:
    from copbot.recognition.digest import DigestData

LISTED = 5


def _item(session: Session, kind: str, item_id: int) -> Review | Playbook | None:
    return session.get(Review, item_id) if kind == "review" else session.get(Playbook, item_id)


def _adopting(session: Session, data: DigestData, kind: str, item_id: int, *, before: bool) -> int:
    """How many other communities had applied the item before the week, or by its end."""
    edge = Adoption.created_at < (data.start if before else data.end)
    count = session.scalar(
        select(func.count(distinct(Adoption.adopter_community_id))).where(
            Adoption.team_id == data.community.team_id,
            Adoption.item_kind == kind,
            Adoption.item_id == item_id,
            Adoption.adopter_community_id != Adoption.source_community_id,
            edge,
        )
    )
    return int(count or 0)


def practices_travelled(session: Session, data: DigestData) -> None:
    """The week's adoptions of this community's practices by other communities, and their milestones."""
    from copbot.recognition.digest import Section

    community = data.community
    rows = session.execute(
        select(Adoption.item_kind, Adoption.item_id, Adoption.adopter_community_id)
        .where(
            Adoption.team_id == community.team_id,
            Adoption.source_community_id == community.id,
            Adoption.adopter_community_id != Adoption.source_community_id,
            Adoption.created_at >= data.start,
            Adoption.created_at < data.end,
        )
        .distinct()
        .order_by(Adoption.item_kind, Adoption.item_id, Adoption.adopter_community_id)
    ).all()
    places: dict[tuple[str, int], list[int]] = {}
    for kind, item_id, adopter in rows:
        if adopter is not None:
            places.setdefault((kind, item_id), []).append(adopter)
    channels = {
        c.id: c.channel_id
        for c in session.scalars(select(Community).where(Community.id.in_({r[2] for r in rows})))
    }
    lines = []
    for (kind, item_id), adopters in list(places.items())[:LISTED]:
        item = _item(session, kind, item_id)
        if item is None:
            continue
        title = escape(truncate(item.title, 150))
        where = ", ".join(channel_link(channels[a]) for a in adopters if a in channels)
        lines.append(f":airplane: *{title}* was applied in {where}")
        before, after = (_adopting(session, data, kind, item_id, before=b) for b in (True, False))
        for milestone in (m for m in MILESTONES if before < m <= after):
            reach = "another community" if milestone == 1 else f"{milestone} other communities"
            data.milestones.append(f":earth_africa: *{title}* has been applied by {reach}")
    if lines:
        data.sections.append(Section("Practices that travelled", lines))
