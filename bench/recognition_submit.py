"""Nomination submission ack latency: nominees known to the cache against nominees looked up in the ack.

    python bench/recognition_submit.py [--submissions 150]

copbot's real HTTP server (uvicorn) on SQLite, the fake Slack Web API on loopback. Each submission is
a valid nomination, validated and stored with its DMs and channel post before the ack. "warm": the
nominee's users.info answer is in `recognition_user_facts` (the modal's open or its nominee picker
put it there); "cold": a new nominee each time, so the ack calls users.info (1 s timeout). A plain
`/cop join` (one write before the ack) is measured in the same run as the baseline. Figures: p50/p95
in ms and the cold/warm p95 ratio. The fake answers users.info over loopback in about a millisecond;
real Slack adds its round trip (typically tens of ms) to the cold figure only.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "src"))

from copbot import migrate  # noqa: E402
from copbot.config import Settings  # noqa: E402
from copbot.runtime import Runtime  # noqa: E402
from tests.conftest import ServerThread  # noqa: E402
from tests.fakes.slack_api import FakeSlack  # noqa: E402
from tests.fakes.slack_client import SlackSender, external, plain, radio, static, users  # noqa: E402

SECRET = "bench-secret"


def nomination(nominee: str) -> dict:
    return {
        "recognition_nominees": {"recognition_nominees": users([nominee])},
        "recognition_value": {"recognition_value": static("Mentoring")},
        "recognition_action": {"recognition_action": plain("Paired with me for an hour on the flaky deploy")},
        "recognition_impact": {"recognition_impact": plain("We shipped on Friday instead of next week")},
        "recognition_visibility": {"recognition_visibility": radio("public")},
    }


def timed(count: int, send: Callable[[int], object]) -> list[float]:
    out = []
    for i in range(count):
        started = time.perf_counter()
        send(i)
        out.append((time.perf_counter() - started) * 1000)
    return sorted(out)


def p95(values: list[float]) -> float:
    return values[int(len(values) * 0.95) - 1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--submissions", type=int, default=150)
    args = parser.parse_args()
    fake = FakeSlack().start()
    url = f"sqlite:///{tempfile.mkdtemp(prefix='recog-submit-')}/bench.db"
    migrate.upgrade(url)
    settings = Settings(
        _env_file=None,
        slack_bot_token="xoxb-bench",
        slack_signing_secret=SECRET,
        slack_api_url=fake.url,
        database_url=url,
    )
    runtime = Runtime(settings)
    server = ServerThread(runtime)
    server.start()
    slack = SlackSender(server.url, SECRET)
    setup = {
        "name": {"name_input": plain("Bench Guild")},
        "purpose": {"purpose_input": plain("Measure how fast nominations are acked.")},
        "learning_goals": {"learning_goals_input": plain("")},
        "boundaries": {"boundaries_input": plain("")},
        "norms": {"norms_input": plain("")},
        "timezone": {"timezone_select": external("Europe/Berlin")},
    }
    slack.view_submission("community_setup", setup, private_metadata=json.dumps({"channel_id": "C1"}))
    meta = json.dumps({"community_id": 1})

    def submit(nominee: str, nominator: str) -> None:
        reply = slack.view_submission(
            "recognition_nominate", nomination(nominee), user_id=nominator, private_metadata=meta
        )
        assert reply.json().get("response_action") == "update", reply.text

    submit("U2", "UWARMUP")  # puts U2 in the cache
    n = args.submissions
    join = timed(n, lambda i: slack.command("/cop", "join", user_id=f"UJ{i}"))
    warm = timed(n, lambda i: submit("U2", f"UW{i}"))
    cold = timed(n, lambda i: submit(f"UC{i}", f"UK{i}"))
    print("| submission | p50 (ms) | p95 (ms) |")
    print("| --- | --- | --- |")
    for name, values in (
        ("`/cop join` (baseline)", join),
        ("nominee in the cache", warm),
        ("users.info in the ack", cold),
    ):
        print(f"| {name} | {statistics.median(values):.1f} | {p95(values):.1f} |")
    lookups = len(fake.calls_to("users.info"))
    print(f"\ncold / warm p95: {p95(cold) / p95(warm):.2f}x; users.info calls: {lookups}")
    server.stop()
    runtime.app.listener_runner.listener_executor.shutdown(wait=True)
    fake.stop()


if __name__ == "__main__":
    main()
