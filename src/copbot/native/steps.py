"""The custom Workflow Builder steps as flows: (session, inputs) -> outcome, once per execution id.

Each step validates its inputs with the same rules as the modal it stands for (the services' forms),
stores its effect and the outcome in one transaction, and answers a re-delivered execution with the
outcome it stored the first time. The Slack edge (handlers.py) calls complete() or fail() after commit.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from copbot.clock import now
from copbot.communities import service as communities
from copbot.communities.models import Community
from copbot.db import dialect_insert
from copbot.errors import CopbotError, InvalidInput
from copbot.native.ids import Function
from copbot.native.models import StepRun, StepStatus
from copbot.recognition import flows as recognition_flows
from copbot.recognition import service as recognition
from copbot.reviews import flows as review_flows
from copbot.reviews import service as reviews
from copbot.reviews.models import Template
from copbot.rituals import flows as ritual_posts
from copbot.rituals import service as rituals
from copbot.rituals import timing
from copbot.rituals.models import AskStatus, FacilitatorAsk, Occurrence, OccurrenceKind, Stage

log = logging.getLogger(__name__)

CAPTURED_CONTEXT = "Captured from a Workflow Builder step."


@dataclass(frozen=True)
class StepInput:
    """One `function_executed` event, as the flows need it."""

    team_id: str
    execution_id: str
    callback_id: str
    inputs: dict[str, Any]


@dataclass
class Outcome:
    """What a step answers: outputs on success, or a message for the person who ran the workflow.

    `awaiting` names the outbox message whose delivery completes the step (a post whose link is an
    output); until it is delivered the outcome is neither completed nor failed.
    """

    outputs: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    awaiting: str | None = None
    channel_id: str | None = None


class StepFailed(CopbotError):
    """A step's input broke a rule; the message is shown to the person who ran the workflow."""


# --- running a step once ---------------------------------------------------------------------------


def run(session: Session, step: StepInput, *, failure: str | None = None) -> Outcome:
    """Run a step once per execution id; a repeat returns what the first run stored.

    The run's row is claimed first (a unique insert), so two deliveries of one execution at once wait
    for each other in the database instead of both acting. `failure`: the edge already found the input
    wrong (a check that asks Slack); it is stored as the outcome.
    """
    run_row = _claim(session, step)
    if run_row is None:
        stored = _stored(session, step)
        return stored if stored is not None else Outcome(error="This step is already running.")
    flow = FLOWS.get(step.callback_id)
    if failure is not None or flow is None:
        outcome, user_id = Outcome(error=failure or f"copbot has no step called {step.callback_id}."), None
    else:
        try:  # every flow checks all its rules before it stores anything: a failure leaves no half
            outcome, user_id = flow(session, step)
        except CopbotError as error:
            outcome, user_id = Outcome(error=_sentence(error)), None
    outputs = dict(outcome.outputs)
    if outcome.awaiting:
        outputs |= {"_awaiting": outcome.awaiting, "_channel": outcome.channel_id}
    run_row.status, run_row.outputs, run_row.error, run_row.user_id = (
        _status(outcome),
        outputs,
        outcome.error,
        user_id,
    )
    log.info("workflow step %s (%s): %s", step.callback_id, step.execution_id, run_row.status)
    return outcome


def complete_awaited(session: Session, *, team_id: str, execution_id: str, permalink: str) -> None:
    """Record the link of the post a step waited for: the step is now completed."""
    found = _run_row(session, team_id=team_id, execution_id=execution_id)
    if found is not None:
        found.status, found.outputs = StepStatus.COMPLETED, {**found.outputs, "permalink": permalink}


def _run_row(session: Session, *, team_id: str, execution_id: str) -> StepRun | None:
    return session.scalar(
        select(StepRun).where(StepRun.team_id == team_id, StepRun.execution_id == execution_id)
    )


def _stored(session: Session, step: StepInput) -> Outcome | None:
    found = _run_row(session, team_id=step.team_id, execution_id=step.execution_id)
    if found is None:
        return None
    if found.status == StepStatus.FAILED:
        return Outcome(error=found.error)
    if found.status == StepStatus.AWAITING:
        return Outcome(awaiting=found.outputs["_awaiting"], channel_id=found.outputs.get("_channel"))
    return Outcome(outputs={k: v for k, v in found.outputs.items() if not k.startswith("_")})


