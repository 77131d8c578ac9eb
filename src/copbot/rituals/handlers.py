"""Slack listeners for rituals: `/cop schedule|rotation|away`, the schedule modals, the post buttons."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from copbot.blockkit import Message, escape
from copbot.clock import now
from copbot.communities import service as communities
from copbot.communities.models import Community
from copbot.db import session_scope
from copbot.deps import Deps
from copbot.errors import CopbotError, InvalidInput, NotFound
from copbot.rituals import blocks, facilitators, flows, service, timing
from copbot.rituals.ids import FIELD_BLOCKS, RitualAction, RitualBlock, RitualField, RitualView
from copbot.rituals.models import (
    AskStatus,
    Attendance,
    Occurrence,
    Response,
    RitualSchedule,
    ScheduleKind,
    ScheduleStatus,
)
from copbot.slack.commands import CopRouter, Subcommand, Topic
from copbot.slack.errors import user_message
from copbot.slack.lanes import opens_view
from copbot.slack.listeners import acknowledge, answering, modal_errors, tell
from copbot.slack.payloads import BlockActions, SubcommandRequest, ViewSubmission, state_value

log = logging.getLogger(__name__)

__all__ = ["export_records", "register"]

MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")
SCHEDULE_USAGE = (
    "`/cop schedule` lists this community's rituals. Also: `/cop schedule cycle`, `/cop schedule sessions`, "
    "`/cop schedule edit N`, `/cop schedule live|pause|resume|delete|preview N`, "
    "`/cop schedule skip YYYY-MM-DD [YYYY-MM-DD] [reason]`."
)
RSVPS = {
    RitualAction.GOING: Response.GOING,
    RitualAction.CANT: Response.CANT,
    RitualAction.ASYNC: Response.ASYNC,
}
RSVP_WORDS = {
    Response.GOING: "you are going",
    Response.CANT: "you can't make it",
    Response.ASYNC: "you'll follow async",
}
ANSWERS = {
    RitualAction.ACCEPT: AskStatus.ACCEPTED,
    RitualAction.SWAP: AskStatus.SWAPPED,
    RitualAction.SKIP: AskStatus.SKIPPED,
}
STATUS_ACTIONS = {
    RitualAction.GO_LIVE: ScheduleStatus.ACTIVE,
    RitualAction.RESUME: ScheduleStatus.ACTIVE,
    RitualAction.PAUSE: ScheduleStatus.PAUSED,
}
CYCLE_FIELDS = (
    "title",
    "plan",
    "kickoff_date",
    "kickoff_time",
    "midpoint_date",
    "midpoint_time",
    "finale_date",
    "finale_time",
)
SESSION_FIELDS = (
    "title",
    "frequency",
    "first_date",
    "local_time",
    "alt_local_time",
    "duration_minutes",
    "rotation_days",
)


def register(app: App, deps: Deps, router: CopRouter) -> None:
    """Register the rituals listeners and `/cop schedule|rotation|away`."""
    router.add(
        Subcommand(
            "schedule",
            "/cop schedule [cycle|sessions]",
            "what comes up; leads and facilitators plan a cycle or recurring sessions",
            on_ack=lambda r: schedule_command(deps, r),
            after_ack=lambda r, client: open_schedule_modal(deps, r, client),
            opens_view=True,
            topic=Topic.MEET,
        )
    )
    router.add(
        Subcommand(
            "rotation",
            "/cop rotation [in|out]",
            "the facilitator rotation; join or leave it",
            on_ack=lambda r: rotation_command(deps, r),
            topic=Topic.MEET,
        )
    )
    router.add(
        Subcommand(
            "facilitate",
            "/cop facilitate on|off",
            "the same as `/cop rotation in|out`",
            on_ack=lambda r: facilitate_command(deps, r),
            listed=False,  # one door in the help; this name keeps working
            topic=Topic.MEET,
        )
    )
    router.add(
        Subcommand(
            "away",
            "/cop away <from> <to>",
            "away on those days (YYYY-MM-DD): the rotation skips you",
            on_ack=lambda r: away_command(deps, r),
            topic=Topic.MEET,
        )
    )

    @app.view(RitualView.CYCLE)
    def submit_cycle(ack: Ack, body: dict[str, Any]) -> None:
        ack(**save_schedule(deps, ViewSubmission.parse(body), ScheduleKind.CYCLE))
        deps.outbox.notify()

    @app.view(RitualView.SESSIONS)
    def submit_sessions(ack: Ack, body: dict[str, Any]) -> None:
        ack(**save_schedule(deps, ViewSubmission.parse(body), ScheduleKind.SESSIONS))
        deps.outbox.notify()

    def acknowledge(ack: Ack) -> None:
        ack()

    def relabel(body: dict[str, Any], client: WebClient) -> None:
        relabel_schedule_modal(deps, BlockActions.parse(body), client)

    app.action(RitualField.THEN)(ack=acknowledge, lazy=[relabel])

    _button(app, deps, re.compile(r"^ritual_rsvp_(going|cant|async)$"), on_rsvp)
    _button(app, deps, RitualAction.ATTENDED, on_attended)
    _button(app, deps, RitualAction.SIGN_UP, on_sign_up)
    _button(app, deps, re.compile(r"^ritual_pulse_[1-5]$"), on_pulse)
    _button(app, deps, re.compile(r"^ritual_(accept|swap|skip)$"), on_answer)
    _button(app, deps, RitualAction.PREVIEW, on_preview)
    _button(app, deps, re.compile(r"^ritual_(go_live|pause|resume|delete)$"), on_manage)
    _button(app, deps, re.compile(r"^ritual_(new_cycle|new_sessions|edit)$"), on_open_modal)


@dataclass(frozen=True)
class OpenModal:
    """A button's answer that is a modal: opened once the click's transaction has ended."""

    view: dict[str, Any]


ButtonReply = str | dict[str, Any] | Message | OpenModal | None
ButtonWork = Callable[[Deps, Session, BlockActions], ButtonReply]


def _button(app: App, deps: Deps, action: str | re.Pattern[str], work: ButtonWork) -> None:
    """Ack at once; do the work after the ack in one transaction; answer the clicker ephemerally."""

    def run(body: dict[str, Any], client: WebClient, respond: Respond) -> None:
        with answering(respond):  # a payload it cannot read
            answer_click(BlockActions.parse(body), client, respond)

    def answer_click(click: BlockActions, client: WebClient, respond: Respond) -> None:
        try:
            with session_scope(deps.sessions) as session:
                reply = work(deps, session, click)
            deps.outbox.notify()
            if isinstance(reply, OpenModal):  # after the commit: no Slack call while the database is held
                client.views_open(trigger_id=click.trigger_id, view=reply.view)
                reply = None
        except Exception as error:
            reply = user_message(error)
        if not click.response_url:
            return  # a click in a modal: nowhere to answer ephemerally; the action took effect
        if isinstance(reply, str):
            tell(respond, reply)
        elif isinstance(reply, dict):
            respond(**reply)

    run.__name__ = f"ritual_{work.__name__}"  # Bolt tells lazy functions apart by name
    if work is on_open_modal:
        opens_view(run)
    app.action(action)(ack=acknowledge, lazy=[run])


def _ids(click: BlockActions) -> tuple[str, str, str, str]:
    """(team_id, user_id, action_id, value) of a button click."""
    return click.team_id, click.user_id, click.action.action_id, click.action.value


# --- buttons on posts ------------------------------------------------------------------------------


def on_rsvp(deps: Deps, session: Session, click: BlockActions) -> str | None:
    """Record an RSVP and update the counts in place."""
    team_id, user_id, action, value = _ids(click)
    occurrence = service.occurrence_for(session, team_id=team_id, occurrence_id=value)
    response = RSVPS[RitualAction(action)]
    if service.rsvp(session, occurrence=occurrence, user_id=user_id, response=response, at=now()):
        flows.owe_update(session, occurrence)
    return f"Noted: {RSVP_WORDS[response]}. Change it any time with the buttons."


def on_attended(deps: Deps, session: Session, click: BlockActions) -> str | None:
    """Record presence at a session that has started."""
    team_id, user_id, _, value = _ids(click)
    occurrence = service.occurrence_for(session, team_id=team_id, occurrence_id=value)
    if service.mark_attended(session, occurrence=occurrence, user_id=user_id, at=now()):
        flows.owe_update(session, occurrence)
        return ":raised_hand: Thanks, you are counted as there."
    return "You were already counted."


def on_sign_up(deps: Deps, session: Session, click: BlockActions) -> str | None:
    """Sign up for a cycle (kickoff) or for a finale demo; the post's list updates in place."""
    team_id, user_id, _, value = _ids(click)
    occurrence = service.occurrence_for(session, team_id=team_id, occurrence_id=value)
    if not service.sign_up(session, occurrence=occurrence, user_id=user_id, at=now()):
        return "You are already signed up."
    flows.owe_update(session, occurrence)
    community = session.get_one(Community, occurrence.community_id)
    communities.join(session, team_id=team_id, channel_id=community.channel_id, user_id=user_id)
    return f":tada: You are signed up for *{escape(community.name)}*."


