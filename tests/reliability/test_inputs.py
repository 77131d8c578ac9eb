"""Hostile and oversized input through every door: answered where it was typed, in time, and never a
traceback or a half-stored row. A seeded fuzzer covers every command, button, modal, type-ahead,
shortcut and event copbot listens to."""

from __future__ import annotations

import importlib
import json
import logging
import random
import time
from collections.abc import Callable
from enum import StrEnum
from urllib.parse import urlencode

import httpx
import pytest
from sqlalchemy import Engine

from copbot.communities import ids as community_ids
from copbot.reviews import ids as review_ids
from copbot.slack.limits import COMMAND_TEXT_MAX, FIELD_MAX
from tests.conftest import SIGNING_SECRET, ServerThread
from tests.fakes.slack_api import FakeSlack
from tests.fakes.slack_client import (
    FORM,
    SlackSender,
    block_suggestion_payload,
    external,
    message_shortcut_payload,
    plain,
    view_shape,
)
from tests.reliability.conftest import ACK_LIMIT, Acks
from tests.reliability.helpers import make_community

ID_MODULES = [
    importlib.import_module(f"copbot.{name}.ids")
    for name in ("slack", "communities", "health", "people", "recognition", "reviews", "rituals")
]
SEED = 1313
REQUESTS = 160
HUGE = "x" * 50_000


def _unexpected(caplog: pytest.LogCaptureFixture) -> list[str]:
    """Errors copbot logged with a traceback (an "unexpected error"), or tracebacks anyone logged."""
    return [
        r.getMessage()
        for r in caplog.records
        if r.levelno >= logging.ERROR and (r.exc_info or "Traceback" in r.getMessage())
    ]


