"""Slack listeners for community health: App Home, `/cop stats`, `/cop export`, the set-up button."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from slack_bolt import App, Respond
from slack_sdk import WebClient
from slack_sdk.webhook import WebhookClient
from sqlalchemy.orm import Session

from copbot import export
from copbot.blockkit import Message
from copbot.clock import now
from copbot.communities import handlers as community_handlers
from copbot.communities import service as communities
from copbot.communities.setup import SetupExtensions
from copbot.db import session_scope
from copbot.deps import Deps
from copbot.errors import CopbotError
from copbot.health import blocks, flows, snapshots
from copbot.health.ids import HealthAction
from copbot.health.periods import PeriodKind
from copbot.reviews import checkins
from copbot.slack.commands import CopRouter, Subcommand, Topic
from copbot.slack.errors import user_message
from copbot.slack.events import on_payload
from copbot.slack.lanes import opens_view
from copbot.slack.listeners import acknowledge, answering, tell
from copbot.slack.payloads import AppHomeOpenedEvent, BlockActions, SubcommandRequest

log = logging.getLogger(__name__)

STATS_USAGE = "Try `/cop stats`, `/cop stats week`, `/cop stats month` or `/cop stats quarter`."


def register(app: App, deps: Deps, router: CopRouter) -> None:
    """Register the App Home, `/cop stats`, `/cop export` and the health buttons."""
    router.add(
        Subcommand(
            "stats",
            "/cop stats [week|month|quarter]",
            "how the community is doing: participation, attendance, reach, adoption",
            on_ack=check_stats,
            after_ack=lambda request, client: send_stats(deps, request),
            topic=Topic.LEARN,
        )
    )
    router.add(
        Subcommand(
            "export",
            "/cop export",
            "this community's records as CSV, in your DM",
            on_ack=lambda request: start_export(deps, request),
            after_ack=lambda request, client: send_export(deps, request, client),
            topic=Topic.LEAD,
        )
    )

    def publish_on_open(session: Session, payload: AppHomeOpenedEvent) -> None:
        user_id = payload.event.user
        if payload.event.tab != "home" or not user_id:
            return
        key = f"health-home:{user_id}:{payload.event_id}"
        flows.publish_home(session, team_id=payload.team_id, user_id=user_id, key=key, at=now())

    on_payload(app, deps, AppHomeOpenedEvent, publish_on_open)

    def refresh(body: dict[str, Any]) -> None:
        click = BlockActions.parse(body)
        key = f"health-home:{click.user_id}:refresh:{click.action.action_ts or now().timestamp()}"
        with session_scope(deps.sessions) as session:
            flows.publish_home(session, team_id=click.team_id, user_id=click.user_id, key=key, at=now())
        deps.outbox.notify()

    @opens_view
    def open_setup(body: dict[str, Any], client: WebClient, respond: Respond) -> None:
        with answering(respond):  # a payload it cannot read
            click = BlockActions.parse(body)
            try:
                view = community_handlers.setup_view(
                    deps,
                    team_id=click.team_id,
                    channel_id=click.action.value,
                    user_id=click.user_id,
                    extensions=SetupExtensions.of(deps.features),
                )
            except CopbotError as error:
                _tell(deps, respond, click, user_message(error))
                return
            client.views_open(trigger_id=click.trigger_id, view=view)

    app.action(HealthAction.REFRESH_HOME)(ack=acknowledge, lazy=[refresh])
    app.action(HealthAction.OPEN_SETUP)(ack=acknowledge, lazy=[open_setup])


def parse_period(args: str) -> PeriodKind | None:
    """The period `/cop stats` asks for (month when none); None for anything else."""
    word = args.strip().lower() or PeriodKind.MONTH.value
    return PeriodKind(word) if word in {k.value for k in PeriodKind} else None


def check_stats(request: SubcommandRequest) -> str | None:
    """The ack of `/cop stats`: refuse an unknown period at once, else say nothing yet."""
    return None if parse_period(request.args) else f"I don't know that period. {STATS_USAGE}"


def send_stats(deps: Deps, request: SubcommandRequest) -> None:
    """Compute `/cop stats` after the ack and answer through the command's response_url.

    Measured at 5,000 members and 100k records: 80-400 ms (BENCHMARKS.md), too slow for an ack.
    """
    if parse_period(request.args) is None or not request.command.response_url:
        return
    reply = stats(deps, request, at=now())
    WebhookClient(request.command.response_url, timeout=deps.settings.slack_timeout).send(  # type: ignore[arg-type]
        response_type="ephemeral", replace_original=False, text=reply["text"], blocks=reply["blocks"]
    )


def stats(deps: Deps, request: SubcommandRequest, *, at: datetime) -> Message:
    """The `/cop stats` answer for the channel's community as of `at` (fairness for leads)."""
    command = request.command
    kind = parse_period(request.args) or PeriodKind.MONTH
    with session_scope(deps.sessions) as session:
        community = communities.require_community(
            session, team_id=command.team_id, channel_id=command.channel_id
        )
        lead = command.user_id in communities.leads(session, community=community)
        metrics = snapshots.metrics(session, community=community, kind=kind, at=at, fairness=lead)
        weeks = snapshots.trends(session, community=community, at=at)
        as_of = min((s.as_of for s in (metrics, weeks) if s.as_of), default=None)
        # How the community's practices hold up with their adopters: leads only.
        practices = (
            checkins.retention(session, team_id=community.team_id, community_id=community.id)
            if lead
            else None
        )
        return blocks.stats_message(community, metrics.value, weeks.value, practices=practices, as_of=as_of)


