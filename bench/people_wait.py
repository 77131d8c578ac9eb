"""What people feel: the real `copbot serve` under load against a bare Bolt app, in one run.

    python bench/people_wait.py [--requests 300] [--concurrency 8] [--modal-concurrency 8,32]
                                [--databases sqlite,postgresql] [--slack-latency 0.08] [--tls]

With `--tls` the fake Slack answers over TLS, as slack.com does (a throwaway certificate both servers
trust): a client that opens a connection per call, as slack-sdk's WebClient does, pays a handshake each
time. The server (`python -m copbot serve`, HTTP with its worker: after-ack lanes, outbox sender, scheduler)
runs pinned to CPU 0 with `taskset -c 0`; this process (the load generator and a fake Slack Web API
answering every call after `--slack-latency` seconds, like the real one) pins itself to CPU 1. For each
request kind it sends `--requests` Slack-signed requests from `--concurrency` threads, each sending its
next request as soon as the previous one is acked, then waits until the server is quiet again (after-ack
work and outbox delivery included) and counts the server's CPU time (utime + stime from /proc, idle rate
subtracted). The bare app is a default Bolt app (no database) that acks the same requests and makes the
same Web API calls copbot owes for them. Printed per kind and server: requests/s, ack p50/p99, CPU ms per
request, and for `/nominate` the time from sending the command to `views.open` reaching Slack (p50/p99,
and how many never opened within Slack's 3 s trigger lifetime), with copbot / bare ratios.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "tests" / "unit" / "rituals"))

from bench.idle_rss import free_port, wait_until_up  # noqa: E402
from bench.recognition_submit import nomination  # noqa: E402

from tests.databases import create_postgres_database  # noqa: E402
from tests.fakes.slack_api import FakeSlack, Reply, parse_params  # noqa: E402
from tests.fakes.slack_client import SlackSender, event_envelope  # noqa: E402

SECRET = "bench-signing-secret"
TOKEN = "xoxb-bench"
CHANNEL = "C1"
LEAD = "U1"
NOMINEE = "UNOMINEE"
TICKS = os.sysconf("SC_CLK_TCK")
TRIGGER_LIFETIME = 3.0


class SlowSlack(FakeSlack):
    """The fake Slack, answering after a fixed latency; remembers when each views.open arrived."""

    def __init__(self, latency: float):
        super().__init__()
        self.latency = latency
        self.opened: dict[str, float] = {}

    def handle(self, path: str, headers: dict[str, str], body: bytes) -> Reply:
        """Answer like Slack, `latency` seconds later."""
        if path.endswith("/views.open"):
            trigger = parse_params("", body, headers.get("content-type", "")).get("trigger_id")
            self.opened.setdefault(str(trigger), time.monotonic())
        time.sleep(self.latency)
        return super().handle(path, headers, body)


BARE_APP = """
import sys
import uvicorn
from slack_bolt import App, BoltRequest
from slack_sdk import WebClient
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response
from starlette.routing import Route