def _claim(session: Session, step: StepInput) -> StepRun | None:
    """Insert the execution's row; None when another delivery has it already."""
    insert = dialect_insert(session)
    claimed = session.execute(
        insert(StepRun)
        .values(
            team_id=step.team_id,
            execution_id=step.execution_id,
            callback_id=step.callback_id[:64],
            status=StepStatus.RUNNING,
            outputs={},
            created_at=now(),
        )
        .on_conflict_do_nothing(index_elements=["team_id", "execution_id"])
        .returning(StepRun.id)
    ).scalar()
    return session.get(StepRun, claimed) if claimed is not None else None


def _status(outcome: Outcome) -> StepStatus:
    if outcome.error:
        return StepStatus.FAILED
    return StepStatus.AWAITING if outcome.awaiting else StepStatus.COMPLETED


def _sentence(error: CopbotError) -> str:
    return str(error).strip()


# --- reading inputs --------------------------------------------------------------------------------


def _text(step: StepInput, name: str) -> str:
    value = step.inputs.get(name)
    return value.strip() if isinstance(value, str) else ""


def _user(step: StepInput, name: str, label: str) -> str:
    value = _text(step, name)
    if not value.startswith(("U", "W")):
        raise StepFailed(f"Choose a person for “{label}”.")
    return value


def _community(session: Session, step: StepInput) -> Community:
    channel_id = _text(step, "channel")
    if not channel_id:
        raise StepFailed("Choose the community's channel for this step.")
    community = communities.community_for_channel(session, team_id=step.team_id, channel_id=channel_id)
    if community is None:
        raise StepFailed(f"<#{channel_id}> has no community yet: a lead runs `/cop setup` there first.")
    return community


def _named(error: InvalidInput, labels: dict[str, str]) -> StepFailed:
    """Field errors keyed by the modal's block ids, as one sentence naming the step's inputs."""
    parts = [f"{labels.get(block, 'Input')}: {message}" for block, message in error.field_errors.items()]
    return StepFailed(" ".join(parts))


# --- the steps -------------------------------------------------------------------------------------

LESSON_LABELS = {"title": "Title", "context": "Context", "happened": "What happened", "lessons": "Lesson"}


def capture_lesson(session: Session, step: StepInput) -> tuple[Outcome, str | None]:
    """Store a short after-action review and owe its channel post; its link completes the step."""
    author = _user(step, "author", "Author")
    community = _community(session, step)
    try:
        form = reviews.ReviewForm.parse(
            {
                "template": Template.AFTER_ACTION.value,
                "title": _text(step, "title"),
                "context": _text(step, "context") or CAPTURED_CONTEXT,
                "happened": _text(step, "what_happened"),
                "lessons": _text(step, "lesson"),
            }
        )
    except InvalidInput as error:
        raise _named(error, LESSON_LABELS) from None
    review = reviews.create_review(
        session, team_id=step.team_id, user_id=author, community=community, form=form
    )
    message = review_flows.review_post(session, review)
    key = review_flows.owe_post(
        session, community=community, kind="review", item_id=review.id, message=message
    )
    return Outcome(awaiting=key, channel_id=community.channel_id), author


RECOGNITION_LABELS = {
    "nominees": "Who",
    "value": "Value",
    "action": "What they did",
    "impact": "The difference it made",
}


def recognise(session: Session, step: StepInput) -> tuple[Outcome, str | None]:
    """Store a public nomination with the same checks as the modal and owe its DMs and post."""
    nominator = _user(step, "nominator", "From")
    nominee = _user(step, "nominee", "Who")
    community = _community(session, step)
    settings = recognition.settings_for(session, community=community)
    typed = _text(step, "value")
    value = next((v for v in settings.values if v.casefold() == typed.casefold()), typed)
    if value not in settings.values:
        raise StepFailed(f"Value: use one of this community's values: {', '.join(settings.values)}.")
    form = recognition.NominationForm(
        nominees=[nominee],
        value=value,
        action=_text(step, "story"),
        impact=_text(step, "impact"),
        public=True,
    )
    try:
        done = recognition_flows.nominate(
            session, team_id=step.team_id, community_id=community.id, nominator_id=nominator, form=form
        )
    except InvalidInput as error:
        raise _named(error, RECOGNITION_LABELS) from None
    log.info("nomination %s stored by a workflow step", done.nomination.id)
    return Outcome(), nominator