def test_oversized_input_is_answered_where_it_was_typed(
    server: ServerThread, slack: SlackSender, engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    make_community(engine)
    started = time.monotonic()
    for action_id, block_id in (
        (review_ids.ReviewField.RELATED, "related"),
        (community_ids.Action.TIMEZONE, "timezone"),
    ):
        answer = slack.block_suggestion(action_id, HUGE, block_id=block_id)
        assert answer.status_code == 200 and "options" in answer.json()
    searched = slack.command("/cop", "search " + HUGE).json()
    assert searched["response_type"] == "ephemeral" and f"{COMMAND_TEXT_MAX:,}" in searched["text"]
    values = {
        "name": {"name_input": plain(HUGE)},
        "purpose": {"purpose_input": plain("ok")},
        "timezone": {"timezone_select": external("UTC")},
    }
    modal = slack.view_submission("community_setup", values, private_metadata='{"channel_id": "C5"}').json()
    assert modal["response_action"] == "errors" and f"{FIELD_MAX:,}" in modal["errors"]["name"]
    assert time.monotonic() - started < 4 * ACK_LIMIT
    assert _unexpected(caplog) == []


@pytest.mark.parametrize("duplicated", ["command", "text", "team_id", "payload"])
def test_a_form_body_with_a_duplicated_key_gets_an_answer_not_a_traceback(
    server: ServerThread, slack: SlackSender, caplog: pytest.LogCaptureFixture, duplicated: str
) -> None:
    if duplicated == "payload":
        pairs = [("payload", json.dumps({"type": "block_actions", "actions": []})), ("payload", "{")]
    else:
        fields = dict(_parse(slack.command_body("/cop", "help")))
        pairs = [*fields.items(), (duplicated, "/other" if duplicated == "command" else "T2")]
    answer = slack.post_signed(urlencode(pairs).encode(), FORM)
    assert answer.status_code in (200, 400, 404)
    assert _unexpected(caplog) == []


def _parse(body: bytes) -> list[tuple[str, str]]:
    from urllib.parse import parse_qsl

    return parse_qsl(body.decode(), keep_blank_values=True)


# -- the fuzzer -------------------------------------------------------------------------------------


def _values(kind: type[StrEnum]) -> list[str]:
    return [member.value for member in kind]


def _enums(suffixes: tuple[str, ...]) -> list[str]:
    found: list[str] = []
    kinds = [(name, getattr(module, name)) for module in ID_MODULES for name in dir(module)]
    for name, kind in kinds:
        is_ids = isinstance(kind, type) and issubclass(kind, StrEnum) and kind is not StrEnum
        if is_ids and name.endswith(suffixes):
            found.extend(_values(kind))
    return found


SUBCOMMANDS = [
    *("help", "join", "leave", "setup", "roles", "role", "mentor", "facilitate", "team", "team-field"),
    *("ask", "forget-me", "retention", "search", "playbook", "review-settings", "values", "recognition"),
    *("digest", "schedule", "rotation", "away", "stats", "export"),
]
EVENTS = [
    *("app_mention", "member_joined_channel", "reaction_added", "app_home_opened", "message"),
    "emoji_changed",
]


class Fuzzer:
    """Seeded hostile requests over every door."""

    def __init__(self, slack: SlackSender, seed: int):
        self.slack, self.rng = slack, random.Random(seed)
        self.actions = _enums(("Action",))
        self.views = _enums(("View",))
        self.blocks = _enums(("Block", "Field"))
        self.shortcuts = _enums(("Shortcut",))
        self.commands = _enums(("Command",))

    def text(self) -> str:
        pick = self.rng.randrange(10)
        words = [
            "<@U0001|bob>",
            "<#C1|general>",
            "2027-02-30",
            "-1",
            "9" * 30,
            "'; DROP TABLE communities; --",
            "%_%",
            "\\",
            "ünïcödé 🎉",
            "\x00",
            "<!channel>",
            "*bold*",
            "null",
            "{}",
            "[]",
        ]
        if pick == 0:
            return ""
        if pick == 1:
            return self.rng.choice(words) * self.rng.randrange(1, 4000)
        return " ".join(self.rng.choice(words + SUBCOMMANDS) for _ in range(self.rng.randrange(1, 6)))

    def person(self) -> Callable[[], httpx.Response]:
        """What a person can send through Slack: any text in commands, fields, type-ahead; shortcuts on any
        message; events."""
        return getattr(self, self.rng.choice(["command", "typed", "suggest", "shortcut", "event"]))()

    def forged(self) -> Callable[[], httpx.Response]:
        """What only a forger sends: button values, metadata and ids copbot never made; broken bodies."""
        return getattr(self, self.rng.choice(["action", "view", "malformed"]))()

    def command(self) -> Callable[[], httpx.Response]:
        command = self.rng.choice(self.commands)
        text = f"{self.rng.choice(SUBCOMMANDS)} {self.text()}" if command == "/cop" else self.text()
        channel, user = self.rng.choice(["C1", "C2", "D1"]), self.user()
        return lambda: self.slack.command(command, text, channel_id=channel, user_id=user)

    def user(self) -> str:
        return self.rng.choice(["U1", "U0002", "U0003", "W0004", "USLACKBOT"])

    def action(self) -> Callable[[], httpx.Response]:
        action_id, value, user = self.rng.choice(self.actions), self.text(), self.user()
        view = None
        if self.rng.random() < 0.3:
            view = view_shape(self.rng.choice(self.views), private_metadata=self.text())
        return lambda: self.slack.block_action(action_id, value=value, user_id=user, view=view)

    def view(self) -> Callable[[], httpx.Response]:
        values = {
            self.rng.choice(self.blocks): {self.rng.choice(self.actions): self.state_value()}
            for _ in range(self.rng.randrange(0, 6))
        }
        callback = self.rng.choice(self.views)
        metadata = self.rng.choice(["", '{"channel_id": "C1"}', self.text()])
        user = self.user()
        return lambda: self.slack.view_submission(callback, values, private_metadata=metadata, user_id=user)

    def typed(self) -> Callable[[], httpx.Response]:
        """The set-up modal as Slack sends it, with anything typed into its fields."""
        values = {
            "name": {"name_input": plain(self.text()[:3500])},
            "purpose": {"purpose_input": plain(self.text())},
            "timezone": {"timezone_select": external(self.rng.choice(["UTC", self.text()[:60]]))},
        }
        channel, user = self.rng.choice(["C1", "C2"]), self.user()
        metadata = json.dumps({"channel_id": channel})
        submit = self.slack.view_submission
        return lambda: submit("community_setup", values, private_metadata=metadata, user_id=user)

    def state_value(self) -> dict:
        shapes = [
            {"type": "plain_text_input", "value": self.text()},
            {"type": "static_select", "selected_option": {"value": self.text()}},
            {"type": "multi_users_select", "selected_users": [self.user(), self.text()[:20]]},
            {"type": "datepicker", "selected_date": self.rng.choice(["2027-02-30", "x", None, "2027-01-01"])},
            {"type": "timepicker", "selected_time": self.rng.choice(["25:61", "09:00", None])},
            {"type": "checkboxes", "selected_options": [{"value": self.text()}]},
            {"type": "number_input", "value": self.text()},
        ]
        return self.rng.choice(shapes)

    def suggest(self) -> Callable[[], httpx.Response]:
        action_id, block_id = self.rng.choice(self.actions), self.rng.choice(self.blocks)
        payload = block_suggestion_payload(action_id, self.text(), block_id=block_id)
        return lambda: self.slack.interaction(payload)

    def shortcut(self) -> Callable[[], httpx.Response]:
        message = {"ts": "1.1", "text": self.text()}
        payload = message_shortcut_payload(self.rng.choice(self.shortcuts), message=message)
        return lambda: self.slack.interaction(payload)

    def event(self) -> Callable[[], httpx.Response]:
        event = {
            "type": self.rng.choice(EVENTS),
            "user": self.user(),
            "channel": self.rng.choice(["C1", "C2"]),
            "text": self.text(),
            "reaction": self.rng.choice(["bulb", self.text()[:50]]),
            "item": self.rng.choice([{"type": "message", "channel": "C1", "ts": "1.1"}, {}, None]),
            "tab": self.rng.choice(["home", "messages"]),
        }
        return lambda: self.slack.event(event)

    def malformed(self) -> Callable[[], httpx.Response]:
        bodies = [
            b"payload=%7B",
            urlencode({"payload": json.dumps({"type": self.rng.choice(["view_submission", "x"])})}).encode(),
            urlencode([("command", "/cop"), ("command", "/nominate"), ("text", self.text()[:500])]).encode(),
            b"",
            b"\xff\xfe",
        ]
        body = self.rng.choice(bodies)
        return lambda: self.slack.post_signed(body, FORM)


def test_seeded_fuzzer_over_every_door(
    server: ServerThread,
    fake_slack: FakeSlack,
    engine: Engine,
    caplog: pytest.LogCaptureFixture,
    figures: Callable[..., None],
) -> None:
    make_community(engine)
    slack = SlackSender(server.url, SIGNING_SECRET, response_base=fake_slack.response_url(""))
    fuzzer = Fuzzer(slack, SEED)
    person = _fuzz([fuzzer.person() for _ in range(REQUESTS)])
    person_tracebacks = _unexpected(caplog)
    caplog.clear()
    forged = _fuzz([fuzzer.forged() for _ in range(REQUESTS // 2)])
    forged_tracebacks = _unexpected(caplog)
    figures(
        seed=SEED,
        requests=len(person.responses) + len(forged.responses),
        answered_200=len(person.ok) + len(forged.ok),
        refused_4xx=_count(person, forged, where=lambda s: 400 <= s < 500),
        busy_503=_count(person, forged, where=lambda s: s == 503),
        server_errors=_count(person, forged, where=lambda s: s >= 500 and s != 503),
        tracebacks_person=len(person_tracebacks),
        tracebacks_forged=len(forged_tracebacks),
        slowest_ack=max(person.slowest, forged.slowest),
    )
    assert _count(person, forged, where=lambda s: s >= 500 and s != 503) == 0  # 503: "try again", for events
    assert max(person.slowest, forged.slowest) < ACK_LIMIT
    assert person_tracebacks == [], person_tracebacks[:3]
    assert forged_tracebacks == [], forged_tracebacks[:3]  # a forged value is bad input, not a bug


def _fuzz(calls: list[Callable[[], httpx.Response]]) -> Acks:
    acks = Acks().send(calls, threads=4)
    time.sleep(1.0)  # work after the ack (lazy listeners) shows its errors too
    return acks


def _count(*runs: Acks, where: Callable[[int], bool]) -> int:
    """Answers across runs whose status matches (a dropped connection counts as 599)."""
    responses = [r for run in runs for r in run.responses]
    statuses = [r.status_code if isinstance(r, httpx.Response) else 599 for r in responses]
    return sum(1 for status in statuses if where(status))
