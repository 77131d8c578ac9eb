"""Pydantic models of the Slack payloads copbot reads: commands, interactions and events.

Listeners parse the body Bolt hands them (`BlockActions.parse(body)`) and read typed fields; they never
index the raw body. Shapes follow Slack's recorded bodies (tests/fixtures/slack/, bolt-python's
tests/scenario_tests): only the parts copbot reads are modelled, the rest is ignored, and a `null` counts as
absent. Every model's `team_id` is the workspace `slack.workspace` resolves (Slack Connect, org-wide
installs), never the envelope's own field. A body that lacks what a listener needs raises
`MalformedPayload`, a `CopbotError` whose words the person sees where they acted.
"""

from __future__ import annotations

import json
import logging
from typing import Any, ClassVar, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from copbot.errors import CopbotError
from copbot.slack.workspace import workspace_domain, workspace_id

log = logging.getLogger(__name__)


class MalformedPayload(CopbotError):
    """Slack sent a body without a part the listener needs: nothing was done."""

    def __init__(self, kind: str):
        super().__init__(
            ":warning: Slack sent me something I could not read, so nothing was done. Please try again."
        )
        self.kind = kind


class _Part(BaseModel):
    """A piece of a payload: unknown keys ignored, `null` taken as absent (so defaults apply)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    @model_validator(mode="before")
    @classmethod
    def _drop_nulls(cls, data: Any) -> Any:
        return {k: v for k, v in data.items() if v is not None} if isinstance(data, dict) else data


class SlackPayload(_Part):
    """A whole request body, with the resolved workspace in `team_id`."""

    team_id: str

    @classmethod
    def parse(cls, body: Any) -> Self:
        """Read a body Bolt parsed; `MalformedPayload` when it lacks what this kind needs."""
        if not isinstance(body, dict):
            raise _malformed(cls, "not an object")
        try:
            return cls.model_validate({**body, "team_id": workspace_id(body), **cls._resolved(body)})
        except ValidationError as error:
            where = ", ".join(".".join(str(p) for p in e["loc"]) for e in error.errors())
            raise _malformed(cls, f"missing or wrong: {where}") from None

    @classmethod
    def _resolved(cls, body: dict[str, Any]) -> dict[str, Any]:
        return {}


def _malformed(model: type[BaseModel], why: str) -> MalformedPayload:
    # One warning line, never the body: it may hold what people wrote.
    log.warning("a %s payload Slack sent could not be read: %s", model.__name__, why)
    return MalformedPayload(model.__name__)


# --- interactions -----------------------------------------------------------------------------------


class Actor(_Part):
    """The person who acted (`user` of an interaction)."""

    id: str
    team_id: str | None = None


class ChannelRef(_Part):
    """The conversation an interaction happened in."""

    id: str


class Action(_Part):
    """One element of `actions` in a block_actions payload."""

    action_id: str
    block_id: str = ""
    type: str = ""
    value: str = ""
    action_ts: str = ""
    selected_users: list[str] = Field(default_factory=list)
    selected_date: str | None = None  # a datepicker's YYYY-MM-DD


class ViewState(_Part):
    """`view.state`: block id -> action id -> the element's state."""

    values: dict[str, dict[str, dict[str, Any]]] = Field(default_factory=dict)


class View(_Part):
    """A modal or App Home view, as Slack echoes it back."""

    id: str = ""
    callback_id: str = ""
    hash: str | None = None
    private_metadata: str = ""
    state: ViewState = Field(default_factory=ViewState)

    @property
    def values(self) -> dict[str, dict[str, dict[str, Any]]]:
        """The inputs' state."""
        return self.state.values

    @property
    def metadata(self) -> dict[str, Any]:
        """What copbot put in `private_metadata` (a JSON object; {} when there is none or it is not one)."""
        try:
            data = json.loads(self.private_metadata or "{}")
        except ValueError:
            return {}
        return data if isinstance(data, dict) else {}


class MessageRef(_Part):
    """The message an action or a message shortcut came from."""

    ts: str = ""
    thread_ts: str | None = None
    text: str = ""
    user: str | None = None
    bot_id: str | None = None

    @property
    def root_ts(self) -> str:
        """The ts of its thread's first message (its own when it is not in a thread)."""
        return self.thread_ts or self.ts

    @property
    def person(self) -> str | None:
        """Its author when a person (not a bot) wrote it."""
        return self.user if self.user and not self.bot_id else None


class Interaction(SlackPayload):
    """What every interaction payload carries: who acted, where, and how to answer them."""

    team_domain: str | None = None  # the resolved workspace's subdomain (None in Slack Connect)
    user: Actor
    trigger_id: str = ""
    response_url: str = ""
    channel: ChannelRef | None = None

    @classmethod
    def _resolved(cls, body: dict[str, Any]) -> dict[str, Any]:
        return {"team_domain": workspace_domain(body)}

    @property
    def user_id(self) -> str:
        """The id of the person who acted."""
        return self.user.id

    @property
    def channel_id(self) -> str:
        """The conversation it happened in ("" in a modal or the App Home)."""
        return self.channel.id if self.channel else ""


