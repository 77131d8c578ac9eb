"""Pydantic models of the Slack payloads copbot reads."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from copbot.slack.workspace import workspace_id


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
