"""Idle memory of `copbot serve` against a bare Bolt app on the same server stack.

    python bench/idle_rss.py [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres]

Starts the real `copbot serve` (HTTP, with its worker) on a fresh database, a bare Bolt app served by
uvicorn + Starlette, and the same bare app with the rest of copbot's prescribed stack imported (the
stack floor: SQLAlchemy ORM, pydantic-settings, APScheduler, httpx), all talking to a fake Slack on
loopback; sends each the same few requests (so lazily imported code that every server needs is loaded),
waits until they are idle, then reads VmRSS and PSS from /proc. Also lists heavy packages whose
compiled extensions copbot's process has mapped (from /proc/PID/maps).
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.databases import create_postgres_database  # noqa: E402
from tests.fakes.slack_api import FakeSlack  # noqa: E402
from tests.fakes.slack_client import SlackSender  # noqa: E402

SECRET = "bench-signing-secret"
TOKEN = "xoxb-bench"
HEAVY = ("alembic", "mako", "psycopg", "matplotlib", "numpy", "PIL", "websockets")

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
bolt = App(token="xoxb-bench", signing_secret="bench-signing-secret", process_before_response=True,
           client=WebClient(token="xoxb-bench", base_url=api_url))
bolt.command("/cop")(lambda ack: ack(text="ok"))

async def events(request):
    body = (await request.body()).decode()
    answer = await run_in_threadpool(
        bolt.dispatch, BoltRequest(body=body, query=request.url.query, headers=dict(request.headers)))
    return Response(status_code=answer.status, content=answer.body)

uvicorn.run(Starlette(routes=[Route("/slack/events", events, methods=["POST"])]), host="127.0.0.1",
            port=port, log_level="warning")
"""


# The bare app plus the rest of copbot's prescribed stack, imported and not used: SQLAlchemy with its ORM,
# pydantic-settings (and so pydantic), APScheduler and httpx. What no copbot built on this stack can go below.
STACK_FLOOR_APP = (
    "import sqlalchemy.orm, pydantic_settings, apscheduler.schedulers.background, httpx, sqlite3\n" + BARE_APP
)


def free_port() -> int:
    """A free loopback port."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_up(url: str, process: subprocess.Popen) -> None:
    """Poll until the server answers HTTP (minutes on a machine shared with other test suites)."""
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode}")
        try:
            httpx.post(f"{url}/slack/events", content=b"", timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise RuntimeError("the server did not start")


def memory(pid: int) -> tuple[float, float]:
    """(RSS, PSS) in MB, from /proc."""
    rss = int(Path(f"/proc/{pid}/status").read_text().split("VmRSS:")[1].split()[0])
    pss = int(Path(f"/proc/{pid}/smaps_rollup").read_text().split("Pss:")[1].split()[0])
    return rss / 1024, pss / 1024


def heavy_libraries(pid: int) -> list[str]:
    """Heavy packages whose files the process has mapped (their compiled extensions)."""
    maps = Path(f"/proc/{pid}/maps").read_text()
    return [name for name in HEAVY if f"/{name}" in maps or f"{name}_binary" in maps]


def copbot_serve(database_url: str, api_url: str, port: int) -> subprocess.Popen:
    """Start the real `copbot serve`."""
    env = {
        **os.environ,
        "SLACK_BOT_TOKEN": TOKEN,
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": api_url,
        "DATABASE_URL": database_url,
        "COPBOT_LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(ROOT / "src"),
    }
    command = [sys.executable, "-m", "copbot", "serve", "--host", "127.0.0.1", "--port", str(port)]
    return subprocess.Popen(command, env=env, cwd=tempfile.mkdtemp())


def measure(process: subprocess.Popen, url: str, settle: float) -> tuple[float, float]:
    """Send a few requests, let the server go idle, read its memory."""
    try:
        wait_until_up(url, process)
        with SlackSender(url, SECRET) as slack:
            for _ in range(3):
                slack.command("/cop", "help")
        time.sleep(settle)
        return memory(process.pid)
    finally:
        process.terminate()
        process.wait(10)


def main() -> None:
    """Print copbot's idle RSS next to the bare app's."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", help="a PostgreSQL server URL (a fresh database is made on it)")
    parser.add_argument("--settle", type=float, default=3.0, help="seconds of idleness before reading")
    args = parser.parse_args()
    fake = FakeSlack().start()
    drop = None
    if args.database_url:
        database_url, drop = create_postgres_database(args.database_url)
    else:
        database_url = f"sqlite:///{tempfile.mkdtemp()}/idle.db"
    try:
        port = free_port()
        process = copbot_serve(database_url, fake.url, port)
        try:
            wait_until_up(f"http://127.0.0.1:{port}", process)
            heavy = heavy_libraries(process.pid)
        except Exception:
            process.kill()
            raise
        copbot = measure(process, f"http://127.0.0.1:{port}", args.settle)
        port = free_port()
        bare_process = subprocess.Popen([sys.executable, "-c", BARE_APP, fake.url, str(port)])
        bare = measure(bare_process, f"http://127.0.0.1:{port}", args.settle)
        port = free_port()
        stack_process = subprocess.Popen([sys.executable, "-c", STACK_FLOOR_APP, fake.url, str(port)])
        stack = measure(stack_process, f"http://127.0.0.1:{port}", args.settle)
    finally:
        fake.stop()
        if drop:
            drop()
    engine = "postgresql" if args.database_url else "sqlite"
    print(f"idle memory, {engine} (MB)      RSS     PSS")
    print(f"copbot serve              {copbot[0]:7.1f} {copbot[1]:7.1f}")
    print(f"bare Bolt app             {bare[0]:7.1f} {bare[1]:7.1f}")
    print(f"bare app + copbot's stack {stack[0]:7.1f} {stack[1]:7.1f}")
    print(f"copbot / bare (RSS)       {copbot[0] / bare[0]:7.2f}")
    print(f"copbot - stack floor (RSS){copbot[0] - stack[0]:7.1f}  (copbot's own code and data)")
    print(f"heavy libraries loaded in copbot: {', '.join(heavy) or 'none'}")


if __name__ == "__main__":
    main()