def on_pulse(deps: Deps, session: Session, click: BlockActions) -> str | None:
    """Store an anonymous pulse answer; the post shows averages once enough have answered."""
    team_id, user_id, action, value = _ids(click)
    question = "safety" if click.action.block_id == RitualBlock.PULSE_SAFETY else "value"
    occurrence = service.occurrence_for(session, team_id=team_id, occurrence_id=value)
    score = int(action.rsplit("_", 1)[1])
    service.answer_pulse(
        session, occurrence=occurrence, user_id=user_id, question=question, score=score, key=pulse_key(deps)
    )
    flows.owe_update(session, occurrence)
    return f"Thanks: your answer ({score}/5) is stored anonymously. You can change it by clicking again."


def pulse_key(deps: Deps) -> bytes:
    """The HMAC key standing in for pulse respondents: COPBOT_HASH_KEY, else derived from a Slack secret."""
    settings = deps.settings
    for secret in (settings.hash_key, settings.slack_signing_secret, settings.slack_bot_token):
        if secret is not None:
            return service.respondent_key(secret.get_secret_value())
    raise CopbotError("Anonymous answers need COPBOT_HASH_KEY set; ask the operator.")


# --- facilitator DMs -------------------------------------------------------------------------------


def on_answer(deps: Deps, session: Session, click: BlockActions) -> str | None:
    """Accept, swap or skip; the DM shows the answer, the next in line is asked when needed."""
    team_id, user_id, action, value = _ids(click)
    answer = ANSWERS[RitualAction(action)]
    at = now()
    ask, occurrence = facilitators.answer_ask(
        session, team_id=team_id, ask_id=value, user_id=user_id, answer=answer, at=at
    )
    if answer == AskStatus.ACCEPTED:
        flows.owe_answer(session, ask, occurrence, ":white_check_mark: You accepted. Thank you!")
        flows.owe_update(session, occurrence)
        return "Thank you! The channel reminder will name you as facilitator."
    said = "swapped with the next in line" if answer == AskStatus.SWAPPED else "skipped this one"
    flows.owe_answer(
        session, ask, occurrence, f":arrows_counterclockwise: You {said}; we asked the next person."
    )
    flows.ask_next(session, occurrence, at=at)
    return "Thanks for letting us know: the next person in the rotation is asked."


