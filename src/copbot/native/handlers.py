"""Slack listeners of the Slack-native surfaces: the custom workflow steps (`app.function`), `/cop handle`
and `/cop canvas`, the job that keeps the @handle and the canvas in step, and the feature's hooks."""

from __future__ import annotations

import logging
import time
from datetime import datetime, timedelta
from typing import Any

from slack_bolt import Ack, App, Complete, Fail
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from copbot.blockkit import text_message
from copbot.clock import now
from copbot.communities import service as communities
from copbot.communities.models import Community
from copbot.communities.service import installed_communities
from copbot.db import affected, session_scope
from copbot.deps import Deps
from copbot.errors import InvalidInput
from copbot.feature import Counts, Person
from copbot.inbox import service as inbox
from copbot.native import blocks, canvas, service, steps
from copbot.native.ids import Function
from copbot.native.models import NativeSettings, StepRun
from copbot.outbox import service as outbox
from copbot.outbox.models import Kind, OutboxMessage, Status
from copbot.recognition.handlers import check_unknown_nominees
from copbot.scheduling.jobs import Job, JobContext
from copbot.slack.commands import CopRouter, Subcommand, Topic
from copbot.slack.payloads import FunctionExecutedEvent, MalformedPayload, SubcommandRequest

log = logging.getLogger(__name__)

__all__ = ["forget_user", "jobs", "on_delivery_failure", "purge_before", "register"]

POST_WAIT_SECONDS = 15.0  # how long a step waits for the post its output links to (normally milliseconds)
POLL_SECONDS = 0.05
# Slack's answers when the execution was completed already (a re-delivery) or has timed out.
SETTLED = {"function_execution_not_found", "execution_not_in_running_state"}


def register(app: App, deps: Deps, router: CopRouter) -> None:
    """Register a listener per custom step (each acks at once, runs its flow after), and the subcommands."""
    for callback_id in Function:
        app.function(callback_id)(ack=_ack, lazy=[_runner(deps, callback_id)])
    router.add(
        Subcommand(
            "handle",
            "/cop handle [on [@name]|off]",
            "a @handle that always points at the next facilitator (leads)",
            on_ack=lambda request: handle_command(deps, request),
            topic=Topic.LEAD,
        )
    )
    router.add(
        Subcommand(
            "canvas",
            "/cop canvas [on|off]",
            "keep the charter, rituals, playbooks and lessons on the channel canvas (leads)",
            on_ack=lambda request: canvas_command(deps, request),
            topic=Topic.LEAD,
        )
    )


def _ack(ack: Ack) -> None:
    ack()


def _runner(deps: Deps, callback_id: Function) -> Any:
    def run_step(body: dict[str, Any], client: WebClient, complete: Complete, fail: Fail) -> None:
        try:
            payload = FunctionExecutedEvent.parse(body)
        except MalformedPayload as error:
            fail(str(error))
            return
        step = step_input(payload)
        failure = _precheck(deps, client, step)
        with session_scope(deps.sessions) as session:
            outcome = steps.run(session, step, failure=failure)
            inbox.mark_processed(session, team_id=step.team_id, event_id=payload.event_id)
        deps.outbox.notify()
        if outcome.awaiting:
            outcome = _await_post(deps, client, step, outcome)
        _answer(step, outcome, complete, fail)

    run_step.__name__ = f"run_step_{callback_id}"  # Bolt tells lazy functions apart by name
    return run_step


def step_input(payload: FunctionExecutedEvent) -> steps.StepInput:
    """The flows' view of a `function_executed` event."""
    event = payload.event
    return steps.StepInput(
        team_id=payload.team_id or event.function.team_id,
        execution_id=event.function_execution_id,
        callback_id=event.function.callback_id,
        inputs=event.inputs,
    )


def _precheck(deps: Deps, client: WebClient, step: steps.StepInput) -> str | None:
    """The modal's one check that asks Slack: a nominee must be a person (users.info), not a bot."""
    nominee = step.inputs.get("nominee")
    if step.callback_id != Function.RECOGNISE or not isinstance(nominee, str) or not nominee:
        return None
    try:
        check_unknown_nominees(deps, client, team_id=step.team_id, nominees=[nominee])
    except InvalidInput as error:
        return "Who: " + " ".join(error.field_errors.values())
    return None


