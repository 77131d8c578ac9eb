"""After-ack lanes: modals never wait behind other work, lanes are bounded, refused acks start nothing.

These drive a real Bolt App (internal requests, no signature) with copbot's lane runner, authorised
against the fake Slack.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from slack_bolt import Ack, App, BoltContext, BoltRequest
from slack_sdk import WebClient

from copbot.slack.lanes import Lane, LaneRunner, opens_view, refuse_after_ack
from tests.fakes.slack_api import FakeSlack


def _command(name: str, text: str = "") -> BoltRequest:
    body = {
        "command": name,
        "text": text,
        "team_id": "T1",
        "user_id": "U1",
        "channel_id": "C1",
        "trigger_id": "trig",
        "response_url": "http://127.0.0.1:9/response",
    }
    return BoltRequest(body=body, mode="socket_mode")


class Board:
    """What the lazy listeners did, and a gate that holds the background work."""

    def __init__(self) -> None:
        self.gate = threading.Event()
        self.ran: list[tuple[str, str]] = []  # (what, thread name)
        self.view_done = threading.Event()
        self.lock = threading.Lock()

    def note(self, what: str) -> None:
        with self.lock:
            self.ran.append((what, threading.current_thread().name))


@pytest.fixture
def lanes() -> Iterator[LaneRunner]:
    runner = LaneRunner(
        views=Lane("views", threads=2, limit=2), background=Lane("background", threads=1, limit=2)
    )
    yield runner
    runner.shutdown()


@pytest.fixture
def board() -> Iterator[Board]:
    board = Board()
    yield board
    board.gate.set()


@pytest.fixture
def app(lanes: LaneRunner, board: Board, fake_slack: FakeSlack) -> App:
    app = App(
        client=WebClient(token="xoxb-x", base_url=fake_slack.url),
        signing_secret="s",
        token_verification_enabled=False,
        request_verification_enabled=False,
        process_before_response=True,
        listener_executor=lanes.background.executor,
    )
    lanes.install(app)

    def slow_work(body: dict[str, Any]) -> None:
        board.gate.wait(10)
        board.note("slow")

    @opens_view
    def open_modal(body: dict[str, Any]) -> None:
        board.note("view")
        board.view_done.set()

    def refusing_ack(ack: Ack, context: BoltContext, body: dict[str, Any]) -> None:
        if body["text"] == "refuse":
            refuse_after_ack(context)
            ack(text="no")
            return
        ack()

    def refused_work(body: dict[str, Any]) -> None:
        board.note("refused-work")

    app.command("/slow")(ack=lambda ack: ack(), lazy=[slow_work])
    app.command("/modal")(ack=lambda ack: ack(), lazy=[open_modal])
    app.command("/maybe")(ack=refusing_ack, lazy=[refused_work])
    return app


def test_a_modal_opens_while_the_background_lane_is_busy(app: App, board: Board, lanes: LaneRunner) -> None:
    for _ in range(2):
        assert app.dispatch(_command("/slow")).status == 200
    assert lanes.background.held == 2
    assert app.dispatch(_command("/modal")).status == 200
    assert board.view_done.wait(5), "the modal waited behind background work"
    assert [what for what, _ in board.ran] == ["view"]
    assert board.ran[0][1].startswith("copbot-views")


def test_a_full_lane_runs_the_work_inline_and_loses_nothing(
    app: App, board: Board, lanes: LaneRunner
) -> None:
    for _ in range(2):  # the background lane's limit: one running, one waiting
        app.dispatch(_command("/slow"))
    caller = threading.current_thread().name
    done = threading.Thread(target=lambda: app.dispatch(_command("/slow")), name="request-thread")
    done.start()
    done.join(0.3)
    assert done.is_alive(), "the third piece of work should hold its own request (inline), not queue"
    assert lanes.background.overflowed == 1
    board.gate.set()
    done.join(5)
    lanes.background.shutdown()
    threads = [name for what, name in board.ran if what == "slow"]
    assert len(threads) == 3
    assert threads.count("request-thread") == 1 and caller not in threads


def test_work_the_ack_refused_is_not_started(app: App, board: Board, lanes: LaneRunner) -> None:
    response = app.dispatch(_command("/maybe", "refuse"))
    assert response.status == 200 and "no" in response.body
    app.dispatch(_command("/maybe", "fine"))
    lanes.shutdown()
    assert [what for what, _ in board.ran] == ["refused-work"]


def test_lanes_are_sized_from_the_thread_budget() -> None:
    runner = LaneRunner.sized(32)
    try:
        assert runner.views.executor._max_workers == 16
        assert runner.background.executor._max_workers == 8
    finally:
        runner.shutdown()
