"""`copbot serve --socket-mode` as operators run it: a real process, a real database, and Slack faked on
loopback twice over: the Web API (``apps.connections.open`` and the rest) and the Socket Mode WebSocket."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from copbot import migrate
from copbot.db import create_db_engine
from copbot.inbox.models import ProcessedEvent
from tests.conftest import BOT_TOKEN, _postgres_database
from tests.fakes.slack_api import FakeSlack
from tests.fakes.slack_client import (
    APP_ID,
    event_envelope,
    external,
    fresh_event_id,
    fresh_trigger_id,
    plain,
    view_submission_payload,
)
from tests.fakes.socket_mode import FakeSocketMode

pytestmark = pytest.mark.e2e

APP_TOKEN = "xapp-1-A1-1-socket-mode-test-token"
START_TIMEOUT = 180.0  # a fresh database is migrated first (in a child process); shared CI machines are slow
STEP = 0.1


def _env(database_url: str, fake_slack: FakeSlack, **extra: str) -> dict[str, str]:
    """A clean environment: no signing secret, as a Socket Mode deployment has none."""
    return {
        "PATH": os.environ["PATH"],
        "HOME": os.environ.get("HOME", "/tmp"),
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_APP_TOKEN": APP_TOKEN,
        "SLACK_API_URL": fake_slack.url,
        "DATABASE_URL": database_url,
        "COPBOT_LEADER_CHECK_SECONDS": "0.3",
        **extra,
    }


class SocketModeServe:
    """A `copbot serve --socket-mode` process; its output goes to a file (a pipe could fill up)."""

    def __init__(self, env: dict[str, str], cwd: Path):
        self.log_path = cwd / "copbot-serve.log"
        self._log: TextIO = self.log_path.open("w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "copbot", "serve", "--socket-mode"],
            env=env,
            cwd=cwd,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    def output(self) -> str:
        """Everything the process wrote so far."""
        return self.log_path.read_text(errors="replace")

    def wait_until(self, check: Callable[[float], Any], timeout: float) -> Any:
        """Retry ``check(STEP)`` until it stops raising AssertionError; fail at once if copbot exits."""
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                raise AssertionError(f"copbot exited with {self.process.returncode}:\n{self.output()}")
            try:
                return check(STEP)
            except AssertionError as error:
                if time.monotonic() > deadline:
                    raise AssertionError(f"{error}\ncopbot output:\n{self.output()}") from None

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 90) -> int:  # shared CI machines are slow
        """Signal the process, wait for it (kill it if it hangs), return its exit code."""
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()
        return self.process.returncode


@dataclass
class Bot:
    """One running copbot and the fakes it talks to."""

    serve: SocketModeServe
    slack: FakeSlack
    socket: FakeSocketMode
    engine: Engine

    def ack(self, type: str, payload: dict[str, Any], **extra: Any) -> dict[str, Any]:
        """Push an envelope and return copbot's acknowledgement."""
        return _ack(self.serve, self.socket, type, payload, **extra)


def _ack(
    serve: SocketModeServe, socket: FakeSocketMode, type: str, payload: dict[str, Any], **extra: Any
) -> dict[str, Any]:
    envelope_id = socket.send_envelope(type, payload, **extra)
    return serve.wait_until(lambda step: socket.wait_ack(envelope_id, step), timeout=10)


def _start(database_url: str, slack: FakeSlack, socket: FakeSocketMode, cwd: Path) -> SocketModeServe:
    slack.socket_mode_url = socket.url
    serve = SocketModeServe(_env(database_url, slack), cwd)
    try:
        serve.wait_until(lambda step: socket.wait_connected(step), START_TIMEOUT)
    except BaseException:
        serve.stop(signal.SIGKILL)
        raise
    return serve


@pytest.fixture(scope="module")
def socket_database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """An empty database of the kind the suite runs on; `copbot serve` migrates it."""
    configured = os.environ.get("COPBOT_TEST_DATABASE_URL")
    if configured:
        yield from _postgres_database(configured)
    else:
        yield f"sqlite:///{tmp_path_factory.mktemp('socket-mode')}/copbot.db"