# --- schedules -------------------------------------------------------------------------------------


def schedule_command(deps: Deps, request: SubcommandRequest) -> str | Message | None:
    """Answer `/cop schedule ...` (modals open after the ack)."""
    command = request.command
    words = request.args.split()
    verb = words[0].lower() if words else "list"
    if verb in ("cycle", "sessions", "edit"):
        return None
    with session_scope(deps.sessions) as session:
        community = communities.require_community(
            session, team_id=command.team_id, channel_id=command.channel_id
        )
        if verb == "list":
            return listing(session, community, command.user_id)
        if verb == "skip":
            return add_skip(session, community, command.user_id, words[1:])
        if (
            verb in ("live", "pause", "resume", "delete", "preview")
            and len(words) == 2
            and words[1].lstrip("#").isdigit()
        ):
            schedule_id = int(words[1].lstrip("#"))
            if verb == "preview":
                reply = flows.send_preview(session, community, command.user_id, schedule_id)
            else:
                reply = manage(session, community, command.user_id, verb, schedule_id)
            deps.outbox.notify()
            return reply
    return SCHEDULE_USAGE


def listing(session: Session, community: Community, user_id: str) -> Message:
    """The schedule listing message, with buttons only for those who may use them."""
    at = now()
    today = timing.local_day(at, community.timezone)
    return blocks.schedule_list(
        community,
        service.schedules(session, community=community),
        facilitators.exclusions(session, community=community, today=today),
        service.occurrences(session, community=community, since=at, limit=8),
        can_edit=service.can_edit(session, community=community, user_id=user_id),
    )