def _await_post(
    deps: Deps, client: WebClient, step: steps.StepInput, outcome: steps.Outcome
) -> steps.Outcome:
    """Wait (bounded) for the outbox to deliver the post the step links to, then record its link."""
    deadline = time.monotonic() + POST_WAIT_SECONDS
    while time.monotonic() < deadline:
        with session_scope(deps.sessions) as session:
            sent = outbox.find(session, team_id=step.team_id, key=outcome.awaiting or "")
            where = (sent.sent_channel_id, sent.sent_ts, sent.status) if sent else (None, None, None)
        if where[2] == Status.FAILED:
            break
        if where[0] and where[1]:
            try:
                link = str(client.chat_getPermalink(channel=where[0], message_ts=where[1])["permalink"])
            except SlackApiError as error:
                log.warning("chat.getPermalink failed for step %s: %s", step.execution_id, _code(error))
                break
            with session_scope(deps.sessions) as session:
                steps.complete_awaited(
                    session, team_id=step.team_id, execution_id=step.execution_id, permalink=link
                )
            return steps.Outcome(outputs={"permalink": link})
        time.sleep(POLL_SECONDS)
    return steps.Outcome(
        error=f"The lesson is saved and will be posted in <#{outcome.channel_id}>, but Slack did not take "
        "the post in time to link to it here."
    )


def _answer(step: steps.StepInput, outcome: steps.Outcome, complete: Complete, fail: Fail) -> None:
    """Tell Slack how the step ended (a repeat of an answer Slack already has is harmless)."""
    try:
        if outcome.error:
            fail(error=outcome.error)
        else:
            complete(outputs=outcome.outputs)
    except SlackApiError as error:
        code = _code(error)
        level = logging.INFO if code in SETTLED else logging.WARNING
        log.log(level, "step %s (%s) not answered: %s", step.callback_id, step.execution_id, code)


def _code(error: SlackApiError) -> str:
    data = error.response.data
    return str(data.get("error", "")) if isinstance(data, dict) else f"http_{error.response.status_code}"


# --- /cop handle and /cop canvas ------------------------------------------------------------------


def _switch(words: list[str], usage: str) -> bool | None:
    """`on` / `off` as True / False, nothing as None; anything else is a usage error."""
    if not words:
        return None
    if words[0].lower() in ("on", "off"):
        return words[0].lower() == "on"
    raise InvalidInput({"switch": f"Usage: `{usage}`."})


def handle_command(deps: Deps, request: SubcommandRequest) -> str:
    """Answer `/cop handle`, `/cop handle on [@name]` and `/cop handle off`."""
    command, words = request.command, request.args.split()
    switch = _switch(words, "/cop handle on [@name]` or `/cop handle off")
    with session_scope(deps.sessions) as session:
        community = communities.require_community(
            session, team_id=command.team_id, channel_id=command.channel_id
        )
        if switch is None:
            settings = service.settings_for(session, community=community)
            duty = service.on_duty(session, community=community, at=now())
            return blocks.handle_status(community, settings, duty)
        handle = service.parse_handle(" ".join(words[1:]), community) if switch else None
        settings = service.set_handle(
            session, community=community, user_id=command.user_id, enabled=switch, handle=handle
        )
        state = service.usergroup_state(session, settings, at=now())
        service.owe_sync(session, settings, target=service.USERGROUP, state=state, at=now())
        reply = blocks.handle_changed(community, settings)
    deps.outbox.notify()
    return reply


def canvas_command(deps: Deps, request: SubcommandRequest) -> str:
    """Answer `/cop canvas`, `/cop canvas on` and `/cop canvas off`."""
    command = request.command
    switch = _switch(request.args.split(), "/cop canvas on` or `/cop canvas off")
    with session_scope(deps.sessions) as session:
        community = communities.require_community(
            session, team_id=command.team_id, channel_id=command.channel_id
        )
        if switch is None:
            return blocks.canvas_status(service.settings_for(session, community=community))
        settings = service.set_canvas(session, community=community, user_id=command.user_id, enabled=switch)
        if switch:
            state = canvas.state(session, community=community, at=now())
            service.owe_sync(session, settings, target=service.CANVAS, state=state, at=now())
        reply = blocks.canvas_changed(settings)
    deps.outbox.notify()
    return reply