@pytest.fixture(scope="module")
def socket_engine(socket_database: str) -> Iterator[Engine]:
    """An engine for looking at the rows copbot writes."""
    engine = create_db_engine(socket_database)
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def bot(
    socket_database: str, socket_engine: Engine, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Bot]:
    """copbot connected over Socket Mode, shared by the module's tests (one process start, one migration)."""
    with FakeSlack() as slack, FakeSocketMode() as socket:
        serve = _start(socket_database, slack, socket, tmp_path_factory.mktemp("socket-mode-cwd"))
        try:
            yield Bot(serve, slack, socket, socket_engine)
        finally:
            serve.stop()


@pytest.fixture
def own_database(socket_database: str, tmp_path: Path) -> str:
    """A database for a process of its own: a fresh SQLite file (SQLite serves one process at a time), or
    the module's PostgreSQL database (replicas share it)."""
    if socket_database.startswith("sqlite"):
        return f"sqlite:///{tmp_path}/own.db"
    return socket_database


def _command_payload(text: str, *, channel_id: str = "C1") -> dict[str, Any]:
    """A slash command as Socket Mode delivers it: the form fields as a JSON object."""
    return {
        "token": "legacy-verification-token",
        "team_id": "T1",
        "team_domain": "team-t1",
        "channel_id": channel_id,
        "channel_name": channel_id.lower(),
        "user_id": "U1",
        "user_name": "u1",
        "command": "/cop",
        "text": text,
        "api_app_id": APP_ID,
        "is_enterprise_install": "false",
        "response_url": "https://hooks.slack.com/commands/T1/1/unused",
        "trigger_id": fresh_trigger_id(),
    }


def _events(engine: Engine, event_id: str) -> list[ProcessedEvent]:
    with Session(engine) as session:
        return list(session.scalars(select(ProcessedEvent).where(ProcessedEvent.event_id == event_id)))


def _assert_processed(engine: Engine, event_id: str) -> None:
    (row,) = _events(engine, event_id)
    if row.processed_at is None:
        time.sleep(STEP)
        raise AssertionError(f"event {event_id} is not marked processed")


# --------------------------------------------------------------------------- one shared process


def test_connects_with_the_app_token_after_migrating(bot: Bot) -> None:
    opens = bot.slack.calls_to("apps.connections.open")
    assert opens and {call.token for call in opens} == {APP_TOKEN}
    assert all(call.token != APP_TOKEN for call in bot.slack.calls if call.method != "apps.connections.open")
    assert bot.socket.paths[0].startswith("/link")
    assert migrate.current_revision(bot.engine) == migrate.head_revision()


def test_slash_command_ack_carries_the_ephemeral_help(bot: Bot) -> None:
    ack = bot.ack("slash_commands", _command_payload("help"))
    reply = ack["payload"]
    assert reply["response_type"] == "ephemeral"
    listed = json.dumps(reply["blocks"])
    assert "/cop setup" in listed and "/cop help" in listed


def test_event_is_acked_and_recorded_once(bot: Bot) -> None:
    event_id = fresh_event_id()
    body = event_envelope({"type": "emoji_changed", "subtype": "add", "name": "cop"}, event_id=event_id)
    first = bot.ack("events_api", body, accepts_response_payload=False)
    assert first["envelope_id"] and not first.get("payload")
    (row,) = _events(bot.engine, event_id)  # recorded before the ack
    assert (row.team_id, row.event_type) == ("T1", "emoji_changed")

    again = bot.ack(
        "events_api", body, accepts_response_payload=False, retry_attempt=1, retry_reason="timeout"
    )
    assert again["envelope_id"] != first["envelope_id"] and not again.get("payload")
    assert len(_events(bot.engine, event_id)) == 1
    bot.serve.wait_until(lambda step: _assert_processed(bot.engine, event_id), timeout=10)


