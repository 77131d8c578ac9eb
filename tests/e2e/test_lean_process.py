"""A serving process stays lean: what starting needs (Alembic) or another database needs (psycopg) is
not kept in memory. The process is the real `copbot serve` entry point, asked what it has loaded once
it answers HTTP."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import BOT_TOKEN, SIGNING_SECRET
from tests.fakes.slack_api import FakeSlack

pytestmark = pytest.mark.e2e

# Runs `copbot serve` in this interpreter; once /healthz answers 200 it prints the loaded top-level
# packages and exits.
PROBE = """
import json, os, sys, threading, time, urllib.request
port = sys.argv[1]
def report():
    deadline, healthy = time.monotonic() + 240, False
    while time.monotonic() < deadline and not healthy:
        try:
            healthy = urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5).status == 200
        except OSError:
            time.sleep(0.2)
    loaded = sorted({name.split(".")[0] for name in sys.modules})
    print(json.dumps({"healthy": healthy, "loaded": loaded}), flush=True)
    os._exit(0)
threading.Thread(target=report, daemon=True).start()
from copbot.cli import main
main(["serve", "--host", "127.0.0.1", "--port", port])
"""


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_keeps_no_alembic_and_no_other_database_driver(
    database_url: str, fake_slack: FakeSlack, tmp_path: Path
) -> None:
    env = {
        "PATH": os.environ["PATH"],
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": fake_slack.url,
        "DATABASE_URL": database_url,
        "COPBOT_LOG_LEVEL": "WARNING",
    }
    done = subprocess.run(
        [sys.executable, "-c", PROBE, str(_free_port())],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    report = json.loads(done.stdout.strip().splitlines()[-1])
    loaded = set(report["loaded"])
    assert report["healthy"] and "uvicorn" in loaded, "copbot serve did not come up"
    assert not loaded & {"alembic", "mako"}, "migrations ran in a child process"
    assert not loaded & {"websockets", "yaml", "greenlet", "matplotlib"}
    if database_url.startswith("sqlite"):
        assert "psycopg" not in loaded