def manage(session: Session, community: Community, user_id: str, verb: str, schedule_id: int) -> str:
    """Go live, pause, resume or delete a schedule."""
    if verb == "delete":
        title = service.delete_schedule(
            session, community=community, user_id=user_id, schedule_id=schedule_id
        )
        return f":wastebasket: Deleted *{escape(title)}*."
    status = ScheduleStatus.PAUSED if verb == "pause" else ScheduleStatus.ACTIVE
    schedule = service.set_status(
        session, community=community, user_id=user_id, schedule_id=schedule_id, status=status, now=now()
    )
    word = "paused" if status == ScheduleStatus.PAUSED else "live"
    return f"*{escape(schedule.title)}* is {word}."


def add_skip(session: Session, community: Community, user_id: str, words: list[str]) -> str:
    """`/cop schedule skip FROM [TO] [reason]`: dates with no session."""
    try:
        first = date.fromisoformat(words[0])
        rest = words[1:]
        last = first
        if rest and re.fullmatch(r"\d{4}-\d{2}-\d{2}", rest[0]):
            last, rest = date.fromisoformat(rest[0]), rest[1:]
    except (IndexError, ValueError):
        return (
            "Usage: `/cop schedule skip YYYY-MM-DD [YYYY-MM-DD] [reason]`, "
            "e.g. `/cop schedule skip 2026-12-24 2027-01-01 holidays`."
        )
    try:
        exclusion = facilitators.add_exclusion(
            session,
            community=community,
            user_id=user_id,
            first_day=first,
            last_day=last,
            reason=" ".join(rest),
            today=timing.local_day(now(), community.timezone),
        )
    except InvalidInput as error:
        return str(error)
    span = f"{first:%d %b %Y}" + (f" to {last:%d %b %Y}" if last != first else "")
    return (
        f":palm_tree: No sessions on {span}"
        + (f" ({escape(exclusion.reason)})" if exclusion.reason else "")
        + "."
    )


