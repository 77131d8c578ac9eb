"""Slack listeners for communities: `/cop setup|join|leave`, the set-up modal, the Join button."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from copbot.communities import blocks, flows, service
from copbot.communities.ids import FIELD_BLOCKS, Action, Block, View
from copbot.communities.setup import SetupExtensions
from copbot.db import session_scope
from copbot.deps import Deps
from copbot.errors import CopbotError, InvalidInput
from copbot.slack.commands import CopRouter, Subcommand, Topic
from copbot.slack.listeners import acknowledge, modal_errors, tell
from copbot.slack.payloads import (
    BlockActions,
    BlockSuggestion,
    SubcommandRequest,
    ViewSubmission,
    state_value,
)

FORM_FIELDS = {
    Block.NAME: Action.NAME,
    Block.PURPOSE: Action.PURPOSE,
    Block.LEARNING_GOALS: Action.LEARNING_GOALS,
    Block.BOUNDARIES: Action.BOUNDARIES,
    Block.NORMS: Action.NORMS,
    Block.TIMEZONE: Action.TIMEZONE,
}


def register(app: App, deps: Deps, router: CopRouter) -> None:
    """Register the community listeners and `/cop` subcommands."""
    extensions = SetupExtensions.of(deps.features)
    router.add(
        Subcommand(
            "setup",
            "/cop setup",
            "make this channel a community's home, or edit its charter",
            on_ack=lambda request: None,
            after_ack=lambda request, client: open_setup(deps, request, client, extensions),
            opens_view=True,
            topic=Topic.LEAD,
        )
    )
    router.add(
        Subcommand(
            "join",
            "/cop join",
            "join this channel's community",
            on_ack=lambda r: join(deps, r),
            topic=Topic.YOU,
        )
    )
    router.add(
        Subcommand("leave", "/cop leave", "leave it", on_ack=lambda r: leave(deps, r), topic=Topic.YOU)
    )

    @app.view(View.COMMUNITY_SETUP)
    def submit_setup(ack: Ack, body: dict[str, Any]) -> None:
        ack(**save_setup(deps, ViewSubmission.parse(body), extensions))
        deps.outbox.notify()

    @app.options(Action.TIMEZONE)
    def suggest_timezones(ack: Ack, payload: dict[str, Any]) -> None:
        ack(**blocks.timezone_options(service.find_timezones(BlockSuggestion.parse(payload).value)))

    def join_from_button(body: dict[str, Any], respond: Respond) -> None:
        try:
            click = BlockActions.parse(body)
            with session_scope(deps.sessions) as session:
                community, joined = service.join(
                    session, team_id=click.team_id, user_id=click.user_id, channel_id=click.channel_id
                )
            text = blocks.joined_message(community, joined=joined)
        except CopbotError as error:
            text = str(error)
        tell(respond, text)

    app.action(Action.JOIN)(ack=acknowledge, lazy=[join_from_button])


def open_setup(
    deps: Deps, request: SubcommandRequest, client: WebClient, extensions: SetupExtensions | None = None
) -> None:
    """Open the set-up modal, pre-filled when the channel already has a community."""
    command = request.command
    view = setup_view(
        deps,
        team_id=command.team_id,
        channel_id=command.channel_id,
        user_id=command.user_id,
        extensions=extensions,
    )
    client.views_open(trigger_id=command.trigger_id, view=view)


def setup_view(
    deps: Deps, *, team_id: str, channel_id: str, user_id: str, extensions: SetupExtensions | None = None
) -> dict[str, Any]:
    """The set-up modal of a channel's community (leads only) or of a new one, with every feature's fields."""
    with session_scope(deps.sessions) as session:
        community = service.community_for_channel(session, team_id=team_id, channel_id=channel_id)
        if community is not None:
            service.require_lead(session, community=community, user_id=user_id, action="change its set-up")
        extra = extensions.blocks(session, community) if extensions else []
    return blocks.setup_modal(
        channel_id=channel_id,
        community=community,
        default_timezone=deps.settings.default_timezone,
        extra=extra,
    )


def save_setup(
    deps: Deps, submission: ViewSubmission, extensions: SetupExtensions | None = None
) -> dict[str, Any]:
    """Validate and store the set-up modal; return the `ack()` arguments (field errors or the saved view).

    The community and every extension's fields are validated together (all field errors at once) and
    stored in one transaction: a rule broken anywhere stores nothing.
    """
    channel_id = str(submission.view.metadata.get("channel_id", ""))
    team_id, user_id = submission.team_id, submission.user_id
    try:
        form, extra = _parse_form(submission.view.values, extensions or SetupExtensions())
        setup = flows.Setup(team_id=team_id, channel_id=channel_id, user_id=user_id, form=form, extra=extra)
        with session_scope(deps.sessions) as session:
            community, created = flows.save_setup(session, setup)
    except InvalidInput as error:
        return modal_errors(error, FIELD_BLOCKS)
    except CopbotError as error:
        return {"response_action": "errors", "errors": {Block.NAME.value: str(error)}}
    return {"response_action": "update", "view": blocks.saved_view(community, created=created)}


def _parse_form(
    values: dict[str, Any], extensions: SetupExtensions
) -> tuple[service.CommunityForm, list[tuple[Any, Any]]]:
    """Parse the community's fields and the extensions' together, raising every field error at once."""
    errors: dict[str, str] = {}
    form = extra = None
    try:
        form = service.CommunityForm.parse(
            {b.name.lower(): state_value(values, b, a) for b, a in FORM_FIELDS.items()}
        )
    except InvalidInput as error:
        errors.update(error.field_errors)
    try:
        extra = extensions.parse(values)
    except InvalidInput as error:
        errors.update(error.field_errors)
    if errors or form is None or extra is None:
        raise InvalidInput(errors)
    return form, extra


def join(deps: Deps, request: SubcommandRequest) -> str:
    """Answer `/cop join`."""
    command = request.command
    with session_scope(deps.sessions) as session:
        community, joined = service.join(
            session, team_id=command.team_id, channel_id=command.channel_id, user_id=command.user_id
        )
        return blocks.joined_message(community, joined=joined)


def leave(deps: Deps, request: SubcommandRequest) -> str:
    """Answer `/cop leave`."""
    command = request.command
    with session_scope(deps.sessions) as session:
        community, left = service.leave(
            session, team_id=command.team_id, channel_id=command.channel_id, user_id=command.user_id
        )
        return blocks.left_message(community, left=left)
