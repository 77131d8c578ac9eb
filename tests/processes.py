"""`copbot` as operators run it: real processes against a real database and the fake Slack on loopback."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from copbot.db import lock_key
from copbot.scheduling.leader import SCHEDULER_LOCK
from tests.conftest import BOT_TOKEN, SIGNING_SECRET
from tests.fakes.slack_api import FakeSlack


def copbot_env(database_url: str, fake_slack: FakeSlack, **extra: str) -> dict[str, str]:
    """The environment of a copbot process: the test database, the fake Slack, quick leader checks."""
    return {
        "PATH": os.environ["PATH"],
        "HOME": os.environ.get("HOME", "/tmp"),
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": fake_slack.url,
        "DATABASE_URL": database_url,
        "COPBOT_LEADER_CHECK_SECONDS": "0.3",
        **extra,
    }


def free_port() -> int:
    """A free TCP port on loopback."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Serve:
    """A `copbot serve` process."""

    def __init__(self, env: dict[str, str], cwd: Path):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "copbot", "serve", "--host", "127.0.0.1", "--port", str(self.port)],
            env=env,
            cwd=cwd,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )

    def wait_healthy(self, timeout: float = 180) -> dict:  # generous: CI machines are shared
        """Wait for `GET /healthz` to answer 200; return its report."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"copbot serve exited: {self.process.stdout.read()}")
            try:
                response = httpx.get(f"{self.url}/healthz", timeout=2)
                if response.status_code == 200:
                    return response.json()
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        raise AssertionError("copbot serve never became healthy")

    def stop(self, sig: int = signal.SIGTERM) -> str:
        """Stop the process with `sig` (SIGKILL: a crash); return what it printed."""
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.stdout.read()


def wait_for(condition: Callable[[], object], timeout: float = 20, step: float = 0.05) -> float:
    """Wait until `condition()` is true; return the seconds it took."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if condition():
            return time.monotonic() - started
        time.sleep(step)
    raise AssertionError("condition not met in time")


def scheduler_lock_pids(database_url: str) -> list[int]:
    """Backend pids holding the scheduler's advisory lock."""
    key = lock_key(SCHEDULER_LOCK)
    engine = create_engine(make_url(database_url))
    with engine.connect() as connection:
        pids = connection.execute(
            text(
                "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted "
                "AND classid = :c AND objid = :o AND objsubid = 1 "
                # this database only: other test runs on the same server hold the same key in theirs
                "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
            ),
            {"c": (key >> 32) & 0xFFFFFFFF, "o": key & 0xFFFFFFFF},
        ).scalars()
        found = list(pids)
    engine.dispose()
    return found