def open_schedule_modal(deps: Deps, request: SubcommandRequest, client: WebClient) -> None:
    """Open the cycle or sessions modal (`/cop schedule cycle|sessions|edit N`)."""
    words = request.args.split()
    verb = words[0].lower() if words else ""
    if verb not in ("cycle", "sessions", "edit"):
        return
    command = request.command
    with session_scope(deps.sessions) as session:
        community = communities.require_community(
            session, team_id=command.team_id, channel_id=command.channel_id
        )
        service.require_editor(session, community=community, user_id=command.user_id)
        schedule = None
        if verb == "edit":
            if len(words) < 2 or not words[1].lstrip("#").isdigit():
                raise InvalidInput(
                    {"schedule": "Usage: `/cop schedule edit N` (numbers are in `/cop schedule`)."}
                )
            schedule = service.get_schedule(
                session, team_id=command.team_id, schedule_id=int(words[1].lstrip("#"))
            )
        view = _modal_for(
            community, schedule, ScheduleKind.CYCLE if verb == "cycle" else ScheduleKind.SESSIONS
        )
    client.views_open(trigger_id=command.trigger_id, view=view)


def _modal_for(
    community: Community,
    schedule: RitualSchedule | None,
    kind: ScheduleKind,
    then: blocks.Then = blocks.Then.LIVE,
) -> dict[str, Any]:
    kind = ScheduleKind(schedule.kind) if schedule else kind
    return (
        blocks.cycle_modal(community, schedule, then)
        if kind == ScheduleKind.CYCLE
        else blocks.sessions_modal(community, schedule, then)
    )


def save_schedule(deps: Deps, submission: ViewSubmission, kind: ScheduleKind) -> dict[str, Any]:
    """Validate and store a schedule modal; return the `ack()` arguments."""
    values = submission.view.values
    metadata = submission.view.metadata
    team_id, user_id = submission.team_id, submission.user_id
    names = CYCLE_FIELDS if kind == ScheduleKind.CYCLE else SESSION_FIELDS
    fields = {name: state_value(values, FIELD_BLOCKS[name], FIELD_BLOCKS[name]) for name in names}
    try:
        with session_scope(deps.sessions) as session:
            community = communities.require_community(
                session, team_id=team_id, channel_id=metadata.get("channel_id", "")
            )
            schedule = service.save_schedule(
                session,
                kind=kind,
                community=community,
                user_id=user_id,
                fields=fields,
                now=now(),
                schedule_id=metadata.get("schedule_id"),
            )
            then = _then(values)
            if then == blocks.Then.LIVE and schedule.status == ScheduleStatus.DRAFT:
                service.activate(schedule, status=ScheduleStatus.ACTIVE, now=now())
            elif then == blocks.Then.PREVIEW:
                session.flush()
                flows.send_preview(session, community, user_id, schedule.id)
            session.flush()
            view = blocks.saved_view(
                schedule, community, _coming(community, schedule), previewed=then == blocks.Then.PREVIEW
            )
            return {"response_action": "update", "view": view}
    except InvalidInput as error:
        return modal_errors(error, FIELD_BLOCKS)
    except CopbotError as error:
        return {"response_action": "errors", "errors": {RitualField.TITLE.value: str(error)}}


def _then(values: dict[str, Any]) -> blocks.Then | None:
    """The modal's "When I save" choice (None when the modal has none: editing a live schedule)."""
    chosen = state_value(values, RitualField.THEN, RitualField.THEN)
    return blocks.Then(chosen) if chosen in set(blocks.Then) else None


def _coming(community: Community, schedule: RitualSchedule) -> list[service.Planned]:
    """The posts a schedule will make over the next weeks, from now (or from when it goes live)."""
    at = now()
    return [
        plan
        for plan in service.planned(schedule, community.timezone, since=at, until=at + 8 * service.HORIZON)
        if plan.post_at >= at
    ]


