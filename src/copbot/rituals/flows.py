"""Rituals' flows: each post, edit and DM rituals owe Slack, rendered from the rows and put in the outbox.

Shared by the scheduled job and the button listeners, so a post and its later edits read the same.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime

from sqlalchemy.orm import Session

from copbot.blockkit import Message
from copbot.clock import now
from copbot.communities import flows as community_flows
from copbot.communities.models import Community
from copbot.errors import NotFound
from copbot.outbox import service as outbox
from copbot.outbox.models import Kind, OutboxMessage
from copbot.rituals import blocks, facilitators, service
from copbot.rituals.models import FacilitatorAsk, Occurrence, OccurrenceKind, RitualSchedule, Stage

log = logging.getLogger(__name__)


def post_key(occurrence: Occurrence) -> str:
    """The outbox key of an occurrence's channel post."""
    return f"ritual:{occurrence.id}:post"


def ask_key(ask: FacilitatorAsk) -> str:
    """The outbox key of a facilitator request DM."""
    return f"ritual:ask:{ask.id}"


def message_for(session: Session, occurrence: Occurrence) -> Message:
    """The channel post of an occurrence as it should read now."""
    community, schedule = service.context(session, occurrence)
    return render(session, community, schedule, occurrence)


def render(
    session: Session,
    community: Community,
    schedule: RitualSchedule,
    occurrence: Occurrence,
    *,
    preview: bool = False,
) -> Message:
    """Render an occurrence's post (`preview`: with empty counts, for a draft)."""
    tally = service.Tally() if preview else service.tally(session, occurrence=occurrence)
    if occurrence.kind == OccurrenceKind.SESSION:
        started = not preview and occurrence.stage in (Stage.STARTED, Stage.DONE)
        return blocks.session_post(community, schedule, occurrence, tally, started=started)
    if occurrence.kind == OccurrenceKind.KICKOFF:
        return blocks.kickoff_post(community, schedule, occurrence, tally)
    if occurrence.kind == OccurrenceKind.MIDPOINT:
        pulse: dict[str, tuple[int, float | None]] = (
            {q: (0, None) for q in service.PULSE_QUESTIONS}
            if preview
            else service.pulse(session, occurrence=occurrence)
        )
        return blocks.midpoint_post(community, schedule, occurrence, pulse)
    return blocks.finale_post(community, schedule, occurrence, tally)


def owe_post(session: Session, occurrence: Occurrence) -> bool:
    """Owe the occurrence's channel post, once."""
    community, schedule = service.context(session, occurrence)
    message = render(session, community, schedule, occurrence)
    return outbox.post(
        session,
        team_id=occurrence.team_id,
        channel_id=community.channel_id,
        key=post_key(occurrence),
        message=message,
    )


def owe_update(session: Session, occurrence: Occurrence) -> None:
    """Owe an in-place edit of the occurrence's post with what it shows now (counts, facilitator)."""
    if occurrence.stage in (Stage.PLANNED, Stage.EXCLUDED, Stage.MISSED):
        return  # nothing posted yet: the post will carry the news
    revision = service.bump_revision(session, occurrence=occurrence)
    message = message_for(session, occurrence)
    outbox.update(
        session,
        team_id=occurrence.team_id,
        key=f"{post_key(occurrence)}:rev:{revision}",
        of_key=post_key(occurrence),
        message=message,
    )


def ask_next(session: Session, occurrence: Occurrence, *, at: datetime) -> str | None:
    """DM the next member in line for a session; tell the leads once when nobody is left."""
    community, schedule = service.context(session, occurrence)
    candidate = facilitators.next_candidate(session, occurrence=occurrence, zone=community.timezone)
    if candidate is None:
        if not facilitators.rotation(session, community=community):
            return None  # the community has no rotation: nobody to ask, nothing to tell
        message = blocks.unfilled_dm(community, schedule, occurrence)
        community_flows.dm_leads(
            session, community=community, key=f"ritual:{occurrence.id}:unfilled", message=message
        )
        return None
    ask = facilitators.ask(session, occurrence=occurrence, user_id=candidate, at=at)
    if ask is None:
        return None
    message = blocks.ask_dm(community, schedule, occurrence, ask.id, answer=None)
    outbox.direct_message(
        session, team_id=community.team_id, user_id=candidate, key=ask_key(ask), message=message
    )
    log.info("asked %s to facilitate occurrence %s", candidate, occurrence.id)
    return candidate


