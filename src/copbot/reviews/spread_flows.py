"""Use cases of practices that spread: "We applied this" across communities, and the similar items
offered to a review's author. `(session, input) -> outcome`, in the caller's transaction."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from copbot.communities.models import Community
from copbot.outbox import service as outbox
from copbot.reviews import flows, search, similar, spread, spread_blocks
from copbot.reviews.models import Playbook, Review


@dataclass(frozen=True)
class Application:
    """A click on "We applied this" (where it was clicked), or the community chosen after it."""

    team_id: str
    user_id: str
    kind: str
    item_id: int
    channel_id: str | None = None
    community_id: int | None = None  # chosen in the "which community?" modal
    domain: str | None = None


@dataclass(frozen=True)
class Applied:
    """What came of it: recorded (False when already known), or several communities to choose from."""

    recorded: bool
    title: str = ""
    community: Community | None = None  # the adopter's community when another than the item's
    choices: list[Community] = field(default_factory=list)


def apply(session: Session, application: Application) -> Applied:
    """Record "we applied this" for the adopter's community, or say which communities to ask about;
    owe the post's new count and, across communities, the authors' DM."""
    team_id = application.team_id
    item = spread.item_of(session, team_id=team_id, kind=application.kind, item_id=application.item_id)
    adopter_id = application.community_id
    if adopter_id is None:
        choices = spread.adopter_choices(
            session,
            team_id=team_id,
            user_id=application.user_id,
            source_community_id=item.community_id,
            channel_id=application.channel_id,
        )
        if len(choices) > 1:
            return Applied(recorded=False, title=item.title, choices=choices)
        adopter_id = choices[0].id if choices else None
    recorded = spread.adopt(
        session, team_id=team_id, user_id=application.user_id, item=item, adopter_community_id=adopter_id
    )
    if not recorded:
        return Applied(recorded=False, title=item.title)
    _owe_post_update(session, application, item)
    if adopter_id is None or adopter_id == item.community_id:
        return Applied(recorded=True, title=item.title)
    community = session.get_one(Community, adopter_id)
    _tell_authors(session, application, item, community)
    return Applied(recorded=True, title=item.title, community=community)


def _owe_post_update(session: Session, application: Application, item: Review | Playbook) -> None:
    if isinstance(item, Review):
        message = flows.review_post(session, item)
    else:
        message = flows.playbook_post(session, item, domain=application.domain)
    kind, item_id = application.kind, application.item_id
    key = f"{kind}:{item_id}:applied-by:{application.user_id}"
    outbox.update(
        session, team_id=item.team_id, key=key, of_key=search.post_key(kind, item_id), message=message
    )


def _tell_authors(
    session: Session, application: Application, item: Review | Playbook, community: Community
) -> None:
    """Owe each author (but the adopter) one DM per adoption elsewhere."""
    kind = application.kind
    count = spread.adopting_communities(session, team_id=item.team_id, kind=kind, item_id=item.id)
    url = search.post_link(
        session, team_id=item.team_id, kind=kind, item_id=item.id, domain=application.domain
    )
    message = spread_blocks.applied_elsewhere_message(
        item, adopter=application.user_id, community=community, communities=count, url=url
    )
    for author in spread.authors_of(item):
        if author == application.user_id:
            continue
        key = f"applied-elsewhere:{kind}:{item.id}:{application.user_id}:{author}"
        outbox.direct_message(session, team_id=item.team_id, user_id=author, key=key, message=message)


def offer_similar(session: Session, review: Review, *, domain: str | None = None) -> int:
    """Owe a new review's author a DM with the three most similar items of other communities (none
    when nothing matches); return how many were offered."""
    hits = similar.similar_items(
        session, team_id=review.team_id, community_id=review.community_id, body=similar.review_text(review)
    )
    if not hits:
        return 0
    found = similar.found(session, team_id=review.team_id, hits=hits, domain=domain)
    message = spread_blocks.similar_message(review, found)
    key = f"similar:{review.id}"
    outbox.direct_message(session, team_id=review.team_id, user_id=review.author_id, key=key, message=message)
    return len(found)