def relabel_schedule_modal(deps: Deps, click: BlockActions, client: WebClient) -> None:
    """Follow the "When I save" choice on the submit button (Slack keeps what was typed)."""
    view = click.view
    if view is None:
        return  # the choice sits only in the schedule modals
    metadata = view.metadata
    then = _then(view.values) or blocks.Then.LIVE
    with session_scope(deps.sessions) as session:
        community = communities.require_community(
            session, team_id=click.team_id, channel_id=metadata.get("channel_id", "")
        )
        schedule_id = metadata.get("schedule_id")
        schedule = (
            service.get_schedule(session, team_id=community.team_id, schedule_id=schedule_id)
            if schedule_id
            else None
        )
        kind = ScheduleKind.CYCLE if view.callback_id == RitualView.CYCLE else ScheduleKind.SESSIONS
        updated = _modal_for(community, schedule, kind, then)
    client.views_update(view_id=view.id, hash=view.hash, view=updated)


def _schedule_from_button(session: Session, click: BlockActions) -> tuple[Community, RitualSchedule]:
    team_id, _, _, value = _ids(click)
    if not (value.isascii() and value.isdigit()):  # copbot's buttons carry a schedule id; nothing else does
        raise NotFound("That schedule no longer exists. `/cop schedule list` shows them.")
    schedule = service.get_schedule(session, team_id=team_id, schedule_id=int(value))
    return session.get_one(Community, schedule.community_id), schedule


def on_preview(deps: Deps, session: Session, click: BlockActions) -> str | None:
    """ "Send me a preview": each post of the schedule, by DM."""
    community, schedule = _schedule_from_button(session, click)
    return flows.send_preview(session, community, click.user_id, schedule.id)


def on_manage(deps: Deps, session: Session, click: BlockActions) -> str | dict[str, Any] | None:
    """Go live, pause, resume or delete from the listing; the listing is redrawn."""
    community, schedule = _schedule_from_button(session, click)
    verb = {
        "ritual_go_live": "live",
        "ritual_pause": "pause",
        "ritual_resume": "resume",
        "ritual_delete": "delete",
    }[_ids(click)[2]]
    said = manage(session, community, click.user_id, verb, schedule.id)
    if click.view is not None:  # clicked in the saved-schedule modal: no message to redraw
        return said
    session.flush()
    message = listing(session, community, click.user_id)
    return {**message, "response_type": "ephemeral", "replace_original": True}


def on_open_modal(deps: Deps, session: Session, click: BlockActions) -> OpenModal:
    """Open the cycle or sessions modal from a button (new, or edit)."""
    team_id, user_id, action, value = _ids(click)
    if action == RitualAction.EDIT:
        community, schedule = _schedule_from_button(session, click)
        kind = ScheduleKind(schedule.kind)
    else:
        found = session.get(Community, int(value))
        if found is None or found.team_id != team_id:
            raise NotFound(communities.NO_COMMUNITY)
        community, schedule = found, None
        kind = ScheduleKind.CYCLE if action == RitualAction.NEW_CYCLE else ScheduleKind.SESSIONS
    service.require_editor(session, community=community, user_id=user_id)
    return OpenModal(_modal_for(community, schedule, kind))


# --- rotation and away -----------------------------------------------------------------------------


def rotation_command(deps: Deps, request: SubcommandRequest) -> str | Message:
    """Answer `/cop rotation [in|out|order @a @b ...]`."""
    command = request.command
    words = request.args.split()
    verb = words[0].lower() if words else ""
    if verb in ("in", "out"):
        return facilitating(deps, request, on=verb == "in")
    with session_scope(deps.sessions) as session:
        community = communities.require_community(
            session, team_id=command.team_id, channel_id=command.channel_id
        )
        if verb == "order":
            facilitators.reorder(
                session, community=community, user_id=command.user_id, order=MENTION.findall(request.args)
            )
        elif verb:
            return "Usage: `/cop rotation`, `/cop rotation in|out`, `/cop rotation order @a @b @c`."
        order = facilitators.rotation(session, community=community)
        today = timing.local_day(now(), community.timezone)
        away = {
            user_id: facilitators.away_periods(
                session, team_id=community.team_id, user_id=user_id, today=today
            )
            for user_id in order
        }
        return blocks.rotation_message(community, order, away)


