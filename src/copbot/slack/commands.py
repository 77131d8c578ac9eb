"""The `/cop` command: features register subcommands; one listener acks and routes them."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient

from copbot.blockkit import Message
from copbot.errors import CopbotError
from copbot.slack.errors import user_message
from copbot.slack.ids import Command
from copbot.slack.lanes import opens_view, refuse_after_ack
from copbot.slack.listeners import answering
from copbot.slack.payloads import SubcommandRequest

log = logging.getLogger(__name__)

Reply = str | dict[str, Any] | Message | None
AckStep = Callable[[SubcommandRequest], Reply]
WorkStep = Callable[[SubcommandRequest, WebClient], None]


class Topic(StrEnum):
    """What people want to do: how `/cop help` groups the commands. LEAD is shown to leads only."""

    CAPTURE = "capture"
    RECOGNISE = "recognise"
    MEET = "meet"
    LEARN = "learn"
    YOU = "you"
    LEAD = "lead"


# (emoji, title, what it covers): the order is the order of `/cop help`.
TOPICS: dict[Topic, tuple[str, str, str]] = {
    Topic.CAPTURE: (":memo:", "Capture what you learn", "after-action reviews and playbooks"),
    Topic.RECOGNISE: (":sparkles:", "Recognise someone", "thank people for something specific"),
    Topic.MEET: (":calendar:", "Meet", "sessions, cycles and the facilitator rotation"),
    Topic.LEARN: (":books:", "Learn", "search the library, ask, mentor, see how it goes"),
    Topic.YOU: (":bust_in_silhouette:", "You", "join, your team, your data"),
    Topic.LEAD: (":compass:", "Lead", "set up and run the community (leads)"),
}
TOPIC_ALIASES = {"recognize": Topic.RECOGNISE, "leads": Topic.LEAD, "me": Topic.YOU}


@dataclass(frozen=True)
class Subcommand:
    """One `/cop` subcommand: `on_ack` answers within Slack's 3 s; `after_ack` does slow work after.

    `opens_view`: the after-ack work opens a modal, so it runs in the view lane (copbot.slack.lanes).
    `topic` places it in `/cop help` (Topic.LEAD: leads only).
    """

    name: str
    usage: str
    summary: str
    on_ack: AckStep
    after_ack: WorkStep | None = None
    listed: bool = True
    opens_view: bool = False
    topic: Topic = field(kw_only=True)


@dataclass(frozen=True)
class HelpEntry:
    """One line of `/cop help <topic>`: how to call it (or where to find it) and what it does."""

    usage: str
    summary: str


class CopRouter:
    """Routes `/cop NAME ...` to the subcommand a feature registered under NAME."""

    def __init__(self) -> None:
        self._subcommands: dict[str, Subcommand] = {}
        self._documented: list[tuple[Topic, HelpEntry]] = []  # commands besides /cop, shortcuts, tips

    def document(self, usage: str, summary: str, *, topic: Topic) -> None:
        """List something other than a `/cop` subcommand in `/cop help`: `/postmortem`, a shortcut."""
        self._documented.append((topic, HelpEntry(usage, summary)))

    def entries(self, topic: Topic) -> list[HelpEntry]:
        """What `/cop help <topic>` lists: other commands and shortcuts first, then subcommands."""
        return [entry for t, entry in self._documented if t == topic] + [
            HelpEntry(s.usage, s.summary) for s in self.listed if s.topic == topic
        ]

    def topic_for(self, word: str) -> Topic | None:
        """The help topic a word names: a topic, an alias, or a subcommand (`/cop help schedule`)."""
        word = word.strip().lower().removeprefix("/cop ").lstrip("/")
        if word in set(Topic):
            return Topic(word)
        if word in TOPIC_ALIASES:
            return TOPIC_ALIASES[word]
        found = self.find(word)
        if found is not None and found.listed:
            return found.topic
        documented = [t for t, entry in self._documented if entry.usage.lstrip("/").startswith(word)]
        return documented[0] if word and documented else None

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