def test_view_submission_is_answered_and_the_worker_delivers(bot: Bot) -> None:
    values = {
        "name": {"name_input": plain("Socket Guild")},
        "purpose": {"purpose_input": plain("Prove Socket Mode works end to end.")},
        "timezone": {"timezone_select": external("Europe/Berlin")},
    }
    payload = view_submission_payload(
        "community_setup", values, private_metadata=json.dumps({"channel_id": "C77"})
    )
    ack = bot.ack("interactive", payload)
    assert ack["payload"]["response_action"] == "update"
    post = bot.slack.wait_for_call(
        lambda call: call.method == "chat.postMessage" and call.params.get("channel") == "C77", timeout=15
    )
    assert "Socket Guild" in post.params["text"] and post.token == BOT_TOKEN


def test_reconnects_when_slack_sends_disconnect(bot: Bot) -> None:
    connections = bot.socket.connection_count
    opens = len(bot.slack.calls_to("apps.connections.open"))
    bot.socket.send_disconnect("refresh_requested")
    bot.serve.wait_until(lambda step: bot.socket.wait_connected(step, count=connections + 1), 15)
    assert len(bot.slack.calls_to("apps.connections.open")) == opens + 1
    ack = bot.ack("slash_commands", _command_payload("help"))  # on the new connection
    assert ack["payload"]["response_type"] == "ephemeral"
    bot.serve.wait_until(lambda step: bot.socket.wait_open(1, step), 15)  # the old one is closed


# --------------------------------------------------------------------------- processes of their own


def test_sigterm_closes_the_connection_and_exits_0(
    own_database: str, fake_slack: FakeSlack, tmp_path: Path
) -> None:
    with FakeSocketMode() as socket:
        serve = _start(own_database, fake_slack, socket, tmp_path)
        # One round trip first: copbot installs its signal handlers only after connect() returns (see below).
        ack = _ack(serve, socket, "slash_commands", _command_payload("help"))
        assert ack["payload"]["response_type"] == "ephemeral"
        code = serve.stop(signal.SIGTERM)
        output = serve.output()
        socket.wait_open(0, timeout=5)
    assert code == 0, output
    assert APP_TOKEN not in output and BOT_TOKEN not in output


def test_sigterm_while_connecting_still_exits_0(
    own_database: str, fake_slack: FakeSlack, tmp_path: Path
) -> None:
    fake_slack.fail_next("apps.connections.open", status=429, retry_after=1)  # the SDK sleeps, then retries
    with FakeSocketMode() as socket:
        fake_slack.socket_mode_url = socket.url
        serve = SocketModeServe(_env(own_database, fake_slack), tmp_path)
        try:
            serve.wait_until(lambda step: fake_slack.wait_for("apps.connections.open", timeout=step), 180)
        finally:
            code = serve.stop(signal.SIGTERM)
    assert code == 0, serve.output()


def test_missing_app_token_exits_2_naming_it(
    socket_database: str, fake_slack: FakeSlack, tmp_path: Path
) -> None:
    env = _env(socket_database, fake_slack)
    del env["SLACK_APP_TOKEN"]
    result = subprocess.run(
        [sys.executable, "-m", "copbot", "serve", "--socket-mode"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stdout == ""
    (line,) = result.stderr.splitlines()
    assert "SLACK_APP_TOKEN" in line
    assert fake_slack.calls == []  # it stopped before reaching Slack


def test_rejected_app_token_exits_2_with_one_line(
    own_database: str, fake_slack: FakeSlack, tmp_path: Path
) -> None:
    fake_slack.fail_next("apps.connections.open", error="invalid_auth")
    result = subprocess.run(
        [sys.executable, "-m", "copbot", "serve", "--socket-mode"],
        env=_env(own_database, fake_slack),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=180,  # it migrates (a child process) before it connects; shared CI machines are slow
    )
    assert result.returncode == 2
    assert (
        result.stderr.strip().splitlines()[-1] == "copbot: SLACK_APP_TOKEN: Slack refused it (invalid_auth)"
    )
    assert "Traceback" not in result.stderr
