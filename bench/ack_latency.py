"""Ack latency and throughput: copbot against a bare Bolt app on the same server stack, in one run.

    python bench/ack_latency.py [--requests 2000] [--concurrency 8]

Each server runs in its own process (uvicorn + Starlette, the Bolt app dispatched on the thread pool,
exactly as `copbot serve` does). A load generator sends Slack-signed requests from 8 threads:
`/cop help` (ack only), `/cop join` (a database write before the ack) and a `community_setup` modal
submission (validated, stored with its outbox row, then acked). The bare apps ack the same payloads
and do nothing else: once with Bolt's defaults, once with `process_before_response=True`.
Figures are printed as p50/p99 latency (ms) and requests/s, with copbot's p99 as a ratio of each bare
app's p99 (measured in the same run, so the machine's noise hits all alike).
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.fakes.slack_api import FakeSlack  # noqa: E402
from tests.fakes.slack_client import SlackSender, external, plain  # noqa: E402

SECRET = "bench-secret"
TOKEN = "xoxb-bench"
SETUP_VALUES = {
    "name": {"name_input": plain("Bench Guild")},
    "purpose": {"purpose_input": plain("Measure how fast copbot answers Slack.")},
    "learning_goals": {"learning_goals_input": plain("")},
    "boundaries": {"boundaries_input": plain("")},
    "norms": {"norms_input": plain("")},
    "timezone": {"timezone_select": external("Europe/Berlin")},
}


def serve(kind: str, port: int, api_url: str, database_url: str) -> None:
    """Run one server in this process until killed."""
    import uvicorn
    from slack_bolt import App, BoltRequest
    from starlette.applications import Starlette
    from starlette.concurrency import run_in_threadpool
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    if kind == "copbot":
        from copbot import migrate
        from copbot.config import Settings
        from copbot.runtime import Runtime
        from copbot.server import create_http_app

        settings = Settings(
            _env_file=None,
            slack_bot_token=TOKEN,
            slack_signing_secret=SECRET,
            slack_api_url=api_url,
            database_url=database_url,
            log_level="WARNING",
        )
        migrate.upgrade(database_url)
        runtime = Runtime(settings)
        http_app = create_http_app(runtime.app, runtime.engine, threads=settings.listener_threads)
    else:
        from slack_sdk import WebClient

        bolt = App(
            token=TOKEN,
            signing_secret=SECRET,
            client=WebClient(token=TOKEN, base_url=api_url),
            process_before_response=(kind == "bare-fast"),
        )
        bolt.command("/cop")(lambda ack: ack())
        bolt.view("community_setup")(lambda ack: ack())

        async def events(request: Request) -> Response:
            body = (await request.body()).decode()
            response = await run_in_threadpool(
                bolt.dispatch, BoltRequest(body=body, query=request.url.query, headers=dict(request.headers))
            )
            return Response(status_code=response.status, content=response.body)

        http_app = Starlette(routes=[Route("/slack/events", events, methods=["POST"])])
    uvicorn.run(http_app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start(kind: str, api_url: str, database_url: str) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            __file__,
            "--serve",
            kind,
            "--port",
            str(port),
            "--api-url",
            api_url,
            "--db",
            database_url,
        ],
        env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx.post(f"{url}/slack/events", content=b"", timeout=1)
            return process, url
        except httpx.TransportError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"{kind} did not start")


def _load(
    send: Callable[[SlackSender, int], httpx.Response], url: str, requests: int, concurrency: int
) -> dict:
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    per_thread = requests // concurrency

    def worker(offset: int) -> None:
        nonlocal errors
        sender = SlackSender(url, SECRET)
        local: list[float] = []
        bad = 0
        for i in range(per_thread):
            started = time.perf_counter()
            response = send(sender, offset * per_thread + i)
            local.append((time.perf_counter() - started) * 1000)
            bad += response.status_code != 200
        with lock:
            latencies.extend(local)
            errors += bad

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(concurrency)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    latencies.sort()
    return {
        "p50": statistics.median(latencies),
        "p99": latencies[int(len(latencies) * 0.99) - 1],
        "rps": len(latencies) / elapsed,
        "errors": errors,
    }


def _help(sender: SlackSender, n: int) -> httpx.Response:
    return sender.command("/cop", "help", user_id=f"U{n}")


def _join(sender: SlackSender, n: int) -> httpx.Response:
    return sender.command("/cop", "join", user_id=f"U{n % 500}", channel_id="CBENCH")


def _submit(sender: SlackSender, n: int) -> httpx.Response:
    meta = json.dumps({"channel_id": f"CB{n}"})
    return sender.view_submission("community_setup", SETUP_VALUES, user_id="U1", private_metadata=meta)


def main() -> None:
    """Measure every server on every request kind and print a table."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--serve")
    parser.add_argument("--port", type=int)
    parser.add_argument("--api-url")
    parser.add_argument("--db")
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.port, args.api_url, args.db)
        return
    fake = FakeSlack()
    fake.start()
    database = f"sqlite:///{tempfile.mkdtemp()}/bench.db"
    results: dict[tuple[str, str], dict] = {}
    for kind in ("copbot", "bare-default", "bare-fast"):
        process, url = _start(kind, fake.url, database)
        try:
            if kind == "copbot":  # a community for /cop join to write into
                _submit(SlackSender(url, SECRET), -1)
                SlackSender(url, SECRET).view_submission(
                    "community_setup", SETUP_VALUES, private_metadata=json.dumps({"channel_id": "CBENCH"})
                )
            for name, send in (
                ("command /cop help", _help),
                ("command /cop join", _join),
                ("modal submit", _submit),
            ):
                _load(send, url, min(200, args.requests), args.concurrency)  # warm up
                results[(kind, name)] = _load(send, url, args.requests, args.concurrency)
        finally:
            process.terminate()
            process.wait()
    fake.stop()
    _print(results, args)


def _print(results: dict[tuple[str, str], dict], args: argparse.Namespace) -> None:
    print(f"ack latency, {args.requests} requests at concurrency {args.concurrency} (ms; requests/s)")
    print(f"{'request':<20}{'server':<14}{'p50':>8}{'p99':>8}{'req/s':>9}{'errors':>8}")
    for (kind, name), r in results.items():
        print(f"{name:<20}{kind:<14}{r['p50']:>8.2f}{r['p99']:>8.2f}{r['rps']:>9.0f}{r['errors']:>8}")
    print("copbot p99 / bare p99 (target: <= 1.5 against the bare app):")
    for name in ("command /cop help", "command /cop join", "modal submit"):
        mine = results[("copbot", name)]["p99"]
        default, fast = results[("bare-default", name)]["p99"], results[("bare-fast", name)]["p99"]
        print(
            f"  {name:<20} vs Bolt defaults {mine / default:5.2f}"
            f"   vs process_before_response {mine / fast:5.2f}"
        )


if __name__ == "__main__":
    main()