def start_export(deps: Deps, request: SubcommandRequest) -> str:
    """Refuse non-leads at once; tell a lead the file is on its way."""
    command = request.command
    with session_scope(deps.sessions) as session:
        community = communities.require_community(
            session, team_id=command.team_id, channel_id=command.channel_id
        )
        communities.require_lead(
            session, community=community, user_id=command.user_id, action="export its records"
        )
    return ":outbox_tray: Preparing the export; the CSV will arrive in your DM with me in a moment."


def send_export(deps: Deps, request: SubcommandRequest, client: WebClient) -> None:
    """Upload the community's records as CSV to the lead's DM (after the ack)."""

    command = request.command
    with session_scope(deps.sessions) as session:
        community = communities.require_community(
            session, team_id=command.team_id, channel_id=command.channel_id
        )
        communities.require_lead(
            session, community=community, user_id=command.user_id, action="export its records"
        )
        records = export.collect(
            session, deps.features, team_id=command.team_id, channel_id=command.channel_id
        )
        name = community.name
    content = export.render(records, fmt="csv")
    dm = client.conversations_open(users=command.user_id)["channel"]["id"]
    stamp = now().strftime("%Y-%m-%d")
    client.files_upload_v2(
        content=content.encode(),
        filename=f"copbot-export-{command.channel_id}-{stamp}.csv",
        title=f"{name}: export of {stamp}",
        channel=dm,
        initial_comment=f"Here is the export of {name}: "
        + ", ".join(f"{len(rows)} {kind}" for kind, rows in records.items()),
        request_file_info=False,
    )
    log.info("export of %s uploaded (%d bytes)", command.channel_id, len(content))


def _tell(deps: Deps, respond: Respond, click: BlockActions, text: str) -> None:
    """Say why an action failed: in place when the button sits in a message, else by DM (App Home)."""
    if click.response_url:
        tell(respond, text)
        return
    key = f"health-refusal:{click.user_id}:{click.action.action_ts or now().timestamp()}"
    with session_scope(deps.sessions) as session:
        flows.refusal_dm(session, team_id=click.team_id, user_id=click.user_id, key=key, text=text)
    deps.outbox.notify()
