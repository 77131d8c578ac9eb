"""CPU per request kind, in one process and one thread, with a profile of where it goes.

    python bench/kind_cost.py [--requests 200] [--database-url URL | --postgres SERVER_URL]
                              [--kinds "App Home,click (RSVP)"] [--profile N]

The same request kinds as `bench/people_wait.py` (the same scene: a community, a session series with its
reminder posted), signed as Slack signs them and handed to copbot's Bolt app directly (no HTTP). The
after-ack work runs inline on the same thread and the outbox is drained after each request, so the
thread's CPU time (`time.thread_time`) is everything copbot spends on the request: ack, after-ack work,
SQL, Block Kit and delivery. The fake Slack answers at once, in its own threads (not counted).
`--profile N` prints the N functions with the most cumulative time per kind (cProfile); with
`BY_TOTTIME=1` in the environment, the N with the most time of their own, whatever package they are in.
`--statements` prints, per kind, the SQL statements and commits one request makes, and lists them.
Each kind also prints its Web API calls and new TCP connections to the fake Slack per request.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import logging
import os
import pstats
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "tests" / "unit" / "rituals"))

from bench.people_wait import KINDS, SECRET, TOKEN, Scene, SlowSlack, prepare  # noqa: E402
from slack_bolt import App, BoltRequest  # noqa: E402

from copbot.config import Settings  # noqa: E402
from copbot.runtime import Runtime  # noqa: E402
from copbot.slack.lanes import Lane  # noqa: E402
from tests.databases import create_postgres_database  # noqa: E402
from tests.fakes.slack_api import FakeSlack  # noqa: E402
from tests.fakes.slack_client import SlackSender  # noqa: E402


class Direct(SlackSender):
    """Signs requests as Slack does and dispatches them into a Bolt app, in this thread."""

    def __init__(self, app: App, after: object = None):
        super().__init__("http://in-process", SECRET)
        self.app = app
        self.after = after

    def post_raw(self, body: bytes, headers: dict[str, str]) -> httpx.Response:
        """Dispatch, then run what the request left owed (the outbox)."""
        request = BoltRequest(body=body.decode(), headers={k.lower(): v for k, v in headers.items()})
        answer = self.app.dispatch(request)
        if callable(self.after):
            self.after()
        return httpx.Response(answer.status, content=(answer.body or "").encode())


def inline_lanes(runtime: Runtime) -> None:
    """Run after-ack work on the request's thread (so one thread's CPU is the whole request)."""
    Lane.try_run = lambda self, work: False  # type: ignore[method-assign]
    logging.getLogger("copbot.slack.lanes").setLevel(logging.ERROR)


def measure(
    sender: Direct, name: str, scene: Scene, requests: int, profile: int, slack: FakeSlack
) -> tuple[float, float, float]:
    """CPU ms, Web API calls and new TCP connections to Slack per request of one kind, after a warm-up;
    print its profile when asked."""
    send = KINDS[name]
    scene.run = f"9{time.monotonic_ns() % 10**6:06d}"
    for n in range(20):
        send(sender, n, scene)
    scene.run = f"{time.monotonic_ns() % 10**6:06d}"
    profiler = cProfile.Profile() if profile else None
    calls, connections = len(slack.calls), slack.connections_accepted
    started = time.thread_time()
    if profiler:
        profiler.enable()
    for n in range(requests):
        response = send(sender, n, scene)
        assert response.status_code == 200, (name, response.status_code, response.text)
    if profiler:
        profiler.disable()
    used = (time.thread_time() - started) * 1000 / requests
    calls = (len(slack.calls) - calls) / requests
    connections = (slack.connections_accepted - connections) / requests
    if profiler:
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out)
        if os.environ.get("BY_TOTTIME"):
            stats.sort_stats("tottime").print_stats(profile)
        else:
            stats.sort_stats("cumulative").print_stats("src/copbot", profile)
        print(out.getvalue())
    return used, calls, connections


def statements(runtime: Runtime, sender: Direct, name: str, scene: Scene) -> None:
    """Print the SQL statements and commits of one request of a kind (after a warm-up)."""
    from sqlalchemy import event

    send = KINDS[name]
    scene.run = f"8{time.monotonic_ns() % 10**6:06d}"
    for n in range(5):
        send(sender, n, scene)
    seen: list[str] = []

    def on_execute(conn, cursor, statement, parameters, context, executemany) -> None:
        seen.append(" ".join(statement.split())[:110])

    def on_commit(conn) -> None:
        seen.append("COMMIT")

    event.listen(runtime.engine, "before_cursor_execute", on_execute)
    event.listen(runtime.engine, "commit", on_commit)
    try:
        send(sender, 99, scene)
    finally:
        event.remove(runtime.engine, "before_cursor_execute", on_execute)
        event.remove(runtime.engine, "commit", on_commit)
    commits = seen.count("COMMIT")
    print(f"  {name}: {len(seen) - commits} statements, {commits} commits")
    for line in seen:
        print(f"      {line}")


def main() -> None:
    """Print CPU ms per request for each kind."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--database-url", default=f"sqlite:///{tempfile.mkdtemp()}/kinds.db")
    parser.add_argument("--postgres", help="a PostgreSQL server URL: a fresh database is made on it")
    parser.add_argument("--kinds", default=",".join(KINDS))
    parser.add_argument("--profile", type=int, default=0)
    parser.add_argument("--statements", action="store_true", help="list one request's SQL per kind")
    args = parser.parse_args()
    drop = None
    if args.postgres:
        args.database_url, drop = create_postgres_database(args.postgres, prefix="copbot_bench")
    slack = SlowSlack(0.0).start()
    runtime = None
    try:
        scene = prepare(args.database_url, slack)
        settings = Settings(
            _env_file=None,
            slack_bot_token=TOKEN,
            slack_signing_secret=SECRET,
            slack_api_url=slack.url,
            database_url=args.database_url,
        )
        runtime = Runtime(settings)
        runtime.lookups.start()  # as `copbot serve` does: PostgreSQL's cached lookups need their listener
        runtime.lookups.listening.wait(10)
        inline_lanes(runtime)
        sender = Direct(runtime.app, lambda: runtime.sender.drain())
        engine = args.database_url.split(":")[0].split("+")[0]
        print(f"CPU ms per request, {engine}, {args.requests} each (one thread, after-ack work and delivery)")
        for name in args.kinds.split(","):
            if args.statements:
                statements(runtime, sender, name, scene)
                continue
            used, calls, connections = measure(sender, name, scene, args.requests, args.profile, slack)
            print(f"  {name:<24} {used:7.3f} ms  {calls:5.2f} Web API calls  {connections:5.2f} connections")
    finally:
        if runtime is not None:
            runtime.lookups.stop()
        slack.stop()
        if drop:
            drop()


if __name__ == "__main__":
    main()