api_url, port = sys.argv[1], int(sys.argv[2])
client = WebClient(token="xoxb-bench", base_url=api_url)
bolt = App(token="xoxb-bench", signing_secret="bench-signing-secret", client=client)
MODAL = {"type": "modal", "callback_id": "bare", "title": {"type": "plain_text", "text": "Nominate"},
         "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "Who?"}}]}
HOME = {"type": "home", "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "Home"}}]}

def dm(user, text):
    channel = client.conversations_open(users=user)["channel"]["id"]
    client.chat_postMessage(channel=channel, text=text)

@bolt.command("/cop")
def cop(ack):
    ack(text="help")

@bolt.command("/nominate")
def nominate(ack, body):
    ack()
    client.views_open(trigger_id=body["trigger_id"], view=MODAL)

@bolt.view("recognition_nominate")
def submitted(ack, body):
    ack(response_action="update", view=MODAL)
    dm("UNOMINEE", "You were recognised")
    client.chat_postMessage(channel="C1", text="A recognition")

@bolt.action({"action_id": "ritual_rsvp_going"})
def rsvp(ack, respond, body):
    ack()
    respond(text="You are going", response_type="ephemeral", replace_original=False)
    client.chat_update(channel="C1", ts=body.get("message", {}).get("ts", "1.1"), text="3 going")

@bolt.event("reaction_added")
def reacted(ack, event):
    ack()
    dm(event["item_user"], "Record this as a review?")

@bolt.event("app_home_opened")
def home(ack, event):
    ack()
    client.views_publish(user_id=event["user"], view=HOME)

async def events(request):
    body = (await request.body()).decode()
    answer = await run_in_threadpool(
        bolt.dispatch, BoltRequest(body=body, query=request.url.query, headers=dict(request.headers)))
    return Response(status_code=answer.status, content=answer.body, headers={
        k: v[0] for k, v in answer.headers.items() if k.lower() != "content-length"})

uvicorn.run(Starlette(routes=[Route("/slack/events", events, methods=["POST"])]), host="127.0.0.1",
            port=port, log_level="warning", ws="none")
"""


@dataclass
class Result:
    """One request kind on one server."""

    rps: float
    p50: float
    p99: float
    cpu_ms: float
    errors: int
    opened: list[float] = field(default_factory=list)  # command -> views.open, ms
    lost: int = 0


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process (all its threads, living or gone)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def idle_rate(pid: int, seconds: float = 2.0) -> float:
    """CPU seconds per second the server spends doing nothing (scheduler polls, sender wake-ups)."""
    before = cpu_seconds(pid)
    time.sleep(seconds)
    return (cpu_seconds(pid) - before) / seconds


def wait_quiet(pid: int, rate: float, *, settle: float = 0.6, timeout: float = 120) -> float:
    """Wait until the server's CPU stops rising faster than its idle rate; return when it went quiet."""
    deadline = time.monotonic() + timeout
    last, last_at, quiet_since = cpu_seconds(pid), time.monotonic(), None
    while time.monotonic() < deadline:
        time.sleep(0.2)
        now, used = time.monotonic(), cpu_seconds(pid)
        busy = used - last > rate * (now - last_at) + 1.5 / TICKS
        last, last_at = used, now
        if busy:
            quiet_since = None
        elif quiet_since is None:
            quiet_since = now
        elif now - quiet_since >= settle:
            return quiet_since
    return time.monotonic()


# --- the request kinds ------------------------------------------------------------------------------


@dataclass
class Scene:
    """What the requests refer to: the community, the occurrence to RSVP to and its post."""

    community_id: int
    occurrence_id: int
    post_ts: str
    response_base: str
    run: str = "0"


Send = Callable[[SlackSender, int, Scene], httpx.Response]


def send_help(slack: SlackSender, n: int, scene: Scene) -> httpx.Response:
    """`/cop help`: answered by the ack alone."""
    return slack.command("/cop", "help", user_id=f"UH{n}", channel_id=CHANNEL)


def send_nominate(slack: SlackSender, n: int, scene: Scene) -> httpx.Response:
    """`/nominate`: the ack checks the community and the quota; the modal opens after."""
    return slack.command(
        "/nominate", "", user_id=f"UN{n % 50}", channel_id=CHANNEL, trigger_id=f"trig-{scene.run}-{n}"
    )


def send_submission(slack: SlackSender, n: int, scene: Scene) -> httpx.Response:
    """A nomination submitted: validated and stored with its DMs and post before the ack."""
    meta = json.dumps({"community_id": scene.community_id})
    return slack.view_submission(
        "recognition_nominate", nomination(NOMINEE), user_id=f"US{scene.run}{n}", private_metadata=meta
    )


def send_click(slack: SlackSender, n: int, scene: Scene) -> httpx.Response:
    """An RSVP click on a session reminder: stored after the ack, the post's counts updated."""
    return slack.block_action(
        "ritual_rsvp_going",
        value=str(scene.occurrence_id),
        user_id=f"UR{scene.run}{n}",
        channel_id=CHANNEL,
        message_ts=scene.post_ts,
        response_url=f"{scene.response_base}/click-{n}",
    )


def send_event(slack: SlackSender, n: int, scene: Scene) -> httpx.Response:
    """`reaction_added` with the capture emoji on a new message: the author is offered a review."""
    event = {
        "type": "reaction_added",
        "user": "U2",
        "reaction": "bulb",
        "item_user": f"UA{n % 100}",
        "item": {"type": "message", "channel": CHANNEL, "ts": f"{1700000000 + n}.{scene.run}"},
        "event_ts": f"{time.time():.6f}",
    }
    return slack.post_signed(json.dumps(event_envelope(event)).encode(), "application/json")


def send_home(slack: SlackSender, n: int, scene: Scene) -> httpx.Response:
    """`app_home_opened` by the community's lead: the dashboard is built and published."""
    event = {"type": "app_home_opened", "user": LEAD, "channel": "D1", "tab": "home", "event_ts": "1.1"}
    return slack.post_signed(json.dumps(event_envelope(event)).encode(), "application/json")


# What each kind cannot avoid besides the bare app's ack and Slack calls: (indexed reads, commits),
# outbox delivery included. /nominate: the community and the week's quota. A submission: those, one
# commit of the nomination with its owed messages, one marking them delivered. A click: the occurrence
# and the person's RSVP, their commit, the post's update marked delivered. An event: its inbox row
# (before the ack), the capture's read, its commit, the DM marked delivered. App Home: the inbox row,
# memberships, the stored views (counter + view, twice), the owed publish, marked delivered.
UNAVOIDABLE: dict[str, tuple[int, int]] = {
    "/cop help": (0, 0),
    "/nominate": (2, 0),
    "submission": (2, 2),
    "click (RSVP)": (2, 2),
    "event (reaction_added)": (2, 3),
    "App Home": (5, 3),
}

FLOOR_PROBE = """
import sys, time
url, reads, commits = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
if url.startswith("sqlite"):
    import sqlite3
    db = sqlite3.connect(url.split("///", 1)[1], isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL"); db.execute("PRAGMA synchronous=NORMAL")
    mark = "?"
else:
    import psycopg
    db = psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True)
    mark = "%s"
db.execute("CREATE TABLE IF NOT EXISTS bench_floor (id INTEGER PRIMARY KEY, k TEXT)")
db.execute(f"INSERT INTO bench_floor (id, k) VALUES (1, 'x') ON CONFLICT DO NOTHING")
started = time.process_time()
for _ in range(reads):
    db.execute(f"SELECT k FROM bench_floor WHERE id = {mark}", (1,)).fetchone()
read = (time.process_time() - started) / reads
started = time.process_time()
for i in range(commits):
    db.execute("BEGIN")
    db.execute(f"INSERT INTO bench_floor (id, k) VALUES ({mark}, 'y')", (i + 2,))
    db.execute("COMMIT")
commit = (time.process_time() - started) / commits
db.execute("DROP TABLE bench_floor")
print(read * 1000, commit * 1000)
"""

# The same reads and commits through the prescribed stack at its leanest: SQLAlchemy Core statements built
# once, on copbot's own engine (its pool and SQLite pragmas), a commit being a whole `engine.begin()`.
CORE_FLOOR_PROBE = """
import sys, time
from sqlalchemy import Column, Integer, MetaData, Table, Text, bindparam, insert, select
from copbot.db import create_db_engine
url, reads, commits = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
engine = create_db_engine(url)
table = Table("bench_core_floor", MetaData(), Column("id", Integer, primary_key=True), Column("k", Text))
table.create(engine, checkfirst=True)
read_one = select(table.c.k).where(table.c.id == bindparam("id"))
write_one = insert(table).values(id=bindparam("id"), k="y")
with engine.begin() as connection:
    connection.execute(insert(table).values(id=1, k="x"))
with engine.connect() as connection:
    started = time.process_time()
    for _ in range(reads):
        connection.execute(read_one, {"id": 1}).scalar()
    read = (time.process_time() - started) / reads
started = time.process_time()
for i in range(commits):
    with engine.begin() as connection:
        connection.execute(write_one, {"id": i + 2})
commit = (time.process_time() - started) / commits
table.drop(engine)
print(read * 1000, commit * 1000)
"""

KINDS: dict[str, Send] = {
    "/cop help": send_help,
    "/nominate": send_nominate,
    "submission": send_submission,
    "click (RSVP)": send_click,
    "event (reaction_added)": send_event,
    "App Home": send_home,
}


# --- servers --------------------------------------------------------------------------------------


def start_copbot(database_url: str, api_url: str) -> tuple[subprocess.Popen, str]:
    """`copbot serve` pinned to CPU 0."""
    port = free_port()
    env = {
        **os.environ,
        "SLACK_BOT_TOKEN": TOKEN,
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": api_url,
        "DATABASE_URL": database_url,
        "COPBOT_LOG_LEVEL": "ERROR",
        "PYTHONPATH": str(ROOT / "src"),
    }
    command = ["taskset", "-c", "0", sys.executable, "-m", "copbot", "serve", "--host", "127.0.0.1"]
    process = subprocess.Popen([*command, "--port", str(port)], env=env, cwd=tempfile.mkdtemp())
    url = f"http://127.0.0.1:{port}"
    wait_until_up(url, process)
    return process, url


def start_bare(api_url: str) -> tuple[subprocess.Popen, str]:
    """The bare Bolt app pinned to CPU 0."""
    port = free_port()
    process = subprocess.Popen(["taskset", "-c", "0", sys.executable, "-c", BARE_APP, api_url, str(port)])
    url = f"http://127.0.0.1:{port}"
    wait_until_up(url, process)
    return process, url


def prepare(database_url: str, slack: SlowSlack) -> Scene:
    """A community in C1 led by U1 with a live session series whose reminder is posted."""
    import rituals_helpers as rituals  # tests/unit/rituals: the same set-up the rituals tests use
    from sqlalchemy.orm import Session

    from copbot import migrate
    from copbot.config import Settings
    from copbot.runtime import Runtime

    migrate.upgrade(database_url)
    settings = Settings(
        _env_file=None,
        slack_bot_token=TOKEN,
        slack_signing_secret=SECRET,
        slack_api_url=slack.url,
        database_url=database_url,
    )
    runtime = Runtime(settings)
    latency, slack.latency = slack.latency, 0.0
    now = datetime.now(UTC)
    with Session(runtime.engine, expire_on_commit=False) as session:
        community = rituals.make_community(session, channel=CHANNEL, lead=LEAD)
        rituals.live_sessions(session, community, first=(now + timedelta(days=7)).date(), now=now)
        rituals.run_tick(runtime, now)
        occurrence = rituals.occurrences(session)[0]
        rituals.run_tick(runtime, occurrence.starts_at - timedelta(minutes=30))
        community_id, occurrence_id = community.id, occurrence.id
    post_ts = slack.messages[CHANNEL][-1]["ts"] if slack.messages[CHANNEL] else "1700000000.000100"
    slack.add_user(NOMINEE)
    slack.latency = latency
    runtime.engine.dispose()
    return Scene(community_id, occurrence_id, post_ts, slack.base + "/response")


def load(
    url: str, send: Send, scene: Scene, requests: int, concurrency: int
) -> tuple[list, list, int, float]:
    """Send `requests` from `concurrency` threads; return (latencies ms, send times, errors, elapsed)."""
    latencies: list[float] = []
    sent: list[tuple[int, float]] = []
    errors = 0
    lock = threading.Lock()
    counter = iter(range(requests))

    def worker() -> None:
        nonlocal errors
        with SlackSender(url, SECRET, timeout=30) as slack:
            while True:
                with lock:
                    n = next(counter, None)
                if n is None:
                    return
                started = time.monotonic()
                try:
                    response = send(slack, n, scene)
                    bad = response.status_code != 200
                except Exception:  # a failed request counts as an error, never stops the load
                    bad = True
                took = (time.monotonic() - started) * 1000
                with lock:
                    latencies.append(took)
                    sent.append((n, started))
                    errors += bad

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    began = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies, sent, errors, time.monotonic() - began


def measure(
    pid: int, url: str, name: str, scene: Scene, slack: SlowSlack, requests: int, concurrency: int
) -> Result:
    """Warm up, then measure one request kind: latency, throughput, CPU until quiet, modal times."""
    send = KINDS[name]
    scene.run = f"{time.monotonic_ns() % 10**6:06d}"
    load(url, send, scene, min(40, requests), concurrency)
    rate = idle_rate(pid, 1.0) if wait_quiet(pid, 0.0, timeout=30) else 0.0
    scene.run = f"{time.monotonic_ns() % 10**6:06d}"
    before = cpu_seconds(pid)
    began = time.monotonic()
    latencies, sent, errors, elapsed = load(url, send, scene, requests, concurrency)
    quiet_at = wait_quiet(pid, rate)
    used = cpu_seconds(pid) - before - rate * max(0.0, quiet_at - began)
    latencies.sort()
    result = Result(
        rps=len(latencies) / elapsed,
        p50=statistics.median(latencies),
        p99=latencies[max(0, int(len(latencies) * 0.99) - 1)],
        cpu_ms=used * 1000 / requests,
        errors=errors,
    )
    if name == "/nominate":
        for n, started in sent:
            arrived = slack.opened.get(f"trig-{scene.run}-{n}")
            if arrived is None or arrived - started > TRIGGER_LIFETIME:
                result.lost += 1
            if arrived is not None:
                result.opened.append((arrived - started) * 1000)
        result.opened.sort()
    return result


def percentile(values: list[float], share: float) -> float:
    """The `share` percentile of sorted values (nan when empty)."""
    return values[max(0, int(len(values) * share) - 1)] if values else float("nan")


Costs = tuple[float, float, float, float]  # ms: raw driver read, commit; SQLAlchemy Core read, commit


def raw_costs(database_url: str) -> Costs:
    """CPU ms of one indexed read and of one commit, through the bare driver and through SQLAlchemy Core,
    pinned like the server."""
    measured: list[float] = []
    for probe in (FLOOR_PROBE, CORE_FLOOR_PROBE):
        done = subprocess.run(
            ["taskset", "-c", "0", sys.executable, "-c", probe, database_url, "5000", "500"],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
        )
        measured += [float(x) for x in done.stdout.split()]
    read, commit, core_read, core_commit = measured
    return read, commit, core_read, core_commit


def floor_ms(name: str, bare: Result, costs: Costs, *, core: bool = False) -> float:
    """The bare ack with its Slack calls, plus the reads and commits the kind cannot avoid: at the bare
    driver's cost, or (`core`) at SQLAlchemy Core's, the prescribed stack's leanest."""
    reads, commits = UNAVOIDABLE[name.split(" x")[0]]
    read, commit = (costs[2], costs[3]) if core else (costs[0], costs[1])
    return bare.cpu_ms + reads * read + commits * commit


def run_database(
    engine: str, args: argparse.Namespace, slack: SlowSlack
) -> tuple[dict[tuple[str, str], Result], Costs]:
    """Every kind on copbot and on the bare app, for one database; and the driver's raw costs."""
    drop = None
    if engine == "postgresql":
        database_url, drop = create_postgres_database(args.postgres)
    else:
        folder = tempfile.mkdtemp(prefix="people-wait-")
        database_url = f"sqlite:///{folder}/bench.db"
    results: dict[tuple[str, str], Result] = {}
    try:
        scene = prepare(database_url, slack)
        costs = raw_costs(database_url)
        for server in ("copbot", "bare"):
            process, url = (
                start_copbot(database_url, slack.url) if server == "copbot" else start_bare(slack.url)
            )
            try:
                for name in KINDS:
                    results[(server, name)] = measure(
                        process.pid, url, name, scene, slack, args.requests, args.concurrency
                    )
                for concurrency in args.modal_concurrency:
                    results[(server, f"/nominate x{concurrency}")] = measure(
                        process.pid, url, "/nominate", scene, slack, args.requests, concurrency
                    )
            finally:
                process.terminate()
                process.wait(20)
    finally:
        if drop:
            drop()
        elif engine == "sqlite":
            shutil.rmtree(folder, ignore_errors=True)
    return results, costs


def report(
    engine: str, results: dict[tuple[str, str], Result], costs: Costs, args: argparse.Namespace
) -> None:
    """Print one database's tables."""
    print(
        f"\n## {engine}: {args.requests} requests per kind at concurrency {args.concurrency}, "
        f"Slack answering in {args.slack_latency * 1000:.0f} ms{' over TLS' if args.tls else ''}"
    )
    print(
        "| request | server | req/s | ack p50 ms | ack p99 ms | CPU ms/req | views.open p50 / p99 ms | "
        "never opened | errors |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    names = [n for (s, n) in results if s == "copbot"]
    for name in names:
        for server in ("copbot", "bare"):
            r = results[(server, name)]
            opened = (
                f"{percentile(r.opened, 0.5):.0f} / {percentile(r.opened, 0.99):.0f}"
                if name.startswith("/nominate")
                else ""
            )
            lost = str(r.lost) if name.startswith("/nominate") else ""
            print(
                f"| {name} | {server} | {r.rps:.0f} | {r.p50:.1f} | {r.p99:.1f} | {r.cpu_ms:.2f} | "
                f"{opened} | {lost} | {r.errors} |"
            )
    print(f"\nraw driver costs on CPU 0: indexed read {costs[0]:.3f} ms, commit {costs[1]:.3f} ms")
    print(f"SQLAlchemy Core costs on CPU 0: indexed read {costs[2]:.3f} ms, commit {costs[3]:.3f} ms")
    print("\ncopbot / bare, same run (floor: bare CPU + the reads and commits the kind cannot avoid, at the")
    print("driver's cost; Core floor: the same reads and commits through SQLAlchemy Core, built once):")
    print(
        "| request | req/s | ack p99 | CPU/req | floor ms | CPU / floor | Core floor ms | CPU / Core floor "
        "| views.open p99 |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for name in names:
        mine, bare = results[("copbot", name)], results[("bare", name)]
        opened = (
            f"{percentile(mine.opened, 0.99) / percentile(bare.opened, 0.99):.2f}"
            if name.startswith("/nominate")
            else ""
        )
        floor, core = floor_ms(name, bare, costs), floor_ms(name, bare, costs, core=True)
        print(
            f"| {name} | {mine.rps / bare.rps:.2f} | {mine.p99 / bare.p99:.2f} | "
            f"{mine.cpu_ms / bare.cpu_ms:.2f} | {floor:.2f} | {mine.cpu_ms / floor:.2f} | "
            f"{core:.2f} | {mine.cpu_ms / core:.2f} | {opened} |"
        )


def main() -> None:
    """Pin, start the fake Slack, measure each database, print the tables."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--modal-concurrency", default="8,32", help="extra /nominate runs at these")
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--slack-latency", type=float, default=0.08)
    parser.add_argument("--tls", action="store_true", help="the fake Slack answers over TLS, as slack.com")
    parser.add_argument("--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    args.modal_concurrency = [int(c) for c in args.modal_concurrency.split(",") if c]
    os.sched_setaffinity(0, {1})  # the load generator and the fake Slack: CPU 1; servers: CPU 0
    print(f"load average at start: {os.getloadavg()}")
    slack = SlowSlack(args.slack_latency).start()
    if args.tls:
        from bench.slack_connections import serve_tls

        serve_tls(slack, Path(tempfile.mkdtemp(prefix="people-wait-tls-")))
    try:
        for engine in args.databases.split(","):
            results, costs = run_database(engine, args, slack)
            report(engine, results, costs, args)
    finally:
        slack.stop()
    print(f"\nload average at end: {os.getloadavg()}")


if __name__ == "__main__":
    main()
