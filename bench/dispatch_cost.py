"""In-process cost of `app.dispatch` for copbot's hot requests, without HTTP or a load generator.

    python bench/dispatch_cost.py [--requests 500] [--database-url URL]

Signs `/cop help`, `/cop join` and `community_setup` submissions as Slack does and hands them to the
Bolt app directly, so the figures are copbot's own work per request (signature check, matching,
handler, SQL, Block Kit). A bare Bolt app that only acks is measured in the same run for the ratio.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from slack_bolt import App, BoltRequest  # noqa: E402
from slack_sdk import WebClient  # noqa: E402

from copbot import migrate  # noqa: E402
from copbot.config import Settings  # noqa: E402
from copbot.runtime import Runtime  # noqa: E402
from tests.fakes.slack_api import FakeSlack  # noqa: E402
from tests.fakes.slack_client import SlackSender, external, plain, view_submission_payload  # noqa: E402

SECRET = "bench-secret"
SETUP = {
    "name": {"name_input": plain("Bench Guild")},
    "purpose": {"purpose_input": plain("Measure how fast copbot answers Slack.")},
    "timezone": {"timezone_select": external("Europe/Berlin")},
}


def _request(signer: SlackSender, body: bytes) -> BoltRequest:
    headers = {k.lower(): v for k, v in signer.sign(body, int(time.time())).items()}
    headers["content-type"] = "application/x-www-form-urlencoded"
    return BoltRequest(body=body.decode(), headers=headers)


def _command(signer: SlackSender, text: str, n: int) -> BoltRequest:
    return _request(signer, signer.command_body("/cop", text, user_id=f"U{n % 300}", channel_id="CBENCH"))


def _submission(signer: SlackSender, n: int) -> BoltRequest:
    payload = view_submission_payload(
        "community_setup", SETUP, private_metadata=json.dumps({"channel_id": f"C{n}"})
    )
    return _request(signer, urlencode({"payload": json.dumps(payload)}).encode())


def _per_request_ms(app: App, make: Callable[[int], BoltRequest], count: int) -> float:
    requests = [make(n) for n in range(count + 50)]
    for request in requests[:50]:  # warm up
        app.dispatch(request)
    started = time.perf_counter()
    for request in requests[50:]:
        app.dispatch(request)
    return (time.perf_counter() - started) / count * 1000


def main() -> None:
    """Print the per-request dispatch cost of copbot and of a bare app."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--database-url", default=f"sqlite:///{tempfile.mkdtemp()}/dispatch.db")
    args = parser.parse_args()
    fake = FakeSlack()
    fake.start()
    migrate.upgrade(args.database_url)
    settings = Settings(
        _env_file=None,
        slack_bot_token="xoxb-bench",
        slack_signing_secret=SECRET,
        slack_api_url=fake.url,
        database_url=args.database_url,
    )
    copbot = Runtime(settings).app
    bare = App(
        token="xoxb-bench",
        signing_secret=SECRET,
        client=WebClient(token="xoxb-bench", base_url=fake.url),
        process_before_response=True,
    )
    bare.command("/cop")(lambda ack: ack())
    bare.view("community_setup")(lambda ack: ack())
    signer = SlackSender("http://unused", SECRET)
    copbot.dispatch(_submission(signer, -1))  # the community /cop join joins
    copbot.dispatch(
        _request(
            signer,
            urlencode(
                {
                    "payload": json.dumps(
                        view_submission_payload(
                            "community_setup", SETUP, private_metadata=json.dumps({"channel_id": "CBENCH"})
                        )
                    )
                }
            ).encode(),
        )
    )
    cases = {
        "/cop help": lambda n: _command(signer, "help", n),
        "/cop join": lambda n: _command(signer, "join", n),
        "modal submission": lambda n: _submission(signer, n),
    }
    print(f"dispatch cost per request, {args.requests} requests, {args.database_url.split(':')[0]}")
    for name, make in cases.items():
        mine, base = _per_request_ms(copbot, make, args.requests), _per_request_ms(bare, make, args.requests)
        print(f"  {name:<18} copbot {mine:6.3f} ms   bare {base:6.3f} ms   ratio {mine / base:5.1f}")
    fake.stop()


if __name__ == "__main__":
    main()