def pick_facilitator(
    session: Session, step: StepInput, *, at: datetime | None = None
) -> tuple[Outcome, None]:
    """The next session's facilitator: the one who accepted, the one asked, or the next in the rotation."""
    at = at or now()
    community = _community(session, step)
    occurrence = _next_session(session, community, at)
    if occurrence.facilitator_id:
        return Outcome(outputs={"facilitator": occurrence.facilitator_id}), None
    asked = session.scalar(
        select(FacilitatorAsk.user_id).where(
            FacilitatorAsk.occurrence_id == occurrence.id, FacilitatorAsk.status == AskStatus.ASKED
        )
    )
    chosen = asked or ritual_posts.ask_next(session, occurrence, at=at)
    if chosen is None:
        day = timing.local_day(occurrence.starts_at, community.timezone)
        raise StepFailed(
            f"Nobody in the rotation is free for the session on {day:%a %d %b}: members opt in with "
            "`/cop rotation in`, and the leads have been told."
        )
    return Outcome(outputs={"facilitator": chosen}), None


def _next_session(session: Session, community: Community, at: datetime) -> Occurrence:
    coming = rituals.upcoming(session, community_id=community.id, after=at, limit=20)
    occurrence = next((o for o, _title in coming if o.kind == OccurrenceKind.SESSION), None)
    if occurrence is None:
        raise StepFailed(f"{community.name} has no session coming: a lead plans them with `/cop schedule`.")
    return occurrence


def log_attendance(session: Session, step: StepInput, *, at: datetime | None = None) -> tuple[Outcome, str]:
    """Record that a member was at a session: the one on the given day, else the latest one started."""
    at = at or now()
    attendee = _user(step, "user", "Who")
    community = _community(session, step)
    occurrence = _session_on(session, community, _day(step), at)
    try:
        rituals.mark_attended(session, occurrence=occurrence, user_id=attendee, at=at)
    except InvalidInput as error:
        raise _named(error, {"attended": "Session"}) from None
    ritual_posts.owe_update(session, occurrence)
    return Outcome(), attendee


def _day(step: StepInput) -> date | None:
    typed = _text(step, "session_date")
    if not typed:
        return None
    try:
        return date.fromisoformat(typed)
    except ValueError:
        raise StepFailed(f"Session date: “{typed[:20]}” is not a date (YYYY-MM-DD).") from None


def _session_on(session: Session, community: Community, day: date | None, at: datetime) -> Occurrence:
    started = list(
        session.scalars(
            select(Occurrence)
            .where(
                Occurrence.community_id == community.id,
                Occurrence.kind == OccurrenceKind.SESSION,
                Occurrence.stage.in_([Stage.POSTED, Stage.STARTED, Stage.DONE]),
            )
            .order_by(Occurrence.starts_at.desc())
            .limit(400)
        )
    )
    if day is None:
        found = next((o for o in started if o.starts_at <= at), None)
        if found is None:
            raise StepFailed(f"{community.name} has had no session yet to log attendance for.")
        return found
    found = next((o for o in started if timing.local_day(o.starts_at, community.timezone) == day), None)
    if found is None:
        raise StepFailed(f"{community.name} had no session on {day:%a %d %b %Y}.")
    return found


Flow = Callable[[Session, StepInput], tuple[Outcome, str | None]]

FLOWS: dict[str, Flow] = {
    Function.CAPTURE_LESSON: capture_lesson,
    Function.RECOGNISE: recognise,
    Function.PICK_FACILITATOR: pick_facilitator,
    Function.LOG_ATTENDANCE: log_attendance,
}