class BlockActions(Interaction):
    """A click (or selection) on a message, a modal or the App Home."""

    actions: list[Action] = Field(min_length=1)
    view: View | None = None
    message: MessageRef | None = None

    @property
    def action(self) -> Action:
        """The element that was used (Slack sends one)."""
        return self.actions[0]


class ViewSubmission(Interaction):
    """A modal's submission."""

    view: View


class MessageShortcut(Interaction):
    """A message shortcut (`message_action`) from a message's ⋯ menu."""

    callback_id: str = ""
    channel: ChannelRef
    message: MessageRef


class BlockSuggestion(Interaction):
    """An external select asking for options as the person types."""

    action_id: str = ""
    value: str = ""


# --- events -----------------------------------------------------------------------------------------


class Authorization(_Part):
    """One of the installations an event is delivered for."""

    user_id: str | None = None


class EventCallback(SlackPayload):
    """The Events API envelope (`event_callback`); subclasses type its `event` and name its type."""

    EVENT_TYPE: ClassVar[str] = ""
    event_id: str = ""
    authorizations: list[Authorization] = Field(default_factory=list)

    @property
    def bot_user_ids(self) -> set[str]:
        """The bot users the event was delivered to (copbot's own user in this workspace)."""
        return {a.user_id for a in self.authorizations if a.user_id}


class ReactionItem(_Part):
    """What a reaction was added to."""

    type: str = ""
    channel: str = ""
    ts: str = ""


class Reaction(_Part):
    """`reaction_added` and `reaction_removed`."""

    type: str = ""
    user: str | None = None
    reaction: str = ""
    item_user: str | None = None
    item: ReactionItem = Field(default_factory=ReactionItem)


class ReactionAddedEvent(EventCallback):
    """An envelope holding `reaction_added`."""

    EVENT_TYPE = "reaction_added"

    event: Reaction


class ReactionRemovedEvent(EventCallback):
    """An envelope holding `reaction_removed`."""

    EVENT_TYPE = "reaction_removed"

    event: Reaction


class MemberJoinedChannel(_Part):
    """`member_joined_channel`."""

    user: str = ""
    channel: str = ""


class MemberJoinedChannelEvent(EventCallback):
    """An envelope holding `member_joined_channel`."""

    EVENT_TYPE = "member_joined_channel"

    event: MemberJoinedChannel


class AppHomeOpened(_Part):
    """`app_home_opened`."""

    user: str = ""
    tab: str = "home"


class AppHomeOpenedEvent(EventCallback):
    """An envelope holding `app_home_opened`."""

    EVENT_TYPE = "app_home_opened"

    event: AppHomeOpened


class FunctionRef(_Part):
    """The custom step a `function_executed` event runs."""

    callback_id: str
    team_id: str = ""


class FunctionExecuted(_Part):
    """`function_executed` (a workflow's custom step)."""

    function_execution_id: str
    function: FunctionRef
    inputs: dict[str, Any] = Field(default_factory=dict)


class FunctionExecutedEvent(EventCallback):
    """An envelope holding `function_executed`."""

    EVENT_TYPE = "function_executed"

    event: FunctionExecuted


# --- commands ---------------------------------------------------------------------------------------


class CommandRequest(BaseModel):
    """A slash command, as Slack posts it."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    team_id: str
    team_domain: str = ""  # the workspace's slack.com subdomain: for links to messages
    user_id: str
    channel_id: str
    command: str
    text: str = ""
    trigger_id: str = ""
    response_url: str = ""

    @classmethod
    def parse(cls, body: dict[str, Any]) -> CommandRequest:
        """Read a command's form body; its workspace is the resolved one, as for every other request."""
        return cls.model_validate({**body, "team_id": workspace_id(body)})

    @property
    def words(self) -> list[str]:
        """The command's text split on white space."""
        return self.text.split()


class SubcommandRequest(BaseModel):
    """A `/cop` subcommand: the command and what follows the subcommand's name."""

    model_config = ConfigDict(frozen=True)

    command: CommandRequest
    name: str
    args: str

    @classmethod
    def parse(cls, body: dict[str, Any]) -> SubcommandRequest:
        """Split `/cop NAME ARGS` into its parts."""
        command = CommandRequest.parse(body)
        name, _, args = command.text.strip().partition(" ")
        return cls(command=command, name=name.lower(), args=args.strip())


def state_value(values: dict[str, dict[str, dict[str, Any]]], block_id: str, action_id: str) -> Any:
    """Read one input's value from `view.state.values`, whatever its element type."""
    element = values.get(block_id, {}).get(action_id, {})
    kind = element.get("type")
    if kind in ("static_select", "external_select", "radio_buttons"):
        option = element.get("selected_option")
        return option["value"] if option else None
    if kind in ("multi_static_select", "multi_external_select", "checkboxes"):
        return [o["value"] for o in element.get("selected_options") or []]
    if kind == "users_select":
        return element.get("selected_user")
    if kind == "multi_users_select":
        return element.get("selected_users") or []
    if kind == "conversations_select":
        return element.get("selected_conversation")
    if kind == "channels_select":
        return element.get("selected_channel")
    if kind == "datepicker":
        return element.get("selected_date")
    if kind == "timepicker":
        return element.get("selected_time")
    return element.get("value")
