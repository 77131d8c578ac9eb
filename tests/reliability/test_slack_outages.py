"""Slack fails in every way it can while posts are owed: nothing is lost, nothing is posted twice."""

from __future__ import annotations

import time
from collections.abc import Callable

from sqlalchemy import Engine

from copbot.outbox.models import OutboxMessage
from copbot.outbox.sender import SenderLoop
from copbot.runtime import Runtime
from tests.conftest import ServerThread
from tests.fakes.slack_api import FakeSlack
from tests.fakes.slack_client import SlackSender
from tests.processes import wait_for
from tests.reliability.conftest import ACK_LIMIT, Acks
from tests.reliability.helpers import count, owed, posted_keys, setup_request, stored_answers

CHANNELS = [f"C{n:03d}" for n in range(24)]


def test_outage_of_every_kind_loses_and_doubles_nothing(
    runtime: Runtime,
    server: ServerThread,
    slack: SlackSender,
    fake_slack: FakeSlack,
    engine: Engine,
    acks: Acks,
    figures: Callable[..., None],
) -> None:
    acks.send([setup_request(slack, channel) for channel in CHANNELS], threads=6)
    acked = stored_answers(acks.responses)  # the rest answered "try again" (a loaded machine)
    assert len(acks.ok) == len(CHANNELS) and acks.slowest < ACK_LIMIT
    assert acked >= len(CHANNELS) // 2
    # Slack, for the posts now owed: 5xx, 429, answers lost after posting, requests lost, posts that
    # show up after the client gave up (the answer never comes), and plain slowness.
    fake_slack.fail_next("chat.postMessage", status=503, times=3)
    fake_slack.fail_next("chat.postMessage", status=429, retry_after=1, times=2)
    fake_slack.fail_next("chat.postMessage", drop=True, apply=True, times=3)  # posted, answer lost
    fake_slack.fail_next("chat.postMessage", drop=True, times=3)  # lost on the way: never posted
    fake_slack.post_late(1.2, hold=0.8, times=3)  # times out at 0.5 s; shows up 1.2 s later
    fake_slack.delays["conversations.history"] = 0.2
    loop = SenderLoop(runtime.sender, runtime.deps.outbox, idle_seconds=0.05)
    started = time.monotonic()
    loop.start()
    try:
        drained = wait_for(lambda: owed(engine) == 0, timeout=60, step=0.1)
    finally:
        loop.stop()
    time.sleep(1.5)  # a late post still in flight would show up now
    keys = posted_keys(fake_slack, CHANNELS)
    doubled = sum(n - 1 for n in keys.values() if n > 1)
    figures(
        acked=acked,
        stored=count(engine, OutboxMessage),
        posted=len(keys),
        doubled=doubled,
        post_calls=len(fake_slack.calls_to("chat.postMessage")),
        lookups=len(fake_slack.calls_to("conversations.history")),
        seconds_to_drain=drained,
        slowest_ack=acks.slowest,
    )
    assert time.monotonic() - started < 60
    assert len(keys) == acked == count(engine, OutboxMessage) and doubled == 0
