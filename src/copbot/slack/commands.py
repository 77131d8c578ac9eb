"""The `/cop` command: features register subcommands; one listener acks and routes them."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient

from copbot.errors import CopbotError
from copbot.slack.errors import user_message
from copbot.slack.ids import Command
from copbot.slack.lanes import opens_view, refuse_after_ack
from copbot.slack.listeners import answering
from copbot.slack.payloads import SubcommandRequest

log = logging.getLogger(__name__)

Reply = str | dict[str, Any] | None
AckStep = Callable[[SubcommandRequest], Reply]
WorkStep = Callable[[SubcommandRequest, WebClient], None]


@dataclass(frozen=True)
class Subcommand:
    """One `/cop` subcommand: `on_ack` answers within Slack's 3 s; `after_ack` does slow work after.

    `opens_view`: the after-ack work opens a modal, so it runs in the view lane (copbot.slack.lanes).
    """

    name: str
    usage: str
    summary: str
    on_ack: AckStep
    after_ack: WorkStep | None = None
    listed: bool = True
    opens_view: bool = False


class CopRouter:
    """Routes `/cop NAME ...` to the subcommand a feature registered under NAME."""

    def __init__(self) -> None:
        self._subcommands: dict[str, Subcommand] = {}
        self.other_commands: list[tuple[str, str]] = []  # (usage, summary) of commands besides /cop

    def document(self, usage: str, summary: str) -> None:
        """List a command other than `/cop` (e.g. `/postmortem`) in `/cop help`."""
        self.other_commands.append((usage, summary))

    def add(self, subcommand: Subcommand) -> None:
        """Register a subcommand; names are unique."""
        if subcommand.name in self._subcommands:
            raise ValueError(f"/cop {subcommand.name} is registered twice")
        self._subcommands[subcommand.name] = subcommand

    @property
    def listed(self) -> list[Subcommand]:
        """The subcommands `/cop help` shows, in registration order."""
        return [s for s in self._subcommands.values() if s.listed]

    def find(self, name: str) -> Subcommand | None:
        """Return the subcommand called `name`."""
        return self._subcommands.get(name)

    def register(self, app: App, *, fallback: AckStep) -> None:
        """Listen for `/cop`; `fallback` answers an empty or unknown subcommand."""

        def acknowledge(ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
            request = SubcommandRequest.parse(body)
            subcommand = self.find(request.name)
            try:
                reply = (subcommand.on_ack if subcommand else fallback)(request)
            except CopbotError as error:
                reply = user_message(error)
                refuse_after_ack(context)
            ack(**as_ack(reply))

        def after_ack(body: dict[str, Any], client: WebClient, respond: Respond) -> None:
            request = SubcommandRequest.parse(body)
            subcommand = self.find(request.name)
            if subcommand is None or subcommand.after_ack is None:
                return
            with answering(respond):
                subcommand.after_ack(request, client)

        def after_ack_view(body: dict[str, Any], client: WebClient, respond: Respond) -> None:
            after_ack(body, client, respond)

        def work_kind(body: dict[str, Any]) -> str | None:
            subcommand = self.find(body.get("text", "").strip().partition(" ")[0].lower())
            if subcommand is None or subcommand.after_ack is None:
                return None
            return "view" if subcommand.opens_view else "work"

        # Only subcommands with slow work pay for Bolt's lazy-listener hand-off (a copy of the request,
        # about 1 ms); the rest are answered by the ack alone. Modals go to the view lane.
        app.command(Command.COP, matchers=[lambda body: work_kind(body) == "view"])(
            ack=acknowledge, lazy=[opens_view(after_ack_view)]
        )
        app.command(Command.COP, matchers=[lambda body: work_kind(body) == "work"])(
            ack=acknowledge, lazy=[after_ack]
        )
        app.command(Command.COP)(acknowledge)


def as_ack(reply: Reply) -> dict[str, Any]:
    """Turn a subcommand's reply into `ack()` arguments: ephemeral text or blocks."""
    if reply is None:
        return {}
    if isinstance(reply, str):
        return {"text": reply, "response_type": "ephemeral"}
    return {"response_type": "ephemeral", **reply}