# --- the job ---------------------------------------------------------------------------------------


def jobs() -> list[Job]:
    """Every minute: owe a sync to each @handle or canvas that no longer matches the rows."""
    return [Job("native", reconcile, every=timedelta(minutes=1), grace=timedelta(minutes=5))]


def reconcile(ctx: JobContext) -> None:
    """Compare each enabled surface with what it should show now; owe a sync where they differ."""
    with session_scope(ctx.deps.sessions) as session:
        installed = set(session.scalars(installed_communities().with_only_columns(Community.id)))
        ids = [s.id for s in service.enabled_settings(session) if s.community_id in installed]
    owed = 0
    for settings_id in ids:
        with session_scope(ctx.deps.sessions) as session:
            owed += _reconcile_one(session, session.get_one(NativeSettings, settings_id), ctx.at)
    if owed:
        ctx.deps.outbox.notify()


def _reconcile_one(session: Session, settings: NativeSettings, at: datetime) -> int:
    owed = 0
    group = service.usergroup_state(session, settings, at=at)
    if service.handle_out_of_date(settings, group):
        owed += service.owe_sync(session, settings, target=service.USERGROUP, state=group, at=at)
    if settings.canvas_enabled and not settings.canvas_refused:
        community = session.get_one(Community, settings.community_id)
        sections = canvas.state(session, community=community, at=at)
        if sections["hash"] != settings.canvas_hash:
            owed += service.owe_sync(session, settings, target=service.CANVAS, state=sections, at=at)
    return owed


# --- hooks -----------------------------------------------------------------------------------------


def on_delivery_failure(session: Session, message: OutboxMessage, error: str) -> None:
    """A refused user-group or canvas sync: record the refusal (copbot stops trying) and tell the leads."""
    target = message.payload.get("target") if message.kind == Kind.SYNC else None
    if target not in (service.USERGROUP, service.CANVAS):
        return
    community = session.get(Community, message.payload.get("subject_id"))
    if community is None:
        return
    settings = service.settings_for(session, community=community)
    reason = service.refuse(settings, target=target, error=error)
    text = blocks.refused_dm(community, settings, target=target, reason=reason)
    log.warning("community %s: Slack refused the %s sync: %s", community.id, target, error)
    for lead in communities.leads(session, community=community) or [settings.changed_by or ""]:
        if lead:
            outbox.direct_message(
                session,
                team_id=community.team_id,
                user_id=lead,
                key=f"{message.key}:refused:{lead}",
                message=text_message(text),
            )


def forget_user(session: Session, person: Person) -> Counts:
    """Delete the step runs that acted for the user or name them; drop them from the surfaces' records
    (the @handle then follows the rotation, which forgets them too)."""
    team_id, user_id = person.team_id, person.user_id
    counts = {"native_settings": 0, "native_step_runs": 0}
    for settings in session.scalars(select(NativeSettings).where(NativeSettings.team_id == team_id)):
        if user_id in settings.usergroup_users or settings.changed_by == user_id:
            settings.usergroup_users = [u for u in settings.usergroup_users if u != user_id]
            settings.changed_by = None if settings.changed_by == user_id else settings.changed_by
            counts["native_settings"] += 1
    mine = session.execute(delete(StepRun).where(StepRun.team_id == team_id, StepRun.user_id == user_id))
    counts["native_step_runs"] += affected(mine)
    for run in session.scalars(select(StepRun).where(StepRun.team_id == team_id)):
        if user_id in run.outputs.values():
            session.delete(run)
            counts["native_step_runs"] += 1
    return counts


def purge_before(session: Session, cutoff: datetime, team_id: str) -> int:
    """Retention: step runs only answer re-deliveries; delete a workspace's older than `cutoff`."""
    query = delete(StepRun).where(StepRun.created_at < cutoff, StepRun.team_id == team_id)
    return affected(session.execute(query))