def owe_answer(session: Session, ask: FacilitatorAsk, occurrence: Occurrence, answer: str) -> None:
    """Edit the request DM in place to show the answer given."""
    community, schedule = service.context(session, occurrence)
    message = blocks.ask_dm(community, schedule, occurrence, ask.id, answer=answer)
    outbox.update(
        session, team_id=ask.team_id, key=f"{ask_key(ask)}:answer", of_key=ask_key(ask), message=message
    )


def owe_chase(session: Session, ask: FacilitatorAsk, step: str) -> None:
    """Owe the reminder DM (once) or the leads' escalation DM (once)."""
    occurrence = session.get_one(Occurrence, ask.occurrence_id)
    community, schedule = service.context(session, occurrence)
    if step == "remind":
        message = blocks.ask_dm(community, schedule, occurrence, ask.id, answer=None, reminder=True)
        outbox.direct_message(
            session, team_id=ask.team_id, user_id=ask.user_id, key=f"{ask_key(ask)}:remind", message=message
        )
        return
    message = blocks.escalation_dm(community, schedule, occurrence, ask.user_id)
    community_flows.dm_leads(session, community=community, key=f"{ask_key(ask)}:escalate", message=message)


def preview_posts(
    session: Session, community: Community, schedule: RitualSchedule, *, at: datetime
) -> list[Message]:
    """Each post a schedule will make, rendered from its rule without storing anything."""
    plans = service.planned(
        schedule, community.timezone, since=at - service.LOOKBACK, until=at + service.HORIZON * 30
    )
    seen: set[str] = set()
    found = []
    for plan in plans:
        if plan.kind in seen:
            continue
        seen.add(plan.kind)
        sample = Occurrence(
            id=0,
            team_id=community.team_id,
            community_id=community.id,
            schedule_id=schedule.id,
            kind=plan.kind,
            starts_at=plan.starts_at,
            ends_at=plan.ends_at,
            post_at=plan.post_at,
            stage=Stage.PLANNED,
        )
        found.append(render(session, community, schedule, sample, preview=True))
    return found


def send_preview(session: Session, community: Community, user_id: str, schedule_id: int) -> str:
    """DM the asker each post the schedule will make, before it goes live."""
    service.require_editor(session, community=community, user_id=user_id)
    schedule = service.get_schedule(session, team_id=community.team_id, schedule_id=schedule_id)
    if schedule.community_id != community.id:
        raise NotFound("That schedule belongs to another community.")
    rendered = preview_posts(session, community, schedule, at=now())
    batch = uuid.uuid4().hex[:12]
    for index, message in enumerate(blocks.preview_dm(community, schedule, rendered)):
        outbox.direct_message(
            session,
            team_id=community.team_id,
            user_id=user_id,
            key=f"ritual:preview:{schedule.id}:{batch}:{index}",
            message=message,
        )
    return ":eyes: A preview is on its way to you by DM."


def on_delivery_failure(session: Session, message: OutboxMessage, error: str) -> None:
    """An archived channel pauses its community's schedules and tells the leads by DM."""
    if error != "is_archived" or message.kind != Kind.POST or not message.channel_id:
        return
    community = service.pause_community(
        session, team_id=message.team_id, channel_id=message.channel_id, reason="channel archived"
    )
    if community is None:
        return
    log.warning("rituals of community %s paused: channel %s is archived", community.id, message.channel_id)
    key = f"ritual:archived:{community.id}:{message.id}"
    community_flows.dm_leads(session, community=community, key=key, message=blocks.archived_dm(community))
