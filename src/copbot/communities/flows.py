"""The communities feature's use cases: `(session, input) -> outcome`, calling the service for the rules,
rendering with the blocks and owing the outbox messages, in the caller's transaction."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from copbot.blockkit import Message
from copbot.communities import blocks, service
from copbot.communities.models import Community
from copbot.communities.setup import SetupExtension, SetupExtensions
from copbot.outbox import service as outbox


@dataclass(frozen=True)
class Setup:
    """A validated set-up modal: the community's form and each feature's parsed fields."""

    team_id: str
    channel_id: str
    user_id: str
    form: service.CommunityForm
    extra: list[tuple[SetupExtension, Any]]


def save_setup(session: Session, setup: Setup) -> tuple[Community, bool]:
    """Store the community and every feature's set-up fields; a new community owes its announcement.

    Returns the community and whether it was created.
    """
    community, created = service.save_community(
        session, team_id=setup.team_id, channel_id=setup.channel_id, user_id=setup.user_id, form=setup.form
    )
    SetupExtensions.save(session, community, setup.user_id, setup.extra)
    if created:
        message = blocks.announcement(community, lead_id=setup.user_id)
        key = f"community-opened:{community.id}"
        outbox.post(session, team_id=setup.team_id, channel_id=setup.channel_id, key=key, message=message)
    return community, created


def dm_leads(session: Session, *, community: Community, key: str, message: Message) -> list[str]:
    """Owe the same DM to each lead of the community (outbox key `{key}:{lead}`); the leads told."""
    leads = service.leads(session, community=community)
    for lead in leads:
        outbox.direct_message(
            session, team_id=community.team_id, user_id=lead, key=f"{key}:{lead}", message=message
        )
    return leads