def facilitate_command(deps: Deps, request: SubcommandRequest) -> str:
    """Answer `/cop facilitate on|off`: the same door into the rotation as `/cop rotation in|out`."""
    word = request.args.strip().lower()
    if word not in ("on", "off"):
        return "Usage: `/cop facilitate on` or `/cop facilitate off` (the same as `/cop rotation in|out`)."
    return facilitating(deps, request, on=word == "on")


def facilitating(deps: Deps, request: SubcommandRequest, *, on: bool) -> str:
    """Put the caller into the facilitator rotation or out of it, and say where that leaves them."""
    command = request.command
    with session_scope(deps.sessions) as session:
        community = communities.require_community(
            session, team_id=command.team_id, channel_id=command.channel_id
        )
        changed = facilitators.set_facilitating(session, community=community, user_id=command.user_id, on=on)
        order = facilitators.rotation(session, community=community)
        return blocks.facilitating_changed(community, order, command.user_id, on=on, changed=changed)


def away_command(deps: Deps, request: SubcommandRequest) -> str:
    """Answer `/cop away FROM TO`, `/cop away` (list) and `/cop away clear`."""
    command = request.command
    words = request.args.split()
    today = now().date()
    with session_scope(deps.sessions) as session:
        if not words:
            periods = facilitators.away_periods(
                session, team_id=command.team_id, user_id=command.user_id, today=today
            )
            if not periods:
                return (
                    "You are not marked away. `/cop away 2026-08-01 2026-08-15` marks you away (inclusive)."
                )
            return (
                "You are away: "
                + ", ".join(f"{p.first_day} to {p.last_day}" for p in periods)
                + ". `/cop away clear` removes it."
            )
        if words == ["clear"]:
            count = facilitators.clear_away(session, team_id=command.team_id, user_id=command.user_id)
            return f"Removed {count} away period(s)."
        try:
            first = date.fromisoformat(words[0])
            last = date.fromisoformat(words[1]) if len(words) > 1 else first
        except ValueError:
            return (
                "Usage: `/cop away FROM TO` with dates as YYYY-MM-DD, e.g. `/cop away 2026-08-01 2026-08-15`."
            )
        try:
            facilitators.away(
                session,
                team_id=command.team_id,
                user_id=command.user_id,
                first_day=first,
                last_day=last,
                today=today,
            )
        except InvalidInput as error:
            return str(error)
    return f":palm_tree: You are away from {first} to {last}: the facilitator rotation passes you by."


# --- hooks -----------------------------------------------------------------------------------------


def export_records(session: Session, selected: list[Community]) -> dict[str, list[dict[str, Any]]]:
    """Occurrences and attendance of the selected communities, for `copbot export`."""
    by_id = {c.id: c for c in selected}
    found = list(
        session.scalars(select(Occurrence).where(Occurrence.community_id.in_(by_id)).order_by(Occurrence.id))
    )
    channel = {o.id: by_id[o.community_id].channel_id for o in found}
    rows = session.scalars(
        select(Attendance).where(Attendance.occurrence_id.in_(channel)).order_by(Attendance.id)
    )
    return {
        "occurrences": [
            {
                "team_id": o.team_id,
                "channel_id": channel[o.id],
                "occurrence_id": o.id,
                "kind": o.kind,
                "starts_at": o.starts_at.isoformat(),
                "ends_at": o.ends_at.isoformat() if o.ends_at else None,
                "stage": o.stage,
                "facilitator_id": o.facilitator_id,
            }
            for o in found
        ],
        "attendance": [
            {
                "team_id": a.team_id,
                "channel_id": channel[a.occurrence_id],
                "occurrence_id": a.occurrence_id,
                "user_id": a.user_id,
                "rsvp": a.rsvp,
                "attended": a.attended,
                "signed_up": a.signed_up,
            }
            for a in rows
        ],
    }
