"""Use cases of "does it stick?": owe the adopters' check-in DMs, record their answers. In the caller's
transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from copbot.blockkit import Message
from copbot.communities.models import Community
from copbot.outbox import service as outbox
from copbot.reviews import checkin_blocks, checkins


def owe_checkins(session: Session, *, at: datetime) -> int:
    """Owe each adopter one DM per stage that fell due (once-only: the check-in row is claimed first)."""
    owed = 0
    for stage in checkins.STAGES:
        for adoption in checkins.due(session, at=at, stage=stage):
            item = checkins.item_of(session, adoption)
            checkin = checkins.claim(session, adoption=adoption, stage=stage) if item else None
            if item is None or checkin is None:
                continue
            message = checkin_blocks.checkin_message(
                checkin_id=checkin.id,
                title=item.title,
                stage=stage,
                source=session.get(Community, item.community_id),
            )
            key = f"adoption-checkin:{adoption.id}:{stage}"
            outbox.direct_message(
                session, team_id=adoption.team_id, user_id=adoption.user_id, key=key, message=message
            )
            owed += 1
    return owed


@dataclass(frozen=True)
class CheckinReply:
    """A click on Yes / No / Stopped in a check-in DM."""

    team_id: str
    user_id: str
    checkin_id: int
    answer: str
    at: datetime


def answer(session: Session, reply: CheckinReply) -> Message:
    """Record the answer (flagging the practice when nobody still uses it); return the DM's replacement."""
    answered = checkins.answer(
        session,
        team_id=reply.team_id,
        checkin_id=reply.checkin_id,
        user_id=reply.user_id,
        value=reply.answer,
        at=reply.at,
    )
    item = answered.item
    return checkin_blocks.checkin_answered(
        title=item.title if item else "a practice",
        stage=answered.checkin.stage,
        source=session.get(Community, item.community_id) if item else None,
        answer=reply.answer,
    )
